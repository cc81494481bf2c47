package faces

import (
	"errors"
	"fmt"
	"math"

	"facereward/tensor"
)

// Template512 is facexlib's FFHQ five-point template for a 512×512 crop
// (FaceRestoreHelper.face_template): image-left eye, image-right eye, nose
// tip, image-left and image-right mouth corner. Scale it by size/512 for other
// crop sizes (Template).
var Template512 = [5]Point{
	{192.98138, 239.94708},
	{318.90277, 240.1936},
	{256.63416, 314.01935},
	{201.26117, 371.41043},
	{313.08905, 371.15118},
}

// Where pigo's box sits on an FFHQ-aligned face, in 512-template pixels:
// the mean over the 190 dev-val crops (ffhq128 ids 04800–04999) that
// DefaultOptions detects; TestFFHQRealign logs it again.
const (
	boxCentreX512 = 249.6
	boxCentreY512 = 267.0
	boxSide512    = 351.0
)

// Template returns Template512 scaled to a size×size crop, as facexlib does
// (no half-pixel shift).
func Template(size int) [5]Point {
	k := float32(size) / 512
	var t [5]Point
	for i, p := range Template512 {
		t[i] = Point{p[0] * k, p[1] * k}
	}
	return t
}

// FivePoints reduces the 68 iBUG landmarks (as the face-api landmark net
// returns them, in image pixels) to facexlib's five points: the means of
// 36–41 and 42–47 (the eyes, image-left first), 30 (nose tip), 48 and 54
// (mouth corners).
func FivePoints(l68 [68][2]float32) [5][2]float32 {
	mean := func(lo int) Point {
		var x, y float32
		for i := lo; i < lo+6; i++ {
			x += l68[i][0]
			y += l68[i][1]
		}
		return Point{x / 6, y / 6}
	}
	return [5]Point{mean(36), mean(42), l68[30], l68[48], l68[54]}
}

// Affine is a 2×3 matrix mapping (x, y) to (A00 x + A01 y + A02, A10 x + A11 y + A12),
// laid out as OpenCV's warpAffine matrix.
type Affine [2][3]float64

// Apply maps one point.
func (m Affine) Apply(p Point) Point {
	x, y := float64(p[0]), float64(p[1])
	return Point{
		float32(m[0][0]*x + m[0][1]*y + m[0][2]),
		float32(m[1][0]*x + m[1][1]*y + m[1][2]),
	}
}

// Invert returns the inverse map (cv2.invertAffineTransform).
func (m Affine) Invert() (Affine, error) {
	det := m[0][0]*m[1][1] - m[0][1]*m[1][0]
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return Affine{}, fmt.Errorf("faces: affine %v is not invertible", m)
	}
	a, b, c, d := m[1][1]/det, -m[0][1]/det, -m[1][0]/det, m[0][0]/det
	return Affine{
		{a, b, -(a*m[0][2] + b*m[1][2])},
		{c, d, -(c*m[0][2] + d*m[1][2])},
	}, nil
}

// Scale is the similarity's isotropic scale (crop pixels per photo pixel
// for an alignment matrix).
func (m Affine) Scale() float64 { return math.Sqrt(math.Abs(m[0][0]*m[1][1] - m[0][1]*m[1][0])) }

// Umeyama fits the least-squares similarity (uniform scale, rotation,
// translation; never a reflection) taking src onto dst. In 2-D Umeyama's SVD
// solution reduces to a closed form. facexlib uses
// cv2.estimateAffinePartial2D with LMEDS, which agrees with this fit when all
// five points are sound; this one does not reject outliers.
func Umeyama(src, dst [][2]float64) (Affine, error) {
	n := len(src)
	if n < 2 || len(dst) != n {
		return Affine{}, fmt.Errorf("faces: umeyama needs ≥ 2 matched points, got %d and %d", len(src), len(dst))
	}
	var msx, msy, mdx, mdy float64
	for i := range n {
		msx += src[i][0]
		msy += src[i][1]
		mdx += dst[i][0]
		mdy += dst[i][1]
	}
	fn := float64(n)
	msx, msy, mdx, mdy = msx/fn, msy/fn, mdx/fn, mdy/fn
	// a and b are the cosine and sine parts of the cross-covariance; their
	// ratio to the source variance is scale·cos θ and scale·sin θ.
	var a, b, v float64
	for i := range n {
		sx, sy := src[i][0]-msx, src[i][1]-msy
		dx, dy := dst[i][0]-mdx, dst[i][1]-mdy
		a += sx*dx + sy*dy
		b += sx*dy - sy*dx
		v += sx*sx + sy*sy
	}
	if v < 1e-12 {
		return Affine{}, errors.New("faces: umeyama source points coincide")
	}
	c, s := a/v, b/v
	if c == 0 && s == 0 {
		return Affine{}, errors.New("faces: umeyama fit has zero scale")
	}
	return Affine{
		{c, -s, mdx - (c*msx - s*msy)},
		{s, c, mdy - (s*msx + c*msy)},
	}, nil
}

