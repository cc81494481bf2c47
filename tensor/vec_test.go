package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// Every test walks vecImpls, so a plain run checks each path this CPU has
// (avx512, avx2, scalar) directly, whatever FACEREWARD_GEMM picks for the
// public functions.

var vecLens = []int{0, 1, 7, 15, 16, 17, 31, 33, 100, 1000}

var vecSpecials = []float32{
	0, float32(math.Copysign(0, -1)), 1e-8, -1e-8, 20, -20, 88.7, -88.7, 104, -104,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
	-1e4, -3e38, 3e38, 88.72, 88.73, 88.8, -87.3, -100, -103.9, -103.97, 0.624, 0.626, -0.625,
	1e-30, -1e-30, 1e-45, 0.5, -0.5, 9, -9,
}

// vecInputs returns the arrays a length-n kernel is checked on: uniform
// values in [lo, hi], values of mixed magnitude, and the special values cycled
// through every position so that each lands in the tail too.
func vecInputs(r *rand.Rand, n int, lo, hi float32) [][]float32 {
	uni := make([]float32, n)
	mix := make([]float32, n)
	for i := range uni {
		uni[i] = lo + (hi-lo)*r.Float32()
		mix[i] = float32(r.NormFloat64() * math.Pow(10, 4*r.Float64()-3))
	}
	ins := [][]float32{uni, mix}
	if n == 0 {
		return ins
	}
	shifts := len(vecSpecials)
	if n > 64 {
		shifts = 2
	}
	for sh := 0; sh < shifts; sh++ {
		s := make([]float32, n)
		for i := range s {
			s[i] = vecSpecials[(i+sh)%len(vecSpecials)]
		}
		ins = append(ins, s)
	}
	return ins
}

// vecExpOK is the exp contract: 2e-7 relative where e^x is normal, one
// subnormal ulp below that, exactly +0 for x ≤ −104 and +Inf above 88.73.
func vecExpOK(x, got float32, want float64) bool {
	switch {
	case x != x:
		return got != got
	case x <= -104:
		return got == 0 && !math.Signbit(float64(got))
	case x > 88.73:
		return math.IsInf(float64(got), 1)
	case math.IsInf(float64(got), 1):
		return want > math.MaxFloat32*(1-2e-7)
	}
	return math.Abs(float64(got)-want) <= 2e-7*want+0x1p-149
}

// vecSmoothOK is the sigmoid/SiLU/tanh contract: 1e-6 absolute or 3e-7
// relative to the float64 value.
func vecSmoothOK(got float32, want float64) bool {
	if math.IsNaN(want) || math.IsInf(want, 0) {
		return math.IsNaN(float64(got)) == math.IsNaN(want) && (math.IsNaN(want) || float64(got) == want)
	}
	d := math.Abs(float64(got) - want)
	return d <= 1e-6 || d <= 3e-7*math.Abs(want)
}

// vecRelErr is |got−want|/|want| for reporting, 0 where it is meaningless.
func vecRelErr(got float32, want float64) float64 {
	if want == 0 || math.IsNaN(want) || math.IsInf(want, 0) || math.Abs(want) < 0x1p-126 {
		return 0
	}
	return math.Abs(float64(got)-want) / math.Abs(want)
}

type vecUnary struct {
	name   string
	lo, hi float32
	run    func(v *vecImpl, dst, src []float32)
	ref    func(x float64) float64
	ok     func(x, got float32, want float64) bool
}

