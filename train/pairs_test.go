package train

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"facereward/degrade"
	"facereward/restorer/restorertest"
	"facereward/tensor"
)

func presetAt(t *testing.T, name string, size int) degrade.Config {
	t.Helper()
	c, err := degrade.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return c.AtSize(size)
}

// A one-preset transform degrades exactly as degrade.Degrade does from the
// same stream (so one-preset runs see the pairs they always have); a mix
// draws one preset per face, uniformly, and then degrades as that preset
// alone does from the rest of the stream.
func TestPairTransformMix(t *testing.T) {
	const size = 32
	img := tensor.New(size, size, 3)
	for i := range img.Data {
		img.Data[i] = float32(i%97) / 97
	}
	large, gfpgan := presetAt(t, "codeformer-large", size), presetAt(t, "gfpgan", size)
	one, err := pairTransform([]degrade.Config{large}, size)
	if err != nil {
		t.Fatal(err)
	}
	mix, err := pairTransform([]degrade.Config{large, gfpgan}, size)
	if err != nil {
		t.Fatal(err)
	}
	degraded := func(rng *rand.Rand, cfg degrade.Config) []float32 {
		lq, _, err := degrade.Degrade(rng, img, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return lq.Data
	}
	drawn := map[int]int{}
	for seed := range uint64(24) {
		stream := func() *rand.Rand { return rand.New(rand.NewPCG(seed, 5)) }
		got, err := one(img, stream())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[0].Data, degraded(stream(), large)) || !slices.Equal(got[1].Data, img.Data) {
			t.Fatalf("seed %d: one preset's pair differs from degrade.Degrade's", seed)
		}
		if got, err = mix(img, stream()); err != nil {
			t.Fatal(err)
		}
		rng := stream()
		k := rng.IntN(2)
		drawn[k]++
		if want := degraded(rng, []degrade.Config{large, gfpgan}[k]); !slices.Equal(got[0].Data, want) {
			t.Fatalf("seed %d: the mix's LQ is not preset %d's", seed, k)
		}
	}
	if drawn[0] < 4 || drawn[1] < 4 {
		t.Errorf("24 faces drew the presets %v times", drawn)
	}
}

// A mix naming an unknown preset is refused with the run's label and the
// valid names, before anything is made.
func TestOpenPairsRejectsUnknownPreset(t *testing.T) {
	data := restorertest.Faces(t)
	_, err := OpenPairs("train stage 1", data, "diffbir,codeformer-huge", 16, 1, 0, 0)
	if err == nil || !strings.Contains(err.Error(), "train stage 1") || !strings.Contains(err.Error(), `"codeformer-huge"`) || !strings.Contains(err.Error(), "gfpgan") {
		t.Fatalf("got %v", err)
	}
	if _, err := OpenPairs("train stage 1", data, "diffbir, gfpgan", 16, 1, 0, 0); err != nil {
		t.Errorf("a mix with a space after its comma: %v", err)
	}
}
