package prefs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"facereward/prefs"
	"facereward/prefs/prefstest"
)

// prefsIOFixture is a SQLite database in dir with two verdicts on one
// pair, whose images are in the store it returns.
func prefsIOFixture(t *testing.T, dir string) (dsn string, store prefs.Store, recs []prefs.Record) {
	t.Helper()
	store = prefs.Store{Dir: filepath.Join(dir, "images")}
	p := prefstest.Pair(t, store, "p1")
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	recs = []prefs.Record{
		{Pair: p, Verdict: prefs.Left, Judge: "ada", At: at},
		{Pair: p, Verdict: prefs.Skip, Judge: "bob", At: at.Add(time.Minute)},
	}
	dsn = filepath.Join(dir, "a.db")
	if err := open(t, dsn).Import(recs); err != nil {
		t.Fatal(err)
	}
	return dsn, store, recs
}

// prefsIORecords reads back every record of the SQLite file at dsn.
func prefsIORecords(t *testing.T, dsn string) []prefs.Record {
	t.Helper()
	recs, err := open(t, dsn).Records()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// Export to a file (or standard output, the same bytes), then import
// into a fresh database, checking the images against the store: the same
// records come back.
func TestExportThenImport(t *testing.T) {
	dir := t.TempDir()
	src, store, want := prefsIOFixture(t, dir)
	out := filepath.Join(dir, "prefs.jsonl")
	var msg bytes.Buffer
	if err := prefs.Export(src, out, &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.String(), "wrote 2 records") {
		t.Errorf("export said %q", msg.String())
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := prefs.Export(src, "", &stdout); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdout.Bytes(), file) || bytes.Count(file, []byte("\n")) != 2 {
		t.Errorf("standard output:\n%s\nfile:\n%s", stdout.Bytes(), file)
	}

	dst := filepath.Join(dir, "b.db")
	msg.Reset()
	if err := prefs.Import(dst, store.Dir, []string{out}, &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.String(), "imported 2 records from "+out+" into "+dst) {
		t.Errorf("import said %q", msg.String())
	}
	if got := prefsIORecords(t, dst); !slices.Equal(got, want) {
		t.Errorf("imported:\n%+v\nwant\n%+v", got, want)
	}
}

// A bad line, or an image the store lacks, is an error at its file and
// line, and nothing is imported, not even from the good files.
func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	src, store, recs := prefsIOFixture(t, dir)
	var good bytes.Buffer
	if err := prefs.Export(src, "", &good); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(good.String(), "\n")
	missing := "sha256:" + strings.Repeat("0", 64)
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	goodFile := write("good.jsonl", good.String())
	badVerdict := write("verdict.jsonl", first+"\n"+strings.Replace(first, `"verdict":"left"`, `"verdict":"up"`, 1)+"\n")
	other := strings.Replace(strings.Replace(first, `"id":"p1"`, `"id":"p2"`, 1), string(recs[0].LQ), missing, 1)
	notStored := write("image.jsonl", first+"\n\n"+other+"\n")
	dst := filepath.Join(dir, "b.db")
	for _, c := range []struct {
		store string
		files []string
		want  []string
	}{
		{"", []string{goodFile, badVerdict}, []string{badVerdict + ":2:", `"up"`}},
		{store.Dir, []string{goodFile, notStored}, []string{notStored + ":3:", "lq image", missing}},
	} {
		err := prefs.Import(dst, c.store, c.files, &bytes.Buffer{})
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %v, want one with %q", c.files, err, w)
			}
		}
	}
	// Without a store, the same file imports: the check is the store's.
	if err := prefs.Import(dst, "", []string{notStored}, &bytes.Buffer{}); err != nil {
		t.Errorf("without a store: %v", err)
	}
	if got := prefsIORecords(t, dst); len(got) != 2 {
		t.Errorf("%d records imported, want only the 2 of the last import", len(got))
	}
}

// Importing the same export twice adds its verdicts once: the second time
// every record is skipped and counted, and the database is unchanged. A
// record repeated within one import is skipped too.
func TestImportTwiceIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	src, _, want := prefsIOFixture(t, dir)
	out := filepath.Join(dir, "prefs.jsonl")
	if err := prefs.Export(src, out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "b.db")
	for i, wantMsg := range []string{"imported 2 records", "imported 0 records"} {
		var msg bytes.Buffer
		if err := prefs.Import(dst, "", []string{out}, &msg); err != nil {
			t.Fatal(err)
		}
		wantSkipped := []string{"skipped 0 already there", "skipped 2 already there"}[i]
		if !strings.Contains(msg.String(), wantMsg) || !strings.Contains(msg.String(), wantSkipped) {
			t.Errorf("import %d said %q, want %q and %q", i+1, msg.String(), wantMsg, wantSkipped)
		}
	}
	if got := prefsIORecords(t, dst); !slices.Equal(got, want) {
		t.Errorf("after two imports:\n%+v\nwant\n%+v", got, want)
	}
	// The same verdict at another time is another verdict.
	again := want[0]
	again.At = again.At.Add(time.Second)
	res, err := open(t, dst).ImportCounted([]prefs.Record{want[0], again, again})
	if err != nil || res != (prefs.ImportResult{Imported: 1, Skipped: 2}) {
		t.Errorf("ImportCounted: %+v, %v; want 1 imported, 2 skipped", res, err)
	}
}