// AlignMatrix fits the similarity from five photo points to Template(size).
func AlignMatrix(points [5]Point, size int) (Affine, error) {
	if size < 1 {
		return Affine{}, fmt.Errorf("faces: crop size %d", size)
	}
	t := Template(size)
	src := make([][2]float64, 5)
	dst := make([][2]float64, 5)
	for i := range 5 {
		src[i] = p64(points[i])
		dst[i] = p64(t[i])
	}
	m, err := Umeyama(src, dst)
	if err != nil {
		return Affine{}, fmt.Errorf("faces: align to %d: %w", size, err)
	}
	return m, nil
}

// Border is facexlib's warp fill, BGR (135, 133, 132) read as RGB, in [0,1]:
// a neutral grey, since black bleeds into the jaw of a restored face.
var Border = [3]float32{132.0 / 255, 133.0 / 255, 135.0 / 255}

// Align warps the face with five points to an FFHQ-aligned size×size crop and
// returns it with the photo→crop matrix (keep it for PasteBack). Parts of the
// crop outside the photo are filled with Border, so faces cut by the photo
// edge still align.
func Align(img *tensor.Tensor, points [5]Point, size int) (*tensor.Tensor, Affine, error) {
	m, err := AlignMatrix(points, size)
	if err != nil {
		return nil, Affine{}, err
	}
	crop, err := Warp(img, m, size, size, Border[:])
	if err != nil {
		return nil, Affine{}, err
	}
	return crop, m, nil
}

// Warp is cv2.warpAffine(img, m, (w, h), INTER_LINEAR, BORDER_CONSTANT,
// border) on an [H,W,C] float image: out(x, y) = img(m⁻¹(x, y)), bilinear,
// with each of the four taps that falls outside img replaced by border (so
// edges blend into the fill as OpenCV's do). border needs C values; a nil
// border means zeros.
func Warp(img *tensor.Tensor, m Affine, h, w int, border []float32) (*tensor.Tensor, error) {
	if img == nil || len(img.Shape) != 3 {
		return nil, fmt.Errorf("faces: warp wants an [H,W,C] image")
	}
	ih, iw, c := img.Shape[0], img.Shape[1], img.Shape[2]
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("faces: warp to %d×%d", h, w)
	}
	if border == nil {
		border = make([]float32, c)
	}
	if len(border) != c {
		return nil, fmt.Errorf("faces: border has %d values for %d channels", len(border), c)
	}
	inv, err := m.Invert()
	if err != nil {
		return nil, err
	}
	out := tensor.New(h, w, c)
	src := img.Data
	tensor.Parallel(h, h*w*c*8, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			row := out.Data[y*w*c : (y+1)*w*c]
			for x := range w {
				sx := inv[0][0]*float64(x) + inv[0][1]*float64(y) + inv[0][2]
				sy := inv[1][0]*float64(x) + inv[1][1]*float64(y) + inv[1][2]
				px := row[x*c : (x+1)*c]
				x0f, y0f := math.Floor(sx), math.Floor(sy)
				// Far outside: skip the taps (this also keeps huge
				// coordinates from overflowing int).
				if x0f < -1 || y0f < -1 || x0f >= float64(iw) || y0f >= float64(ih) {
					copy(px, border)
					continue
				}
				x0, y0 := int(x0f), int(y0f)
				fx, fy := float32(sx-x0f), float32(sy-y0f)
				for ch := range c {
					tap := func(xx, yy int) float32 {
						if xx < 0 || yy < 0 || xx >= iw || yy >= ih {
							return border[ch]
						}
						return src[(yy*iw+xx)*c+ch]
					}
					top := tap(x0, y0)*(1-fx) + tap(x0+1, y0)*fx
					bot := tap(x0, y0+1)*(1-fx) + tap(x0+1, y0+1)*fx
					px[ch] = top*(1-fy) + bot*fy
				}
			}
		}
	})
	return out, nil
}
