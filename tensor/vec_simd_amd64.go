//go:build goexperiment.simd && amd64

package tensor

import (
	"math"
	"simd/archsimd"
	"unsafe"
)

// AVX-512 (16 lanes) and AVX2+FMA (8 lanes) versions of the vecImpl kernels.
//
// Loads and stores go through unsafe.Add on the slices' base pointers: slice
// loads keep a bounds check per vector that costs more than the arithmetic of
// the cheap kernels. Each loop runs while a whole vector fits, so pointers
// never leave the slices; the tail (< one vector) goes through a stack
// buffer, so lengths that are not a multiple of the width get the same
// arithmetic as the rest.

func simdVecImpls() []*vecImpl {
	var impls []*vecImpl
	// A CPU without AVX-512 faults on the 16-lane kernels, so they are only
	// offered when the CPU (and GODEBUG=cpu.avx512f) allows them.
	if archsimd.X86.AVX512() {
		impls = append(impls, avx512Vec)
	}
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		impls = append(impls, avx2Vec)
	}
	return impls
}

var avx512Vec = &vecImpl{
	name:     "avx512",
	exp:      exp512,
	sigmoid:  sigmoid512,
	silu:     silu512,
	siluGrad: siluGrad512,
	tanh:     tanh512,
	addTo:    addTo512,
	sum:      sum512,
	dot:      dot512,
	// Streaming kernels with one operation per element: 16-lane versions
	// measured within 5% of these (memory-bound either way).
	axpy:   axpy256,
	mulTo:  mulTo256,
	mulAdd: mulAdd256,
	add:    add256,
	scale:  scale256,
	max:    max256,

	winogradIn:  winogradIn256,
	leaky:       leaky256,
	leakyGrad:   leakyGrad256,
	winogradOut: winogradOut256,
}

var avx2Vec = &vecImpl{
	name:     "avx2",
	exp:      exp256,
	sigmoid:  sigmoid256,
	silu:     silu256,
	siluGrad: siluGrad256,
	tanh:     tanh256,
	addTo:    addTo256,
	axpy:     axpy256,
	mulTo:    mulTo256,
	mulAdd:   mulAdd256,
	add:      add256,
	scale:    scale256,
	sum:      sum256,
	dot:      dot256,
	max:      max256,

	winogradIn:  winogradIn256,
	leaky:       leaky256,
	leakyGrad:   leakyGrad256,
	winogradOut: winogradOut256,
}

type (
	vf16 = archsimd.Float32x16
	vf8  = archsimd.Float32x8
)

// Constants live splatted in memory: loading one is a single load that the
// compiler folds into the FMA using it, while broadcasting a scalar costs a
// load and a shuffle per constant per vector. The 8-lane kernels read the
// first half.
const (
	vkLo = iota
	vkHi
	vkLog2e
	vkNegLn2Hi
	vkNegLn2Lo
	vkP0
	vkP1
	vkP2
	vkP3
	vkP4
	vkP5
	vkOne
	vkMagic
	vkTanhSmall
	vkQ0
	vkQ1
	vkQ2
	vkQ3
	vkQ4
	vkCount
)

var vecK = func() (k [vkCount][16]float32) {
	for i, v := range [vkCount]float32{
		vkLo: expLo, vkHi: expHi, vkLog2e: expLog2e, vkNegLn2Hi: -expLn2Hi, vkNegLn2Lo: -expLn2Lo,
		vkP0: expP0, vkP1: expP1, vkP2: expP2, vkP3: expP3, vkP4: expP4, vkP5: expP5,
		vkOne: 1, vkMagic: expMagic, vkTanhSmall: tanhSmall,
		vkQ0: tanhQ0, vkQ1: tanhQ1, vkQ2: tanhQ2, vkQ3: tanhQ3, vkQ4: tanhQ4,
	} {
		for j := range k[i] {
			k[i][j] = v
		}
	}
	return k
}()

func vc16(i int) vf16 { return archsimd.LoadFloat32x16(&vecK[i]) }
func vc8(i int) vf8   { return archsimd.LoadFloat32x8((*[8]float32)(vecK[i][:8])) }

// vp16 and vp8 address element i of a slice whose base is p.
func vp16(p unsafe.Pointer, i int) *[16]float32 { return (*[16]float32)(unsafe.Add(p, i*4)) }
func vp8(p unsafe.Pointer, i int) *[8]float32   { return (*[8]float32)(unsafe.Add(p, i*4)) }

