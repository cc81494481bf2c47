package prefs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"facereward/prefs"
	"facereward/prefs/prefstest"
)

// testRecord is a verdict on pair p1, whose images (its ground truth
// included) are in s.
func testRecord(t *testing.T, s prefs.Store) prefs.Record {
	t.Helper()
	return prefs.Record{
		Pair:    prefstest.Pair(t, s, "p1"),
		Verdict: prefs.Left, Judge: "ada", At: time.Date(2026, 11, 26, 5, 0, 0, 0, time.UTC),
	}
}

// Equal bytes are one file under their digest; a reference that is
// malformed or absent is an error that names it.
func TestStore(t *testing.T) {
	s := prefs.Store{Dir: t.TempDir()}
	a, err := s.Put([]byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Put([]byte("same"))
	c, _ := s.Put([]byte("other"))
	if a != b || a == c {
		t.Fatalf("refs %s %s %s", a, b, c)
	}
	// sha256("same"), computed independently (printf same | sha256sum).
	if want := prefs.Ref("sha256:0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5"); a != want {
		t.Errorf("ref %s, want %s", a, want)
	}
	p, err := s.Path(a)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != "same" {
		t.Errorf("stored %q", got)
	}
	if filepath.Base(filepath.Dir(p)) != "09" {
		t.Errorf("path %s not under its first two digits", p)
	}
	missing := prefs.Ref("sha256:" + strings.Repeat("ab", 32))
	if _, err := s.Path(missing); err == nil || !strings.Contains(err.Error(), string(missing)) {
		t.Errorf("missing image: %v", err)
	}
	for _, bad := range []prefs.Ref{"", "md5:00", "sha256:xyz", prefs.Ref("sha256:" + strings.Repeat("AB", 32))} {
		if _, err := s.Path(bad); err == nil {
			t.Errorf("malformed %q accepted", bad)
		}
	}
}

// CheckImages names the first image of a pair that the store lacks, the
// ground truth included; a pair without one needs none.
func TestStoreCheckImages(t *testing.T) {
	s := prefs.Store{Dir: t.TempDir()}
	p := prefstest.Pair(t, s, "p1")
	if err := s.CheckImages(p); err != nil {
		t.Fatal(err)
	}
	noGT := p
	noGT.GT = ""
	if err := s.CheckImages(noGT); err != nil {
		t.Errorf("a pair without a ground truth: %v", err)
	}
	missing := prefs.Ref("sha256:" + strings.Repeat("cd", 32))
	for what, bad := range map[string]prefs.Pair{
		"lq":    {ID: p.ID, LQ: missing, GT: p.GT, Left: p.Left, Right: p.Right},
		"gt":    {ID: p.ID, LQ: p.LQ, GT: missing, Left: p.Left, Right: p.Right},
		"right": {ID: p.ID, LQ: p.LQ, GT: p.GT, Left: p.Left, Right: prefs.Candidate{Image: missing}},
	} {
		err := s.CheckImages(bad)
		if err == nil || !strings.Contains(err.Error(), what+" image") || !strings.Contains(err.Error(), string(missing)) {
			t.Errorf("%s missing: %v", what, err)
		}
	}
}

// Records with and without a ground truth come back as written.
func TestJSONLRoundTrip(t *testing.T) {
	s := prefs.Store{Dir: t.TempDir()}
	rec := testRecord(t, s)
	auto := rec
	auto.ID, auto.GT, auto.Verdict, auto.Judge = "p2", "", prefs.Tie, prefs.AutoPrefix+"svm"
	var buf bytes.Buffer
	if err := prefs.WriteJSONL(&buf, []prefs.Record{rec, auto}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Fatalf("%d lines:\n%s", n, buf.String())
	}
	if n := strings.Count(buf.String(), `"gt":`); n != 1 {
		t.Errorf("%d lines with a gt field, want 1 (it is omitted when empty):\n%s", n, buf.String())
	}
	back, err := prefs.ReadJSONL(&buf, "prefs.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0] != rec || back[1] != auto {
		t.Fatalf("round trip:\n%+v\n%+v", back, []prefs.Record{rec, auto})
	}
}

// Each bad line is an error with the file name and line number, a failed
// check included.
func TestJSONLErrors(t *testing.T) {
	s := prefs.Store{Dir: t.TempDir()}
	good := testRecord(t, s)
	var line bytes.Buffer
	if err := prefs.WriteJSONL(&line, []prefs.Record{good}); err != nil {
		t.Fatal(err)
	}
	ok := strings.TrimSpace(line.String())
	missing := "sha256:" + strings.Repeat("ef", 32)
	cases := map[string]string{
		"verdict":    strings.Replace(ok, `"verdict":"left"`, `"verdict":"up"`, 1),
		"judge":      strings.Replace(ok, `"judge":"ada"`, `"judge":""`, 1),
		"unknown":    strings.Replace(ok, `"judge"`, `"juge"`, 1),
		"image":      strings.Replace(ok, string(good.Left.Image), "sha256:00", 1),
		"gt":         strings.Replace(ok, string(good.GT), "sha256:00", 1),
		"same image": strings.Replace(ok, string(good.Right.Image), string(good.Left.Image), 1),
		"json":       ok[:len(ok)/2],
		"time":       strings.Replace(ok, `"at":"2026-11-26T05:00:00Z"`, `"at":"0001-01-01T00:00:00Z"`, 1),
		"not stored": strings.Replace(ok, string(good.LQ), missing, 1),
		"trailing":   ok + ` x`,
		"two values": ok + ok,
		"nul judge":  strings.Replace(ok, `"judge":"ada"`, `"judge":"a\u0000da"`, 1),
		"long judge": strings.Replace(ok, `"judge":"ada"`, `"judge":"`+strings.Repeat("é", prefs.MaxNameRunes+1)+`"`, 1),
		"ctrl face":  strings.Replace(ok, `"face":"`, `"face":"\u001b[31m`, 1),
	}
	for what, bad := range cases {
		if bad == ok {
			t.Fatalf("%s: the case did not change the line", what)
		}
		_, err := prefs.ReadJSONL(strings.NewReader(ok+"\n\n"+bad+"\n"), "x.jsonl",
			func(r prefs.Record) error { return s.CheckImages(r.Pair) })
		if err == nil || !strings.HasPrefix(err.Error(), "x.jsonl:3:") {
			t.Errorf("%s: error %v, want one at x.jsonl:3", what, err)
		}
	}
	// A line too long to read at all is named, and the limit said.
	huge := strings.Repeat("x", 16<<20)
	_, err := prefs.ReadJSONL(strings.NewReader(ok+"\n\n"+huge+"\n"), "x.jsonl")
	if want := "x.jsonl:3: line longer than the 16 MiB limit"; err == nil || err.Error() != want {
		t.Errorf("a 16 MiB line: error %v, want %q", err, want)
	}
}

func TestParseVerdict(t *testing.T) {
	for _, v := range []string{"left", "right", "tie", "skip"} {
		if got, err := prefs.ParseVerdict(v); err != nil || string(got) != v {
			t.Errorf("%s: %v %v", v, got, err)
		}
	}
	if _, err := prefs.ParseVerdict("Left"); err == nil {
		t.Error("Left accepted")
	}
}
