package prefs

import (
	"cmp"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
)

// DB keeps pairs and judgements in SQLite (one file, for a single
// machine) or PostgreSQL (a server, for many), with the same schema and
// migrations. Either way the database itself refuses a verdict on a pair
// it does not have, and every method returns only once its write is
// committed.
type DB struct {
	db       *sql.DB
	name     string        // which database, for messages: never a password
	postgres bool          // else SQLite
	busy     time.Duration // SQLite's busy timeout, for the message when it runs out
}

// ErrNoPair is wrapped by the errors for a pair id that is not in the
// database.
var ErrNoPair = errors.New("no such pair")

// OpenOptions tunes OpenWith; the zero value is Open's defaults.
type OpenOptions struct {
	// BusyTimeout is how long a SQLite write waits for another writer to
	// finish before it fails (default 10 s). PostgreSQL locks rows, not
	// the whole database, so it has no such wait.
	BusyTimeout time.Duration
}

// Open opens the database dsn names and brings its schema up to date: a
// postgres:// or postgresql:// URL is PostgreSQL (connecting times out
// after 5 s unless the URL sets connect_timeout), anything else is the
// path of a SQLite file, created if needed.
func Open(dsn string) (*DB, error) { return OpenWith(dsn, OpenOptions{}) }

// OpenWith is Open with options.
func OpenWith(dsn string, o OpenOptions) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(dsn)
	}
	if dsn == "" {
		return nil, errors.New("prefs: no database given: want a SQLite file or a postgres:// URL")
	}
	// Another scheme would otherwise become a file with an odd name. Only
	// the scheme is quoted: the rest may hold a password.
	if scheme, _, ok := strings.Cut(dsn, "://"); ok && !strings.ContainsAny(scheme, `/\`) {
		return nil, fmt.Errorf("prefs: database %s://…: want a SQLite file or a postgres:// URL", scheme)
	}
	return openSQLite(dsn, o)
}

// OpenSQLite opens the SQLite file at path, with Open's defaults.
func OpenSQLite(path string) (*DB, error) { return openSQLite(path, OpenOptions{}) }

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Name says which database d is, for messages: the SQLite file, or the
// PostgreSQL server and database; never a password.
func (d *DB) Name() string { return d.name }

// pairColumns are the pairs table's columns (as p), in pairRow's order.
const pairColumns = `p.id, p.face, p.lq, p.gt, p.left_image, p.left_provenance, p.right_image, p.right_provenance`

const selectPair = `SELECT ` + pairColumns + ` FROM pairs p WHERE p.id = ?`

const insertPair = `INSERT INTO pairs (id, face, lq, gt, left_image, left_provenance, right_image, right_provenance)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

// pairRow is p as the values of pairColumns.
func pairRow(p Pair) []any {
	lp, _ := json.Marshal(p.Left.Provenance) // plain fields: cannot fail
	rp, _ := json.Marshal(p.Right.Provenance)
	return []any{p.ID, p.Face, string(p.LQ), string(p.GT), string(p.Left.Image), string(lp), string(p.Right.Image), string(rp)}
}

// scanPair reads a row that starts with pairColumns; more receives the
// columns after them.
func scanPair(row interface{ Scan(...any) error }, more ...any) (Pair, error) {
	var p Pair
	var lq, gt, li, lp, ri, rp string
	if err := row.Scan(append([]any{&p.ID, &p.Face, &lq, &gt, &li, &lp, &ri, &rp}, more...)...); err != nil {
		return Pair{}, err
	}
	p.LQ, p.GT, p.Left.Image, p.Right.Image = Ref(lq), Ref(gt), Ref(li), Ref(ri)
	if err := json.Unmarshal([]byte(lp), &p.Left.Provenance); err != nil {
		return Pair{}, fmt.Errorf("pair %s: left provenance: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(rp), &p.Right.Provenance); err != nil {
		return Pair{}, fmt.Errorf("pair %s: right provenance: %w", p.ID, err)
	}
	return p, nil
}

// AddPair stores p; a pair with the same id is an error.
func (d *DB) AddPair(p Pair) error { return d.AddPairs([]Pair{p}) }

// AddPairs stores ps in one transaction: if any is invalid or has the id
// of a pair already there (or of another in ps), none is stored.
func (d *DB) AddPairs(ps []Pair) error {
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			return err
		}
	}
	tx, err := d.db.Begin()
	if err != nil {
		return d.fail("adding pairs", err)
	}
	defer tx.Rollback()
	for _, p := range ps {
		if _, err := tx.Exec(d.q(insertPair), pairRow(p)...); err != nil {
			if isUnique(err) {
				return fmt.Errorf("prefs: pair %s is already in %s", p.ID, d.name)
			}
			return d.fail("adding pair "+p.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return d.fail("adding pairs", err)
	}
	return nil
}

// Pairs returns every pair, ordered by id.
func (d *DB) Pairs() ([]Pair, error) {
	rows, err := d.db.Query(`SELECT ` + pairColumns + ` FROM pairs p`)
	if err != nil {
		return nil, d.fail("reading pairs", err)
	}
	defer rows.Close()
	var ps []Pair
	for rows.Next() {
		p, err := scanPair(rows)
		if err != nil {
			return nil, d.fail("reading pairs", err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail("reading pairs", err)
	}
	// Sorted here, not by ORDER BY: PostgreSQL would sort by its locale's
	// collation, SQLite by bytes, and both databases must agree.
	slices.SortFunc(ps, func(a, b Pair) int { return strings.Compare(a.ID, b.ID) })
	return ps, nil
}

// Pair returns the pair with the given id; one that is not there is an
// error wrapping ErrNoPair.
func (d *DB) Pair(id string) (Pair, error) {
	p, err := scanPair(d.db.QueryRow(d.q(selectPair), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Pair{}, fmt.Errorf("prefs: pair %s: %w in %s", id, ErrNoPair, d.name)
	case err != nil:
		return Pair{}, d.fail("reading pair "+id, err)
	}
	return p, nil
}

// Next returns a pair judge has not judged yet (any verdict, skip
// included, counts); ok is false when none is left. Each judge meets the
// pairs in an order of their own, so that annotators working at once
// spread over the pairs, but the same order every time.
func (d *DB) Next(judge string) (p Pair, ok bool, err error) {
	rows, err := d.db.Query(d.q(`SELECT p.id FROM pairs p
		WHERE NOT EXISTS (SELECT 1 FROM judgements j WHERE j.pair = p.id AND j.judge = ?)`), judge)
	if err != nil {
		return Pair{}, false, d.fail("choosing a pair for "+judge, err)
	}
	defer rows.Close()
	var best string
	var bestRank uint64
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return Pair{}, false, d.fail("choosing a pair for "+judge, err)
		}
		r := rank(judge, id)
		if !ok || cmp.Or(cmp.Compare(r, bestRank), strings.Compare(id, best)) < 0 {
			best, bestRank, ok = id, r, true
		}
	}
	if err := rows.Err(); err != nil {
		return Pair{}, false, d.fail("choosing a pair for "+judge, err)
	}
	if !ok {
		return Pair{}, false, nil
	}
	p, err = d.Pair(best)
	return p, err == nil, err
}

// rank places pair id in judge's order: a hash, computed here rather than
// in SQL so that both databases give the same order.
func rank(judge, id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(judge + "\x00" + id))
	return h.Sum64()
}

// Progress counts the pairs judge has judged (done) and all pairs (total).
func (d *DB) Progress(judge string) (done, total int, err error) {
	err = d.db.QueryRow(d.q(`SELECT (SELECT count(DISTINCT pair) FROM judgements WHERE judge = ?), (SELECT count(*) FROM pairs)`),
		judge).Scan(&done, &total)
	if err != nil {
		return 0, 0, d.fail("counting "+judge+"'s verdicts", err)
	}
	return done, total, nil
}

const insertJudgement = `INSERT INTO judgements (pair, verdict, judge, at) VALUES (?, ?, ?, ?)`

// judgementRow is j as the values of insertJudgement.
func judgementRow(j Judgement) []any {
	return []any{j.Pair, string(j.Verdict), j.Judge, j.At.UTC().Format(time.RFC3339Nano)}
}

// insertKeyedJudgement is insertJudgement with the idempotency key, NULL
// for none; a key already stored makes it insert nothing.
const insertKeyedJudgement = `INSERT INTO judgements (pair, verdict, judge, at, idempotency_key) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (idempotency_key) DO NOTHING`

const selectKeyedJudgement = `SELECT pair, verdict, judge, at FROM judgements WHERE idempotency_key = ?`

// ErrKeyInUse is wrapped by the errors for an idempotency key that is
// already stored with a verdict of another pair or judge.
var ErrKeyInUse = errors.New("idempotency key already used")

// Judge is JudgeOnce without the stored judgement.
func (d *DB) Judge(j Judgement) error {
	_, err := d.JudgeOnce(j)
	return err
}

// JudgeOnce stores j and returns it once the verdict is committed. If j
// has a Key that is already stored, with the same pair and judge, it
// stores nothing and returns the judgement stored under it: j is a verdict
// re-sent because the answer to the first send was lost, and the first
// counts (with its time, and its verdict if the annotator pressed another
// key on retrying). The key stored with another pair or judge is an error
// wrapping ErrKeyInUse; a verdict for a pair that is not there, one
// wrapping ErrNoPair.
func (d *DB) JudgeOnce(j Judgement) (Judgement, error) {
	if err := j.Validate(); err != nil {
		return Judgement{}, err
	}
	var key any // NULL, which never conflicts
	if j.Key != "" {
		key = j.Key
	}
	doing := "saving the verdict on pair " + j.Pair
	res, err := d.db.Exec(d.q(insertKeyedJudgement), append(judgementRow(j), key)...)
	if err != nil {
		if isForeignKey(err) {
			return Judgement{}, fmt.Errorf("prefs: a verdict for pair %s: %w in %s", j.Pair, ErrNoPair, d.name)
		}
		return Judgement{}, d.fail(doing, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Judgement{}, d.fail(doing, err)
	}
	if n == 1 {
		return j, nil
	}
	stored := Judgement{Key: j.Key}
	var verdict, at string
	if err := d.db.QueryRow(d.q(selectKeyedJudgement), j.Key).Scan(&stored.Pair, &verdict, &stored.Judge, &at); err != nil {
		return Judgement{}, d.fail(doing+" (reading the one stored with key "+j.Key+")", err)
	}
	if stored.Pair != j.Pair || stored.Judge != j.Judge {
		return Judgement{}, fmt.Errorf("prefs: the verdict on pair %s by %s: key %s: %w by the verdict on pair %s by %s in %s",
			j.Pair, j.Judge, j.Key, ErrKeyInUse, stored.Pair, stored.Judge, d.name)
	}
	stored.Verdict = Verdict(verdict)
	if stored.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return Judgement{}, d.fail(doing, fmt.Errorf("key %s: %w", j.Key, err))
	}
	return stored, nil
}

// Retract deletes every judgement by the labeller judge (an "auto:" name),
// in one statement, and returns how many there were: when a labeller
// changes, its old labels go before the new ones are written. People's
// verdicts cannot be retracted this way.
func (d *DB) Retract(judge string) (int, error) {
	if !strings.HasPrefix(judge, AutoPrefix) || judge == AutoPrefix {
		return 0, fmt.Errorf("prefs: retracting %q: only a labeller's (%s…) judgements can be retracted", judge, AutoPrefix)
	}
	res, err := d.db.Exec(d.q(`DELETE FROM judgements WHERE judge = ?`), judge)
	if err != nil {
		return 0, d.fail("retracting the judgements of "+judge, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, d.fail("retracting the judgements of "+judge, err)
	}
	return int(n), nil
}

// Records returns every judgement with its pair, in the order they were
// given.
func (d *DB) Records() ([]Record, error) {
	rows, err := d.db.Query(`SELECT ` + pairColumns + `, j.verdict, j.judge, j.at
		FROM judgements j JOIN pairs p ON p.id = j.pair ORDER BY j.id`)
	if err != nil {
		return nil, d.fail("reading verdicts", err)
	}
	defer rows.Close()
	var recs []Record
	for rows.Next() {
		var verdict, judge, at string
		p, err := scanPair(rows, &verdict, &judge, &at)
		if err != nil {
			return nil, d.fail("reading verdicts", err)
		}
		r := Record{Pair: p, Verdict: Verdict(verdict), Judge: judge}
		if r.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, d.fail("reading verdicts", fmt.Errorf("pair %s: %w", p.ID, err))
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail("reading verdicts", err)
	}
	return recs, nil
}

// Import is ImportCounted without the counts.
func (d *DB) Import(recs []Record) error {
	_, err := d.ImportCounted(recs)
	return err
}

// ImportResult counts what ImportCounted did with each record.
type ImportResult struct {
	Imported int // judgements added
	Skipped  int // judgements already there
}

// selectSameJudgement finds a judgement equal to one being imported. Its
// natural key is (pair, judge, verdict, at): a judgement has no id of its
// own outside one database, and the time, to the nanosecond, tells two
// verdicts of one judge on one pair apart. There is no unique index on it:
// databases that already hold duplicates (imported twice before imports
// were idempotent) must still migrate.
const selectSameJudgement = `SELECT 1 FROM judgements WHERE pair = ? AND verdict = ? AND judge = ? AND at = ?`

// ImportCounted stores records (from ReadJSONL) in one transaction: each
// pair is added unless a pair with its id is already there, in which case
// the two must be the same pair; each judgement is added unless an equal
// one (selectSameJudgement) is already there, so importing a file twice
// adds nothing the second time. Nothing is stored if any record fails.
func (d *DB) ImportCounted(recs []Record) (ImportResult, error) {
	var res ImportResult
	for i, r := range recs {
		if err := r.Validate(); err != nil {
			return res, fmt.Errorf("prefs: record %d: %w", i+1, err)
		}
	}
	tx, err := d.db.Begin()
	if err != nil {
		return res, d.fail("importing", err)
	}
	defer tx.Rollback()
	for i, r := range recs {
		doing := fmt.Sprintf("importing record %d (pair %s)", i+1, r.ID)
		have, err := scanPair(tx.QueryRow(d.q(selectPair), r.ID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.Exec(d.q(insertPair), pairRow(r.Pair)...); err != nil {
				return res, d.fail(doing, err)
			}
		case err != nil:
			return res, d.fail(doing, err)
		case have != r.Pair:
			return res, fmt.Errorf("prefs: record %d: pair %s is already in %s with other images or provenance", i+1, r.ID, d.name)
		}
		row := judgementRow(r.Judgement())
		var one int
		switch err := tx.QueryRow(d.q(selectSameJudgement), row...).Scan(&one); {
		case err == nil:
			res.Skipped++
			continue
		case !errors.Is(err, sql.ErrNoRows):
			return res, d.fail(doing, err)
		}
		if _, err := tx.Exec(d.q(insertJudgement), row...); err != nil {
			return res, d.fail(doing, err)
		}
		res.Imported++
	}
	if err := tx.Commit(); err != nil {
		return ImportResult{}, d.fail("importing", err)
	}
	return res, nil
}
