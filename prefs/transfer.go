package prefs

import (
	"fmt"
	"io"
	"os"
	"strings"

	"facereward/atomicfile"
)

// Export writes every verdict of the database dsn with its pair as JSONL,
// in the order they were given: to stdout when out is "", else to the file
// out, replaced only once the whole export is written (then a line on
// stdout says so).
func Export(dsn, out string, stdout io.Writer) error {
	db, err := Open(dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	recs, err := db.Records()
	if err != nil {
		return err
	}
	if out == "" {
		if err := WriteJSONL(stdout, recs); err != nil {
			return fmt.Errorf("prefs export: writing standard output: %w", err)
		}
		return nil
	}
	if err := atomicfile.Write(out, func(w io.Writer) error { return WriteJSONL(w, recs) }); err != nil {
		return fmt.Errorf("prefs export: writing %s: %w", out, err)
	}
	fmt.Fprintf(stdout, "prefs export: wrote %d records from %s to %s\n", len(recs), db.Name(), out)
	return nil
}

// Import adds the records of JSONL files to the database dsn, all in one
// transaction: a bad line, or a pair whose id is already there with other
// images, imports nothing. A judgement already in the database (the same
// pair, judge, verdict and time) is skipped, so importing a file again
// changes nothing. With a store ("" for none), every image a record names
// must be in it. A line on stdout counts the records imported and skipped.
func Import(dsn, store string, files []string, stdout io.Writer) error {
	var checks []func(Record) error
	if store != "" {
		s := Store{Dir: store}
		checks = append(checks, func(r Record) error { return s.CheckImages(r.Pair) })
	}
	var recs []Record
	for _, name := range files {
		rs, err := readJSONLFile(name, checks...)
		if err != nil {
			return fmt.Errorf("prefs import: %w", err)
		}
		recs = append(recs, rs...)
	}
	db, err := Open(dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.ImportCounted(recs)
	if err != nil {
		// Record numbers count through the files in the order given.
		return fmt.Errorf("prefs import: nothing imported: %w", err)
	}
	from := strings.Join(files, ", ")
	if len(files) > 3 {
		from = fmt.Sprintf("%d files", len(files))
	}
	fmt.Fprintf(stdout, "prefs import: imported %d records from %s into %s; skipped %d already there\n", res.Imported, from, db.Name(), res.Skipped)
	return nil
}

// readJSONLFile reads the records of one JSONL file; errors name the file
// and line.
func readJSONLFile(name string, checks ...func(Record) error) ([]Record, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadJSONL(f, name, checks...)
}
