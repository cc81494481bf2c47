package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkVec times each kernel on every path this build can run, plus
// "naive": the plain Go loop with math.Exp that these kernels replace. Named
// kernel/path; reports ns/elem and, through SetBytes, the memory traffic per
// second (each element read and written once per slice touched).
//
//	GOEXPERIMENT=simd go test -run '^$' -bench BenchmarkVec -count 5 ./tensor/
func BenchmarkVec(b *testing.B) {
	const n = 1 << 20
	r := rand.New(rand.NewPCG(1, 1))
	x, y, z, w := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 4)
		y[i] = float32(r.NormFloat64())
		z[i] = float32(sigmoidRef(float64(x[i])))
	}
	type kernel struct {
		name   string
		slices int // slices read or written, for SetBytes
		run    func(v *vecImpl)
		naive  func()
	}
	kernels := []kernel{
		{"SiLU", 3, func(v *vecImpl) { v.silu(w, z, x) }, func() {
			for i, v := range x {
				s := 1 / (1 + math.Exp(-float64(v)))
				z[i], w[i] = float32(s), float32(float64(v)*s)
			}
		}},
		{"SiLUGrad", 4, func(v *vecImpl) { v.siluGrad(w, y, x, z) }, func() {
			for i := range w {
				s := z[i]
				w[i] += y[i] * s * (1 + x[i]*(1-s))
			}
		}},
		{"Exp", 2, func(v *vecImpl) { v.exp(w, x) }, func() {
			for i, v := range x {
				w[i] = float32(math.Exp(float64(v)))
			}
		}},
		{"AddTo", 2, func(v *vecImpl) { v.addTo(w, y) }, func() {
			for i, v := range y {
				w[i] += v
			}
		}},
		{"Tanh", 2, func(v *vecImpl) { v.tanh(w, x) }, func() {
			for i, v := range x {
				w[i] = float32(math.Tanh(float64(v)))
			}
		}},
		{"Dot", 2, func(v *vecImpl) { w[0] = v.dot(x, y) }, func() {
			var s float32
			for i, v := range x {
				s += v * y[i]
			}
			w[0] = s
		}},
	}
	for _, k := range kernels {
		for _, v := range vecImpls {
			b.Run(k.name+"/"+v.name, func(b *testing.B) {
				b.SetBytes(int64(4 * n * k.slices))
				for b.Loop() {
					k.run(v)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
			})
		}
		b.Run(k.name+"/naive", func(b *testing.B) {
			b.SetBytes(int64(4 * n * k.slices))
			for b.Loop() {
				k.naive()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
		})
	}
}

// BenchmarkVecDRAM repeats the exp-based kernels and AddTo on 64 MiB slices,
// which no cache holds, to show whether a kernel keeps up with memory.
func BenchmarkVecDRAM(b *testing.B) {
	const n = 1 << 24
	x, y, z := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(i%2000-1000) / 100
	}
	for _, k := range []struct {
		name   string
		slices int
		run    func(v *vecImpl)
	}{
		{"Exp", 2, func(v *vecImpl) { v.exp(y, x) }},
		{"SiLU", 3, func(v *vecImpl) { v.silu(y, z, x) }},
		{"AddTo", 2, func(v *vecImpl) { v.addTo(y, x) }},
	} {
		for _, v := range vecImpls {
			b.Run(k.name+"/"+v.name, func(b *testing.B) {
				b.SetBytes(int64(4 * n * k.slices))
				for b.Loop() {
					k.run(v)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
			})
		}
	}
}
