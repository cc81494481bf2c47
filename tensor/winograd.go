package tensor

import "fmt"

// The transforms of Winograd F(2×2, 3×3) convolution (nn/winograd.go) as
// kernels over channel vectors: one call transforms a whole tile, every
// channel in turn, so the tile stays in registers between the column and
// the row pass. Each output is a fixed sum of inputs, and every path adds
// in the same order, so all give the same bytes. As for the other Vec
// functions, all vectors must have one length (they panic otherwise).

// VecWinogradInput writes Bᵀ d B for the 4×4 tile d (d[4r+c] is the
// channel vector of row r, column c) into o (the same layout):
// Bᵀ down the columns first (rows d0 − d2, d1 + d2, d2 − d1, d1 − d3),
// then the same along the rows.
func VecWinogradInput(o, d *[16][]float32) {
	checkTile("VecWinogradInput", len(o[0]), o[:], d[:])
	vecActive.winogradIn(*o, *d)
}

// VecWinogradOutput writes Aᵀ m A for the 4×4 tile of products m into the
// 2×2 output tile y (y[2r+c]): Aᵀ down the columns first (rows
// (m0 + m1) + m2 and (m1 − m2) − m3), then bias (may be nil) added to the
// middle columns, then Aᵀ along the rows. With accumulate the results are
// added to y instead.
func VecWinogradOutput(y *[4][]float32, m *[16][]float32, bias []float32, accumulate bool) {
	checkTile("VecWinogradOutput", len(y[0]), y[:], m[:])
	if bias != nil {
		vecCheck2("VecWinogradOutput", "y[0]", "bias", len(y[0]), len(bias))
	}
	vecActive.winogradOut(*y, *m, bias, accumulate)
}

// VecWinogradKernel applies G to three vectors (a kernel's column or row):
// o0 = i0, o1 = ((i0 + i1) + i2)/2, o2 = ((i0 − i1) + i2)/2, o3 = i2.
func VecWinogradKernel(o0, o1, o2, o3, i0, i1, i2 []float32) {
	checkTile("VecWinogradKernel", len(o0), [][]float32{o1, o2, o3, i0, i1, i2})
	n := len(o0)
	o1, o2, o3, i0, i1, i2 = o1[:n], o2[:n], o3[:n], i0[:n], i1[:n], i2[:n]
	for k := range n {
		a, b, c := i0[k], i1[k], i2[k]
		o0[k] = a
		o1[k] = 0.5 * (a + b + c)
		o2[k] = 0.5 * (a - b + c)
		o3[k] = c
	}
}

// checkTile panics unless every vector of the groups has length n.
func checkTile(fn string, n int, groups ...[][]float32) {
	for _, g := range groups {
		for i, v := range g {
			if len(v) != n {
				panic(fmt.Sprintf("tensor.%s: vector %d has length %d, want %d", fn, i, len(v), n))
			}
		}
	}
}

// winogradInScalar and winogradOutScalar handle channels [from, n): the
// vector paths call them for the tail.
func winogradInScalar(o, d [16][]float32) { winogradInFrom(&o, &d, 0) }

func winogradInFrom(o, d *[16][]float32, from int) {
	for k := from; k < len(o[0]); k++ {
		var t [16]float32
		for c := range 4 {
			a, b, x, y := d[c][k], d[4+c][k], d[8+c][k], d[12+c][k]
			t[c], t[4+c], t[8+c], t[12+c] = a-x, b+x, x-b, b-y
		}
		for r := range 4 {
			a, b, x, y := t[4*r], t[4*r+1], t[4*r+2], t[4*r+3]
			o[4*r][k], o[4*r+1][k], o[4*r+2][k], o[4*r+3][k] = a-x, b+x, x-b, b-y
		}
	}
}

func winogradOutScalar(y [4][]float32, m [16][]float32, bias []float32, accumulate bool) {
	winogradOutFrom(&y, &m, bias, accumulate, 0)
}

func winogradOutFrom(y *[4][]float32, m *[16][]float32, bias []float32, accumulate bool, from int) {
	for k := from; k < len(y[0]); k++ {
		var e [8]float32
		for c := range 4 {
			b, x := m[4+c][k], m[8+c][k]
			e[c] = m[c][k] + b + x
			e[4+c] = b - x - m[12+c][k]
		}
		if bias != nil {
			e[1] += bias[k]
			e[5] += bias[k]
		}
		for r := range 2 {
			b, x := e[4*r+1], e[4*r+2]
			s0, s1 := e[4*r]+b+x, b-x-e[4*r+3]
			if accumulate {
				y[2*r][k] += s0
				y[2*r+1][k] += s1
			} else {
				y[2*r][k], y[2*r+1][k] = s0, s1
			}
		}
	}
}
