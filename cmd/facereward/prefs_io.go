package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"facereward/atomicfile"
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("prefs export: unexpected argument %q (see --help)", fs.Arg(0))
	}
	if *dsn == "" {
		return errors.New("prefs export: --db is required (see --help)")
	}
	db, err := prefs.Open(*dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	recs, err := db.Records()
	if err != nil {
		return err
	}
	if *out == "" {
		if err := prefs.WriteJSONL(stdout, recs); err != nil {
			return fmt.Errorf("prefs export: writing standard output: %w", err)
		}
		return nil
	}
	if err := atomicfile.Write(*out, func(w io.Writer) error { return prefs.WriteJSONL(w, recs) }); err != nil {
		return fmt.Errorf("prefs export: writing %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "prefs export: wrote %d records from %s to %s\n", len(recs), db.Name(), *out)
	return nil
}

// prefsImport is `facereward prefs import`.
func prefsImport(args []string, stdout io.Writer) error {
	fs := newFlags("prefs import", "prefs import --db DSN [--store DIR] FILE.jsonl...", `
Adds the records of JSONL files (as prefs export writes them) to the
database, all in one transaction: a bad line, or a pair whose id is
already there with other images, imports nothing. With --store, every
image a record names must be in that image store.`, stdout)
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
	var checks []func(prefs.Record) error
	if *storeDir != "" {
		store := prefs.Store{Dir: *storeDir}
		checks = append(checks, func(r prefs.Record) error { return store.CheckImages(r.Pair) })
	}
	var recs []prefs.Record
	for _, name := range files {
		rs, err := readPrefsJSONL(name, checks...)
		if err != nil {
			return fmt.Errorf("prefs import: %w", err)
		}
		recs = append(recs, rs...)
	}
	db, err := prefs.Open(*dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Import(recs); err != nil {
		// Record numbers count through the files in the order given.
		return fmt.Errorf("prefs import: nothing imported: %w", err)
	}
	from := strings.Join(files, ", ")
	if len(files) > 3 {
		from = fmt.Sprintf("%d files", len(files))
	}
	fmt.Fprintf(stdout, "prefs import: imported %d records from %s into %s\n", len(recs), from, db.Name())
	return nil
}

// readPrefsJSONL reads the records of one JSONL file; errors name the file
// and line.
func readPrefsJSONL(name string, checks ...func(prefs.Record) error) ([]prefs.Record, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return prefs.ReadJSONL(f, name, checks...)
}
