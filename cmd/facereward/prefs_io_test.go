package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"facereward/prefs"
	"facereward/prefs/prefstest"
)

// The flags reach export and import: an export to --out imports into
// another database, checked against --store; missing arguments are errors
// that say what is missing.
func TestPrefsExportImportFlags(t *testing.T) {
	dir := t.TempDir()
	store := prefs.Store{Dir: filepath.Join(dir, "images")}
	p := prefstest.Pair(t, store, "p1")
	src := filepath.Join(dir, "a.db")
	db, err := prefs.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Import([]prefs.Record{{Pair: p, Verdict: prefs.Left, Judge: "ada", At: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, dst := filepath.Join(dir, "prefs.jsonl"), filepath.Join(dir, "b.db")
	var msg bytes.Buffer
	if err := prefsExport([]string{"--db", src, "--out", out}, &msg); err != nil || !strings.Contains(msg.String(), "wrote 1 records") {
		t.Fatalf("export: %v, %q", err, msg.String())
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
	msg.Reset()
	if err := prefsImport([]string{"--db", dst, out, "--store", store.Dir}, &msg); err != nil || !strings.Contains(msg.String(), "imported 1 records from "+out+" into "+dst) {
		t.Fatalf("import: %v, %q", err, msg.String())
	}
	if err := prefsImport([]string{"--db", dst, "--store", t.TempDir(), out}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not in the store") {
		t.Errorf("import with another --store: %v", err)
	}
	for _, c := range []struct {
		run  func([]string, io.Writer) error
		args []string
		want string
	}{
		{prefsImport, []string{out}, "--db is required"},
		{prefsImport, []string{"--db", dst}, "no JSONL files"},
		{prefsExport, []string{"--out", filepath.Join(dir, "x.jsonl")}, "--db is required"},
		{prefsExport, []string{"--db", src, "extra"}, `unexpected argument "extra"`},
	} {
		if err := c.run(c.args, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one with %q", c.args, err, c.want)
		}
	}
}

// Importing the same file twice adds nothing the second time, and says so.
func TestPrefsImportTwice(t *testing.T) {
	dir := t.TempDir()
	store := prefs.Store{Dir: filepath.Join(dir, "images")}
	rec := prefs.Record{Pair: prefstest.Pair(t, store, "p1"), Verdict: prefs.Tie, Judge: "ada", At: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	in := filepath.Join(dir, "in.jsonl")
	var b bytes.Buffer
	if err := prefs.WriteJSONL(&b, []prefs.Record{rec}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "b.db")
	for _, want := range []string{"imported 1 records", "imported 0 records"} {
		var msg bytes.Buffer
		if err := prefsImport([]string{"--db", dst, in}, &msg); err != nil || !strings.Contains(msg.String(), want) {
			t.Fatalf("import: %v, %q; want %q", err, msg.String(), want)
		}
	}
}
