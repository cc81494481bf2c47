package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// gemmRef is the float64 textbook product; it also returns, per element, the
// sum of magnitudes that bounds the rounding error of a float32 product.
func gemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, scale []float64) {
	want = make([]float64, m*n)
	scale = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, mag float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
				mag += math.Abs(float64(av) * float64(bv))
			}
			w := float64(alpha) * s
			sc := math.Abs(float64(alpha)) * mag
			if beta != 0 {
				w += float64(beta) * float64(c[i*ldc+j])
				sc += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			want[i*n+j], scale[i*n+j] = w, sc
		}
	}
	return want, scale
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int // extra elements per row of A, B and C
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,alpha=%g,beta=%g,pad=%d", tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad)
}

type gemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// runGemmCase runs one product through gemm and checks it against gemmRef.
func runGemmCase(t *testing.T, r *rand.Rand, tc gemmCase, gemm gemmFunc) {
	t.Helper()
	if err := checkGemmCase(r, tc, gemm); err != nil {
		t.Fatal(err)
	}
}

// checkGemmCase is runGemmCase for any goroutine. C starts as NaN when
// beta == 0, which must not leak into the result, and its padding columns
// must come back untouched.
func checkGemmCase(r *rand.Rand, tc gemmCase, gemm gemmFunc) error {
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := ac+tc.pad, bc+tc.pad, tc.n+tc.pad
	a := randSlice(r, ar*lda)
	b := randSlice(r, br*ldb)
	c := randSlice(r, tc.m*ldc)
	if tc.beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	orig := append([]float32(nil), c...)
	want, scale := gemmRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	tol := 1e-5 * math.Sqrt(float64(tc.k)+1)
	var errs []string
	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= tc.n {
				if math.Float32bits(got) != math.Float32bits(orig[i*ldc+j]) {
					return fmt.Errorf("%v: wrote C[%d,%d] outside the matrix (padding)", tc, i, j)
				}
				continue
			}
			w, s := want[i*tc.n+j], scale[i*tc.n+j]
			if d := math.Abs(float64(got) - w); !(d <= tol*s+1e-30) {
				if bad++; bad <= 3 {
					errs = append(errs, fmt.Sprintf("C[%d,%d] = %g, want %g (|err| %.3g > %.3g)", i, j, got, w, d, tol*s))
				}
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%v: %d wrong elements: %s", tc, bad, strings.Join(errs, "; "))
	}
	return nil
}

var edgeDims = []int{1, 2, 3, 17, 63, 64, 65, 129}

func gemmCases(dims []int, full bool) []gemmCase {
	var cs []gemmCase
	i := 0
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for _, m := range dims {
				for _, n := range dims {
					for _, k := range dims {
						i++
						ab := [][2]float32{{1, 0}, {1, 1}, {0.5, 0.5}, {-1.5, 0}, {1, 0.5}}[i%5]
						if full {
							for _, pad := range []int{0, 3} {
								cs = append(cs, gemmCase{tA, tB, m, n, k, ab[0], ab[1], pad})
							}
						} else {
							cs = append(cs, gemmCase{tA, tB, m, n, k, ab[0], ab[1], i % 4})
						}
					}
				}
			}
		}
	}
	return cs
}

// TestGemmKernels drives every kernel this CPU can run through the blocked
// path directly, so a kernel that is not the default still gets tested.
func TestGemmKernels(t *testing.T) {
	dims := edgeDims
	if testing.Short() {
		dims = []int{1, 3, 17, 64, 65}
	}
	for _, kr := range allKernels() {
		t.Run(kernelName(kr), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			blocked := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				w := getGemmWork()
				defer gemmPool.Put(w)
				gemmBlocked(kr, w, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			}
			for _, tc := range gemmCases(dims, false) {
				runGemmCase(t, r, tc, blocked)
			}
		})
	}
}

// TestGemmKernelBlocking uses shapes that cross kc, mc and nc block borders,
// and the multi-goroutine split along both M and N.
func TestGemmKernelBlocking(t *testing.T) {
	for _, kr := range allKernels() {
		t.Run(kernelName(kr), func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			with := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				gemmWith(kr, true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			}
			shapes := [][3]int{
				{kr.mc + 3, 2*kr.nr + 5, kr.kc + 1},
				{37, kr.nc + kr.nr + 1, 2*kr.kc + 7},
				{3, 1500, 300},
				{1200, 5, 300},
				{9, 9, 20000},
			}
			for i, s := range shapes {
				for _, tA := range []bool{false, true} {
					for _, tB := range []bool{false, true} {
						tc := gemmCase{tA, tB, s[0], s[1], s[2], 0.5, []float32{0, 1, 0.5}[i%3], i % 2}
						runGemmCase(t, r, tc, with)
					}
				}
			}
		})
	}
}

