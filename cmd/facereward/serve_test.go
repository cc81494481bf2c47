package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serve refuses to start without what it needs or with a limit out of
// range, naming the flag, before loading a model or listening, and creates
// no database file when it cannot run.
func TestServeArguments(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "prefs.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", dir}, "--db and --store go together"},
		{[]string{"--db", dbPath}, "--db and --store go together"},
		{[]string{"--db", dbPath, "--store", filepath.Join(dir, "missing")}, "missing"},
		{[]string{"--db", dbPath, "--store", dir, "extra"}, `unexpected argument "extra"`},
		{[]string{"--addr", ":8080"}, "add --public"},
		{[]string{"--addr", "0.0.0.0:8080"}, "add --public"},
		{[]string{"--addr", "nonsense"}, "--addr"},
		{[]string{"--workers", "0"}, "--workers 0 outside [1, 64]"},
		{[]string{"--queue", "-1"}, "--queue -1"},
		{[]string{"--max-body", "10"}, "--max-body 10"},
		{[]string{"--max-pixels", "100"}, "--max-pixels 100"},
		{[]string{"--max-faces", "0"}, "--max-faces 0"},
		{[]string{"--max-steps", "5"}, "steps 20 above this server's limit 5"},
		{[]string{"--timeout", "10ms"}, "--timeout 10ms"},
		{[]string{"--read-timeout", "0s"}, "read timeout"},
		{[]string{"--allow-host", "faces.example.org"}, "--allow-host needs --public"},
		{[]string{"--public", "--allow-host", "faces.example.org:80"}, `--allow-host "faces.example.org:80"`},
	} {
		var out bytes.Buffer
		err := runServe(c.args, &out)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("serve %q: %v, want an error saying %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a serve that could not run left %s behind: %v", dbPath, err)
	}
}

// --help names the routes, says the annotation page needs --db and
// --store, and gives every limit's range.
func TestServeHelp(t *testing.T) {
	var out bytes.Buffer
	if err := runServe([]string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("serve --help: %v", err)
	}
	for _, want := range []string{"Usage: facereward serve", "/restore", "POST /api/restore", "/metrics", "With --db and --store",
		"-public", "-token", "-workers", "in [1, 64]", "-queue", "-max-body", "-max-pixels", "-max-faces", "-max-steps", "-timeout", "in [1s, 1h]",
		"-allow-host", "421", "Origin"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help does not say %q:\n%s", want, out.String())
		}
	}
}
