package prefstest

import (
	"testing"

	"facereward/prefs"
)

// Pair is a pair with the given id whose images (short byte strings, not
// pictures; its ground truth included) are in s.
func Pair(t testing.TB, s prefs.Store, id string) prefs.Pair {
	t.Helper()
	put := func(b string) prefs.Ref {
		r, err := s.Put([]byte(b))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	return prefs.Pair{
		ID: id, Face: "04800", LQ: put("lq"), GT: put("gt"),
		Left:  prefs.Candidate{Image: put("a"), Provenance: prefs.Provenance{Method: "stage2", Seed: 3, Steps: 20, Eta: 0.5, Strength: 0.5, Guidance: 0.45, Preset: "diffbir"}},
		Right: prefs.Candidate{Image: put("b"), Provenance: prefs.Provenance{Method: "lq", Preset: "diffbir"}},
	}
}