// TestGemmParallel drives the multi-goroutine split directly with more
// goroutines than this machine may have, along M and along N.
func TestGemmParallel(t *testing.T) {
	for _, kr := range allKernels() {
		t.Run(kernelName(kr), func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, 12))
			for _, p := range []int{2, 3} {
				par := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
					gemmParallel(kr, p, (m+kr.mr-1)/kr.mr, (n+kr.nr-1)/kr.nr, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
				}
				for _, s := range [][3]int{{1100, 2*kr.nr + 3, 70}, {7, 9*kr.nr + 1, 50}, {3 * kr.mr, 6 * kr.nr, 33}, {2, 2, 5}} {
					for _, tA := range []bool{false, true} {
						for _, tB := range []bool{false, true} {
							runGemmCase(t, r, gemmCase{tA, tB, s[0], s[1], s[2], 1, 0.5, 1}, par)
						}
					}
				}
			}
		})
	}
}

// TestGemmConcurrent has several goroutines run parallel-sized products at
// once, so that jobs overlap in the shared helpers.
func TestGemmConcurrent(t *testing.T) {
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			r := rand.New(rand.NewPCG(13, uint64(g)))
			for i := range 6 {
				if err := checkGemmCase(r, gemmCase{i%2 == 0, i%3 == 0, 300 + 7*g, 130 + i, 90, 1, 0, 0}, Gemm); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

// TestGemmTile calls each micro-kernel on a single full tile, both from
// packed panels and, where supported, from A in place.
func TestGemmTile(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, kr := range allKernels() {
		for _, kc := range []int{1, 2, 3, 4, 5, 7, 8, 9, 64, 257} {
			for _, beta := range []float32{0, 1, 0.5} {
				mr, nr, rep := kr.mr, kr.nr, kr.aRep
				aRows := randSlice(r, mr*kc) // op(A) row-major, mr×kc
				bp := randSlice(r, kc*nr)
				ap := make([]float32, mr*kc*rep)
				for i := 0; i < mr; i++ {
					for p := 0; p < kc; p++ {
						for q := 0; q < rep; q++ {
							ap[p*mr*rep+i*rep+q] = aRows[i*kc+p]
						}
					}
				}
				ldc := nr + 5
				c0 := randSlice(r, mr*ldc)
				b := bp // kc×nr row-major is exactly the packed layout
				want, scale := gemmRef(false, false, mr, nr, kc, 0.5, aRows, kc, b, nr, beta, c0, ldc)
				check := func(how string, c []float32) {
					tol := 1e-5 * math.Sqrt(float64(kc)+1)
					for i := 0; i < mr; i++ {
						for j := 0; j < nr; j++ {
							got, w := float64(c[i*ldc+j]), want[i*nr+j]
							if d := math.Abs(got - w); !(d <= tol*scale[i*nr+j]+1e-30) {
								t.Fatalf("%s %s kc=%d beta=%g: C[%d,%d] = %g, want %g", kr.name, how, kc, beta, i, j, got, w)
							}
						}
					}
				}
				c := append([]float32(nil), c0...)
				if beta == 0 {
					for i := range c {
						c[i] = float32(math.NaN())
					}
				}
				kr.tile(kc, unsafe.Pointer(&ap[0]), rep, mr*rep, unsafe.Pointer(&bp[0]), unsafe.Pointer(&c[0]), ldc, &[2]float32{0.5, beta})
				check("packed", c)
				if kr.direct {
					c = append(c[:0], c0...)
					kr.tile(kc, unsafe.Pointer(&aRows[0]), kc, 1, unsafe.Pointer(&bp[0]), unsafe.Pointer(&c[0]), ldc, &[2]float32{0.5, beta})
					check("direct", c)
				}
			}
		}
	}
}

// TestGemmSmall checks the unpacked path used for tiny products.
func TestGemmSmall(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range gemmCases([]int{1, 2, 3, 8, 16, 17}, true) {
		runGemmCase(t, r, tc, gemmSmall)
	}
}

// TestGemmPublic goes through the dispatcher, including the special cases
// handled before any kernel runs.
func TestGemmPublic(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	dims := []int{0, 1, 3, 17, 65}
	for _, tc := range gemmCases(dims, false) {
		runGemmCase(t, r, tc, Gemm)
	}
	for _, tc := range []gemmCase{
		{false, false, 2, 8, 16, 1, 0, 0},
		{false, true, 2, 16, 8, 1, 1, 0},
		{true, false, 256, 256, 128, 1, 0, 0},
		{false, false, 5, 7, 0, 1, 0.5, 1},
		{false, false, 5, 7, 0, 1, 0, 1},
		{true, true, 5, 7, 9, 0, 0.5, 2},
		{false, false, 5, 7, 9, 0, 0, 2},
	} {
		runGemmCase(t, r, tc, Gemm)
	}
}

func TestGemmBackend(t *testing.T) {
	name := GemmBackend()
	t.Logf("GemmBackend() = %q; kernels on this CPU: %v", name, kernelNames())
	want := os.Getenv("FACEREWARD_GEMM")
	switch {
	case want != "" && strings.Contains(strings.Join(kernelNames(), ","), want):
		if name != want {
			t.Errorf("FACEREWARD_GEMM=%s but GemmBackend() = %q", want, name)
		}
	case cblasGemm != nil:
		if name != "openblas" {
			t.Errorf("built with openblas but GemmBackend() = %q", name)
		}
	default:
		if name != gemmKernels[0].name {
			t.Errorf("GemmBackend() = %q, want the fastest kernel %q", name, gemmKernels[0].name)
		}
	}
}

// allKernels adds the narrow variants to gemmKernels.
func allKernels() []*gemmKernel {
	var ks []*gemmKernel
	for _, kr := range gemmKernels {
		ks = append(ks, kr)
		if kr.narrow != nil {
			ks = append(ks, kr.narrow)
		}
	}
	return ks
}

func kernelName(kr *gemmKernel) string { return fmt.Sprintf("%s_%dx%d", kr.name, kr.mr, kr.nr) }

func kernelNames() []string {
	var s []string
	for _, kr := range gemmKernels {
		s = append(s, kr.name)
	}
	return s
}

func TestGemmPanics(t *testing.T) {
	a := make([]float32, 6*4)
	b := make([]float32, 4*5)
	c := make([]float32, 6*5)
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"short A", func() { Gemm(false, false, 6, 5, 4, 1, a[:23], 4, b, 5, 0, c, 5) }, "m=6 n=5 k=4: A is stored 6×4 with lda=4, needs 24 elements, slice has 23"},
		{"short A transposed", func() { Gemm(true, false, 6, 5, 4, 1, a[:10], 6, b, 5, 0, c, 5) }, "A is stored 4×6 (transposed) with lda=6, needs 24 elements, slice has 10"},
		{"short B", func() { Gemm(false, true, 6, 5, 4, 1, a, 4, b[:19], 4, 0, c, 5) }, "B is stored 5×4 (transposed) with ldb=4, needs 20 elements, slice has 19"},
		{"short C", func() { Gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 1, c[:29], 5) }, "C is stored 6×5 with ldc=5, needs 30 elements, slice has 29"},
		{"small ldc", func() { Gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 1, c, 4) }, "C is stored 6×5 but ldc=4 < 5"},
		{"negative", func() { Gemm(false, false, -1, 5, 4, 1, a, 4, b, 5, 1, c, 5) }, "negative shape m=-1 n=5 k=4"},
		{"short C with k=0", func() { Gemm(false, false, 6, 5, 0, 1, nil, 0, nil, 5, 0, c[:3], 5) }, "needs 30 elements, slice has 3"},
	} {
		func() {
			defer func() {
				r := recover()
				s, _ := r.(string)
				if r == nil || !strings.Contains(s, tc.msg) {
					t.Errorf("%s: panic %v, want one containing %q", tc.name, r, tc.msg)
				}
			}()
			tc.f()
		}()
	}
}