func sigmoidRef(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

var vecUnaries = []vecUnary{
	{"exp", -87, 88, func(v *vecImpl, d, s []float32) { v.exp(d, s) }, math.Exp, vecExpOK},
	{"sigmoid", -30, 30, func(v *vecImpl, d, s []float32) { v.sigmoid(d, s) }, sigmoidRef,
		func(_, got float32, want float64) bool { return vecSmoothOK(got, want) }},
	{"tanh", -10, 10, func(v *vecImpl, d, s []float32) { v.tanh(d, s) }, math.Tanh,
		func(x, got float32, want float64) bool {
			// Near 0 tanh(x) ≈ x, so an absolute bound would let 0 pass.
			if math.Abs(float64(x)) < 1 {
				return math.Abs(float64(got)-want) <= 3e-7*math.Abs(want)
			}
			return vecSmoothOK(got, want)
		}},
	{"silu", -30, 30, func(v *vecImpl, d, s []float32) { v.silu(d, nil, s) },
		func(x float64) float64 { return x / (1 + math.Exp(-x)) },
		func(_, got float32, want float64) bool { return vecSmoothOK(got, want) }},
}

func TestVecUnary(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, v := range vecImpls {
		for _, u := range vecUnaries {
			for _, n := range vecLens {
				for k, src := range vecInputs(r, n, u.lo, u.hi) {
					dst := make([]float32, n+1)
					dst[n] = 42 // a store past the end would change it
					u.run(v, dst[:n], src)
					if dst[n] != 42 {
						t.Fatalf("%s/%s n=%d: wrote past the end", v.name, u.name, n)
					}
					for i, x := range src {
						if want := u.ref(float64(x)); !u.ok(x, dst[i], want) {
							t.Errorf("%s/%s n=%d input %d [%d]: f(%g) = %g, want %g", v.name, u.name, n, k, i, x, dst[i], want)
						}
					}
				}
			}
		}
	}
}

// TestVecUnaryDense sweeps each function's whole interesting range densely
// and reports the worst error per path.
func TestVecUnaryDense(t *testing.T) {
	const n = 1 << 19
	r := rand.New(rand.NewPCG(3, 4))
	for _, u := range vecUnaries {
		lo, hi := float64(u.lo), float64(u.hi)
		if u.name == "exp" {
			lo, hi = -106, 89 // subnormal results and overflow too
		}
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(lo + (hi-lo)*float64(i)/n)
		}
		// Tiny magnitudes, where tanh and sigmoid must not cancel.
		for i := 0; i < n/8; i++ {
			src[r.IntN(n)] = float32(r.NormFloat64() * math.Pow(10, -12*r.Float64()))
		}
		dst := make([]float32, n)
		for _, v := range vecImpls {
			u.run(v, dst, src)
			var worst float64
			var worstX float32
			bad := 0
			for i, x := range src {
				want := u.ref(float64(x))
				if !u.ok(x, dst[i], want) {
					if bad++; bad <= 5 {
						t.Errorf("%s/%s: f(%g) = %g, want %g", v.name, u.name, x, dst[i], want)
					}
				}
				if e := vecRelErr(dst[i], want); e > worst && (u.name != "exp" || x >= -87 && x <= 88.72) {
					worst, worstX = e, x
				}
			}
			t.Logf("%-7s %-6s max relative error %.3g at x=%g (%d failures)", u.name, v.name, worst, worstX, bad)
		}
	}
}

func TestVecExpAlias(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, v := range vecImpls {
		for _, n := range vecLens {
			for _, src := range vecInputs(r, n, -87, 88) {
				want := make([]float32, n)
				v.exp(want, src)
				buf := append([]float32(nil), src...)
				v.exp(buf, buf)
				for i := range buf {
					if math.Float32bits(buf[i]) != math.Float32bits(want[i]) {
						t.Errorf("%s n=%d [%d]: in place exp(%g) = %g, want %g", v.name, n, i, src[i], buf[i], want[i])
					}
				}
			}
		}
	}
}

func TestVecSiLUSig(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, v := range vecImpls {
		for _, n := range vecLens {
			for _, x := range vecInputs(r, n, -30, 30) {
				out, sig := make([]float32, n), make([]float32, n)
				v.silu(out, sig, x)
				for i, xv := range x {
					s := sigmoidRef(float64(xv))
					if !vecSmoothOK(sig[i], s) || !vecSmoothOK(out[i], float64(xv)/(1+math.Exp(-float64(xv)))) {
						t.Errorf("%s n=%d [%d]: silu(%g) = %g, σ = %g", v.name, n, i, xv, out[i], sig[i])
					}
				}
			}
		}
	}
}

func TestVecSiLUGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, v := range vecImpls {
		for _, n := range vecLens {
			for _, x := range vecInputs(r, n, -30, 30) {
				gx, gy, sig := make([]float32, n), make([]float32, n), make([]float32, n)
				for i := range gx {
					gx[i], gy[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
					sig[i] = float32(sigmoidRef(float64(x[i])))
				}
				gx0 := append([]float32(nil), gx...)
				v.siluGrad(gx, gy, x, sig)
				for i := range gx {
					s, xv := float64(sig[i]), float64(x[i])
					term := float64(gy[i]) * s * (1 + xv*(1-s))
					want := float64(gx0[i]) + term
					mag := math.Abs(float64(gx0[i])) + math.Abs(float64(gy[i])*s)*(1+math.Abs(xv*(1-s)))
					if math.IsNaN(want) || math.IsInf(want, 0) {
						if math.IsNaN(float64(gx[i])) != math.IsNaN(want) {
							t.Errorf("%s n=%d [%d]: x=%g got %g want %g", v.name, n, i, xv, gx[i], want)
						}
						continue
					}
					if math.Abs(float64(gx[i])-want) > 4*0x1p-24*mag {
						t.Errorf("%s n=%d [%d]: x=%g s=%g gy=%g gx=%g: got %g want %g", v.name, n, i, xv, s, gy[i], gx0[i], gx[i], want)
					}
				}
			}
		}
	}
}

