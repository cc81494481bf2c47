package diffusion

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"facereward/tensor"
)

func rawBytes(t *tensor.Tensor) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, t.Data)
	return b.Bytes()
}

func bytesToF32(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	binary.Read(bytes.NewReader(b), binary.LittleEndian, out)
	return out
}

// StartFrom at strength 1 is the pure-noise start plus
// sqrt(ᾱ_{T-1})·x0 + (sqrt(1-ᾱ_{T-1})-1)·ε, from the same draws, and the
// samples from the two starts end together; other strengths noise x0 to the
// timestep of the step they return.
func TestDDIMStartFrom(t *testing.T) {
	s := DefaultSchedule()
	m := gaussOracle(s, PredictV, 0.1, 0.6)
	d := DDIM{Schedule: s, Steps: 50, Eta: 1}
	x0 := randTensor(rand.New(rand.NewPCG(1, 1)), -1, 1, 2, 8, 8, 3)

	rng := rand.New(rand.NewPCG(11, 0))
	xt, step, err := d.StartFrom(x0, 1, RNGNoise(rng))
	if err != nil {
		t.Fatal(err)
	}
	rngPure := rand.New(rand.NewPCG(11, 0))
	pure := Normal(rngPure, x0.Shape...)
	if step != 0 {
		t.Fatalf("strength 1 starts at step %d", step)
	}
	a, b := s.SqrtAlphaBar(999), s.SqrtOneMinusAlphaBar(999)
	for i, v := range xt.Data {
		if want := float64(pure.Data[i]) + a*float64(x0.Data[i]) + (b-1)*float64(pure.Data[i]); math.Abs(float64(v)-want) > 1e-6 {
			t.Fatalf("strength 1: x_t[%d] = %g, want %g", i, v, want)
		}
	}
	fromX0 := sampleRef(d, m, xt, rng, step, nil)
	fromNoise := sampleRef(d, m, pure, rngPure, 0, nil)
	if diff := maxDiff(fromX0, fromNoise); diff > 1e-3 {
		t.Errorf("strength 1 and pure noise end %g apart", diff)
	}

	// Strength 0.4 of 50 steps runs the last 20, from Timesteps()[30].
	rng = rand.New(rand.NewPCG(12, 0))
	xt, step, err = d.StartFrom(x0, 0.4, RNGNoise(rng))
	if err != nil {
		t.Fatal(err)
	}
	if step != 30 {
		t.Fatalf("strength 0.4 starts at step %d, want 30", step)
	}
	eps := Normal(rand.New(rand.NewPCG(12, 0)), x0.Shape...)
	tt := d.Timesteps()[30]
	if diff := maxDiff(xt, s.Noise(x0, eps, []int{tt, tt})); diff != 0 {
		t.Errorf("strength 0.4: x_t is not x0 noised to t=%d (off by %g)", tt, diff)
	}
	calls := 0
	sampleRef(d, m, xt, rng, step, func() { calls++ })
	if calls != 20 {
		t.Errorf("strength 0.4 ran %d steps, want 20", calls)
	}

	// Strength 0 is a no-op that draws nothing.
	rng = rand.New(rand.NewPCG(13, 0))
	xt, step, err = d.StartFrom(x0, 0, RNGNoise(rng))
	if err != nil || step != 50 || maxDiff(xt, x0) != 0 {
		t.Fatalf("strength 0: step %d, err %v, changed x0: %v", step, err, maxDiff(xt, x0) != 0)
	}
	if res := sampleRef(d, m, xt, rng, step, nil); maxDiff(res, x0) != 0 {
		t.Error("sampling from step 50 changed x0")
	}
	if rng.Uint64() != rand.New(rand.NewPCG(13, 0)).Uint64() {
		t.Error("strength 0 drew from the rng")
	}
	for _, bad := range []float64{-0.1, 1.1, math.NaN()} {
		if _, _, err := d.StartFrom(x0, bad, RNGNoise(rng)); err == nil {
			t.Errorf("strength %g accepted", bad)
		}
	}
}

func TestDDIMDeterminism(t *testing.T) {
	s := DefaultSchedule()
	m := gaussOracle(s, PredictEps, 0, 0.5)
	d := DDIM{Schedule: s, Steps: 10, Eta: 1}
	run := func(seed uint64) []byte {
		rng := rand.New(rand.NewPCG(seed, 1))
		return rawBytes(sampleRef(d, m, Normal(rng, 1, 8, 8, 3), rng, 0, nil))
	}
	if !bytes.Equal(run(1), run(1)) {
		t.Error("same seed, different bytes")
	}
	if bytes.Equal(run(1), run(2)) {
		t.Error("different seeds, same bytes")
	}
}

func TestDDIMValidate(t *testing.T) {
	s := DefaultSchedule()
	for name, d := range map[string]DDIM{
		"no schedule": {Steps: 10},
		"zero steps":  {Schedule: s},
		"too many":    {Schedule: s, Steps: 1001},
		"eta":         {Schedule: s, Steps: 10, Eta: -1},
		"eta NaN":     {Schedule: s, Steps: 10, Eta: math.NaN()},
	} {
		if err := d.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := (DDIM{Schedule: s, Steps: 1000, Eta: 1}).Validate(); err != nil {
		t.Error(err)
	}
	d := DDIM{Schedule: s, Steps: 4}
	if got := []int{d.Timestep(0), d.Timestep(3), d.Timestep(4)}; got[0] != 999 || got[1] != 249 || got[2] != -1 {
		t.Errorf("Timestep(0, 3, 4) = %v, want 999, 249, -1", got)
	}
}
