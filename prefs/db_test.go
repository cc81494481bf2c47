package prefs_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"facereward/prefs"
	"facereward/prefs/prefstest"
)

// The behaviour tests run on every kind of database, PostgreSQL included
// when FACEREWARD_TEST_POSTGRES names one.

// forEachKind runs test once per database kind, as a subtest.
func forEachKind(t *testing.T, test func(t *testing.T, kind string)) {
	for _, kind := range prefstest.Kinds() {
		t.Run(kind, func(t *testing.T) { test(t, kind) })
	}
}

// open opens dsn, closed when the test ends.
func open(t *testing.T, dsn string) *prefs.DB {
	t.Helper()
	db, err := prefs.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Pairs and verdicts survive closing and reopening; a verdict for a pair
// that is not there, a duplicate pair and a bad verdict are errors that
// say which database.
func TestDB(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		rec := testRecord(t, prefs.Store{Dir: t.TempDir()})
		dsn := prefstest.DSN(t, kind)
		db, err := prefs.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AddPair(rec.Pair); err != nil {
			t.Fatal(err)
		}
		if err := db.AddPair(rec.Pair); err == nil || !strings.Contains(err.Error(), "pair p1 is already in "+db.Name()) {
			t.Errorf("duplicate pair: %v", err)
		}
		if err := db.Judge(rec.Judgement()); err != nil {
			t.Fatal(err)
		}
		ghost := rec.Judgement()
		ghost.Pair = "nope"
		if err := db.Judge(ghost); !errors.Is(err, prefs.ErrNoPair) || !strings.Contains(err.Error(), "nope") || !strings.Contains(err.Error(), db.Name()) {
			t.Errorf("verdict for a missing pair: %v", err)
		}
		bad := rec.Judgement()
		bad.Verdict = "maybe"
		if err := db.Judge(bad); err == nil {
			t.Error("verdict maybe accepted")
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		db = open(t, dsn) // migrations already applied: a no-op
		recs, err := db.Records()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0] != rec {
			t.Fatalf("records after reopening:\n%+v\nwant\n%+v", recs, rec)
		}
	})
}

// Retract deletes one labeller's judgements and nothing else, and refuses
// a person's.
func TestRetract(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		rec := testRecord(t, prefs.Store{Dir: t.TempDir()})
		db := open(t, prefstest.DSN(t, kind))
		if err := db.AddPair(rec.Pair); err != nil {
			t.Fatal(err)
		}
		for _, judge := range []string{"auto:rule", "auto:rule", "auto:other", rec.Judge} {
			j := rec.Judgement()
			j.Judge = judge
			if err := db.Judge(j); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := db.Retract("auto:rule"); err != nil || n != 2 {
			t.Fatalf("retracting auto:rule: %d, %v; want 2", n, err)
		}
		if n, err := db.Retract("auto:rule"); err != nil || n != 0 {
			t.Errorf("retracting again: %d, %v; want 0", n, err)
		}
		if _, err := db.Retract(rec.Judge); err == nil || !strings.Contains(err.Error(), "labeller") {
			t.Errorf("retracting a person's verdicts: %v", err)
		}
		recs, err := db.Records()
		if err != nil {
			t.Fatal(err)
		}
		var judges []string
		for _, r := range recs {
			judges = append(judges, r.Judge)
		}
		if want := []string{"auto:other", rec.Judge}; !slices.Equal(judges, want) {
			t.Errorf("judges left %v, want %v", judges, want)
		}
	})
}

// AddPairs stores all or nothing; Pairs lists them by id (bytewise, on
// both databases); Pair finds one or names the id it lacks.
func TestPairs(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		s := prefs.Store{Dir: t.TempDir()}
		db := prefstest.Open(t, kind)
		// "B" < "a" < "b" bytewise; a locale's collation puts "a" first.
		b, a, bUpper := prefstest.Pair(t, s, "b"), prefstest.Pair(t, s, "a"), prefstest.Pair(t, s, "B")
		a.GT = ""
		if err := db.AddPairs([]prefs.Pair{b, a, bUpper}); err != nil {
			t.Fatal(err)
		}
		ps, err := db.Pairs()
		if err != nil {
			t.Fatal(err)
		}
		if want := []prefs.Pair{bUpper, a, b}; !slices.Equal(ps, want) {
			t.Fatalf("pairs:\n%+v\nwant\n%+v", ps, want)
		}
		if p, err := db.Pair("a"); err != nil || p != a {
			t.Errorf("pair a: %+v, %v", p, err)
		}
		if _, err := db.Pair("zz"); !errors.Is(err, prefs.ErrNoPair) || !strings.Contains(err.Error(), "zz") || !strings.Contains(err.Error(), db.Name()) {
			t.Errorf("missing pair: %v", err)
		}

		c, d := prefstest.Pair(t, s, "c"), prefstest.Pair(t, s, "d")
		badGT := d
		badGT.GT = "sha256:00"
		for what, batch := range map[string][]prefs.Pair{
			"one already there": {c, a},
			"twice in a batch":  {c, d, c},
			"invalid gt":        {c, badGT},
		} {
			if err := db.AddPairs(batch); err == nil {
				t.Errorf("%s: accepted", what)
			}
		}
		if ps, _ := db.Pairs(); len(ps) != 3 {
			t.Errorf("failed batches left %d pairs, want 3", len(ps))
		}
	})
}

