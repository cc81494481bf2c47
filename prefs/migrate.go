package prefs

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// migrations are applied in order, the same list on both databases;
// schema_version counts those applied. Append, never edit: a database
// made by an older program is brought up to date by the ones it lacks.
// AUTO_ID stands for the dialect's auto-incrementing key (DB.autoID).
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
		id AUTO_ID,
		pair TEXT NOT NULL REFERENCES pairs(id),
		verdict TEXT NOT NULL CHECK (verdict IN ('left', 'right', 'tie', 'skip')),
		judge TEXT NOT NULL,
		at TEXT NOT NULL
	)`,
	`CREATE INDEX judgements_pair ON judgements(pair)`,
	// '' is a pair without a ground truth, as every pair before this was.
	`ALTER TABLE pairs ADD COLUMN gt TEXT NOT NULL DEFAULT ''`,
	// A verdict's idempotency key (Judgement.Key). NULL, for verdicts
	// without one, may repeat under a unique index in both databases.
	`ALTER TABLE judgements ADD COLUMN idempotency_key TEXT`,
	`CREATE UNIQUE INDEX judgements_idempotency_key ON judgements(idempotency_key)`,
}

// migrationLock is the PostgreSQL advisory lock key that serializes
// migrations: any fixed number, the same in every process.
const migrationLock = 0x66616365726577 // "facerew"

// migrate applies the migrations d lacks, all in one transaction.
func (d *DB) migrate() error {
	tx, err := d.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Two processes opening a fresh database at once would both create
	// the tables, and one would fail. The lock, released at commit, makes
	// the second wait and then find the schema up to date. On SQLite,
	// BEGIN IMMEDIATE already does that.
	if d.postgres {
		if _, err := tx.Exec(`SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
	}
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
		if _, err := tx.Exec(strings.ReplaceAll(migrations[i], "AUTO_ID", d.autoID())); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.Exec(d.q(`UPDATE schema_version SET version = ?`), len(migrations)); err != nil {
		return err
	}
	return tx.Commit()
}
