package imgproc

import "facereward/tensor"

// HFEnergy is the mean squared 4-neighbour Laplacian of the luma of img
// [H,W,3] over the box at (x0, y0) of side s, clipped to the image (and
// to the pixels that have all four neighbours): it weighs the finest
// detail most. The photo gate, the sampler's mild-input test and
// tools/sharpness measure detail with it.
func HFEnergy(img *tensor.Tensor, x0, y0, s int) float64 {
	var e float64
	l := Laplacian(img, x0, y0, s)
	for _, v := range l {
		e += v * v
	}
	return e / float64(max(len(l), 1))
}

// Laplacian is the 4-neighbour Laplacian of the luma (BT.601 weights) of
// img [H,W,3] at each pixel of the box at (x0, y0) of side s that has all
// four neighbours in the image, row by row: the detail HFEnergy measures.
func Laplacian(img *tensor.Tensor, x0, y0, s int) []float64 {
	h, w, c := imageDims("Laplacian", img)
	if c != 3 {
		panic("imgproc.Laplacian: want 3 channels, got " + tensor.ShapeString(img.Shape))
	}
	luma := func(y, x int) float64 {
		i := (y*w + x) * 3
		return 0.299*float64(img.Data[i]) + 0.587*float64(img.Data[i+1]) + 0.114*float64(img.Data[i+2])
	}
	ya, yb := max(1, y0), min(h-1, y0+s)
	xa, xb := max(1, x0), min(w-1, x0+s)
	out := make([]float64, 0, max(yb-ya, 0)*max(xb-xa, 0))
	for y := ya; y < yb; y++ {
		for x := xa; x < xb; x++ {
			out = append(out, 4*luma(y, x)-luma(y-1, x)-luma(y+1, x)-luma(y, x-1)-luma(y, x+1))
		}
	}
	return out
}

// CentralHFEnergy is HFEnergy over the central box of a face crop
// [S,S,3] that leaves a fifth of the side at each edge: on an aligned face
// that box holds the eyes, nose and mouth, not the background.
func CentralHFEnergy(face *tensor.Tensor) float64 {
	s := face.Shape[0]
	lo := s / 5
	return HFEnergy(face, lo, lo, s-2*lo)
}