func vecBase(s []float32) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }

// vld16 and vst16 move a 16-lane vector as two 256-bit halves, for the
// compute-heavy kernels. Measured on Zen 4: exp over 64 MiB with one 512-bit
// load and store per cache line streamed at 0.62 ns/element, a third of the
// memory bandwidth, and at 0.25 ns/element split (from L3: 0.24 vs 0.18);
// the light kernels, which keep many lines in flight anyway, lost 10-30% to
// the extra shuffles (VINSERTF64X4, VEXTRACTF64X4) and keep whole loads.
func vld16(p unsafe.Pointer, i int) vf16 {
	var x vf16
	return x.SetLo(archsimd.LoadFloat32x8(vp8(p, i))).SetHi(archsimd.LoadFloat32x8(vp8(p, i+8)))
}

func vst16(v vf16, p unsafe.Pointer, i int) {
	v.GetLo().Store(vp8(p, i))
	v.GetHi().Store(vp8(p, i+8))
}

// vecLoadTail16 and vecStoreTail16 move the last len(s) < 16 elements through a
// stack buffer. archsimd's SlicePart functions mask instead, but they form a
// pointer to 16 elements past a short slice's end, which the checkptr
// instrumentation of -race builds rejects ("converted pointer straddles
// multiple allocations").
func vecLoadTail16(s []float32) vf16 {
	var b [16]float32
	copy(b[:], s)
	return archsimd.LoadFloat32x16(&b)
}

func vecStoreTail16(v vf16, s []float32) {
	var b [16]float32
	v.Store(&b)
	copy(s, b[:])
}

func vecLoadTail8(s []float32) vf8 {
	var b [8]float32
	copy(b[:], s)
	return archsimd.LoadFloat32x8(&b)
}

func vecStoreTail8(v vf8, s []float32) {
	var b [8]float32
	v.Store(&b)
	copy(s, b[:])
}

// The transcendental kernels share one loop per width, act512 and act256,
// switching on op inside the loop: the exp code then exists once per width
// and is inlined rather than called per vector (a call spills the loop's
// registers each time), and the branch on op is perfectly predicted.
const (
	actExp = iota
	actSigmoid
	actSiLU    // out = x·σ(x)
	actSiLUSig // out = x·σ(x), aux = σ(x)
	actTanh
)

func exp512(dst, src []float32)     { act512(actExp, dst, nil, src) }
func sigmoid512(dst, src []float32) { act512(actSigmoid, dst, nil, src) }
func tanh512(dst, src []float32)    { act512(actTanh, dst, nil, src) }
func exp256(dst, src []float32)     { act256(actExp, dst, nil, src) }
func sigmoid256(dst, src []float32) { act256(actSigmoid, dst, nil, src) }
func tanh256(dst, src []float32)    { act256(actTanh, dst, nil, src) }
func silu512(out, sig, x []float32) { act512(vecSiLUOp(sig), out, sig, x) }
func silu256(out, sig, x []float32) { act256(vecSiLUOp(sig), out, sig, x) }

func vecSiLUOp(sig []float32) int {
	if sig == nil {
		return actSiLU
	}
	return actSiLUSig
}

// ---- AVX-512 ----

// vexp16 is expScalar on 16 lanes; VSCALEFPS multiplies by 2^n with a single
// rounding, subnormal results and overflow to +Inf included, so n needs no
// split.
func vexp16(x vf16) vf16 {
	nan := x.IsNaN()
	// Max and Min are commutative to the compiler, so which operand a NaN
	// lane returns is not fixed; the merge below restores it.
	c := x.Max(vc16(vkLo)).Min(vc16(vkHi))
	n := c.Mul(vc16(vkLog2e)).RoundToEvenScaled(0)
	r := n.MulAdd(vc16(vkNegLn2Hi), c)
	r = n.MulAdd(vc16(vkNegLn2Lo), r)
	p := vc16(vkP0).MulAdd(r, vc16(vkP1))
	p = p.MulAdd(r, vc16(vkP2))
	p = p.MulAdd(r, vc16(vkP3))
	p = p.MulAdd(r, vc16(vkP4))
	p = p.MulAdd(r, vc16(vkP5))
	p = p.MulAdd(r.Mul(r), r).Add(vc16(vkOne))
	return x.Merge(p.Scale(n), nan)
}

