package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkConv3x3 times convForward's two paths side by side on the
// restorer's 3×3 convolutions (UNet widths at their resolutions, the hint
// encoder's narrow ones, and 32→12, the hint's input-gradient convolution).
// Winograd runs even below winogradMinChannels, to show where it stops
// paying.
func BenchmarkConv3x3(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct{ hw, cin, cout int }{
		{64, 48, 48}, {32, 96, 96}, {16, 192, 192}, {64, 12, 32}, {64, 32, 32}, {64, 32, 12}, {32, 64, 64}, {16, 128, 128},
	} {
		for _, n := range []int{1, 8} {
			c := convGeom{n, s.hw, s.hw, s.cin, 3, 3, 1, 1, s.hw, s.hw}
			x := randSlice(rng, n*s.hw*s.hw*s.cin)
			w := randSlice(rng, 9*s.cin*s.cout)
			bias := randSlice(rng, s.cout)
			out := make([]float32, n*s.hw*s.hw*s.cout)
			name := fmt.Sprintf("%dx%dx%d-%d/n%d", s.hw, s.hw, s.cin, s.cout, n)
			b.Run(name+"/im2col", func(b *testing.B) {
				winogradOff = true
				defer func() { winogradOff = false }()
				for b.Loop() {
					convForward(out, x, w, bias, c, s.cout, false)
				}
			})
			b.Run(name+"/winograd", func(b *testing.B) {
				buf := make([]float32, winogradKernelLen(s.cin, s.cout))
				for b.Loop() {
					winogradConv(out, x, winogradKernel(buf, w, s.cin, s.cout), bias, c, s.cout, false)
				}
			})
		}
	}
}
