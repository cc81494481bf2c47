package prefs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testRecord(t *testing.T, s Store) Record {
	t.Helper()
	put := func(b string) Ref {
		r, err := s.Put([]byte(b))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	return Record{
		Pair: Pair{
			ID: "p1", Face: "04800", LQ: put("lq"),
			Left:  Candidate{Image: put("a"), Provenance: Provenance{Method: "stage2", Seed: 3, Steps: 20, Eta: 0.5, Strength: 0.5, Guidance: 0.45, Preset: "diffbir"}},
			Right: Candidate{Image: put("b"), Provenance: Provenance{Method: "bicubic", Preset: "diffbir"}},
		},
		Verdict: Left, Judge: "ada", At: time.Date(2026, 11, 26, 5, 0, 0, 0, time.UTC),
	}
}

// Equal bytes are one file under their digest; a reference that is
// malformed or absent is an error that names it.
func TestStore(t *testing.T) {
	s := Store{Dir: t.TempDir()}
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
	if want := Ref("sha256:0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5"); a != want {
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
	missing := Ref("sha256:" + strings.Repeat("ab", 32))
	if _, err := s.Path(missing); err == nil || !strings.Contains(err.Error(), string(missing)) {
		t.Errorf("missing image: %v", err)
	}
	for _, bad := range []Ref{"", "md5:00", "sha256:xyz", Ref("sha256:" + strings.Repeat("AB", 32))} {
		if _, err := s.Path(bad); err == nil {
			t.Errorf("malformed %q accepted", bad)
		}
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	rec := testRecord(t, s)
	auto := rec
	auto.ID, auto.Verdict, auto.Judge = "p2", Tie, AutoPrefix+"svm"
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, []Record{rec, auto}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Fatalf("%d lines:\n%s", n, buf.String())
	}
	back, err := ReadJSONL(&buf, "prefs.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0] != rec || back[1] != auto {
		t.Fatalf("round trip:\n%+v\n%+v", back, []Record{rec, auto})
	}
}

// Each bad line is an error with the file name and line number.
func TestJSONLErrors(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	good := testRecord(t, s)
	var line bytes.Buffer
	WriteJSONL(&line, []Record{good})
	ok := strings.TrimSpace(line.String())
	cases := map[string]string{
		"verdict":    strings.Replace(ok, `"verdict":"left"`, `"verdict":"up"`, 1),
		"judge":      strings.Replace(ok, `"judge":"ada"`, `"judge":""`, 1),
		"unknown":    strings.Replace(ok, `"judge"`, `"juge"`, 1),
		"image":      strings.Replace(ok, string(good.Left.Image), "sha256:00", 1),
		"same image": strings.Replace(ok, string(good.Right.Image), string(good.Left.Image), 1),
		"json":       ok[:len(ok)/2],
		"time":       strings.Replace(ok, `"at":"2026-11-26T05:00:00Z"`, `"at":"0001-01-01T00:00:00Z"`, 1),
	}
	for what, bad := range cases {
		if bad == ok {
			t.Fatalf("%s: the case did not change the line", what)
		}
		_, err := ReadJSONL(strings.NewReader(ok+"\n\n"+bad+"\n"), "x.jsonl")
		if err == nil || !strings.HasPrefix(err.Error(), "x.jsonl:3:") {
			t.Errorf("%s: error %v, want one at x.jsonl:3", what, err)
		}
	}
}

func TestParseVerdict(t *testing.T) {
	for _, v := range []string{"left", "right", "tie", "skip"} {
		if got, err := ParseVerdict(v); err != nil || string(got) != v {
			t.Errorf("%s: %v %v", v, got, err)
		}
	}
	if _, err := ParseVerdict("Left"); err == nil {
		t.Error("Left accepted")
	}
}
