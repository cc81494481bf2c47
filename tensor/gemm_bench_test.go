package tensor

import (
	"math/rand/v2"
	"testing"
)

// benchShapes are the products that dominate training: NHWC convolution by
// im2col (forward, input gradient, weight gradient), a square reference,
// attention and the tiny products of small layers.
var benchShapes = []struct {
	name           string
	transA, transB bool
	m, k, n        int
}{
	{"conv_fwd_32768x576x64", false, false, 32768, 576, 64},
	{"conv_dx_32768x64x576_Bt", false, true, 32768, 64, 576},
	{"conv32_fwd_32768x288x32", false, false, 32768, 288, 32},
	{"conv_dw_576x32768x64_At", true, false, 576, 32768, 64},
	{"sq_1024x1024x1024", false, false, 1024, 1024, 1024},
	{"attn_qk_256x128x256_Bt", false, true, 256, 128, 256},
	{"attn_pv_256x256x128", false, false, 256, 256, 128},
	{"tiny_2x16x8", false, true, 2, 16, 8},
	{"small_64x64x64", false, false, 64, 64, 64},
}

// BenchmarkGemm reports GFLOP/s (2mnk per product) for every backend this
// build can run, named backend/shape with shapes written M×K×N. Backends
// run one after another, not interleaved, because OpenBLAS's threads keep
// spinning for a while after each call. Set GOMAXPROCS to compare thread
// counts (the -cpu flag does not reach sub-benchmarks' Gemm calls reliably).
func BenchmarkGemm(b *testing.B) {
	type backend struct {
		name string
		gemm func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	}
	var backends []backend
	for _, kr := range gemmKernels {
		backends = append(backends, backend{kr.name, func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			gemmWith(kr, true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		}})
	}
	if cblasGemm != nil {
		backends = append(backends, backend{"openblas", cblasGemm})
	}
	r := rand.New(rand.NewPCG(1, 1))
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for _, s := range benchShapes {
				a := randSlice(r, s.m*s.k)
				bm := randSlice(r, s.k*s.n)
				c := make([]float32, s.m*s.n)
				lda, ldb := s.k, s.n
				if s.transA {
					lda = s.m
				}
				if s.transB {
					ldb = s.k
				}
				b.Run(s.name, func(b *testing.B) {
					for b.Loop() {
						be.gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
					}
					b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		})
	}
}
