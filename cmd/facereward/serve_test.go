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

// serve refuses to start without what it needs, naming it, and creates no
// database file when it cannot run.
func TestServeArguments(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "prefs.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", dir}, "--db and --store are required"},
		{[]string{"--db", dbPath}, "--db and --store are required"},
		{[]string{"--db", dbPath, "--store", filepath.Join(dir, "missing")}, "missing"},
		{[]string{"--db", dbPath, "--store", dir, "extra"}, `unexpected argument "extra"`},
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

func TestServeHelp(t *testing.T) {
	var out bytes.Buffer
	if err := runServe([]string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) ||
		!strings.Contains(out.String(), "Usage: facereward serve") || !strings.Contains(out.String(), "-store") {
		t.Errorf("serve --help: %v\n%s", err, out.String())
	}
}
