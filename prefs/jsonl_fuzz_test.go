package prefs_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"facereward/prefs"
)

// fuzzMaxJSONL caps a fuzz input: ReadJSONL reads a whole file, so without
// a cap the fuzzer could grow one exec's memory without bound.
const fuzzMaxJSONL = 64 << 10

// FuzzReadJSONL feeds arbitrary bytes to ReadJSONL, which reads exports
// that people edit and hand around (prefs import). No input may panic;
// every record it accepts must pass Record.Validate and the text checks
// (CheckName, CheckText), since the database trusts imported records; and
// writing the accepted records with WriteJSONL and reading them back must
// give the same records, or an export would not re-import as it was.
func FuzzReadJSONL(f *testing.F) {
	s := prefs.Store{Dir: f.TempDir()}
	rec := prefs.Record{
		Pair:    fuzzPair(f, s),
		Verdict: prefs.Left, Judge: "ada", At: time.Date(2026, 11, 26, 5, 0, 0, 0, time.UTC),
	}
	var good bytes.Buffer
	if err := prefs.WriteJSONL(&good, []prefs.Record{rec}); err != nil {
		f.Fatal(err)
	}
	line := good.String()
	f.Add([]byte(line))
	f.Add([]byte(line + "\n" + line))
	f.Add([]byte(strings.Replace(line, `"ada"`, `"auto:gfpgan"`, 1)))
	f.Add([]byte(strings.Replace(line, `"left"`, `"sideways"`, 1)))
	f.Add([]byte(strings.Replace(line, `"verdict"`, `"verdikt"`, 1)))
	f.Add([]byte(strings.Replace(line, "Z", "+05:30", 1)))
	f.Add([]byte(strings.TrimSpace(line) + " {}\n"))
	f.Add([]byte("\n\n   \n"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxJSONL {
			return
		}
		recs, err := prefs.ReadJSONL(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		for i, r := range recs {
			if err := r.Validate(); err != nil {
				t.Fatalf("record %d accepted but invalid: %v", i, err)
			}
			if err := prefs.CheckName("judge", r.Judge); err != nil {
				t.Fatalf("record %d: accepted judge: %v", i, err)
			}
			if err := prefs.CheckText("pair", r.ID); err != nil {
				t.Fatalf("record %d: accepted pair id: %v", i, err)
			}
		}
		var out bytes.Buffer
		if err := prefs.WriteJSONL(&out, recs); err != nil {
			t.Fatalf("writing accepted records: %v", err)
		}
		again, err := prefs.ReadJSONL(&out, "round trip")
		if err != nil {
			t.Fatalf("re-reading written records: %v\n%s", err, out.Bytes())
		}
		if len(again) != len(recs) {
			t.Fatalf("%d records read back, wrote %d", len(again), len(recs))
		}
		for i := range recs {
			if !sameRecord(recs[i], again[i]) {
				t.Fatalf("record %d changed in a round trip:\n%+v\n%+v", i, recs[i], again[i])
			}
		}
	})
}

// fuzzPair is a valid pair whose images are in s.
func fuzzPair(f *testing.F, s prefs.Store) prefs.Pair {
	put := func(b string) prefs.Ref {
		r, err := s.Put([]byte(b))
		if err != nil {
			f.Fatal(err)
		}
		return r
	}
	return prefs.Pair{
		ID: "p1", Face: "04800", LQ: put("lq"), GT: put("gt"),
		Left:  prefs.Candidate{Image: put("a"), Provenance: prefs.Provenance{Method: "stage2", Seed: 3, Steps: 20, Eta: 0.5, Guidance: 0.45, Preset: "diffbir"}},
		Right: prefs.Candidate{Image: put("b"), Provenance: prefs.Provenance{Method: "lq", Preset: "diffbir"}},
	}
}

// sameRecord compares records field by field through their JSON, with the
// time compared as an instant and its offset: time.Time values that mean
// the same moment need not be ==, nor reflect.DeepEqual (location pointers).
func sameRecord(a, b prefs.Record) bool {
	_, oa := a.At.Zone()
	_, ob := b.At.Zone()
	if !a.At.Equal(b.At) || oa != ob {
		return false
	}
	a.At, b.At = time.Time{}, time.Time{}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
