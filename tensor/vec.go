package tensor

import (
	"fmt"
	"math"
	"os"
)

// Elementwise kernels for activations, softmax and gradient accumulation.
//
// Every public function checks lengths and then calls the implementation
// chosen once at start-up: AVX-512 or AVX2 (built only with
// GOEXPERIMENT=simd on amd64, see vec_simd_amd64.go) or the portable scalar
// code below. FACEREWARD_GEMM=avx512|avx2|scalar, the variable that picks the
// GEMM kernel, picks these too, so one setting puts a whole run on one code
// path; a name this CPU cannot run, or that is not a vector path ("sse",
// "openblas"), leaves the fastest.
//
// exp follows one algorithm on every path so that they differ only by FMA
// rounding: n = round(x·log2e), r = x − n·ln2 with ln2 split in two so n·ln2hi
// is exact, e^r by a degree-6 polynomial, then scale by 2^n. The result is
// within 2 ulp of e^x for x in [-87, 88.7], subnormal below, 0 below −104,
// +Inf above 88.73 and NaN for NaN.
//
// Slices must have equal lengths (the functions panic otherwise). A
// destination may be the same slice as a source; partially overlapping slices
// give undefined results. Nothing allocates and nothing starts goroutines:
// callers already split work over cores.

// vecImpl is one complete set of kernels; lengths are checked before a call.
type vecImpl struct {
	name     string
	exp      func(dst, src []float32)
	sigmoid  func(dst, src []float32)
	silu     func(out, sig, x []float32) // sig == nil: do not store σ
	siluGrad func(gx, gy, x, sig []float32)
	tanh     func(dst, src []float32)
	addTo    func(dst, src []float32)
	axpy     func(dst []float32, a float32, src []float32)
	mulTo    func(dst, a, b []float32)
	mulAdd   func(dst, a, b, c []float32)
	add      func(dst, a, b []float32)
	scale    func(dst []float32, s float32)
	sum      func(x []float32) float32
	dot      func(a, b []float32) float32
	max      func(x []float32) float32
	// The Winograd tile transforms (winograd.go).
	winogradIn  func(o, d [16][]float32)
	leaky       func(dst, src []float32, alpha float32)
	leakyGrad   func(gx, gy, x []float32, alpha float32, set bool)
	winogradOut func(y [4][]float32, m [16][]float32, bias []float32, accumulate bool)
}

var (
	// vecImpls lists every implementation this build can run on this CPU,
	// fastest first, scalar last; tests walk it.
	vecImpls []*vecImpl
	// vecActive is the implementation the public functions use.
	vecActive *vecImpl
)

func init() {
	vecImpls = append(simdVecImpls(), scalarVec)
	vecActive = pickVecImpl(vecImpls, os.Getenv("FACEREWARD_GEMM"))
}

// pickVecImpl mirrors the GEMM selection: the named implementation if this
// CPU has it, else the fastest.
func pickVecImpl(impls []*vecImpl, want string) *vecImpl {
	for _, v := range impls {
		if v.name == want {
			return v
		}
	}
	return impls[0]
}

// VecBackend names the implementation in use: "avx512", "avx2" or "scalar".
func VecBackend() string { return vecActive.name }

// VecExp sets dst[i] = e^src[i]. dst may be src.
func VecExp(dst, src []float32) {
	vecCheck2("VecExp", "dst", "src", len(dst), len(src))
	vecActive.exp(dst, src)
}

// VecSigmoid sets dst[i] = 1/(1+e^-src[i]); it saturates to 0 and 1 without
// overflow. dst may be src.
func VecSigmoid(dst, src []float32) {
	vecCheck2("VecSigmoid", "dst", "src", len(dst), len(src))
	vecActive.sigmoid(dst, src)
}

// VecSiLU sets out[i] = x[i]·σ(x[i]) and, unless sig is nil, sig[i] = σ(x[i])
// for the backward pass. out may be x.
func VecSiLU(out, sig, x []float32) {
	vecCheck2("VecSiLU", "out", "x", len(out), len(x))
	if sig != nil {
		vecCheck2("VecSiLU", "sig", "x", len(sig), len(x))
	}
	vecActive.silu(out, sig, x)
}

// VecSiLUGrad accumulates the SiLU input gradient: gx[i] += gy[i]·s·(1 +
// x[i]·(1−s)) with s = sig[i] = σ(x[i]) as VecSiLU stored it.
func VecSiLUGrad(gx, gy, x, sig []float32) {
	vecCheck2("VecSiLUGrad", "gx", "gy", len(gx), len(gy))
	vecCheck2("VecSiLUGrad", "gx", "x", len(gx), len(x))
	vecCheck2("VecSiLUGrad", "gx", "sig", len(gx), len(sig))
	vecActive.siluGrad(gx, gy, x, sig)
}

// VecTanh sets dst[i] = tanh(src[i]). dst may be src.
func VecTanh(dst, src []float32) {
	vecCheck2("VecTanh", "dst", "src", len(dst), len(src))
	vecActive.tanh(dst, src)
}

