package safetensors

import (
	"math"
	"testing"
)

func TestF16KnownValues(t *testing.T) {
	cases := []struct {
		in   float32
		bits uint16
		back float32 // value after the round trip
	}{
		{1, 0x3c00, 1},
		{0.5, 0x3800, 0.5},
		{-2, 0xc000, -2},
		{65504, 0x7bff, 65504},                   // largest half
		{65519, 0x7bff, 65504},                   // just below the rounding midpoint
		{65520, 0x7c00, float32(math.Inf(1))},    // midpoint rounds to even = Inf
		{6.103515625e-5, 0x0400, 6.103515625e-5}, // smallest normal 2^-14
		{6.1e-5, 0x03ff, 6.0975552e-5},           // just below it: largest subnormal
		{5.96e-8, 0x0001, 5.9604645e-8},          // smallest subnormal 2^-24
		{2.98e-8, 0x0000, 0},                     // below half of 2^-24: zero
		{float32(math.Ldexp(1, -25)), 0x0000, 0}, // exactly 2^-25: tie, rounds to even zero
		{3.0e-8, 0x0001, 5.9604645e-8},           // above the tie
		{float32(math.Copysign(0, -1)), 0x8000, float32(math.Copysign(0, -1))},
		{float32(math.Inf(1)), 0x7c00, float32(math.Inf(1))},
		{float32(math.Inf(-1)), 0xfc00, float32(math.Inf(-1))},
		{1.0 / 3.0, 0x3555, 0.33325195},
		{2049, 0x6800, 2048}, // tie between 2048 and 2050: even mantissa wins
		{2051, 0x6802, 2052}, // tie between 2050 and 2052: 2052 is even
		{1e9, 0x7c00, float32(math.Inf(1))},
	}
	for _, c := range cases {
		got := f32ToF16(c.in)
		if got != c.bits {
			t.Errorf("f32ToF16(%g) = %#04x, want %#04x", c.in, got, c.bits)
		}
		back := f16ToF32(got)
		if math.Float32bits(back) != math.Float32bits(c.back) {
			t.Errorf("f16ToF32(%#04x) = %g, want %g", got, back, c.back)
		}
	}

	nan := f32ToF16(float32(math.NaN()))
	if nan&0x7c00 != 0x7c00 || nan&0x3ff == 0 {
		t.Errorf("NaN encodes as %#04x, not a NaN", nan)
	}
	if !math.IsNaN(float64(f16ToF32(nan))) {
		t.Errorf("NaN does not survive the round trip")
	}
	// A NaN whose payload lives only in the low bits must not become Inf.
	lowNaN := math.Float32frombits(0x7f800001)
	if h := f32ToF16(lowNaN); h&0x3ff == 0 {
		t.Errorf("low-payload NaN encodes as %#04x (Inf)", h)
	}
}

// TestF16Exhaustive checks every half: it must widen and narrow back to
// itself, and the float32 midpoint to its successor must round to the even
// one of the two, with the float32 values either side of the midpoint going
// to the nearer neighbour.
func TestF16Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		bits := uint16(h)
		f := f16ToF32(bits)
		if math.IsNaN(float64(f)) {
			if exp := bits & 0x7c00; exp != 0x7c00 || bits&0x3ff == 0 {
				t.Fatalf("%#04x decodes to NaN", bits)
			}
			continue
		}
		if got := f32ToF16(f); got != bits {
			t.Fatalf("round trip of %#04x (%g) gives %#04x", bits, f, got)
		}
		if bits&0x7fff >= 0x7bff { // Inf, or no finite successor
			continue
		}
		next := bits + 1 // magnitude successor, same sign
		fn := f16ToF32(next)
		mid := float32((float64(f) + float64(fn)) / 2) // exact: halves have few bits
		even := bits
		if bits&1 == 1 {
			even = next
		}
		if got := f32ToF16(mid); got != even {
			t.Fatalf("midpoint of %#04x and %#04x gives %#04x, want %#04x", bits, next, got, even)
		}
		below := math.Nextafter32(mid, f)
		above := math.Nextafter32(mid, fn)
		if got := f32ToF16(below); got != bits {
			t.Fatalf("just below midpoint of %#04x/%#04x gives %#04x", bits, next, got)
		}
		if got := f32ToF16(above); got != next {
			t.Fatalf("just above midpoint of %#04x/%#04x gives %#04x", bits, next, got)
		}
	}
}

func TestBF16(t *testing.T) {
	cases := map[uint16]float32{
		0x3f80: 1,
		0xc000: -2,
		0x3e80: 0.25,
		0x0000: 0,
		0x7f80: float32(math.Inf(1)),
		0x4049: 3.140625,
	}
	for bits, want := range cases {
		if got := bf16ToF32(bits); got != want {
			t.Errorf("bf16ToF32(%#04x) = %g, want %g", bits, got, want)
		}
	}
}
