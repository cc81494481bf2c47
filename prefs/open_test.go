package prefs_test

import (
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to write files as an older program did

	"facereward/prefs"
	"facereward/prefs/prefstest"
)

// oldSchema is a file as the first version of prefs left it (migrations 1
// to 3), with one verdict. It is written out here rather than taken from
// the migration list, so the test keeps checking the files that exist
// whatever the list becomes.
var oldSchema = []string{
	`CREATE TABLE pairs (id TEXT PRIMARY KEY, face TEXT NOT NULL, lq TEXT NOT NULL,
		left_image TEXT NOT NULL, left_provenance TEXT NOT NULL, right_image TEXT NOT NULL, right_provenance TEXT NOT NULL)`,
	`CREATE TABLE judgements (id INTEGER PRIMARY KEY AUTOINCREMENT, pair TEXT NOT NULL REFERENCES pairs(id),
		verdict TEXT NOT NULL CHECK (verdict IN ('left', 'right', 'tie', 'skip')), judge TEXT NOT NULL, at TEXT NOT NULL)`,
	`CREATE INDEX judgements_pair ON judgements(pair)`,
	`CREATE TABLE schema_version (version INTEGER NOT NULL)`,
	`INSERT INTO schema_version VALUES (3)`,
	fmt.Sprintf(`INSERT INTO pairs VALUES ('old', '00001', '%s', '%s', '{"method":"stage1","seed":7}', '%s', '{"method":"lq"}')`,
		testRef('1'), testRef('2'), testRef('3')),
	`INSERT INTO judgements (pair, verdict, judge, at) VALUES ('old', 'tie', 'ada', '2026-01-02T03:04:05Z')`,
}

// testRef is a well-formed reference made of one hex digit.
func testRef(digit byte) prefs.Ref {
	return prefs.Ref("sha256:" + strings.Repeat(string(digit), 64))
}

// execAll runs statements on the SQLite file at path, outside prefs.
func execAll(t *testing.T, path string, statements ...string) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, s := range statements {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// A file made before pairs had a ground truth, and before verdicts had an
// idempotency key, upgrades in place: its pairs read back without a ground
// truth, and new pairs can have one; new verdicts can have a key. A file from a
// newer program is refused.
func TestSQLiteUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	execAll(t, path, oldSchema...)
	db, err := prefs.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := db.Records()
	if err != nil {
		t.Fatal(err)
	}
	want := prefs.Record{
		Pair: prefs.Pair{ID: "old", Face: "00001", LQ: testRef('1'),
			Left:  prefs.Candidate{Image: testRef('2'), Provenance: prefs.Provenance{Method: "stage1", Seed: 7}},
			Right: prefs.Candidate{Image: testRef('3'), Provenance: prefs.Provenance{Method: "lq"}}},
		Verdict: prefs.Tie, Judge: "ada", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	if len(recs) != 1 || recs[0] != want {
		t.Fatalf("old records:\n%+v\nwant\n%+v", recs, want)
	}
	withGT := prefstest.Pair(t, prefs.Store{Dir: t.TempDir()}, "new")
	if err := db.AddPair(withGT); err != nil {
		t.Fatal(err)
	}
	if p, err := db.Pair("new"); err != nil || p != withGT {
		t.Errorf("new pair %+v, %v", p, err)
	}
	// Verdicts keep their idempotency key from now on: one sent twice with
	// its key is stored once, beside the old verdict without one.
	keyed := prefs.Judgement{Pair: "old", Verdict: prefs.Left, Judge: "bob", At: time.Now(), Key: "0a1b2c"}
	for range 2 {
		if err := db.Judge(keyed); err != nil {
			t.Fatal(err)
		}
	}
	if recs, err := db.Records(); err != nil || len(recs) != 2 || recs[0] != want {
		t.Errorf("after a keyed verdict sent twice: %d records, %v; want the old one and one new", len(recs), err)
	}
	db.Close()

	execAll(t, path, `UPDATE schema_version SET version = 99`)
	if _, err := prefs.OpenSQLite(path); err == nil || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), path) {
		t.Errorf("a newer schema: %v", err)
	}
}

