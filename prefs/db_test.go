package prefs

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Pairs and verdicts survive closing and reopening; a verdict for a pair
// that is not there, a duplicate pair and a bad verdict are errors.
func TestSQLite(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	rec := testRecord(t, s)
	path := filepath.Join(t.TempDir(), "prefs.db")
	db, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddPair(rec.Pair); err != nil {
		t.Fatal(err)
	}
	if err := db.AddPair(rec.Pair); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("duplicate pair: %v", err)
	}
	if err := db.Judge(rec.Judgement()); err != nil {
		t.Fatal(err)
	}
	ghost := rec.Judgement()
	ghost.Pair = "nope"
	if err := db.Judge(ghost); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("verdict for a missing pair: %v", err)
	}
	bad := rec.Judgement()
	bad.Verdict = "maybe"
	if err := db.Judge(bad); err == nil {
		t.Error("verdict maybe accepted")
	}
	db.Close()

	db, err = OpenSQLite(path) // migrations already applied: a no-op
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs, err := db.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0] != rec {
		t.Fatalf("records after reopening:\n%+v\nwant\n%+v", recs, rec)
	}
}

// Annotators writing at once through separate connections all land: WAL
// and the busy timeout queue the writers instead of failing them.
func TestSQLiteConcurrentAnnotators(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	rec := testRecord(t, s)
	path := filepath.Join(t.TempDir(), "prefs.db")
	db, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.AddPair(rec.Pair); err != nil {
		t.Fatal(err)
	}
	const annotators, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, annotators*each)
	for a := range annotators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own, err := OpenSQLite(path)
			if err != nil {
				errs <- err
				return
			}
			defer own.Close()
			for i := range each {
				j := rec.Judgement()
				j.Judge = fmt.Sprintf("annotator%d", a)
				j.At = j.At.Add(time.Duration(i) * time.Second)
				if err := own.Judge(j); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	recs, err := db.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != annotators*each {
		t.Errorf("%d verdicts stored, want %d", len(recs), annotators*each)
	}
}

// A JSONL export imports into a fresh database as the same records; a
// record whose pair id clashes with a different pair rolls the whole
// import back.
func TestSQLiteImport(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	rec := testRecord(t, s)
	second := rec
	second.Verdict, second.Judge = Right, "bob"
	db, err := OpenSQLite(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Import([]Record{rec, second}); err != nil {
		t.Fatal(err)
	}
	recs, err := db.Records()
	if err != nil || len(recs) != 2 || recs[0] != rec || recs[1] != second {
		t.Fatalf("imported %+v, %v", recs, err)
	}
	clash := rec
	clash.Face = "04999"
	third := rec
	third.ID = "p3"
	if err := db.Import([]Record{third, clash}); err == nil || !strings.Contains(err.Error(), "other images") {
		t.Fatalf("clashing pair: %v", err)
	}
	if recs, _ := db.Records(); len(recs) != 2 {
		t.Errorf("a failed import left %d records, want 2", len(recs))
	}
}
