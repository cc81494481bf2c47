package prefs

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, "sqlite"
)

// DB keeps pairs and judgements in SQLite: one file, WAL journal (readers
// never wait for the writer), a busy timeout so concurrent annotators'
// writes queue instead of failing, foreign keys on (a judgement of a pair
// that does not exist is refused by the database itself).
type DB struct {
	db   *sql.DB
	path string
}

// migrations are applied in order; schema_version counts those applied.
var migrations = []string{
	`CREATE TABLE pairs (
		id TEXT PRIMARY KEY,
		face TEXT NOT NULL,
		lq TEXT NOT NULL,
		left_image TEXT NOT NULL,
		left_provenance TEXT NOT NULL,
		right_image TEXT NOT NULL,
		right_provenance TEXT NOT NULL
	)`,
	`CREATE TABLE judgements (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		pair TEXT NOT NULL REFERENCES pairs(id),
		verdict TEXT NOT NULL CHECK (verdict IN ('left', 'right', 'tie', 'skip')),
		judge TEXT NOT NULL,
		at TEXT NOT NULL
	)`,
	`CREATE INDEX judgements_pair ON judgements(pair)`,
}

// OpenSQLite opens (creating if needed) the database file at path and
// brings its schema up to date.
func OpenSQLite(path string) (*DB, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("prefs: %s: %w", path, err)
	}
	d := &DB{db: db, path: path}
	if err := d.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("prefs: %s: %w", path, err)
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

func (d *DB) migrate() error {
	tx, err := d.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	var v int
	switch err := tx.QueryRow(`SELECT version FROM schema_version`).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.Exec(`INSERT INTO schema_version VALUES (0)`); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this program's %d", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.Exec(migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.Exec(`UPDATE schema_version SET version = ?`, len(migrations)); err != nil {
		return err
	}
	return tx.Commit()
}

// AddPair stores p; a pair with the same id is an error.
func (d *DB) AddPair(p Pair) error {
	if err := p.Validate(); err != nil {
		return err
	}
	_, err := d.db.Exec(`INSERT INTO pairs VALUES (?, ?, ?, ?, ?, ?, ?)`, pairRow(p)...)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("prefs: pair %s is already in %s", p.ID, d.path)
		}
		return fmt.Errorf("prefs: adding pair %s to %s: %w", p.ID, d.path, err)
	}
	return nil
}

// pairRow is p as the pairs table's columns, in order.
func pairRow(p Pair) []any {
	lp, _ := json.Marshal(p.Left.Provenance) // plain fields: cannot fail
	rp, _ := json.Marshal(p.Right.Provenance)
	return []any{p.ID, p.Face, string(p.LQ), string(p.Left.Image), string(lp), string(p.Right.Image), string(rp)}
}

// Judge stores j; it returns only once the verdict is committed, and a
// verdict for a pair that does not exist is an error.
func (d *DB) Judge(j Judgement) error {
	if err := j.Validate(); err != nil {
		return err
	}
	if err := insertJudgement(d.db, j); err != nil {
		if strings.Contains(err.Error(), "FOREIGN KEY") {
			return fmt.Errorf("prefs: a verdict for pair %s, which is not in %s", j.Pair, d.path)
		}
		return fmt.Errorf("prefs: saving the verdict on pair %s to %s: %w", j.Pair, d.path, err)
	}
	return nil
}

// insertJudgement writes j through db or a transaction.
func insertJudgement(db interface {
	Exec(query string, args ...any) (sql.Result, error)
}, j Judgement) error {
	_, err := db.Exec(`INSERT INTO judgements (pair, verdict, judge, at) VALUES (?, ?, ?, ?)`,
		j.Pair, string(j.Verdict), j.Judge, j.At.UTC().Format(time.RFC3339Nano))
	return err
}

// Records returns every judgement with its pair, in the order they were
// given.
func (d *DB) Records() ([]Record, error) {
	rows, err := d.db.Query(`SELECT p.id, p.face, p.lq, p.left_image, p.left_provenance, p.right_image, p.right_provenance,
		j.verdict, j.judge, j.at FROM judgements j JOIN pairs p ON p.id = j.pair ORDER BY j.id`)
	if err != nil {
		return nil, fmt.Errorf("prefs: %s: %w", d.path, err)
	}
	defer rows.Close()
	var recs []Record
	for rows.Next() {
		var r Record
		var lq, li, lp, ri, rp, verdict, at string
		if err := rows.Scan(&r.ID, &r.Face, &lq, &li, &lp, &ri, &rp, &verdict, &r.Judge, &at); err != nil {
			return nil, fmt.Errorf("prefs: %s: %w", d.path, err)
		}
		r.LQ, r.Left.Image, r.Right.Image, r.Verdict = Ref(lq), Ref(li), Ref(ri), Verdict(verdict)
		if err := json.Unmarshal([]byte(lp), &r.Left.Provenance); err != nil {
			return nil, fmt.Errorf("prefs: %s: pair %s: %w", d.path, r.ID, err)
		}
		if err := json.Unmarshal([]byte(rp), &r.Right.Provenance); err != nil {
			return nil, fmt.Errorf("prefs: %s: pair %s: %w", d.path, r.ID, err)
		}
		if r.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("prefs: %s: pair %s: %w", d.path, r.ID, err)
		}
		recs = append(recs, r)
	}
	return recs, rows.Err()
}

// Import stores records (from ReadJSONL) in one transaction: each pair is
// added unless a pair with its id is already there, in which case the two
// must be the same pair; every judgement is added. Nothing is stored if
// any record fails.
func (d *DB) Import(recs []Record) error {
	tx, err := d.db.Begin()
	if err != nil {
		return fmt.Errorf("prefs: %s: %w", d.path, err)
	}
	defer tx.Rollback()
	for i, r := range recs {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("prefs: record %d: %w", i+1, err)
		}
		row := pairRow(r.Pair)
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM pairs WHERE id = ?`, r.ID).Scan(&n); err != nil {
			return fmt.Errorf("prefs: %s: %w", d.path, err)
		}
		if n == 0 {
			if _, err := tx.Exec(`INSERT INTO pairs VALUES (?, ?, ?, ?, ?, ?, ?)`, row...); err != nil {
				return fmt.Errorf("prefs: record %d: pair %s: %w", i+1, r.ID, err)
			}
		} else {
			err := tx.QueryRow(`SELECT count(*) FROM pairs WHERE id = ? AND face = ? AND lq = ? AND left_image = ?
				AND left_provenance = ? AND right_image = ? AND right_provenance = ?`, row...).Scan(&n)
			if err != nil {
				return fmt.Errorf("prefs: %s: %w", d.path, err)
			}
			if n == 0 {
				return fmt.Errorf("prefs: record %d: pair %s is already in %s with other images or provenance", i+1, r.ID, d.path)
			}
		}
		if err := insertJudgement(tx, r.Judgement()); err != nil {
			return fmt.Errorf("prefs: record %d: %w", i+1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("prefs: %s: %w", d.path, err)
	}
	return nil
}