// Next hands each judge every pair once, in an order of the judge's own
// that does not change between calls; a skip counts as judged. Progress
// follows.
func TestNext(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		s := prefs.Store{Dir: t.TempDir()}
		db := prefstest.Open(t, kind)
		if _, ok, err := db.Next("ada"); ok || err != nil {
			t.Fatalf("an empty database: ok %v, %v", ok, err)
		}
		var ids []string
		for i := range 8 {
			p := prefstest.Pair(t, s, fmt.Sprintf("p%d", i))
			ids = append(ids, p.ID)
			if err := db.AddPair(p); err != nil {
				t.Fatal(err)
			}
		}
		order := func(judge string) []string {
			var got []string
			for {
				p, ok, err := db.Next(judge)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					return got
				}
				if again, _, _ := db.Next(judge); again.ID != p.ID {
					t.Fatalf("%s: Next gave %s, then %s", judge, p.ID, again.ID)
				}
				verdict := prefs.Left
				if len(got)%2 == 1 {
					verdict = prefs.Skip
				}
				if err := db.Judge(prefs.Judgement{Pair: p.ID, Verdict: verdict, Judge: judge, At: time.Now()}); err != nil {
					t.Fatal(err)
				}
				got = append(got, p.ID)
				if done, total, err := db.Progress(judge); err != nil || done != len(got) || total != len(ids) {
					t.Fatalf("%s: progress %d/%d, %v; want %d/%d", judge, done, total, err, len(got), len(ids))
				}
			}
		}
		ada := order("ada")
		if done, total, err := db.Progress("bob"); err != nil || done != 0 || total != len(ids) {
			t.Errorf("bob before judging: %d/%d, %v", done, total, err)
		}
		bob := order("bob")
		if !sameSet(ada, ids) || !sameSet(bob, ids) {
			t.Fatalf("ada judged %v, bob %v; want each of %v once", ada, bob, ids)
		}
		if slices.Equal(ada, bob) {
			t.Errorf("ada and bob got the same order %v", ada)
		}
	})
}

// sameSet reports whether a holds each of ids, which are distinct, once.
func sameSet(a, ids []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(ids)))
}

// Annotators writing at once through separate connections all land:
// SQLite's WAL and busy timeout queue the writers instead of failing them.
func TestConcurrentAnnotators(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		rec := testRecord(t, prefs.Store{Dir: t.TempDir()})
		dsn := prefstest.DSN(t, kind)
		db := open(t, dsn)
		if err := db.AddPair(rec.Pair); err != nil {
			t.Fatal(err)
		}
		const annotators, each = 4, 25
		var wg sync.WaitGroup
		errs := make(chan error, annotators*each)
		for a := range annotators {
			wg.Go(func() {
				own, err := prefs.Open(dsn)
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
			})
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
	})
}

// Processes opening a fresh database at once all succeed: one applies
// the migrations, the others wait for it and find them applied.
func TestConcurrentOpen(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		dsn := prefstest.DSN(t, kind)
		const n = 4
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				db, err := prefs.Open(dsn)
				if err != nil {
					errs <- err
					return
				}
				db.Close()
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		db := open(t, dsn)
		if err := db.AddPair(prefstest.Pair(t, prefs.Store{Dir: t.TempDir()}, "p1")); err != nil {
			t.Error(err)
		}
	})
}

// A JSONL export imports into a fresh database as the same records; a
// record whose pair id clashes with a different pair (other face, or
// other ground truth) rolls the whole import back.
func TestImport(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		s := prefs.Store{Dir: t.TempDir()}
		rec := testRecord(t, s)
		second := rec
		second.Verdict, second.Judge = prefs.Right, "bob"
		db := prefstest.Open(t, kind)
		if err := db.Import([]prefs.Record{rec, second}); err != nil {
			t.Fatal(err)
		}
		recs, err := db.Records()
		if err != nil || len(recs) != 2 || recs[0] != rec || recs[1] != second {
			t.Fatalf("imported %+v, %v", recs, err)
		}
		third := rec
		third.ID = "p3"
		otherFace, otherGT := rec, rec
		otherFace.Face = "04999"
		otherGT.GT = ""
		for what, clash := range map[string]prefs.Record{"face": otherFace, "gt": otherGT} {
			if err := db.Import([]prefs.Record{third, clash}); err == nil || !strings.Contains(err.Error(), "record 2: pair p1 is already in "+db.Name()+" with other images") {
				t.Errorf("other %s: %v", what, err)
			}
		}
		if recs, err := db.Records(); err != nil || len(recs) != 2 {
			t.Errorf("failed imports left %d records (%v), want 2", len(recs), err)
		}
		if _, err := db.Pair("p3"); !errors.Is(err, prefs.ErrNoPair) {
			t.Errorf("a failed import left pair p3: %v", err)
		}
	})
}
