package restorer

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"facereward/tensor"
)

func TestMildness(t *testing.T) {
	const s = 20
	faces := tensor.New(3, s, s, 3)
	per := s * s * 3
	for i := range per {
		y, x := i/3/s, i/3%s
		faces.Data[i] = 0.2                                        // flat: no detail
		faces.Data[per+i] = float32((x+y)%2)*2 - 1                 // a full-range checkerboard
		faces.Data[2*per+i] = 0.2 + 0.02*float32((x+y)%2)*2 - 0.02 // a faint one
	}
	m := Mildness(faces)
	// Energies in [0,1]: 0, 16 and 16·0.02² = 0.0064 (log10 −2.19).
	want := min(max((math.Log10(0.0064)-MildFrom)/MildSpan, 0), 1)
	if m[0] != 0 || m[1] != 1 || math.Abs(m[2]-want) > 1e-4 {
		t.Errorf("mildness of flat, checkerboard and faint checkerboard: %v, want [0 1 %.4f]", m, want)
	}
	faint := 0.2 + 0.005 // energy 16·0.005² = 4e-4: log10 −3.4, below the ramp
	for i := range per {
		y, x := i/3/s, i/3%s
		faces.Data[2*per+i] = 0.2 + float32(faint-0.2)*(float32((x+y)%2)*2-1)
	}
	if m := Mildness(faces); m[2] != 0 {
		t.Errorf("a fainter checkerboard: mildness %g, want 0", m[2])
	}
}

// Each face of a batch restored with MildGuidance comes out as it would
// alone with its own guidance as the sampler's only one: the per-face
// guidance is Guidance applied face by face, nothing else.
func TestMildGuidanceIsPerFaceGuidance(t *testing.T) {
	m := newTiny(t, 16, 3)
	perturbZeros(m, rand.New(rand.NewPCG(4, 4)))
	o := SampleOptions{Steps: 6, Strength: 0.5, Guidance: 0.2, MildGuidance: 0.8, Eta: 0.7, LowBand: 2}
	s, err := NewSampler(m, o)
	if err != nil {
		t.Fatal(err)
	}
	const n, size = 3, 16
	per := size * size * 3
	lq := tensor.New(n, size, size, 3)
	// Inputs from flat to busy, so that their stage-1 estimates differ in
	// detail and the faces get different guidance.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range lq.Data {
		lq.Data[i] = 0.5 + float32(i/per)*0.2*float32(rng.NormFloat64())
	}
	w := s.guidances(m.Condition(lq))
	if w[0] == w[1] && w[1] == w[2] {
		t.Fatalf("every face got guidance %g: the test needs faces that differ", w[0])
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
		alone.Guidance, alone.MildGuidance = float64(w[i]), 0
		sa, err := NewSampler(m, alone)
		if err != nil {
			t.Fatal(err)
		}
		_, o1, err := sa.Restore(tensor.FromSlice(lq.Data[i*per:(i+1)*per], 1, size, size, 3), rng)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rawBytes(o1), rawBytes(tensor.FromSlice(out.Data[i*per:(i+1)*per], 1, size, size, 3))) {
			t.Errorf("face %d (guidance %g) restored with mild guidance differs from it restored alone at its guidance", i, w[i])
		}
	}
	// At or below Guidance the rule is off: the bytes are plain Guidance's.
	for _, mg := range []float64{0, o.Guidance} {
		off := o
		off.MildGuidance = mg
		so, _ := NewSampler(m, off)
		plain := o
		plain.MildGuidance = 0
		sp, _ := NewSampler(m, plain)
		_, a, err := so.RestoreEach(lq, rngs())
		if err != nil {
			t.Fatal(err)
		}
		_, b, _ := sp.RestoreEach(lq, rngs())
		if !bytes.Equal(rawBytes(a), rawBytes(b)) {
			t.Errorf("mild guidance %g (not above guidance %g) changed the restoration", mg, o.Guidance)
		}
	}
}
