package tensor

import "math"

// VecLeakyReLU sets dst[i] = src[i] for src[i] > 0 and alpha·src[i]
// otherwise (alpha 0: ReLU, which gives +0 for every input with the sign
// bit set, −0 and negative NaNs included). The choice is made on the sign
// bit without a branch: with inputs of random sign a branch per element
// mispredicts half the time. Every path gives the same bytes.
func VecLeakyReLU(dst, src []float32, alpha float32) {
	vecCheck2("VecLeakyReLU", "dst", "src", len(dst), len(src))
	vecActive.leaky(dst, src, alpha)
}

// VecLeakyReLUGrad adds LeakyReLU's gradient: gx[i] += gy[i]·slope, the
// slope 1 where x[i] > 0 and alpha elsewhere (±0 included, as PyTorch).
func VecLeakyReLUGrad(gx, gy, x []float32, alpha float32) {
	vecCheck2("VecLeakyReLUGrad", "gx", "gy", len(gx), len(gy))
	vecCheck2("VecLeakyReLUGrad", "gx", "x", len(gx), len(x))
	vecActive.leakyGrad(gx, gy, x, alpha, false)
}

// VecLeakyReLUGradSet is VecLeakyReLUGrad into a gx of zeros without
// reading (or needing) them: gx[i] = 0 + gy[i]·slope, the same bytes (the
// addition turns a −0 product into +0, as adding into zeros does).
func VecLeakyReLUGradSet(gx, gy, x []float32, alpha float32) {
	vecCheck2("VecLeakyReLUGradSet", "gx", "gy", len(gx), len(gy))
	vecCheck2("VecLeakyReLUGradSet", "gx", "x", len(gx), len(x))
	vecActive.leakyGrad(gx, gy, x, alpha, true)
}

var one32 = math.Float32bits(1)

func leakyScalar(dst, src []float32, alpha float32) {
	src = src[:len(dst)]
	if alpha == 0 {
		for i, v := range src {
			b := math.Float32bits(v)
			dst[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
		}
		return
	}
	ab := math.Float32bits(alpha)
	for i, v := range src {
		neg := uint32(int32(math.Float32bits(v)) >> 31) // all ones for a set sign bit
		dst[i] = v * math.Float32frombits(one32&^neg|ab&neg)
	}
}

// leakyGradScalar adds the gradient into gx, or with set adds it to zeros
// in place of gx's values.
func leakyGradScalar(gx, gy, x []float32, alpha float32, set bool) {
	gy, x = gy[:len(gx)], x[:len(gx)]
	ab := math.Float32bits(alpha)
	for i := range gx {
		// notPos is all ones for a set sign bit (x < 0, −0) or for +0,
		// whose bits are 0.
		b := int32(math.Float32bits(x[i]))
		notPos := uint32(b>>31) | uint32((b-1)>>31)
		var base float32
		if !set {
			base = gx[i]
		}
		gx[i] = base + gy[i]*math.Float32frombits(one32&^notPos|ab&notPos)
	}
}
