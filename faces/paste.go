package faces

import (
	"fmt"
	"math"

	"facereward/imgproc"
	"facereward/tensor"
)

// PasteBack returns a copy of photo [H,W,3] with crop [S,S,3] (a restored
// aligned face) warped back through the inverse of m (the photo→crop matrix
// Align returned) and blended with a feathered mask, following facexlib's
// paste_faces_to_input_image at upscale 1: the warped square mask is eroded
// by 2 px to drop the bilinear fringe, then eroded again by 2·e and
// Gaussian-blurred with a (2·e+1) kernel, e = ⌊√area⌋/20, so the seam fades
// over a band proportional to the face size. Only the face's bounding box
// (plus the feather margin) is touched.
func PasteBack(photo, crop *tensor.Tensor, m Affine) (*tensor.Tensor, error) {
	return paste(photo, crop, m, false)
}

// PasteDelta is PasteBack for a change rather than a face: delta [S,S,3]
// (restored minus input, in the crop's frame) is warped back and added
// under the same feathered mask. Only the change goes through the two
// resamplings (photo → crop → photo); the photo's own pixels stay as they
// are, so detail the restoration kept from the input is not softened by
// them.
func PasteDelta(photo, delta *tensor.Tensor, m Affine) (*tensor.Tensor, error) {
	return paste(photo, delta, m, true)
}

func paste(photo, crop *tensor.Tensor, m Affine, delta bool) (*tensor.Tensor, error) {
	ph, pw, err := rgbDims(photo)
	if err != nil {
		return nil, fmt.Errorf("faces: paste back: %w", err)
	}
	ch, cw, err := rgbDims(crop)
	if err != nil {
		return nil, fmt.Errorf("faces: paste back crop: %w", err)
	}
	inv, err := m.Invert()
	if err != nil {
		return nil, fmt.Errorf("faces: paste back: %w", err)
	}
	out := &tensor.Tensor{Shape: append([]int(nil), photo.Shape...), Data: append([]float32(nil), photo.Data...)}

	// Region of the photo the crop covers, grown by the feather margin so
	// erosion and blur see the zeros around the face.
	x0, y0, x1, y1 := warpedBounds(inv, cw, ch)
	side := math.Sqrt(float64(cw*ch)) * inv.Scale()
	edge := int(side) / 20
	margin := 4*edge + 4
	rx0, ry0 := max(0, int(math.Floor(x0))-margin), max(0, int(math.Floor(y0))-margin)
	rx1, ry1 := min(pw, int(math.Ceil(x1))+margin+1), min(ph, int(math.Ceil(y1))+margin+1)
	if rx0 >= rx1 || ry0 >= ry1 {
		return out, nil // the face lies wholly outside the photo
	}
	rw, rh := rx1-rx0, ry1-ry0

	// Work in the region's own coordinates: shift the inverse map.
	local := inv
	local[0][2] -= float64(rx0)
	local[1][2] -= float64(ry0)
	face, err := Warp(crop, local, rh, rw, nil)
	if err != nil {
		return nil, err
	}
	ones := tensor.New(ch, cw, 1)
	for i := range ones.Data {
		ones.Data[i] = 1
	}
	maskT, err := Warp(ones, local, rh, rw, nil)
	if err != nil {
		return nil, err
	}
	mask := maskT.Data
	mask = erode(mask, rw, rh, 2, rx0, ry0, pw, ph)

	// facexlib sizes the feather from the eroded mask's area.
	var area float64
	for _, v := range mask {
		area += float64(v)
	}
	e := int(math.Sqrt(area)) / 20
	soft := mask
	if e > 0 {
		soft = erode(mask, rw, rh, 2*e, rx0, ry0, pw, ph)
		soft = gaussianBlur(soft, rw, rh, 2*e+1)
	}

	for y := range rh {
		for x := range rw {
			i := y*rw + x
			a := soft[i]
			if a == 0 {
				continue
			}
			o := ((ry0+y)*pw + rx0 + x) * 3
			for c := range 3 {
				// facexlib blends mask·face, not face, so the fringe
				// of the bilinear warp cannot darken the seam.
				f := mask[i] * face.Data[i*3+c]
				if delta {
					out.Data[o+c] += a * f
				} else {
					out.Data[o+c] = a*f + (1-a)*out.Data[o+c]
				}
			}
		}
	}
	return out, nil
}

// warpedBounds is the photo-space bounding box of a w×h crop under inv.
func warpedBounds(inv Affine, w, h int) (x0, y0, x1, y1 float64) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, c := range [4][2]float64{{-1, -1}, {float64(w), -1}, {-1, float64(h)}, {float64(w), float64(h)}} {
		x := inv[0][0]*c[0] + inv[0][1]*c[1] + inv[0][2]
		y := inv[1][0]*c[0] + inv[1][1]*c[1] + inv[1][2]
		x0, y0 = math.Min(x0, x), math.Min(y0, y)
		x1, y1 = math.Max(x1, x), math.Max(y1, y)
	}
	// Clamp before the caller converts to int; huge values mean a
	// degenerate matrix, and the photo bounds clip them anyway.
	clamp := func(v float64) float64 { return math.Max(-1e7, math.Min(1e7, v)) }
	return clamp(x0), clamp(y0), clamp(x1), clamp(y1)
}

// erode is cv2.erode with a k×k box of ones (anchor at k/2) on a w×h region
// at (ox, oy) of a pw×ph photo. Like OpenCV's default border, samples outside
// the photo are ignored, so a face at the photo edge keeps its mask there;
// samples outside the region but inside the photo are zeros by construction.
func erode(m []float32, w, h, k, ox, oy, pw, ph int) []float32 {
	lo, hi := -(k / 2), k-1-k/2
	tmp := make([]float32, len(m))
	for y := range h {
		for x := range w {
			v := float32(math.Inf(1))
			for d := lo; d <= hi; d++ {
				xx := x + d
				if ox+xx < 0 || ox+xx >= pw {
					continue
				}
				if xx < 0 || xx >= w {
					v = 0
					break
				}
				v = min(v, m[y*w+xx])
			}
			tmp[y*w+x] = v
		}
	}
	out := make([]float32, len(m))
	for y := range h {
		for x := range w {
			v := float32(math.Inf(1))
			for d := lo; d <= hi; d++ {
				yy := y + d
				if oy+yy < 0 || oy+yy >= ph {
					continue
				}
				if yy < 0 || yy >= h {
					v = 0
					break
				}
				v = min(v, tmp[yy*w+x])
			}
			out[y*w+x] = v
		}
	}
	return out
}

// gaussianBlur is cv2.GaussianBlur(m, (k, k), 0) with OpenCV's sigma for
// that size and BORDER_REFLECT_101 at the region's edge: a row pass and a
// column pass of imgproc.Filter2D.
func gaussianBlur(m []float32, w, h, k int) []float32 {
	sigma := 0.3*(float64(k-1)*0.5-1) + 0.8
	r := k / 2
	kern := make([]float32, k)
	var sum float64
	for i := range k {
		d := float64(i - r)
		v := math.Exp(-d * d / (2 * sigma * sigma))
		kern[i] = float32(v)
		sum += v
	}
	for i := range kern {
		kern[i] /= float32(sum)
	}
	img := tensor.FromSlice(m, h, w, 1)
	rows := imgproc.Filter2D(img, kern, 1, k)
	return imgproc.Filter2D(rows, kern, k, 1).Data
}
