package imgproc

import (
	"fmt"

	"facereward/tensor"
)

// Scratch holds the temporary buffers of Filter2D and Resize. The zero value
// is ready to use. A Scratch must not be used by two goroutines at once;
// give each worker its own.
type Scratch struct {
	pad  []float32 // Filter2D: the source with its reflected border
	offs []int     // Filter2D: flat offset of each non-zero tap in pad
	wts  []float32 // Filter2D: weight of each non-zero tap

	xt, yt taps      // Resize: per-axis source indices and weights
	rows   []float32 // Resize: source rows already resized horizontally
	need   []bool    // Resize: which source rows the vertical pass reads
	areaX  []areaTap // Resize: INTER_AREA decimation table along x
	areaY  []areaTap // Resize: INTER_AREA decimation table along y
}

// imageDims returns H, W, C of an [H, W, C] tensor or panics naming fn.
func imageDims(fn string, t *tensor.Tensor) (h, w, c int) {
	if t == nil || len(t.Shape) != 3 || t.Shape[0] < 1 || t.Shape[1] < 1 || t.Shape[2] < 1 {
		var shape []int
		if t != nil {
			shape = t.Shape
		}
		panic(fmt.Sprintf("imgproc.%s: want an image [H W C], got shape %v", fn, shape))
	}
	if len(t.Data) != t.Shape[0]*t.Shape[1]*t.Shape[2] {
		panic(fmt.Sprintf("imgproc.%s: shape %v needs %d values, have %d", fn, t.Shape,
			t.Shape[0]*t.Shape[1]*t.Shape[2], len(t.Data)))
	}
	return t.Shape[0], t.Shape[1], t.Shape[2]
}

// grow returns buf resized to n, reusing its storage when it is big enough.
func grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// reflect101 maps a coordinate into [0, n) like OpenCV's borderInterpolate
// with BORDER_REFLECT_101 (gfedcb|abcdefgh|gfedcba). It loops because a
// kernel wider than the image reflects more than once.
func reflect101(p, n int) int {
	if n == 1 {
		return 0
	}
	for p < 0 || p >= n {
		if p < 0 {
			p = -p
		} else {
			p = 2*n - 2 - p
		}
	}
	return p
}

// clamp limits p to [0, n), which is OpenCV's replicated border.
func clamp(p, n int) int {
	if p < 0 {
		return 0
	}
	if p >= n {
		return n - 1
	}
	return p
}
