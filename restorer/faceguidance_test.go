package restorer

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"facereward/tensor"
)

func TestLogDetail(t *testing.T) {
	const s = 20
	faces := tensor.New(3, s, s, 3)
	per := s * s * 3
	for i := range per {
		y, x := i/3/s, i/3%s
		faces.Data[i] = 0.2                                        // flat: no detail
		faces.Data[per+i] = float32((x+y)%2)*2 - 1                 // a full-range checkerboard
		faces.Data[2*per+i] = 0.2 + 0.02*float32((x+y)%2)*2 - 0.02 // a faint one
	}
	// Energies in [0,1]: 0 (floored at 1e-12), 16 and 16·0.02² = 0.0064.
	want := []float64{-12, math.Log10(16), math.Log10(0.0064)}
	for i, d := range LogDetail(faces) {
		if math.Abs(d-want[i]) > 1e-4 {
			t.Errorf("face %d: detail %.5f, want %.5f", i, d, want[i])
		}
	}
}

// FaceGuidance worked by hand: the mild ramp from −2.5 up over 0.4, the
// heavy one from −3.6 down over 0.2, each off at or below Guidance.
func TestFaceGuidance(t *testing.T) {
	o := SampleOptions{Guidance: 0.25, MildGuidance: 0.75, HeavyGuidance: 0.45}
	for _, c := range []struct{ d, want float64 }{
		{-12, 0.45}, {-3.8, 0.45}, {-3.7, 0.35}, {-3.6, 0.25}, {-2.9, 0.25},
		{-2.5, 0.25}, {-2.4, 0.375}, {-2.1, 0.75}, {1, 0.75},
	} {
		if g := o.FaceGuidance(c.d); math.Abs(g-c.want) > 1e-12 {
			t.Errorf("detail %g: guidance %g, want %g", c.d, g, c.want)
		}
	}
	off := o
	off.MildGuidance, off.HeavyGuidance = 0.25, 0.1
	for _, d := range []float64{-12, -3.5, -2.4, 1} {
		if g := off.FaceGuidance(d); g != 0.25 {
			t.Errorf("ramps at or below guidance, detail %g: guidance %g, want 0.25", d, g)
		}
	}
}

// Each face of a batch restored with MildGuidance and HeavyGuidance comes
// out as it would alone with its own guidance as the sampler's only one:
// the per-face guidance is Guidance applied face by face, nothing else.
func TestFaceGuidanceIsPerFaceGuidance(t *testing.T) {
	m := newTiny(t, 16, 3)
	perturbZeros(m, rand.New(rand.NewPCG(4, 4)))
	o := SampleOptions{Steps: 6, Strength: 0.5, Guidance: 0.2, MildGuidance: 0.8, HeavyGuidance: 0.5, Eta: 0.7, LowBand: 2}
	s, err := NewSampler(m, o)
	if err != nil {
		t.Fatal(err)
	}
	const n, size = 3, 16
	per := size * size * 3
	lq := tensor.New(n, size, size, 3)
	// Inputs from flat to busy, so that their stage-1 estimates differ in
	// detail: the flat one is heavy, the busy ones mild.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range lq.Data {
		lq.Data[i] = 0.5 + float32(i/per)*0.2*float32(rng.NormFloat64())
	}
	w := s.guidances(m.Condition(lq))
	if !slices.Contains(w, float32(o.HeavyGuidance)) || !slices.Contains(w, float32(o.MildGuidance)) {
		t.Fatalf("guidances %v: the test needs a face at each ramp's top", w)
	}
	rngs := func() []*rand.Rand {
		var r []*rand.Rand
		for i := range n {
			r = append(r, rand.New(rand.NewPCG(7, uint64(i))))
		}
		return r
	}
	_, out, err := s.RestoreEach(lq, rngs())
	if err != nil {
		t.Fatal(err)
	}
	for i, rng := range rngs() {
		alone := o
		alone.Guidance, alone.MildGuidance, alone.HeavyGuidance = float64(w[i]), 0, 0
		sa, err := NewSampler(m, alone)
		if err != nil {
			t.Fatal(err)
		}
		_, o1, err := sa.Restore(tensor.FromSlice(lq.Data[i*per:(i+1)*per], 1, size, size, 3), rng)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rawBytes(o1), rawBytes(tensor.FromSlice(out.Data[i*per:(i+1)*per], 1, size, size, 3))) {
			t.Errorf("face %d (guidance %g) restored with per-face guidance differs from it restored alone at its guidance", i, w[i])
		}
	}
	// At or below Guidance the ramps are off: the bytes are plain
	// Guidance's.
	plain := o
	plain.MildGuidance, plain.HeavyGuidance = 0, 0
	sp, _ := NewSampler(m, plain)
	for _, mg := range []float64{0.1, o.Guidance} {
		off := o
		off.MildGuidance, off.HeavyGuidance = mg, mg
		so, _ := NewSampler(m, off)
		_, a, err := so.RestoreEach(lq, rngs())
		if err != nil {
			t.Fatal(err)
		}
		_, b, _ := sp.RestoreEach(lq, rngs())
		if !bytes.Equal(rawBytes(a), rawBytes(b)) {
			t.Errorf("mild and heavy guidance %g (not above guidance %g) changed the restoration", mg, o.Guidance)
		}
	}
}