// TestVecArith checks the plain arithmetic against float64 within one
// rounding (two for axpy, which may or may not fuse).
func TestVecArith(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const eps = 0x1p-24
	near := func(got float32, want, mag float64, ulps float64) bool {
		switch {
		case math.IsNaN(want):
			return got != got
		case float32(want) == got: // overflow and underflow included
			return true
		case math.IsInf(float64(got), 0) || math.IsInf(want, 0):
			return false
		}
		return math.Abs(float64(got)-want) <= ulps*eps*mag+0x1p-149
	}
	for _, v := range vecImpls {
		for _, n := range vecLens {
			ins := vecInputs(r, n, -3, 3)
			for k, a := range ins {
				b := ins[(k+1)%len(ins)]
				check := func(op string, got []float32, want func(i int) (float64, float64), ulps float64) {
					for i := range got {
						w, m := want(i)
						if !near(got[i], w, m, ulps) {
							t.Errorf("%s/%s n=%d input %d [%d]: a=%g b=%g got %g want %g", v.name, op, n, k, i, a[i], b[i], got[i], w)
						}
					}
				}
				dst := append([]float32(nil), a...)
				v.addTo(dst, b)
				check("addTo", dst, func(i int) (float64, float64) {
					w := float64(a[i]) + float64(b[i])
					return w, math.Abs(w)
				}, 1)
				dst = append(dst[:0], a...)
				v.axpy(dst, -0.7, b)
				check("axpy", dst, func(i int) (float64, float64) {
					p := float64(float32(-0.7)) * float64(b[i])
					return float64(a[i]) + p, math.Abs(float64(a[i])) + math.Abs(p)
				}, 2)
				v.mulTo(dst, a, b)
				check("mulTo", dst, func(i int) (float64, float64) {
					w := float64(a[i]) * float64(b[i])
					return w, math.Abs(w)
				}, 1)
				c := ins[(k+2)%len(ins)]
				dst = append(dst[:0], c...)
				v.mulAdd(dst, a, b, dst) // accumulating in place, as normalisation does
				for i := range dst {
					// Without FMA a product beyond float32's range rounds to
					// ±Inf before c is added; with FMA it may come back.
					if p := float64(a[i]) * float64(b[i]); math.Abs(p) > math.MaxFloat32 && math.IsInf(float64(dst[i]), int(math.Copysign(1, p))) {
						dst[i] = float32(p + float64(c[i]))
					}
				}
				check("mulAdd", dst, func(i int) (float64, float64) {
					p := float64(a[i]) * float64(b[i])
					return p + float64(c[i]), math.Abs(p) + math.Abs(float64(c[i]))
				}, 2)
				v.add(dst, a, b)
				check("add", dst, func(i int) (float64, float64) {
					w := float64(a[i]) + float64(b[i])
					return w, math.Abs(w)
				}, 1)
				dst = append(dst[:0], a...)
				v.scale(dst, 1.3)
				check("scale", dst, func(i int) (float64, float64) {
					w := float64(a[i]) * float64(float32(1.3))
					return w, math.Abs(w)
				}, 1)
			}
		}
	}
}

func TestVecReduce(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	lens := append(append([]int(nil), vecLens...), 63, 64, 65, 4097, 100003)
	for _, v := range vecImpls {
		for _, n := range lens {
			a, b := make([]float32, n), make([]float32, n)
			for i := range a {
				a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			}
			var sum, mag, dot, dmag float64
			for i := range a {
				sum += float64(a[i])
				mag += math.Abs(float64(a[i]))
				dot += float64(a[i]) * float64(b[i])
				dmag += math.Abs(float64(a[i]) * float64(b[i]))
			}
			// Each lane adds about n/8 values; one more rounding for the result.
			bound := float64(n/8+2) * 0x1p-24
			if got := v.sum(a); math.Abs(float64(got)-sum) > bound*mag+math.Abs(sum)*0x1p-24 {
				t.Errorf("%s n=%d: sum = %g, want %g", v.name, n, got, sum)
			}
			if got := v.dot(a, b); math.Abs(float64(got)-dot) > bound*dmag+math.Abs(dot)*0x1p-24 {
				t.Errorf("%s n=%d: dot = %g, want %g", v.name, n, got, dot)
			}
			if n == 0 {
				if got := v.max(a); !math.IsInf(float64(got), -1) {
					t.Errorf("%s: max of nothing = %g, want -Inf", v.name, got)
				}
				continue
			}
			// The maximum at every position, tail included.
			for p := 0; p < n; p += 1 + n/40 {
				a[p] += 100
				if got := v.max(a); got != a[p] {
					t.Errorf("%s n=%d: max with %g at %d = %g", v.name, n, a[p], p, got)
				}
				nan := a[(p+n/2)%n]
				a[(p+n/2)%n] = float32(math.NaN())
				if got := v.max(a); got == got {
					t.Errorf("%s n=%d: max with NaN at %d = %g, want NaN", v.name, n, (p+n/2)%n, got)
				}
				a[(p+n/2)%n] = nan
				a[p] -= 100
			}
		}
		inf := []float32{1, float32(math.Inf(1)), 2}
		if got := v.sum(inf); !math.IsInf(float64(got), 1) {
			t.Errorf("%s: sum with +Inf = %g", v.name, got)
		}
		if got := v.max(inf); !math.IsInf(float64(got), 1) {
			t.Errorf("%s: max with +Inf = %g", v.name, got)
		}
	}
}

