package safetensors

import "math"

// The conversions below work on bit patterns rather than through float
// arithmetic so that rounding, subnormals, infinities and NaN follow IEEE 754
// exactly and do not depend on what the compiler does with float32.

// f32ToF16 converts to IEEE binary16 with round-to-nearest-even. Values too
// large for a half become ±Inf, values too small become ±0, and NaN stays a
// (quiet) NaN.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff

	if exp == 0xff {
		if mant != 0 {
			// Keep the top payload bits and force the quiet bit so a NaN can
			// never turn into an infinity.
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	}

	e := exp - 127 + 15 // exponent rebiased for half
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal half (or zero): the result is round(value / 2^-24).
		// value = (1.mant) * 2^(exp-127) = M * 2^(exp-150) with M the 24-bit
		// significand, so the half mantissa is M >> (126-exp), rounded.
		shift := uint(126 - exp)
		if shift > 24 {
			return sign // below half the smallest subnormal: rounds to zero
		}
		m := mant | 0x800000
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++ // may carry into the smallest normal (0x0400), which is right
		}
		return sign | uint16(h)
	}

	h := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // a carry out of the mantissa bumps the exponent, up to Inf
	}
	return sign | uint16(h)
}

// f16ToF32 widens an IEEE binary16 value; every half is exactly a float32.
func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0:
		// Zero or subnormal: mant * 2^-24, exact in float32.
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(math.Float32bits(v) | sign)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	default:
		return math.Float32frombits(sign | (exp-15+127)<<23 | mant<<13)
	}
}

// bf16ToF32 widens a bfloat16, which is the top half of a float32.
func bf16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }
