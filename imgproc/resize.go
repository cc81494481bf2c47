package imgproc

import (
	"fmt"
	"math"

	"facereward/tensor"
)

// Interp selects the interpolation of Resize.
type Interp int

const (
	Linear Interp = iota // cv2.INTER_LINEAR
	Cubic                // cv2.INTER_CUBIC (Keys, A = -0.75)
	Area                 // cv2.INTER_AREA
)

func (i Interp) String() string {
	switch i {
	case Linear:
		return "Linear"
	case Cubic:
		return "Cubic"
	case Area:
		return "Area"
	}
	return fmt.Sprintf("Interp(%d)", int(i))
}

// Resize scales src [H,W,C] to [h,w,C] like
// cv2.resize(src, (w, h), interpolation=INTER_LINEAR|INTER_CUBIC|INTER_AREA)
// on a float32 image. Values are not clamped: cubic may overshoot [0,1]
// exactly as OpenCV's float32 resize does.
func Resize(src *tensor.Tensor, h, w int, interp Interp) *tensor.Tensor {
	_, _, c := imageDims("Resize", src)
	if h < 1 || w < 1 {
		panic(fmt.Sprintf("imgproc.Resize: target size %d×%d for src %v", h, w, src.Shape))
	}
	dst := tensor.New(h, w, c)
	var s Scratch
	s.ResizeInto(dst, src, interp)
	return dst
}

// ResizeInto is Resize writing into dst, whose shape [h,w,C] gives the target
// size. dst must not share storage with src.
//
// The dispatch mirrors cv::resize for float32:
//   - same size: a copy;
//   - INTER_LINEAR by exactly 1/2 on both axes becomes INTER_AREA;
//   - INTER_AREA with both scales ≥ 1 (shrinking) is a true area average:
//     a plain box mean when both factors are integers, otherwise OpenCV's
//     area-overlap tables;
//   - everything else is separable interpolation with half-pixel centres,
//     and INTER_AREA that enlarges either axis is bilinear with OpenCV's own
//     coefficient rule (areaCoeff).
func (s *Scratch) ResizeInto(dst, src *tensor.Tensor, interp Interp) {
	sh, sw, c := imageDims("ResizeInto", src)
	dh, dw, dc := imageDims("ResizeInto", dst)
	if dc != c {
		panic(fmt.Sprintf("imgproc.ResizeInto: dst %v and src %v have different channel counts", dst.Shape, src.Shape))
	}
	if interp != Linear && interp != Cubic && interp != Area {
		panic(fmt.Sprintf("imgproc.ResizeInto: unknown interpolation %v", interp))
	}
	if dh == sh && dw == sw {
		copy(dst.Data, src.Data)
		return
	}

	// OpenCV derives everything from these doubles; keep the same roundings.
	invX, invY := float64(dw)/float64(sw), float64(dh)/float64(sh)
	scaleX, scaleY := 1/invX, 1/invY
	iscaleX, iscaleY := math.RoundToEven(scaleX), math.RoundToEven(scaleY)
	areaFast := math.Abs(scaleX-iscaleX) < eps64 && math.Abs(scaleY-iscaleY) < eps64

	if interp == Linear && areaFast && iscaleX == 2 && iscaleY == 2 {
		interp = Area
	}
	if interp == Area && scaleX >= 1 && scaleY >= 1 {
		if areaFast {
			resizeAreaFast(dst.Data, src.Data, sh, sw, dh, dw, c, int(iscaleX), int(iscaleY))
			return
		}
		s.resizeArea(dst.Data, src.Data, sh, sw, dh, dw, c, scaleX, scaleY)
		return
	}

	s.xt.build(interp, dw, sw, scaleX, invX, true)
	s.yt.build(interp, dh, sh, scaleY, invY, false)
	s.separable(dst.Data, src.Data, sh, sw, dh, dw, c)
}

// eps64 is C's DBL_EPSILON, OpenCV's test for an integer scale factor.
const eps64 = 2.220446049250313e-16

// taps lists, for each output position along one axis, n source indices
// (already clamped into the image) and their float32 weights.
type taps struct {
	n   int
	idx []int
	wts []float32
}

// build fills t for an axis of dst outputs taken from src inputs, following
// cv::hal::resize's coefficient loops. isX selects the horizontal border rule:
// OpenCV's hresize replaces an out-of-image linear tap pair by the edge pixel
// with weights (1, 0), while vresize keeps the computed weights and merely
// clamps the row indices; the two differ in float rounding at the far edge.
func (t *taps) build(interp Interp, dst, src int, scale, inv float64, isX bool) {
	t.n = 2
	if interp == Cubic {
		t.n = 4
	}
	t.idx = grow(t.idx, dst*t.n)
	t.wts = grow(t.wts, dst*t.n)
	for d := 0; d < dst; d++ {
		var s0 int
		var f float32
		if interp == Area {
			s0, f = areaCoeff(d, scale, inv)
		} else {
			// float64(...) stops Go from fusing into an FMA, which C does not do here.
			f = float32(float64((float64(d)+0.5)*scale) - 0.5)
			fl := float32(math.Floor(float64(f)))
			s0 = int(fl)
			f -= fl
		}
		idx, wts := t.idx[d*t.n:][:t.n], t.wts[d*t.n:][:t.n]
		if interp == Cubic {
			cubicCoeffs(f, wts)
			for k := range idx {
				idx[k] = clamp(s0-1+k, src)
			}
			continue
		}
		if isX && (s0 < 0 || s0 >= src-1) {
			s0, f = clamp(s0, src), 0
		}
		wts[0], wts[1] = 1-f, f
		idx[0], idx[1] = clamp(s0, src), clamp(s0+1, src)
	}
}

