package prefs_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"facereward/prefs"
	"facereward/prefs/prefstest"
)

// A verdict re-sent with its key after the answer to the first send was
// lost is stored once, and JudgeOnce returns the first as stored; other
// keys, and verdicts without a key, are stored each time.
func TestJudgeOnce(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		rec := testRecord(t, prefs.Store{Dir: t.TempDir()})
		db := open(t, prefstest.DSN(t, kind))
		if err := db.AddPair(rec.Pair); err != nil {
			t.Fatal(err)
		}
		first := rec.Judgement()
		first.Key = "0123456789abcdef0123456789abcdef"
		if got, err := db.JudgeOnce(first); err != nil || got != first {
			t.Fatalf("first send: %+v, %v; want %+v", got, err, first)
		}
		// Re-sent later, with another key pressed on the retry.
		again := first
		again.At = first.At.Add(time.Minute)
		again.Verdict = prefs.Right
		if got, err := db.JudgeOnce(again); err != nil || got != first {
			t.Fatalf("re-send: %+v, %v; want the first, %+v", got, err, first)
		}
		checkCount(t, db, 1)

		other := first
		other.Key = "fedcba9876543210fedcba9876543210"
		if err := db.Judge(other); err != nil {
			t.Fatal(err)
		}
		checkCount(t, db, 2)
		for range 2 {
			if err := db.Judge(rec.Judgement()); err != nil {
				t.Fatal(err)
			}
		}
		checkCount(t, db, 4)

		stolen := first
		stolen.Judge = "bob"
		if _, err := db.JudgeOnce(stolen); !errors.Is(err, prefs.ErrKeyInUse) || !strings.Contains(err.Error(), first.Key) {
			t.Errorf("the key of another judge's verdict: %v; want ErrKeyInUse naming the key", err)
		}
		checkCount(t, db, 4)
	})
}

// checkCount fails the test unless db holds n records.
func checkCount(t *testing.T, db *prefs.DB, n int) {
	t.Helper()
	if recs, err := db.Records(); err != nil || len(recs) != n {
		t.Fatalf("%d records, %v; want %d", len(recs), err, n)
	}
}

// A key is short ASCII: anything else is refused before it is stored.
func TestJudgementKey(t *testing.T) {
	j := prefs.Judgement{Pair: "p1", Verdict: prefs.Tie, Judge: "ada", At: time.Now()}
	for _, key := range []string{"a", "0123-abcd_EF", strings.Repeat("f", prefs.MaxKeyLen)} {
		j.Key = key
		if err := j.Validate(); err != nil {
			t.Errorf("key %q: %v", key, err)
		}
	}
	for key, want := range map[string]string{
		strings.Repeat("f", prefs.MaxKeyLen+1): "65 bytes, want 1 to 64",
		"a b":                                  "byte 0x20 at 1",
		"é":                                    "byte 0xc3 at 0",
		"a\x00":                                "byte 0x00 at 1",
	} {
		j.Key = key
		if err := j.Validate(); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "key") {
			t.Errorf("key %q: %v; want an error saying %q", key, err, want)
		}
	}
}
