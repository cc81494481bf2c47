package autolabel

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"facereward/imageio"
	"facereward/prefs"
	"facereward/prefs/prefstest"
	"facereward/tensor"
)

// defaults are the prefs label command's defaults on a database and store.
func defaults(dsn, store string) Options {
	return Options{DB: dsn, Store: store, Threshold: 1, Folds: 5, MinHuman: 20, Seed: 1}
}

// withFlags returns o changed by set.
func withFlags(o Options, set func(*Options)) Options {
	set(&o)
	return o
}

// labelFixture fills a fresh database of kind with pairs between real
// faces (examples/gt), a 3×3 box-blurred copy and a noised copy of each,
// for faces collins and hopper: <face>/gt-blur, <face>/noise-gt and
// <face>/blur-noise, plus nogt/blur-noise, a pair without a ground truth.
// It returns the database's DSN, the open database and the store folder.
func labelFixture(t *testing.T, kind string) (string, *prefs.DB, string) {
	t.Helper()
	dsn := prefstest.DSN(t, kind)
	db, err := prefs.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := prefs.Store{Dir: t.TempDir()}
	cand := func(r prefs.Ref, method string) prefs.Candidate {
		return prefs.Candidate{Image: r, Provenance: prefs.Provenance{Method: method}}
	}
	var pairs []prefs.Pair
	for _, face := range []string{"collins", "hopper"} {
		img, err := imageio.Read(filepath.Join("..", "examples", "gt", face+".png"))
		if err != nil {
			t.Fatal(err)
		}
		gt, blurred, noise := cand(put(t, store, img), "gt"), cand(put(t, store, blur(img)), "stage1"), cand(put(t, store, labelTestNoise(img)), "stage2")
		pairs = append(pairs,
			prefs.Pair{ID: face + "/gt-blur", Face: face, LQ: noise.Image, GT: gt.Image, Left: gt, Right: blurred},
			prefs.Pair{ID: face + "/noise-gt", Face: face, LQ: noise.Image, GT: gt.Image, Left: noise, Right: gt},
			prefs.Pair{ID: face + "/blur-noise", Face: face, LQ: noise.Image, GT: gt.Image, Left: blurred, Right: noise})
		if face == "collins" {
			pairs = append(pairs, prefs.Pair{ID: "nogt/blur-noise", Face: "nogt", LQ: noise.Image, Left: blurred, Right: noise})
		}
	}
	if err := db.AddPairs(pairs); err != nil {
		t.Fatal(err)
	}
	return dsn, db, store.Dir
}

// labelTestNoise adds seeded Gaussian noise of σ 0.05.
func labelTestNoise(img *tensor.Tensor) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(1, 2))
	out := tensor.New(img.Shape...)
	for i, v := range img.Data {
		out.Data[i] = min(max(v+0.05*float32(rng.NormFloat64()), 0), 1)
	}
	return out
}

// autoVerdicts maps pair id to verdict for judge's judgements, failing on
// a pair judged twice by it.
func autoVerdicts(t *testing.T, db *prefs.DB, judge string) map[string]prefs.Verdict {
	t.Helper()
	recs, err := db.Records()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]prefs.Verdict{}
	for _, r := range recs {
		if r.Judge != judge {
			continue
		}
		if _, dup := got[r.ID]; dup {
			t.Errorf("%s judged pair %s twice", judge, r.ID)
		}
		got[r.ID] = r.Verdict
	}
	return got
}

// With no human left/right verdicts the ground-truth rule labels: the
// ground truth beats the blurred and the noised copy on either side; the
// pair a person tied and the pair without a ground truth stay unlabelled;
// --dry-run writes nothing; a second run adds nothing.
func TestRunGroundTruthRule(t *testing.T) {
	for _, kind := range prefstest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			dsn, db, store := labelFixture(t, kind)
			tie := prefs.Judgement{Pair: "hopper/blur-noise", Verdict: prefs.Tie, Judge: "ada", At: time.Now()}
			if err := db.Judge(tie); err != nil {
				t.Fatal(err)
			}
			opts := defaults(dsn, store)

			var out bytes.Buffer
			if err := Run(withFlags(opts, func(o *Options) { o.DryRun = true }), &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			if got := autoVerdicts(t, db, "auto:gt-rule"); len(got) != 0 || !strings.Contains(out.String(), "nothing written") {
				t.Fatalf("dry run wrote %v:\n%s", got, out.String())
			}

			out.Reset()
			if err := Run(opts, &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"ground-truth rule", "skipped 1 unjudged pairs without a ground truth"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			got := autoVerdicts(t, db, "auto:gt-rule")
			for id, want := range map[string]prefs.Verdict{
				"collins/gt-blur": prefs.Left, "collins/noise-gt": prefs.Right,
				"hopper/gt-blur": prefs.Left, "hopper/noise-gt": prefs.Right,
			} {
				if got[id] != want {
					t.Errorf("pair %s: %q, want %q (the ground truth)", id, got[id], want)
				}
			}
			for _, id := range []string{"hopper/blur-noise", "nogt/blur-noise"} {
				if v, ok := got[id]; ok {
					t.Errorf("pair %s labelled %s", id, v)
				}
			}

			out.Reset()
			if err := Run(opts, &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			if again := autoVerdicts(t, db, "auto:gt-rule"); len(again) != len(got) || !strings.Contains(out.String(), "labelled 0 pairs") {
				t.Errorf("second run: %d auto verdicts, had %d:\n%s", len(again), len(got), out.String())
			}

			// --replace retracts the old labels and writes them anew:
			// the same verdicts, each pair once.
			out.Reset()
			if err := Run(withFlags(opts, func(o *Options) { o.Replace = true }), &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("retracted %d earlier auto:gt-rule labels", len(got))
			if again := autoVerdicts(t, db, "auto:gt-rule"); !maps.Equal(again, got) || !strings.Contains(out.String(), want) {
				t.Errorf("--replace: %v, had %v:\n%s", again, got, out.String())
			}
		})
	}
}

// With enough human verdicts the logistic model is trained, cross-validated
// (two faces: two folds) and labels the pairs no one judged.
func TestRunLogisticModel(t *testing.T) {
	dsn, db, store := labelFixture(t, "sqlite")
	for id, v := range map[string]prefs.Verdict{
		"collins/gt-blur": prefs.Left, "collins/noise-gt": prefs.Right,
		"hopper/gt-blur": prefs.Left, "hopper/noise-gt": prefs.Right,
	} {
		if err := db.Judge(prefs.Judgement{Pair: id, Verdict: v, Judge: "ada", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := Run(withFlags(defaults(dsn, store), func(o *Options) { o.MinHuman, o.Threshold = 4, 0 }), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"logistic model on 4 human verdicts: 2-fold agreement", "BRISQUE", "labelled 2 pairs as auto:logistic"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	got := autoVerdicts(t, db, "auto:logistic")
	if len(got) != 2 || got["collins/blur-noise"] == "" || got["hopper/blur-noise"] == "" {
		t.Errorf("logistic labels %v, want the two blur-noise pairs", got)
	}
}

// An image missing from the store is an error that names it.
func TestRunMissingImage(t *testing.T) {
	dsn, _, _ := labelFixture(t, "sqlite")
	err := Run(defaults(dsn, t.TempDir()), &bytes.Buffer{}, io.Discard)
	if err == nil || !regexp.MustCompile(`image sha256:[0-9a-f]{64} is not in the store`).MatchString(err.Error()) {
		t.Errorf("empty store: %v", err)
	}
}
