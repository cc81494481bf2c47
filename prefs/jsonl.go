package prefs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// WriteJSONL writes one record per line.
func WriteJSONL(w io.Writer, recs []Record) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// decodeOne decodes the single JSON value b holds into v: unknown fields
// and anything after the value are errors, so that two records run
// together on one line, or a line with trailing garbage, are not half read.
func decodeOne(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON record")
	}
	return nil
}

// maxLine bounds a line of JSONL: a record is a pair's references and
// short text, far below it.
const maxLine = 16 << 20

// ReadJSONL reads records written by WriteJSONL. name labels errors, which
// give the line number; every record is validated, and unknown fields are
// an error (a misspelt field would otherwise vanish silently), as is
// anything after a line's record. Each record
// then goes through checks (Store.CheckImages, say), whose errors are
// reported at its line too.
func ReadJSONL(r io.Reader, name string, checks ...func(Record) error) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var recs []Record
	line := 1 // after the loop, the line that could not be read
	for ; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var rec Record
		if err := decodeOne(b, &rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if err := rec.Validate(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		for _, check := range checks {
			if err := check(rec); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than the %d MiB limit", name, line, maxLine>>20)
		}
		return nil, fmt.Errorf("%s:%d: %w", name, line, err)
	}
	return recs, nil
}