// A write that waits out the busy timeout behind another writer is an
// error naming the file and the lock, and is not stored; once the lock is
// gone, the same write succeeds.
func TestSQLiteLocked(t *testing.T) {
	rec := testRecord(t, prefs.Store{Dir: t.TempDir()})
	path := filepath.Join(t.TempDir(), "prefs.db")
	db, err := prefs.OpenWith(path, prefs.OpenOptions{BusyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.AddPair(rec.Pair); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	hold, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	// Writing takes the lock until the transaction ends.
	if _, err := hold.Exec(`INSERT INTO judgements (pair, verdict, judge, at) VALUES ('p1', 'tie', 'bob', '2026-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = db.Judge(rec.Judgement())
	if err == nil || !strings.Contains(err.Error(), "locked") || !strings.Contains(err.Error(), path) {
		t.Errorf("a verdict behind another writer: %v", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond || waited > 5*time.Second {
		t.Errorf("failed after %v, want about the 200ms busy timeout", waited)
	}
	if err := db.AddPair(prefstest.Pair(t, prefs.Store{Dir: t.TempDir()}, "p2")); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("a pair behind another writer: %v", err)
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if recs, err := db.Records(); err != nil || len(recs) != 0 {
		t.Errorf("after the failed write: %d records, %v; want none", len(recs), err)
	}
	if err := db.Judge(rec.Judgement()); err != nil {
		t.Errorf("once the lock is gone: %v", err)
	}
}

// A DSN that is neither a file nor a postgres:// URL is refused without
// quoting what may be a password.
func TestOpenBadDSN(t *testing.T) {
	for dsn, want := range map[string]string{
		"":                                  "no database",
		"mysql://ada:sekrit-pw@host/prefs":  "mysql://",
		"postgres://ada:sekrit-pw@host:x/p": "PostgreSQL DSN",
	} {
		_, err := prefs.Open(dsn)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "sekrit-pw") {
			t.Errorf("%q: %v; want an error saying %q, without the password", dsn, err, want)
		}
	}
}

// A PostgreSQL that refuses the connection, or accepts it and then says
// nothing, is an error naming the server, without the password, in
// seconds: 5 by default, or the DSN's connect_timeout.
func TestPostgresUnreachable(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() }) // after the parallel subtests, unlike defer
	go func() {
		var held []net.Conn // open and unanswered until the listener closes
		for {
			c, err := silent.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	for _, c := range []struct {
		name, addr, query string
		within            time.Duration
	}{
		{"refused", "127.0.0.1:1", "", 5 * time.Second},
		{"silent", silent.Addr().String(), "", 15 * time.Second},
		{"silent with connect_timeout", silent.Addr().String(), "&connect_timeout=1", 4 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			_, err := prefs.Open("postgres://ada:sekrit-pw@" + c.addr + "/prefs?sslmode=disable" + c.query)
			if err == nil || !strings.Contains(err.Error(), "could not connect to PostgreSQL database prefs at "+c.addr) ||
				strings.Contains(err.Error(), "sekrit-pw") {
				t.Errorf("%v; want it to say it could not connect to %s, without the password", err, c.addr)
			}
			if took := time.Since(start); took > c.within {
				t.Errorf("took %v, want under %v", took, c.within)
			}
		})
	}
}

// A wrong password is refused by the server, and the error does not
// repeat it.
func TestPostgresWrongPassword(t *testing.T) {
	u := prefstest.PostgresURL(t)
	u.User = url.UserPassword(u.User.Username(), "wrong-sekrit")
	db, err := prefs.Open(u.String())
	if err == nil {
		db.Close()
		t.Skip("the server let a wrong password in (trust authentication)")
	}
	if !strings.Contains(err.Error(), "could not connect") || strings.Contains(err.Error(), "wrong-sekrit") {
		t.Errorf("%v; want it to say it could not connect, without the password", err)
	}
}
