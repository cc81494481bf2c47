package facenet

import (
	"fmt"
	"math"

	"facereward/tensor"
)

// Frame records how Prepare placed a crop in the net's input square, to map
// points back.
type Frame struct {
	Scale      float64 // net pixels per crop pixel: size / max(H, W)
	PadX, PadY int     // zero columns (rows) put before the crop
}

// ToCrop maps a point in pixels of the net input to pixels of the crop.
//
// face-api subtracts |W−H|/2 (scaled) for the padding, half a pixel off
// the padding it actually adds when |W−H| is odd (it puts the odd column
// after the crop); this subtracts what was added.
func (f Frame) ToCrop(p [2]float32) [2]float32 {
	return [2]float32{
		float32(float64(p[0])/f.Scale - float64(f.PadX)),
		float32(float64(p[1])/f.Scale - float64(f.PadY)),
	}
}

// Prepare turns a face crop [H,W,3] into a net input [size,size,3] as
// face-api does with a tensor input: zero-padded to a square with the crop
// centred (the odd pixel of padding after it, as padToSquare's
// Math.round puts it), then resized with tfjs-core's resizeBilinear at
// alignCorners=false, which samples source (dst·in/out) — not the
// half-pixel centres of OpenCV or image/draw — with the upper neighbour
// clamped at the border. A crop already size×size is returned as it is.
func Prepare(crop *tensor.Tensor, size int) (*tensor.Tensor, Frame) {
	s := crop.Shape
	if len(s) != 3 || s[2] != 3 || s[0] < 1 || s[1] < 1 {
		panic(fmt.Sprintf("facenet.Prepare: crop shape %s, want [H W 3]", tensor.ShapeString(s)))
	}
	h, w := s[0], s[1]
	side := max(h, w)
	fr := Frame{Scale: float64(size) / float64(side)}
	// padToSquare appends round(diff/2) and prepends the rest.
	if w < h {
		fr.PadX = (h - w) - int(math.Round(float64(h-w)/2))
	} else {
		fr.PadY = (w - h) - int(math.Round(float64(w-h)/2))
	}
	sq := crop
	if h != w {
		sq = tensor.New(side, side, 3)
		for y := range h {
			copy(sq.Data[((y+fr.PadY)*side+fr.PadX)*3:], crop.Data[y*w*3:(y+1)*w*3])
		}
	}
	if side == size {
		return sq, fr
	}
	return resizeBilinear(sq, size), fr
}

// resizeBilinear is tfjs-core 1.7's CPU resizeBilinear with
// alignCorners=false for a square [n,n,3] image, computed in float64 as the
// JS backend does before storing float32.
func resizeBilinear(img *tensor.Tensor, size int) *tensor.Tensor {
	n := img.Shape[0]
	ratio := float64(n) / float64(size)
	out := tensor.New(size, size, 3)
	src := func(d int) (lo, hi int, frac float64) {
		f := ratio * float64(d)
		lo = int(math.Floor(f))
		return lo, min(n-1, int(math.Ceil(f))), f - float64(lo)
	}
	px := func(y, x, c int) float64 { return float64(img.Data[(y*n+x)*3+c]) }
	tensor.Parallel(size, size*size*24, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			y0, y1, fy := src(r)
			for col := range size {
				x0, x1, fx := src(col)
				for c := range 3 {
					top := px(y0, x0, c) + (px(y0, x1, c)-px(y0, x0, c))*fx
					bot := px(y1, x0, c) + (px(y1, x1, c)-px(y1, x0, c))*fx
					out.Data[(r*size+col)*3+c] = float32(top + (bot-top)*fy)
				}
			}
		}
	})
	return out
}

// AlignedFaceBox is the square, as fractions of the side, where the nets
// see the face in an FFHQ-aligned crop: x = 0.15625, y = 0.21875,
// side = 0.6875 (20, 28, 88 px at 128×128). Of nine boxes tried on such
// crops it gave the most stable landmarks and the best same/different-person
// separation, measured when the nets were brought in; LMD moves by a factor
// of four between boxes, so every figure must name the box it used.
var AlignedFaceBox = [3]float64{0.15625, 0.21875, 0.6875}

// AlignedCrop cuts AlignedFaceBox out of an aligned face [H,W,3] and
// returns it with its top-left corner in the face's pixels.
func AlignedCrop(img *tensor.Tensor) (crop *tensor.Tensor, x0, y0 int) {
	n := float64(min(img.Shape[0], img.Shape[1]))
	side := int(math.Round(AlignedFaceBox[2] * n))
	x0, y0 = int(math.Round(AlignedFaceBox[0]*n)), int(math.Round(AlignedFaceBox[1]*n))
	w := img.Shape[1]
	crop = tensor.New(side, side, 3)
	for y := range side {
		copy(crop.Data[y*side*3:(y+1)*side*3], img.Data[((y0+y)*w+x0)*3:][:side*3])
	}
	return crop, x0, y0
}