// TestGemmNoAlloc keeps the per-call overhead of small and (with several
// cores) parallel products at zero allocations once the pools are warm.
func TestGemmNoAlloc(t *testing.T) {
	if cblasGemm != nil && gemmActive == nil {
		t.Skip("OpenBLAS")
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				t.Skip("the race detector makes sync.Pool drop items at random")
			}
		}
	}
	for _, s := range [][3]int{{2, 8, 16}, {64, 64, 64}, {128, 64, 128}} {
		m, n, k := s[0], s[1], s[2]
		a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		allocs := testing.AllocsPerRun(100, func() { Gemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n) })
		if allocs > 0 {
			t.Errorf("%dx%dx%d: %v allocations per call", m, n, k, allocs)
		}
	}
}

// A row of C is the same bytes however many rows the product has: a batch
// stacks its items' rows, and each item must come out as it does alone.
// Small and large n·k (both paths), both transpositions of A and B, beta 0
// and 1, m from 1 past a kernel's block of rows. OpenBLAS picks its own
// kernels by shape, so the openblas build promises this only within the
// tolerance it meets against the exact product (gemmCase: 1e-5·√(k+1) of
// Σ|a·b| + |β·c|), twice over.
func TestGemmRowsIndependentOfM(t *testing.T) {
	blas := GemmBackend() == "openblas"
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	for _, sz := range [][2]int{{3, 5}, {8, 70}, {64, 9}, {70, 300}, {200, 600}} {
		n, k := sz[0], sz[1]
		for _, m := range []int{1, 7, 40, 300} {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				for _, beta := range []float32{0, 1} {
					ta, tb := tr[0], tr[1]
					a, b, c0 := fill(m*k), fill(k*n), fill(m*n)
					lda, ldb := k, n
					if ta {
						lda = m
					}
					if tb {
						ldb = k
					}
					all := slices.Clone(c0)
					Gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, all, n)
					for i := 0; i < m; i++ {
						row := slices.Clone(c0[i*n : (i+1)*n])
						ai, ldai := a[i*k:], k
						if ta {
							ai, ldai = a[i:], lda
						}
						Gemm(ta, tb, 1, n, k, 1, ai, ldai, b, ldb, beta, row, n)
						for j, v := range row {
							w := all[i*n+j]
							if !blas {
								if math.Float32bits(v) != math.Float32bits(w) {
									t.Fatalf("m=%d n=%d k=%d trans %v beta %v: C[%d,%d] is %v alone, %v among %d rows", m, n, k, tr, beta, i, j, v, w, m)
								}
								continue
							}
							scale := math.Abs(float64(beta * c0[i*n+j]))
							for p := 0; p < k; p++ {
								av, bv := a[i*k+p], b[p*n+j]
								if ta {
									av = a[p*lda+i]
								}
								if tb {
									bv = b[j*ldb+p]
								}
								scale += math.Abs(float64(av * bv))
							}
							if d := math.Abs(float64(v - w)); d > 2e-5*math.Sqrt(float64(k)+1)*scale {
								t.Fatalf("m=%d n=%d k=%d trans %v beta %v: C[%d,%d] is %v alone, %v among %d rows (|diff| %.3g)", m, n, k, tr, beta, i, j, v, w, m, d)
							}
						}
					}
				}
			}
		}
	}
}

