package imgproc

import "math"

// resizeAreaFast shrinks by integer factors fx, fy: each output is the mean of
// an fy×fx block. Like OpenCV's resizeAreaFast_ it sums the block row by row
// in groups of four, ((a+b)+c)+d, and multiplies by the float32 1/area.
// Integer factors within DBL_EPSILON mean sw == dw·fx and sh == dh·fy exactly,
// so every block lies inside the image.
func resizeAreaFast(dst, src []float32, sh, sw, dh, dw, c, fx, fy int) {
	area := fx * fy
	scale := 1 / float32(area)
	rowLen := sw * c
	full := area - area%4 // taps summed in groups of four; the rest one by one
	// For 2×2 blocks of 1- or 4-channel images OpenCV's SSE2 loop
	// (ResizeAreaFastVec_SIMD_32f) adds the two rows' pairs first,
	// ((a+b)+(c+d))·0.25; with one channel it does so four outputs at a time,
	// leaving a tail of fewer than four to the scalar order.
	pairDW := 0
	if fx == 2 && fy == 2 && c == 1 {
		pairDW = dw &^ 3
	} else if fx == 2 && fy == 2 && c == 4 {
		pairDW = dw
	}
	for dy := 0; dy < dh; dy++ {
		for dx := 0; dx < pairDW; dx++ {
			r0, r1 := src[2*dy*rowLen:], src[(2*dy+1)*rowLen:]
			for ch := 0; ch < c; ch++ {
				i := 2*dx*c + ch
				dst[(dy*dw+dx)*c+ch] = (float32(r0[i]+r0[i+c]) + float32(r1[i]+r1[i+c])) * scale
			}
		}
		for dx := pairDW; dx < dw; dx++ {
			for ch := 0; ch < c; ch++ {
				var sum, group float32
				k := 0
				for by := 0; by < fy; by++ {
					row := src[(dy*fy+by)*rowLen:]
					for bx := 0; bx < fx; bx++ {
						v := row[(dx*fx+bx)*c+ch]
						switch {
						case k >= full:
							sum += v
						case k%4 == 0:
							group = v
						case k%4 == 3:
							sum += group + v
						default:
							group += v
						}
						k++
					}
				}
				dst[(dy*dw+dx)*c+ch] = sum * scale
			}
		}
	}
}

// areaTap is one entry of OpenCV's DecimateAlpha table: source pixel s
// contributes alpha to output pixel d.
type areaTap struct {
	d, s  int
	alpha float32
}

// areaTable is OpenCV's computeResizeAreaTab: output d covers the source
// interval [d·scale, (d+1)·scale); whole pixels inside it weigh 1/cellWidth
// and the partial pixels at its ends weigh their covered fraction, with
// slivers under 1e-3 of a pixel ignored. The arithmetic is in float64, as
// in OpenCV, and only the weights are rounded to float32.
func areaTable(tab []areaTap, src, dst int, scale float64) []areaTap {
	tab = tab[:0]
	for d := 0; d < dst; d++ {
		fs1 := float64(float64(d) * scale) // no FMA with the next line: C rounds here
		fs2 := fs1 + scale
		cell := math.Min(scale, float64(src)-fs1)
		s1, s2 := int(math.Ceil(fs1)), int(math.Floor(fs2))
		s2 = min(s2, src-1)
		s1 = min(s1, s2)
		if float64(s1)-fs1 > 1e-3 {
			tab = append(tab, areaTap{d, s1 - 1, float32((float64(s1) - fs1) / cell)})
		}
		for s := s1; s < s2; s++ {
			tab = append(tab, areaTap{d, s, float32(1 / cell)})
		}
		if fs2-float64(s2) > 1e-3 {
			tab = append(tab, areaTap{d, s2, float32(math.Min(math.Min(fs2-float64(s2), 1), cell) / cell)})
		}
	}
	return tab
}

// resizeArea shrinks by non-integer factors with the area-overlap tables,
// in the order of OpenCV's ResizeArea_Invoker: for each y entry the source
// row is reduced horizontally into buf, then added into the output row's
// running sum with the y weight.
func (s *Scratch) resizeArea(dst, src []float32, sh, sw, dh, dw, c int, scaleX, scaleY float64) {
	s.areaX = areaTable(s.areaX, sw, dw, scaleX)
	s.areaY = areaTable(s.areaY, sh, dh, scaleY)
	xtab, ytab := s.areaX, s.areaY

	rowLen := dw * c
	s.rows = grow(s.rows, 2*rowLen)
	buf, sum := s.rows[:rowLen], s.rows[rowLen:]
	clear(sum)
	prev := ytab[0].d
	for _, yt := range ytab {
		clear(buf)
		in := src[yt.s*sw*c:][:sw*c]
		for _, xt := range xtab {
			o, p := buf[xt.d*c:][:c], in[xt.s*c:][:c]
			for ch := range o {
				o[ch] += float32(p[ch] * xt.alpha)
			}
		}
		beta := yt.alpha
		if yt.d != prev {
			copy(dst[prev*rowLen:][:rowLen], sum)
			for x := range sum {
				sum[x] = beta * buf[x]
			}
			prev = yt.d
		} else {
			for x := range sum {
				sum[x] += float32(beta * buf[x])
			}
		}
	}
	copy(dst[prev*rowLen:][:rowLen], sum)
}