// areaCoeff is INTER_AREA's rule when it enlarges: output d starts at source
// floor(d·scale) and blends towards the next pixel only by the part of the
// output cell that lies beyond that source pixel's right edge. An integer
// upscale is therefore pure pixel replication, and a non-integer one is runs
// of copies with a single blended pixel at some source boundaries, not a ramp.
func areaCoeff(d int, scale, inv float64) (int, float32) {
	s0 := int(math.Floor(float64(d) * scale))
	f := float32(float64(d+1) - float64(float64(s0+1)*inv))
	if f <= 0 {
		return s0, 0
	}
	return s0, f - float32(math.Floor(float64(f)))
}

// cubicCoeffs is OpenCV's interpolateCubic with A = -0.75, evaluated in
// float32 in the same order; the float32() conversions keep Go from fusing
// multiply-adds that OpenCV's SSE2 build rounds separately.
func cubicCoeffs(x float32, c []float32) {
	const a = -0.75
	x1, y := x+1, 1-x
	c[0] = float32(float32(float32(float32(float32(a*x1)-5*a)*x1)+8*a)*x1) - 4*a
	c[1] = float32(float32(float32(float32((a+2)*x)-(a+3))*x)*x) + 1
	c[2] = float32(float32(float32(float32((a+2)*y)-(a+3))*y)*y) + 1
	c[3] = 1 - c[0] - c[1] - c[2]
}

// separable resizes horizontally every source row that the vertical taps
// use, then blends those rows vertically, the order of OpenCV's
// resizeGeneric_ (hresize into row buffers, then vresize).
func (s *Scratch) separable(dst, src []float32, sh, sw, dh, dw, c int) {
	rowLen := dw * c
	s.rows = grow(s.rows, sh*rowLen)
	s.need = grow(s.need, sh)
	clear(s.need)
	for _, sy := range s.yt.idx {
		s.need[sy] = true
	}
	for sy, needed := range s.need {
		if needed {
			hresize(s.rows[sy*rowLen:][:rowLen], src[sy*sw*c:][:sw*c], &s.xt, c)
		}
	}

	n := s.yt.n
	for dy := 0; dy < dh; dy++ {
		out := dst[dy*rowLen:][:rowLen]
		idx, b := s.yt.idx[dy*n:][:n], s.yt.wts[dy*n:][:n]
		r0 := s.rows[idx[0]*rowLen:][:rowLen]
		r1 := s.rows[idx[1]*rowLen:][:rowLen]
		if n == 2 {
			b0, b1 := b[0], b[1]
			for x := range out {
				out[x] = float32(r0[x]*b0) + float32(r1[x]*b1)
			}
			continue
		}
		r2 := s.rows[idx[2]*rowLen:][:rowLen]
		r3 := s.rows[idx[3]*rowLen:][:rowLen]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		// OpenCV's SSE2 loop (VResizeCubicVec_32f, four lanes) nests its
		// multiply-adds from the last row inwards; only the tail of fewer than
		// four values takes the scalar left-to-right sum.
		simd := rowLen &^ 3
		for x := range out[:simd] {
			out[x] = float32(r0[x]*b0) + float32(float32(r1[x]*b1)+float32(float32(r2[x]*b2)+float32(r3[x]*b3)))
		}
		for x := simd; x < rowLen; x++ {
			out[x] = float32(float32(float32(r0[x]*b0)+float32(r1[x]*b1))+float32(r2[x]*b2)) + float32(r3[x]*b3)
		}
	}
}

// hresize applies the horizontal taps to one source row of c channels.
func hresize(out, in []float32, t *taps, c int) {
	dw := len(out) / c
	if t.n == 2 {
		for dx := 0; dx < dw; dx++ {
			i0, i1 := t.idx[2*dx]*c, t.idx[2*dx+1]*c
			a0, a1 := t.wts[2*dx], t.wts[2*dx+1]
			o := out[dx*c:][:c]
			p0, p1 := in[i0:][:c], in[i1:][:c]
			for ch := range o {
				o[ch] = float32(p0[ch]*a0) + float32(p1[ch]*a1)
			}
		}
		return
	}
	for dx := 0; dx < dw; dx++ {
		idx, a := t.idx[4*dx:][:4], t.wts[4*dx:][:4]
		p0, p1 := in[idx[0]*c:][:c], in[idx[1]*c:][:c]
		p2, p3 := in[idx[2]*c:][:c], in[idx[3]*c:][:c]
		o := out[dx*c:][:c]
		for ch := range o {
			o[ch] = float32(float32(float32(p0[ch]*a[0])+float32(p1[ch]*a[1]))+float32(p2[ch]*a[2])) + float32(p3[ch]*a[3])
		}
	}
}