func act512(op int, out, aux, src []float32) {
	n := len(src)
	o, g, s := vecBase(out), vecBase(aux), vecBase(src)
	signBit := archsimd.BroadcastInt32x16(math.MinInt32)
	var zero vf16 // not a broadcast 0: that compiles to a legacy-SSE XORPS
	for i := 0; i < n; i += 16 {
		full := i+16 <= n
		var x vf16
		if full {
			x = vld16(s, i)
		} else {
			x = vecLoadTail16(src[i:])
		}
		// tanh uses e^−2|x| ≤ 1 and sigmoid e^−x; the sign of x returns later.
		var sign archsimd.Int32x16
		a := x
		switch op {
		case actTanh:
			sign = x.AsInt32x16().And(signBit)
			a = x.AsInt32x16().Xor(sign).AsFloat32x16()
			x = a
			a = zero.Sub(a.Add(a))
		case actSigmoid, actSiLU, actSiLUSig:
			a = zero.Sub(x)
		}
		e := vexp16(a)
		one := vc16(vkOne)
		switch op {
		case actExp:
		case actTanh:
			big := one.Sub(e).Div(one.Add(e))
			z := x.Mul(x)
			q := vc16(vkQ0).MulAdd(z, vc16(vkQ1))
			q = q.MulAdd(z, vc16(vkQ2))
			q = q.MulAdd(z, vc16(vkQ3))
			q = q.MulAdd(z, vc16(vkQ4))
			small := q.Mul(z).MulAdd(x, x)
			e = small.Merge(big, x.Less(vc16(vkTanhSmall))).AsInt32x16().Or(sign).AsFloat32x16()
		default:
			sg := one.Div(one.Add(e))
			e = sg
			if op != actSigmoid {
				e = x.Mul(sg)
			}
			if op == actSiLUSig {
				if full {
					vst16(sg, g, i)
				} else {
					vecStoreTail16(sg, aux[i:])
				}
			}
		}
		if full {
			vst16(e, o, i)
		} else {
			vecStoreTail16(e, out[i:])
		}
	}
	// Go emits no VZEROUPPER by itself; without one, the legacy-SSE scalar
	// code that runs next works on registers with dirty upper halves (false
	// dependencies, and a penalty per instruction on some Intel cores).
	archsimd.ClearAVXUpperBits()
}

func siluGrad16(gx, gy, x, s vf16) vf16 {
	one := vc16(vkOne)
	return gy.Mul(s).MulAdd(x.MulAdd(one.Sub(s), one), gx)
}

