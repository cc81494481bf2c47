package metrics

import (
	"fmt"
	"math"

	"facereward/tensor"
)

// Channel selects what PSNR and SSIM compare.
type Channel int

const (
	RGB Channel = iota // the three colour channels (SSIM averages them)
	Y                  // BT.601 luma as basicsr's bgr2ycbcr(y_only=True)
)

func (c Channel) String() string {
	switch c {
	case RGB:
		return "RGB"
	case Y:
		return "Y"
	}
	return fmt.Sprintf("Channel(%d)", int(c))
}

// plane is one channel of an image in float64, on the 0–255 scale.
type plane struct {
	h, w int
	v    []float64
}

// planes converts an [H,W,3] image in [0,1] to the 8-bit-valued planes that
// basicsr measures: basicsr evaluates uint8 images (tensor2img rounds), so
// values are clamped, scaled by 255 and rounded before anything else.
// crop removes that many pixels from every border, like crop_border.
func planes(t *tensor.Tensor, ch Channel, crop int) ([]plane, error) {
	if len(t.Shape) != 3 || t.Shape[2] != 3 {
		return nil, fmt.Errorf("metrics: want an [H,W,3] image, got shape %v", t.Shape)
	}
	h, w := t.Shape[0], t.Shape[1]
	ch_, cw := h-2*crop, w-2*crop
	if crop < 0 || ch_ < 1 || cw < 1 {
		return nil, fmt.Errorf("metrics: crop %d leaves nothing of a %d×%d image", crop, h, w)
	}
	n := 3
	if ch == Y {
		n = 1
	} else if ch != RGB {
		return nil, fmt.Errorf("metrics: unknown channel %v", ch)
	}
	ps := make([]plane, n)
	for i := range ps {
		ps[i] = plane{h: ch_, w: cw, v: make([]float64, ch_*cw)}
	}
	for y := 0; y < ch_; y++ {
		for x := 0; x < cw; x++ {
			p := t.Data[((y+crop)*w+x+crop)*3:]
			r, g, b := to255(p[0]), to255(p[1]), to255(p[2])
			o := y*cw + x
			if ch == Y {
				ps[0].v[o] = 16 + (65.481*r+128.553*g+24.966*b)/255
				continue
			}
			ps[0].v[o], ps[1].v[o], ps[2].v[o] = r, g, b
		}
	}
	return ps, nil
}

// to255 is round(clamp(v,0,1)·255); adding ½ and truncating is math.Round
// for these non-negative values, and much cheaper.
func to255(v float32) float64 {
	switch {
	case !(v > 0): // also NaN
		return 0
	case v >= 1:
		return 255
	}
	return float64(int(float64(v)*255 + 0.5))
}

func pairPlanes(a, b *tensor.Tensor, ch Channel, crop int) ([]plane, []plane, error) {
	if !tensor.SameShape(a.Shape, b.Shape) {
		return nil, nil, fmt.Errorf("metrics: shapes differ: %v vs %v", a.Shape, b.Shape)
	}
	pa, err := planes(a, ch, crop)
	if err != nil {
		return nil, nil, err
	}
	pb, err := planes(b, ch, crop)
	return pa, pb, err
}

// PSNR is basicsr's calculate_psnr (test_y_channel when ch is Y) in dB, with
// a peak of 255; identical images give +Inf.
func PSNR(a, b *tensor.Tensor, ch Channel, crop int) (float64, error) {
	pa, pb, err := pairPlanes(a, b, ch, crop)
	if err != nil {
		return 0, err
	}
	var sum float64
	n := 0
	for i := range pa {
		for j, v := range pa[i].v {
			d := v - pb[i].v[j]
			sum += d * d
		}
		n += len(pa[i].v)
	}
	mse := sum / float64(n)
	if mse == 0 {
		return math.Inf(1), nil
	}
	return 10 * math.Log10(255*255/mse), nil
}

// ssimWindow is basicsr's 11-tap Gaussian, σ = 1.5 (cv2.getGaussianKernel).
var ssimWindow = gaussianTaps(11, 1.5)

// gaussianTaps is cv2.getGaussianKernel(n, sigma) in float64.
func gaussianTaps(n int, sigma float64) []float64 {
	k := make([]float64, n)
	var sum float64
	for i := range k {
		x := float64(i) - float64(n-1)/2
		k[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return k
}

// SSIM is basicsr's calculate_ssim: the mean SSIM map over the 'valid'
// region of an 11×11 Gaussian window (σ 1.5), with C1 = (0.01·255)² and
// C2 = (0.03·255)², averaged over channels for RGB. Images must be at least
// 11×11 after cropping.
func SSIM(a, b *tensor.Tensor, ch Channel, crop int) (float64, error) {
	pa, pb, err := pairPlanes(a, b, ch, crop)
	if err != nil {
		return 0, err
	}
	k := len(ssimWindow)
	if pa[0].h < k || pa[0].w < k {
		return 0, fmt.Errorf("metrics: SSIM needs at least %d×%d pixels, got %d×%d", k, k, pa[0].h, pa[0].w)
	}
	var sum float64
	for i := range pa {
		sum += ssimPlane(pa[i], pb[i])
	}
	return sum / float64(len(pa)), nil
}

func ssimPlane(a, b plane) float64 {
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	k := ssimWindow
	n := len(k)
	h := n / 2
	oh, ow := a.h-n+1, a.w-n+1
	// Both passes carry the five local moments (μa, μb, E[a²], E[b²], E[ab])
	// together: one sweep over the pixels instead of five filterings.
	rows := make([][5]float64, a.h*ow)
	for y := 0; y < a.h; y++ {
		pa, pb := a.v[y*a.w:(y+1)*a.w], b.v[y*a.w:(y+1)*a.w]
		for x := 0; x < ow; x++ {
			// The window is symmetric: pair tap i with tap n−1−i.
			u, v := pa[x+h], pb[x+h]
			kv := k[h]
			m := [5]float64{kv * u, kv * v, kv * (u * u), kv * (v * v), kv * (u * v)}
			for i := 0; i < h; i++ {
				u, v := pa[x+i], pb[x+i]
				u2, v2 := pa[x+n-1-i], pb[x+n-1-i]
				kv := k[i]
				m[0] += kv * (u + u2)
				m[1] += kv * (v + v2)
				m[2] += kv * (u*u + u2*u2)
				m[3] += kv * (v*v + v2*v2)
				m[4] += kv * (u*v + u2*v2)
			}
			rows[y*ow+x] = m
		}
	}
	var sum float64
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			m := rows[(y+h)*ow+x]
			kv := k[h]
			for j := range m {
				m[j] *= kv
			}
			for i := 0; i < h; i++ {
				r, r2 := &rows[(y+i)*ow+x], &rows[(y+n-1-i)*ow+x]
				kv := k[i]
				m[0] += kv * (r[0] + r2[0])
				m[1] += kv * (r[1] + r2[1])
				m[2] += kv * (r[2] + r2[2])
				m[3] += kv * (r[3] + r2[3])
				m[4] += kv * (r[4] + r2[4])
			}
			m1, m2 := m[0], m[1]
			v1, v2, v12 := m[2]-m1*m1, m[3]-m2*m2, m[4]-m1*m2
			sum += (2*m1*m2 + c1) * (2*v12 + c2) / ((m1*m1 + m2*m2 + c1) * (v1 + v2 + c2))
		}
	}
	return sum / float64(oh*ow)
}