func TestVecBackend(t *testing.T) {
	var names []string
	for _, v := range vecImpls {
		names = append(names, v.name)
	}
	t.Logf("VecBackend() = %q; paths on this CPU: %v", VecBackend(), names)
	want := os.Getenv("FACEREWARD_GEMM")
	if !strings.Contains(","+strings.Join(names, ",")+",", ","+want+",") {
		want = names[0]
	}
	if VecBackend() != want {
		t.Errorf("FACEREWARD_GEMM=%q: VecBackend() = %q, want %q", os.Getenv("FACEREWARD_GEMM"), VecBackend(), want)
	}
	if names[len(names)-1] != "scalar" {
		t.Errorf("scalar is not the last path: %v", names)
	}
}

func TestVecPanics(t *testing.T) {
	a, b := make([]float32, 5), make([]float32, 4)
	for _, tc := range []struct {
		f   func()
		msg string
	}{
		{func() { VecExp(a, b) }, "tensor.VecExp: len(dst)=5 != len(src)=4"},
		{func() { VecSigmoid(b, a) }, "tensor.VecSigmoid: len(dst)=4 != len(src)=5"},
		{func() { VecSiLU(a, b, a) }, "tensor.VecSiLU: len(sig)=4 != len(x)=5"},
		{func() { VecSiLU(a, []float32{}, a) }, "tensor.VecSiLU: len(sig)=0 != len(x)=5"},
		{func() { VecSiLUGrad(a, a, a, b) }, "tensor.VecSiLUGrad: len(gx)=5 != len(sig)=4"},
		{func() { VecTanh(a, b) }, "tensor.VecTanh: len(dst)=5"},
		{func() { VecAddTo(a, b) }, "tensor.VecAddTo"},
		{func() { VecAxpy(a, 2, b) }, "tensor.VecAxpy"},
		{func() { VecMulTo(a, a, b) }, "tensor.VecMulTo: len(dst)=5 != len(b)=4"},
		{func() { VecAdd(a, b, a) }, "tensor.VecAdd: len(dst)=5 != len(a)=4"},
		{func() { VecDot(a, b) }, "tensor.VecDot"},
	} {
		func() {
			defer func() {
				s, _ := recover().(string)
				if !strings.Contains(s, tc.msg) {
					t.Errorf("panic %q, want one containing %q", s, tc.msg)
				}
			}()
			tc.f()
		}()
	}
}

// TestVecPublic runs the public wrappers once each, so the active path and
// the argument plumbing are covered, and checks that nothing allocates.
func TestVecPublic(t *testing.T) {
	const n = 37
	x, y, z, w := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(i-n/2) / 4
	}
	VecExp(y, x)
	VecSigmoid(z, x)
	VecSiLU(w, y, x)
	for i := range x {
		if !vecSmoothOK(y[i], sigmoidRef(float64(x[i]))) || y[i] != z[i] {
			t.Fatalf("VecSiLU σ[%d] = %g, VecSigmoid = %g", i, y[i], z[i])
		}
	}
	VecSiLU(z, nil, x)
	if fmt.Sprint(z) != fmt.Sprint(w) {
		t.Errorf("VecSiLU with and without sig differ:\n%v\n%v", z, w)
	}
	allocs := testing.AllocsPerRun(20, func() {
		VecExp(y, x)
		VecSigmoid(y, x)
		VecSiLU(z, y, x)
		VecSiLU(z, nil, x)
		VecSiLUGrad(w, z, x, y)
		VecTanh(y, x)
		VecAddTo(y, x)
		VecAxpy(y, 0.5, x)
		VecMulTo(y, x, z)
		VecAdd(y, x, z)
		VecScale(y, 0.5)
		_ = VecSum(x) + VecDot(x, y) + VecMax(x)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
	if got := VecMax(x); got != x[n-1] {
		t.Errorf("VecMax = %g, want %g", got, x[n-1])
	}
}
