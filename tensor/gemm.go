package tensor

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// Gemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where op(X) is X or Xᵀ.
// op(A) is m×k, op(B) is k×n, C is m×n; lda, ldb, ldc are row strides (elements).
//
// beta == 0 overwrites C without reading it, so C may hold garbage (NaN).
// It panics, naming the shapes, if a dimension is negative, a stride is too
// small or a slice is too short.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmSerial is Gemm on the calling goroutine alone, for callers that
// already split their work over the cores (convolution chunks, attention
// heads).
func GemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func gemm(parallel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		return
	}
	if cblasGemm != nil && gemmActive == nil {
		if parallel && m*n*k >= parallelGemm {
			cblasParallel(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			return
		}
		cblasGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemmWith(gemmActive, parallel, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmBackend names the kernel in use: "avx512", "avx2", "sse", "scalar" or "openblas".
func GemmBackend() string {
	if gemmActive == nil {
		return "openblas"
	}
	return gemmActive.name
}

// gemmKernel is one register-tile micro-kernel and the cache blocking that
// suits it.
type gemmKernel struct {
	name   string
	mr, nr int // register tile
	kc     int // depth of a packed block; kc×nr of B should stay in L1
	kcT    int // kc when A is read in place transposed
	mc     int // rows of A per block (multiple of mr); mc×kc of A should stay in L2
	nc     int // columns of B per block (multiple of nr)
	// aRep is how many copies of each A value packing writes, so that a
	// kernel without a cheap broadcast can load a ready vector instead.
	aRep int
	// direct says tile accepts A in place through (rsA, csA) strides. Reading
	// A where it lies beats packing it for the thin products of convolution
	// (n = 64 gives each A value only four vector FMAs to amortise a copy):
	// the weight-gradient product 576×32768×64 with Aᵀ ran at 90 GFLOP/s
	// packed and 323 in place, where each cache line of Aᵀ serves eight
	// micro-panels from L1.
	direct bool
	// tile computes the mr×nr product of an A micro-panel (element (i,p) at
	// a + i*rsA + p*csA, in elements; packed panels use rsA=aRep, csA=mr*aRep)
	// and a packed B panel (nr values per p), over kc ≥ 1 steps, and stores
	// C = ab[0]*acc + ab[1]*C; ab[1] == 0 must not read C. alpha and beta
	// come through a pointer so that they do not occupy vector registers
	// during the loop.
	tile func(kc int, a unsafe.Pointer, rsA, csA int, b, c unsafe.Pointer, ldc int, ab *[2]float32)
	// packRows, if set, packs one full micro-panel from row-major A (kc
	// values from each of mr rows lda apart) faster than packA's loop.
	packRows func(kc int, a []float32, lda int, pan []float32)
	// packCols is packRows for Aᵀ: mr adjacent values from each of kc rows.
	packCols func(kc int, a []float32, lda int, pan []float32)
	// narrow, if set, is a kernel with a narrower tile for products with at
	// most narrow.nr columns, which would otherwise waste most of a panel.
	narrow *gemmKernel
}

var (
	// gemmKernels lists every kernel this build can run on this CPU, fastest
	// first; tests walk it.
	gemmKernels []*gemmKernel
	// gemmActive is the kernel Gemm uses; nil means OpenBLAS.
	gemmActive *gemmKernel
)

func init() {
	gemmKernels = append(append(simdKernels(), sseKernels()...), scalarKernel)
	gemmActive = gemmKernels[0]
	want := os.Getenv("FACEREWARD_GEMM")
	if cblasGemm != nil && (want == "" || want == "openblas") {
		gemmActive = nil
		return
	}
	if want == "" {
		return
	}
	for _, kr := range gemmKernels {
		if kr.name == want {
			gemmActive = kr
			return
		}
	}
	// A misspelt or unavailable choice must not silently time the default.
	var names []string
	for _, kr := range gemmKernels {
		names = append(names, kr.name)
	}
	fmt.Fprintf(os.Stderr, "tensor: FACEREWARD_GEMM=%s is not available in this build on this CPU (have %s); using %s\n",
		want, strings.Join(names, ", "), gemmActive.name)
}

func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("tensor.Gemm: negative shape m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkOperand("A", transA, ar, ac, a, lda, m, n, k)
	checkOperand("B", transB, br, bc, b, ldb, m, n, k)
	checkOperand("C", false, m, n, c, ldc, m, n, k)
}

// checkOperand checks that x holds a rows×cols matrix with row stride ld.
func checkOperand(name string, trans bool, rows, cols int, x []float32, ld int, m, n, k int) {
	if rows == 0 || cols == 0 {
		return
	}
	if rows > 1 && ld < cols {
		panic(fmt.Sprintf("tensor.Gemm: m=%d n=%d k=%d: %s but ld%c=%d < %d", m, n, k, storedAs(name, trans, rows, cols), name[0]+'a'-'A', ld, cols))
	}
	if need := (rows-1)*ld + cols; len(x) < need {
		panic(fmt.Sprintf("tensor.Gemm: m=%d n=%d k=%d: %s with ld%c=%d, needs %d elements, slice has %d",
			m, n, k, storedAs(name, trans, rows, cols), name[0]+'a'-'A', ld, need, len(x)))
	}
}

func storedAs(name string, trans bool, rows, cols int) string {
	s := fmt.Sprintf("%s is stored %d×%d", name, rows, cols)
	if trans {
		s += " (transposed)"
	}
	return s
}

// scaleMatrix sets C = beta*C, writing zeros when beta == 0 so NaNs in C go away.
func scaleMatrix(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

const (
	// smallGemm is the n*k below which packing costs more than it saves.
	// It is per row of C, not m*n*k: the two paths sum in different orders
	// (the packed kernels with fused multiply-adds), so the path must not
	// depend on m, the rows, which a batch multiplies; then an item of a
	// batch gets the bytes it gets alone (restorer.Sampler.RestoreEach).
	smallGemm = 512
	// parallelGemm is the m*n*k from which splitting over goroutines pays:
	// with helpers awake 128×64×64 takes 3.2 µs on two cores against 5.0 on
	// one; below this a helper that has to be woken costs more than it adds.
	parallelGemm = 1 << 19
)

// gemmWith runs the whole product with one kernel; shapes are valid and
// m, n, k, alpha are non-zero.
func gemmWith(kr *gemmKernel, parallel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if kr.narrow != nil && n <= kr.narrow.nr {
		kr = kr.narrow
	}
	work := m * n * k
	if n*k < smallGemm {
		gemmSmall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	p := runtime.GOMAXPROCS(0)
	tilesM, tilesN := (m+kr.mr-1)/kr.mr, (n+kr.nr-1)/kr.nr
	if parallel && p > 1 && work >= parallelGemm && max(tilesM, tilesN) >= 2 {
		gemmParallel(kr, p, tilesM, tilesN, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	w := getGemmWork()
	gemmBlocked(kr, w, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	gemmPool.Put(w)
}

// gemmWork holds one goroutine's packing buffers; pooled so that the many
// small products of a training step allocate nothing.
type gemmWork struct {
	aBuf, bBuf, tBuf []float32
	job              gemmJob
}

// tileOnly makes a kernel store its bare product into the edge-tile buffer.
var tileOnly = [2]float32{1, 0}

var gemmPool = sync.Pool{New: func() any { return new(gemmWork) }}

func getGemmWork() *gemmWork { return gemmPool.Get().(*gemmWork) }

// aligned returns a length-n slice of *buf starting on a 64-byte boundary,
// so packed panels never split cache lines and SSE may use aligned loads.
func aligned(buf *[]float32, n int) []float32 {
	if cap(*buf) < n+16 {
		*buf = make([]float32, n+16)
	}
	s := (*buf)[:cap(*buf)]
	off := int(uintptr(unsafe.Pointer(&s[0]))&63) / 4
	if off != 0 {
		off = 16 - off
	}
	return s[off : off+n]
}

// gemmBlocked is the single-threaded blocked product (the GotoBLAS loop
// nest): B is packed in kc×nc blocks, A (when the kernel cannot read it in
// place) in mc×kc blocks, and the kernel sweeps every tile of C that a pair
// of blocks touches.
func gemmBlocked(kr *gemmKernel, w *gemmWork, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	g := &w.job
	*g = gemmJob{kr: kr, transA: transA, transB: transB, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc}
	mr, nr := kr.mr, kr.nr
	kcMax, ncMax := kr.kc, min(kr.nc, roundUp(n, nr))
	if transA && kr.direct {
		// Aᵀ read in place brings a cache line per k step, and those lines
		// have to share L1 with the B panel.
		kcMax = kr.kcT
	}
	// Equal k blocks: 576 = 3×192 beats 4×128 + 64 by 15%.
	blocks := (k + kcMax - 1) / kcMax
	kcMax = min(k, roundUp((k+blocks-1)/blocks, 4))
	// When all of op(B)'s k rows for a column block fit in L2, pack them
	// once and run each band of A rows through every k block in turn: the
	// band's C tiles then stay in cache instead of being read and written
	// back once per k block. That is worth 25% on 32768×576×64.
	whole := k*ncMax <= wholeB
	// An op(B) of exactly one panel whose rows are nr apart on a cache
	// line is already what packB would write: it is read where it lies
	// (the weight gradient's 32- and 64-channel output gradients were
	// copied unchanged, chunk after chunk).
	inPlace := !transB && n == nr && ldb == nr && uintptr(unsafe.Pointer(&b[0]))%64 == 0
	whole = whole || inPlace
	mcMax := min(kr.mc, roundUp(m, mr))
	if whole && blocks > 1 {
		mcMax = min(roundUp(wholeMC, mr), roundUp(m, mr))
	}
	switch {
	case inPlace:
		g.bp = b
	case whole:
		g.bp = aligned(&w.bBuf, k*ncMax)
	default:
		g.bp = aligned(&w.bBuf, kcMax*ncMax)
	}
	g.ap = aligned(&w.aBuf, kcMax*mcMax*kr.aRep)
	g.tp = aligned(&w.tBuf, mr*nr)
	g.ab, g.ab1 = [2]float32{alpha, beta}, [2]float32{alpha, 1}
	for jc := 0; jc < n; jc += ncMax {
		nc := min(ncMax, n-jc)
		if whole {
			ncp := roundUp(nc, nr)
			for pc := 0; pc < k && !inPlace; pc += kcMax {
				packB(transB, min(kcMax, k-pc), nc, nr, b, ldb, pc, jc, g.bp[pc*ncp:])
			}
			for ic := 0; ic < m; ic += mcMax {
				for pc := 0; pc < k; pc += kcMax {
					g.block(ic, min(mcMax, m-ic), pc, min(kcMax, k-pc), jc, nc, g.bp[pc*ncp:])
				}
			}
			continue
		}
		for pc := 0; pc < k; pc += kcMax {
			kc := min(kcMax, k-pc)
			packB(transB, kc, nc, nr, b, ldb, pc, jc, g.bp)
			for ic := 0; ic < m; ic += mcMax {
				g.block(ic, min(mcMax, m-ic), pc, kc, jc, nc, g.bp)
			}
		}
	}
	g.a, g.b, g.c, g.bp = nil, nil, nil, nil // the pool must not keep the caller's matrices alive
}

const (
	wholeB  = 48 * 1024 // floats of packed B (192 KiB) held across a band of A rows
	wholeMC = 64        // rows in such a band
)

// gemmJob is the state of one gemmBlocked call, kept in gemmWork so that
// passing it around does not allocate.
type gemmJob struct {
	kr             *gemmKernel
	transA, transB bool
	a, b, c        []float32
	lda, ldb, ldc  int
	ap, bp, tp     []float32
	ab, ab1        [2]float32 // {alpha, beta} and {alpha, 1} for the kernels
}

// block multiplies op(A)[ic:ic+mc, pc:pc+kc] by the packed B block bp into
// C[ic:ic+mc, jc:jc+nc]; the first k block applies beta, later ones add.
func (g *gemmJob) block(ic, mc, pc, kc, jc, nc int, bp []float32) {
	kr, a, lda, c, ldc := g.kr, g.a, g.lda, g.c, g.ldc
	mr, nr, rep := kr.mr, kr.nr, kr.aRep
	ab := &g.ab
	if pc > 0 {
		ab = &g.ab1
	}
	packFrom := 0
	if kr.direct {
		packFrom = mc / mr * mr
	}
	if packFrom < mc {
		packA(g.transA, kc, mc, mr, rep, kr.packRows, kr.packCols, a, lda, ic, pc, packFrom, g.ap)
	}
	for jr := 0; jr < nc; jr += nr {
		bpan := unsafe.Pointer(&bp[jr*kc])
		nn := min(nr, nc-jr)
		for ir := 0; ir < mc; ir += mr {
			var apan unsafe.Pointer
			rsA, csA := rep, mr*rep
			switch {
			case ir >= packFrom:
				apan = unsafe.Pointer(&g.ap[ir*kc*rep])
			case g.transA:
				apan = unsafe.Pointer(&a[pc*lda+ic+ir])
				rsA, csA = 1, lda
			default:
				apan = unsafe.Pointer(&a[(ic+ir)*lda+pc])
				rsA, csA = lda, 1
			}
			mm := min(mr, mc-ir)
			ci := (ic+ir)*ldc + jc + jr
			if mm == mr && nn == nr {
				kr.tile(kc, apan, rsA, csA, bpan, unsafe.Pointer(&c[ci]), ldc, ab)
				continue
			}
			kr.tile(kc, apan, rsA, csA, bpan, unsafe.Pointer(&g.tp[0]), nr, &tileOnly)
			mergeTile(mm, nn, nr, g.tp, ab[0], ab[1], c[ci:], ldc)
		}
	}
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// mergeTile stores the valid mm×nn corner of an edge tile into C.
func mergeTile(mm, nn, nr int, t []float32, alpha, beta float32, c []float32, ldc int) {
	for i := 0; i < mm; i++ {
		src := t[i*nr : i*nr+nn]
		dst := c[i*ldc : i*ldc+nn]
		// The common cases as whole-row copies and vector adds, the same
		// values (1·v is v; v + 1·d is d + v): a 288-wide product (the
		// input gradient of a 3×3×32 convolution) sends the last 32
		// columns of every row through here.
		switch {
		case alpha == 1 && beta == 0:
			copy(dst, src)
			continue
		case alpha == 1 && beta == 1:
			vecActive.addTo(dst, src)
			continue
		}
		if beta == 0 {
			for j, v := range src {
				dst[j] = alpha * v
			}
		} else {
			for j, v := range src {
				dst[j] = alpha*v + beta*dst[j]
			}
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into panels of nr columns, each
// kc×nr row-major, zero-padding the last panel.
func packB(transB bool, kc, nc, nr int, b []float32, ldb, pc, jc int, dst []float32) {
	for jr := 0; jr < nc; jr += nr {
		nn := min(nr, nc-jr)
		pan := dst[jr*kc : jr*kc+kc*nr]
		if !transB {
			for p := 0; p < kc; p++ {
				row := pan[p*nr : p*nr+nr]
				src := b[(pc+p)*ldb+jc+jr:]
				copy(row, src[:nn])
				clear(row[nn:])
			}
			continue
		}
		if nn < nr {
			clear(pan)
		}
		j := 0
		for ; j+8 <= nn; j += 8 {
			packT8(kc, nr, b[(jc+jr+j)*ldb+pc:], ldb, pan[j:])
		}
		for ; j < nn; j++ {
			src := b[(jc+jr+j)*ldb+pc:]
			src = src[:kc]
			for p, v := range src {
				pan[p*nr+j] = v
			}
		}
	}
}

// packT8 transposes 8 rows of kc values (row stride ldb) into 8 adjacent
// columns of a panel nr wide. Going down the 8 rows together writes 32
// contiguous bytes per step instead of scattering single values a panel
// width apart, which ran at 0.5 ns per value.
func packT8(kc, nr int, b []float32, ldb int, pan []float32) {
	r0, r1, r2, r3 := b[:kc], b[ldb:ldb+kc], b[2*ldb:2*ldb+kc], b[3*ldb:3*ldb+kc]
	r4, r5, r6, r7 := b[4*ldb:4*ldb+kc], b[5*ldb:5*ldb+kc], b[6*ldb:6*ldb+kc], b[7*ldb:7*ldb+kc]
	for p := range r0 {
		d := pan[p*nr : p*nr+8]
		d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
		d[4], d[5], d[6], d[7] = r4[p], r5[p], r6[p], r7[p]
	}
}

// packA copies rows [from, mc) of op(A)[ic:ic+mc, pc:pc+kc] into micro-panels
// of mr rows, element (i,p) of a panel at p*mr*rep + i*rep, each value
// repeated rep times; missing rows of the last panel are zero. Writes are
// sequential so that packing streams at memory speed; it matters for the
// thin products of convolution, where each A value feeds only n FMAs.
func packA(transA bool, kc, mc, mr, rep int, packRows, packCols func(kc int, a []float32, lda int, pan []float32), a []float32, lda, ic, pc, from int, dst []float32) {
	step := mr * rep
	for ir := from; ir < mc; ir += mr {
		mm := min(mr, mc-ir)
		pan := dst[ir*kc*rep : (ir+mr)*kc*rep]
		if mm < mr {
			clear(pan)
		}
		if transA && packCols != nil && mm == mr {
			packCols(kc, a[pc*lda+ic+ir:], lda, pan)
			continue
		}
		if transA {
			for p := 0; p < kc; p++ {
				src := a[(pc+p)*lda+ic+ir:]
				src = src[:mm]
				d := pan[p*step : p*step+step]
				if rep == 4 {
					for i, v := range src {
						put4(d[i*4:], v)
					}
					continue
				}
				for i, v := range src {
					for r := range rep {
						d[i*rep+r] = v
					}
				}
			}
			continue
		}
		if packRows != nil && mm == mr {
			packRows(kc, a[(ic+ir)*lda+pc:], lda, pan)
			continue
		}
		for i := 0; i < mm; i++ {
			src := a[(ic+ir+i)*lda+pc:]
			src = src[:kc]
			for p, v := range src {
				for r := range rep {
					pan[p*step+i*rep+r] = v
				}
			}
		}
	}
}

func put4(d []float32, v float32) {
	d = d[:4]
	d[0], d[1], d[2], d[3] = v, v, v, v
}

// gemmSmall is the unpacked product for tiny shapes, where setting up panels
// would cost more than the arithmetic.
func gemmSmall(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		if transB {
			for j := range crow {
				var s float32
				if transA {
					brow := b[j*ldb : j*ldb+k]
					for p, bv := range brow {
						s += a[p*lda+i] * bv
					}
				} else {
					s = dot(a[i*lda:i*lda+k], b[j*ldb:j*ldb+k])
				}
				if beta == 0 {
					crow[j] = alpha * s
				} else {
					crow[j] = alpha*s + beta*crow[j]
				}
			}
			continue
		}
		if beta == 0 {
			clear(crow)
		} else if beta != 1 {
			for j := range crow {
				crow[j] *= beta
			}
		}
		for p := 0; p < k; p++ {
			var av float32
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			av *= alpha
			brow := b[p*ldb : p*ldb+n]
			for j, bv := range brow {
				crow[j] += av * bv
			}
		}
	}
}

// dot uses four partial sums: one chain of dependent adds would make tiny
// products latency-bound (3 cycles per element).
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