func siluGrad512(gx, gy, x, sig []float32) {
	n := len(gx)
	a, b, c, d := vecBase(gx), vecBase(gy), vecBase(x), vecBase(sig)
	i := 0
	for ; i+16 <= n; i += 16 {
		g := siluGrad16(archsimd.LoadFloat32x16(vp16(a, i)), archsimd.LoadFloat32x16(vp16(b, i)),
			archsimd.LoadFloat32x16(vp16(c, i)), archsimd.LoadFloat32x16(vp16(d, i)))
		g.Store(vp16(a, i))
	}
	if i < n {
		g := siluGrad16(vecLoadTail16(gx[i:]), vecLoadTail16(gy[i:]), vecLoadTail16(x[i:]), vecLoadTail16(sig[i:]))
		vecStoreTail16(g, gx[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func addTo512(dst, src []float32) {
	n := len(dst)
	d, s := vecBase(dst), vecBase(src)
	i := 0
	for ; i+16 <= n; i += 16 {
		archsimd.LoadFloat32x16(vp16(d, i)).Add(archsimd.LoadFloat32x16(vp16(s, i))).Store(vp16(d, i))
	}
	if i < n {
		vecStoreTail16(vecLoadTail16(dst[i:]).Add(vecLoadTail16(src[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

// sum512 and dot512 keep four accumulators so the adds' latency overlaps;
// the zero-filled tail adds nothing.
func sum512(x []float32) float32 {
	n := len(x)
	p := vecBase(x)
	var s0, s1, s2, s3 vf16
	i := 0
	for ; i+64 <= n; i += 64 {
		s0 = s0.Add(archsimd.LoadFloat32x16(vp16(p, i)))
		s1 = s1.Add(archsimd.LoadFloat32x16(vp16(p, i+16)))
		s2 = s2.Add(archsimd.LoadFloat32x16(vp16(p, i+32)))
		s3 = s3.Add(archsimd.LoadFloat32x16(vp16(p, i+48)))
	}
	for ; i+16 <= n; i += 16 {
		s0 = s0.Add(archsimd.LoadFloat32x16(vp16(p, i)))
	}
	if i < n {
		s1 = s1.Add(vecLoadTail16(x[i:]))
	}
	return vecReduce16(s0, s1, s2, s3)
}

func dot512(a, b []float32) float32 {
	n := len(a)
	pa, pb := vecBase(a), vecBase(b)
	var s0, s1, s2, s3 vf16
	i := 0
	for ; i+64 <= n; i += 64 {
		s0 = archsimd.LoadFloat32x16(vp16(pa, i)).MulAdd(archsimd.LoadFloat32x16(vp16(pb, i)), s0)
		s1 = archsimd.LoadFloat32x16(vp16(pa, i+16)).MulAdd(archsimd.LoadFloat32x16(vp16(pb, i+16)), s1)
		s2 = archsimd.LoadFloat32x16(vp16(pa, i+32)).MulAdd(archsimd.LoadFloat32x16(vp16(pb, i+32)), s2)
		s3 = archsimd.LoadFloat32x16(vp16(pa, i+48)).MulAdd(archsimd.LoadFloat32x16(vp16(pb, i+48)), s3)
	}
	for ; i+16 <= n; i += 16 {
		s0 = archsimd.LoadFloat32x16(vp16(pa, i)).MulAdd(archsimd.LoadFloat32x16(vp16(pb, i)), s0)
	}
	if i < n {
		s1 = vecLoadTail16(a[i:]).MulAdd(vecLoadTail16(b[i:]), s1)
	}
	return vecReduce16(s0, s1, s2, s3)
}

func vecReduce16(s0, s1, s2, s3 vf16) float32 {
	var lanes [64]float32
	s0.Store((*[16]float32)(lanes[0:16]))
	s1.Store((*[16]float32)(lanes[16:32]))
	s2.Store((*[16]float32)(lanes[32:48]))
	s3.Store((*[16]float32)(lanes[48:64]))
	archsimd.ClearAVXUpperBits()
	return float32(reduceLanes(lanes[:]))
}

// ---- AVX2 + FMA ----

// act256 is act512 on 8 lanes. Without VSCALEFPS, 2^n is built in the
// exponent bits, as two factors so that n in [-150, 128] (subnormal and
// near-overflow results) stays representable; the exp code is written out
// here because as a function it would be too big to inline.
func act256(op int, out, aux, src []float32) {
	n := len(src)
	o, g, s := vecBase(out), vecBase(aux), vecBase(src)
	signBit := archsimd.BroadcastInt32x8(math.MinInt32)
	magicBits := archsimd.BroadcastInt32x8(int32(math.Float32bits(expMagic)))
	bias := archsimd.BroadcastInt32x8(127)
	var zero vf8
	for i := 0; i < n; i += 8 {
		full := i+8 <= n
		var x vf8
		if full {
			x = archsimd.LoadFloat32x8(vp8(s, i))
		} else {
			x = vecLoadTail8(src[i:])
		}
		var sign archsimd.Int32x8
		a := x
		switch op {
		case actTanh:
			sign = x.AsInt32x8().And(signBit)
			a = x.AsInt32x8().Xor(sign).AsFloat32x8()
			x = a
			a = zero.Sub(a.Add(a))
		case actSigmoid, actSiLU, actSiLUSig:
			a = zero.Sub(x)
		}

		nan := a.IsNaN()
		c := a.Max(vc8(vkLo)).Min(vc8(vkHi))
		t := c.MulAdd(vc8(vkLog2e), vc8(vkMagic))
		k := t.Sub(vc8(vkMagic))
		r := k.MulAdd(vc8(vkNegLn2Hi), c)
		r = k.MulAdd(vc8(vkNegLn2Lo), r)
		p := vc8(vkP0).MulAdd(r, vc8(vkP1))
		p = p.MulAdd(r, vc8(vkP2))
		p = p.MulAdd(r, vc8(vkP3))
		p = p.MulAdd(r, vc8(vkP4))
		p = p.MulAdd(r, vc8(vkP5))
		one := vc8(vkOne)
		p = p.MulAdd(r.Mul(r), r).Add(one)
		ni := t.AsInt32x8().Sub(magicBits)
		n1 := ni.ShiftAllRight(1)
		s1 := n1.Add(bias).ShiftAllLeft(23).AsFloat32x8()
		s2 := ni.Sub(n1).Add(bias).ShiftAllLeft(23).AsFloat32x8()
		e := a.Merge(p.Mul(s1).Mul(s2), nan)

		switch op {
		case actExp:
		case actTanh:
			big := one.Sub(e).Div(one.Add(e))
			z := x.Mul(x)
			q := vc8(vkQ0).MulAdd(z, vc8(vkQ1))
			q = q.MulAdd(z, vc8(vkQ2))
			q = q.MulAdd(z, vc8(vkQ3))
			q = q.MulAdd(z, vc8(vkQ4))
			small := q.Mul(z).MulAdd(x, x)
			e = small.Merge(big, x.Less(vc8(vkTanhSmall))).AsInt32x8().Or(sign).AsFloat32x8()
		default:
			sg := one.Div(one.Add(e))
			e = sg
			if op != actSigmoid {
				e = x.Mul(sg)
			}
			if op == actSiLUSig {
				if full {
					sg.Store(vp8(g, i))
				} else {
					vecStoreTail8(sg, aux[i:])
				}
			}
		}
		if full {
			e.Store(vp8(o, i))
		} else {
			vecStoreTail8(e, out[i:])
		}
	}
	archsimd.ClearAVXUpperBits()
}

func siluGrad8(gx, gy, x, s vf8) vf8 {
	one := vc8(vkOne)
	return gy.Mul(s).MulAdd(x.MulAdd(one.Sub(s), one), gx)
}

func siluGrad256(gx, gy, x, sig []float32) {
	n := len(gx)
	a, b, c, d := vecBase(gx), vecBase(gy), vecBase(x), vecBase(sig)
	i := 0
	for ; i+8 <= n; i += 8 {
		siluGrad8(archsimd.LoadFloat32x8(vp8(a, i)), archsimd.LoadFloat32x8(vp8(b, i)),
			archsimd.LoadFloat32x8(vp8(c, i)), archsimd.LoadFloat32x8(vp8(d, i))).Store(vp8(a, i))
	}
	if i < n {
		g := siluGrad8(vecLoadTail8(gx[i:]), vecLoadTail8(gy[i:]), vecLoadTail8(x[i:]), vecLoadTail8(sig[i:]))
		vecStoreTail8(g, gx[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func addTo256(dst, src []float32) {
	n := len(dst)
	d, s := vecBase(dst), vecBase(src)
	i := 0
	for ; i+8 <= n; i += 8 {
		archsimd.LoadFloat32x8(vp8(d, i)).Add(archsimd.LoadFloat32x8(vp8(s, i))).Store(vp8(d, i))
	}
	if i < n {
		vecStoreTail8(vecLoadTail8(dst[i:]).Add(vecLoadTail8(src[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func axpy256(dst []float32, a float32, src []float32) {
	n := len(dst)
	d, s := vecBase(dst), vecBase(src)
	av := archsimd.BroadcastFloat32x8(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		archsimd.LoadFloat32x8(vp8(s, i)).MulAdd(av, archsimd.LoadFloat32x8(vp8(d, i))).Store(vp8(d, i))
	}
	if i < n {
		vecStoreTail8(vecLoadTail8(src[i:]).MulAdd(av, vecLoadTail8(dst[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func mulTo256(dst, a, b []float32) {
	n := len(dst)
	d, pa, pb := vecBase(dst), vecBase(a), vecBase(b)
	i := 0
	for ; i+8 <= n; i += 8 {
		archsimd.LoadFloat32x8(vp8(pa, i)).Mul(archsimd.LoadFloat32x8(vp8(pb, i))).Store(vp8(d, i))
	}
	if i < n {
		vecStoreTail8(vecLoadTail8(a[i:]).Mul(vecLoadTail8(b[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func add256(dst, a, b []float32) {
	n := len(dst)
	d, pa, pb := vecBase(dst), vecBase(a), vecBase(b)
	i := 0
	for ; i+8 <= n; i += 8 {
		archsimd.LoadFloat32x8(vp8(pa, i)).Add(archsimd.LoadFloat32x8(vp8(pb, i))).Store(vp8(d, i))
	}
	if i < n {
		vecStoreTail8(vecLoadTail8(a[i:]).Add(vecLoadTail8(b[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func scale256(dst []float32, s float32) {
	n := len(dst)
	d := vecBase(dst)
	sv := archsimd.BroadcastFloat32x8(s)
	i := 0
	for ; i+8 <= n; i += 8 {
		archsimd.LoadFloat32x8(vp8(d, i)).Mul(sv).Store(vp8(d, i))
	}
	if i < n {
		vecStoreTail8(vecLoadTail8(dst[i:]).Mul(sv), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func sum256(x []float32) float32 {
	n := len(x)
	p := vecBase(x)
	var s0, s1, s2, s3 vf8
	i := 0
	for ; i+32 <= n; i += 32 {
		s0 = s0.Add(archsimd.LoadFloat32x8(vp8(p, i)))
		s1 = s1.Add(archsimd.LoadFloat32x8(vp8(p, i+8)))
		s2 = s2.Add(archsimd.LoadFloat32x8(vp8(p, i+16)))
		s3 = s3.Add(archsimd.LoadFloat32x8(vp8(p, i+24)))
	}
	for ; i+8 <= n; i += 8 {
		s0 = s0.Add(archsimd.LoadFloat32x8(vp8(p, i)))
	}
	if i < n {
		s1 = s1.Add(vecLoadTail8(x[i:]))
	}
	return vecReduce8(s0, s1, s2, s3)
}

func dot256(a, b []float32) float32 {
	n := len(a)
	pa, pb := vecBase(a), vecBase(b)
	var s0, s1, s2, s3 vf8
	i := 0
	for ; i+32 <= n; i += 32 {
		s0 = archsimd.LoadFloat32x8(vp8(pa, i)).MulAdd(archsimd.LoadFloat32x8(vp8(pb, i)), s0)
		s1 = archsimd.LoadFloat32x8(vp8(pa, i+8)).MulAdd(archsimd.LoadFloat32x8(vp8(pb, i+8)), s1)
		s2 = archsimd.LoadFloat32x8(vp8(pa, i+16)).MulAdd(archsimd.LoadFloat32x8(vp8(pb, i+16)), s2)
		s3 = archsimd.LoadFloat32x8(vp8(pa, i+24)).MulAdd(archsimd.LoadFloat32x8(vp8(pb, i+24)), s3)
	}
	for ; i+8 <= n; i += 8 {
		s0 = archsimd.LoadFloat32x8(vp8(pa, i)).MulAdd(archsimd.LoadFloat32x8(vp8(pb, i)), s0)
	}
	if i < n {
		s1 = vecLoadTail8(a[i:]).MulAdd(vecLoadTail8(b[i:]), s1)
	}
	return vecReduce8(s0, s1, s2, s3)
}

func vecReduce8(s0, s1, s2, s3 vf8) float32 {
	var lanes [32]float32
	s0.Store((*[8]float32)(lanes[0:8]))
	s1.Store((*[8]float32)(lanes[8:16]))
	s2.Store((*[8]float32)(lanes[16:24]))
	s3.Store((*[8]float32)(lanes[24:32]))
	archsimd.ClearAVXUpperBits()
	return float32(reduceLanes(lanes[:]))
}

// max256 records NaN lanes in a mask: VMAXPS returns its second operand
// when one is NaN, and the compiler treats Max as commutative, so which
// operand that is is not fixed. Both vector paths use it: 16 lanes measured
// no faster on this memory-bound loop.
func max256(x []float32) float32 {
	n := len(x)
	p := vecBase(x)
	m0, m1 := archsimd.BroadcastFloat32x8(float32(math.Inf(-1))), archsimd.BroadcastFloat32x8(float32(math.Inf(-1)))
	nan := m0.IsNaN() // all false; Mask32x8FromBits would need AVX-512
	i := 0
	for ; i+16 <= n; i += 16 {
		v0 := archsimd.LoadFloat32x8(vp8(p, i))
		v1 := archsimd.LoadFloat32x8(vp8(p, i+8))
		nan = nan.Or(v0.IsNaN()).Or(v1.IsNaN())
		m0, m1 = m0.Max(v0), m1.Max(v1)
	}
	for ; i+8 <= n; i += 8 {
		v := archsimd.LoadFloat32x8(vp8(p, i))
		nan = nan.Or(v.IsNaN())
		m0 = m0.Max(v)
	}
	if nan.ToBits() != 0 {
		archsimd.ClearAVXUpperBits()
		return float32(math.NaN())
	}
	var lanes [8]float32
	m0.Max(m1).Store(&lanes)
	archsimd.ClearAVXUpperBits()
	return max(maxScalar(lanes[:]), maxScalar(x[i:]))
}
