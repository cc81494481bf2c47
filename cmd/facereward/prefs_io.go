package main

import (
	"errors"
	"fmt"
	"io"

	"facereward/prefs"
)

// prefsDBHelp describes --db for export and import.
const prefsDBHelp = "the preference database: a SQLite file, or a postgres://user:password@host:port/dbname URL (required)"

// prefsExport is `facereward prefs export`.
func prefsExport(args []string, stdout io.Writer) error {
	fs := newFlags("prefs export", "prefs export --db DSN [--out FILE.jsonl]", `
Writes every verdict with its pair, one JSON record per line, in the order
they were given: to standard output, or to --out, which is replaced only
once the whole export is written. prefs import reads it back.`, stdout)
	dsn := fs.String("db", "", prefsDBHelp)
	out := fs.String("out", "", "the JSONL file to write (default: standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("prefs export: unexpected argument %q (see --help)", fs.Arg(0))
	}
	if *dsn == "" {
		return errors.New("prefs export: --db is required (see --help)")
	}
	return prefs.Export(*dsn, *out, stdout)
}

// prefsImport is `facereward prefs import`.
func prefsImport(args []string, stdout io.Writer) error {
	fs := newFlags("prefs import", "prefs import --db DSN [--store DIR] FILE.jsonl...", `
Adds the records of JSONL files (as prefs export writes them) to the
database, all in one transaction: a bad line, or a pair whose id is
already there with other images, imports nothing. A verdict already in
the database (same pair, judge, verdict and time) is skipped, so importing
a file twice adds it once; the counts of imported and skipped records are
printed. Names must be printable UTF-8 of at most 64 characters. With
--store, every image a record names must be in that image store.`, stdout)
	dsn := fs.String("db", "", prefsDBHelp)
	storeDir := fs.String("store", "", "an image store whose images every record must name (default: no check)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *dsn == "" {
		return errors.New("prefs import: --db is required (see --help)")
	}
	if len(files) == 0 {
		return errors.New("prefs import: no JSONL files given (see --help)")
	}
	return prefs.Import(*dsn, *storeDir, files, stdout)
}