// VecAddTo sets dst[i] += src[i].
func VecAddTo(dst, src []float32) {
	vecCheck2("VecAddTo", "dst", "src", len(dst), len(src))
	vecActive.addTo(dst, src)
}

// VecAxpy sets dst[i] += a·src[i].
func VecAxpy(dst []float32, a float32, src []float32) {
	vecCheck2("VecAxpy", "dst", "src", len(dst), len(src))
	vecActive.axpy(dst, a, src)
}

// VecMulTo sets dst[i] = a[i]·b[i].
func VecMulTo(dst, a, b []float32) {
	vecCheck2("VecMulTo", "dst", "a", len(dst), len(a))
	vecCheck2("VecMulTo", "dst", "b", len(dst), len(b))
	vecActive.mulTo(dst, a, b)
}

// VecMulAdd sets dst[i] = a[i]·b[i] + c[i]; dst may be c (accumulation).
func VecMulAdd(dst, a, b, c []float32) {
	vecCheck2("VecMulAdd", "dst", "a", len(dst), len(a))
	vecCheck2("VecMulAdd", "dst", "b", len(dst), len(b))
	vecCheck2("VecMulAdd", "dst", "c", len(dst), len(c))
	vecActive.mulAdd(dst, a, b, c)
}

// VecAdd sets dst[i] = a[i] + b[i].
func VecAdd(dst, a, b []float32) {
	vecCheck2("VecAdd", "dst", "a", len(dst), len(a))
	vecCheck2("VecAdd", "dst", "b", len(dst), len(b))
	vecActive.add(dst, a, b)
}

// VecScale sets dst[i] *= s.
func VecScale(dst []float32, s float32) { vecActive.scale(dst, s) }

// VecSum returns the sum of x. Vector paths keep several float32 partial sums
// per lane and add the lanes in float64, so the error grows with len(x)/lanes
// rather than len(x).
func VecSum(x []float32) float32 { return vecActive.sum(x) }

// VecDot returns Σ a[i]·b[i], accumulated like VecSum.
func VecDot(a, b []float32) float32 {
	vecCheck2("VecDot", "a", "b", len(a), len(b))
	return vecActive.dot(a, b)
}

// VecMax returns the largest element of x, NaN if any element is NaN, and
// −Inf for an empty slice (the identity of max, so a softmax over nothing
// stays empty rather than panicking).
func VecMax(x []float32) float32 { return vecActive.max(x) }

// vecCheck2 takes lengths rather than slices so that the slices do not escape.
func vecCheck2(fn, an, bn string, a, b int) {
	if a != b {
		panic(fmt.Sprintf("tensor.%s: len(%s)=%d != len(%s)=%d", fn, an, a, bn, b))
	}
}

// Constants shared by every path. ln2Hi has 9 significant bits, so n·ln2Hi
// is exact for |n| ≤ 2^15 with or without FMA; ln2Lo carries the rest.
const (
	expLog2e = 1.44269504088896341
	expLn2Hi = 0.693359375
	expLn2Lo = -2.12194440e-4
	// expMagic is 1.5·2^23: adding it to |v| < 2^22 rounds v to the nearest
	// integer (ties to even) and leaves that integer in the low mantissa
	// bits, so no float→int conversion is needed.
	expMagic = 12582912
	// Inputs are clamped to [expLo, expHi] so that n stays within [-150, 128]
	// where 2^n splits into two normal factors: e^−104 already rounds to 0
	// and e^89 to +Inf.
	expLo = -104
	expHi = 89
	// Minimax coefficients for e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2 (Cephes
	// expf).
	expP0 = 1.9875691500e-4
	expP1 = 1.3981999507e-3
	expP2 = 8.3334519073e-3
	expP3 = 4.1665795894e-2
	expP4 = 1.6666665459e-1
	expP5 = 5.0000001201e-1
	// tanh(x) for |x| < tanhSmall uses x + x³·Q(x²) (Cephes tanhf): the
	// exp form (1−e)/(1+e), e = e^−2|x|, cancels there and loses all
	// relative accuracy as x → 0.
	tanhSmall = 0.625
	tanhQ0    = -5.70498872745e-3
	tanhQ1    = 2.06390887954e-2
	tanhQ2    = -5.37397155531e-2
	tanhQ3    = 1.33314422036e-1
	tanhQ4    = -3.33332819422e-1
)

var scalarVec = &vecImpl{
	name:     "scalar",
	exp:      expScalarLoop,
	sigmoid:  sigmoidScalarLoop,
	silu:     siluScalar,
	siluGrad: siluGradScalar,
	tanh:     tanhScalarLoop,
	addTo:    addToScalar,
	axpy:     axpyScalar,
	mulTo:    mulToScalar,
	mulAdd:   mulAddScalar,
	add:      addScalar,
	scale:    scaleScalar,
	sum:      sumScalar,
	dot:      dotScalar,
	max:      maxScalar,

	winogradIn:  winogradInScalar,
	leaky:       leakyScalar,
	leakyGrad:   leakyGradScalar,
	winogradOut: winogradOutScalar,
}