// TestGemmBInPlace checks that a product whose op(B) is one aligned panel,
// which gemmBlocked reads where it lies, gives the bytes of the same product
// from a copy of B one float off the cache line, which it packs: for every
// kernel, both A layouts, beta 0 and 1, and k below and above the depth
// whose panel is packed whole.
func TestGemmBInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kr := range allKernels() {
		n := kr.nr
		for _, k := range []int{1, 7, 130, 1000} {
			for _, m := range []int{1, 5, 70} {
				for _, ta := range []bool{false, true} {
					for _, beta := range []float32{0, 1} {
						var inPlace, packed []float32
						b := aligned(&inPlace, k*n)
						copy(b, randSlice(rng, k*n))
						bOff := aligned(&packed, k*n+1)[1:]
						copy(bOff, b)
						a, c0 := randSlice(rng, m*k), randSlice(rng, m*n)
						lda := k
						if ta {
							lda = m
						}
						got, want := slices.Clone(c0), slices.Clone(c0)
						w := getGemmWork()
						gemmBlocked(kr, w, ta, false, m, n, k, 1, a, lda, b, n, beta, got, n)
						gemmBlocked(kr, w, ta, false, m, n, k, 1, a, lda, bOff, n, beta, want, n)
						gemmPool.Put(w)
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s m=%d k=%d transA %v beta %v: C[%d] = %v with B in place, %v packed",
									kernelName(kr), m, k, ta, beta, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}