// expScalar is the reference algorithm of every path.
func expScalar(x float32) float32 {
	// Plain compares: the min and max builtins order ±0 and NaN, which costs
	// a dozen instructions here.
	if x < expLo {
		x = expLo
	} else if x > expHi {
		x = expHi
	} else if x != x {
		return x
	}
	t := x*expLog2e + expMagic
	n := t - expMagic
	r := x - n*expLn2Hi
	r -= n * expLn2Lo
	p := ((((expP0*r+expP1)*r+expP2)*r+expP3)*r+expP4)*r + expP5
	p = p*(r*r) + r + 1
	// 2^n as two factors keeps each one normal for n in [-150, 128]; the
	// first product is exact, so a subnormal result is rounded only once.
	ni := int32(math.Float32bits(t) - math.Float32bits(expMagic))
	n1 := ni >> 1
	n2 := ni - n1
	return p * math.Float32frombits(uint32(n1+127)<<23) * math.Float32frombits(uint32(n2+127)<<23)
}

func sigmoidScalar(x float32) float32 { return 1 / (1 + expScalar(-x)) }

func tanhScalar(x float32) float32 {
	sign := math.Float32bits(x) & (1 << 31)
	a := math.Float32frombits(math.Float32bits(x) ^ sign)
	var y float32
	if a < tanhSmall {
		z := a * a
		y = ((((tanhQ0*z+tanhQ1)*z+tanhQ2)*z+tanhQ3)*z+tanhQ4)*z*a + a
	} else {
		// e^−2a ≤ 1 never overflows, unlike the e^2a of 1 − 2/(e^2a+1).
		e := expScalar(-2 * a)
		y = (1 - e) / (1 + e)
	}
	// Restoring the sign afterwards keeps tanh odd and tanh(−0) = −0.
	return math.Float32frombits(math.Float32bits(y) | sign)
}

func expScalarLoop(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = expScalar(v)
	}
}

func sigmoidScalarLoop(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = sigmoidScalar(v)
	}
}

func tanhScalarLoop(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = tanhScalar(v)
	}
}

func siluScalar(out, sig, x []float32) {
	out = out[:len(x)]
	if sig == nil {
		for i, v := range x {
			out[i] = v * sigmoidScalar(v)
		}
		return
	}
	sig = sig[:len(x)]
	for i, v := range x {
		s := sigmoidScalar(v)
		sig[i] = s
		out[i] = v * s
	}
}

func siluGradScalar(gx, gy, x, sig []float32) {
	gy, x, sig = gy[:len(gx)], x[:len(gx)], sig[:len(gx)]
	for i := range gx {
		s := sig[i]
		gx[i] += gy[i] * s * (1 + x[i]*(1-s))
	}
}

func addToScalar(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

func axpyScalar(dst []float32, a float32, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += a * src[i]
	}
}

func mulToScalar(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

func mulAddScalar(dst, a, b, c []float32) {
	a, b, c = a[:len(dst)], b[:len(dst)], c[:len(dst)]
	for i := range dst {
		dst[i] = a[i]*b[i] + c[i]
	}
}

func addScalar(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func scaleScalar(dst []float32, s float32) {
	for i := range dst {
		dst[i] *= s
	}
}

// sumScalar keeps eight float32 partial sums, like one AVX2 register, so
// rounding error grows like the vector paths' and the adds pipeline; they
// are separate variables because an array of them would live in memory.
func sumScalar(x []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		s0 += v[0]
		s1 += v[1]
		s2 += v[2]
		s3 += v[3]
		s4 += v[4]
		s5 += v[5]
		s6 += v[6]
		s7 += v[7]
	}
	t := reduceLanes([]float32{s0, s1, s2, s3, s4, s5, s6, s7})
	for ; i < len(x); i++ {
		t += float64(x[i])
	}
	return float32(t)
}

func dotScalar(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		u, v := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += u[0] * v[0]
		s1 += u[1] * v[1]
		s2 += u[2] * v[2]
		s3 += u[3] * v[3]
		s4 += u[4] * v[4]
		s5 += u[5] * v[5]
		s6 += u[6] * v[6]
		s7 += u[7] * v[7]
	}
	t := reduceLanes([]float32{s0, s1, s2, s3, s4, s5, s6, s7})
	for ; i < len(a); i++ {
		t += float64(a[i]) * float64(b[i])
	}
	return float32(t)
}

// reduceLanes adds lane partial sums in float64 so the reduction itself adds
// no float32 rounding.
func reduceLanes(s []float32) float64 {
	var t float64
	for _, v := range s {
		t += float64(v)
	}
	return t
}

func maxScalar(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		} else if v != v {
			return v
		}
	}
	return m
}
