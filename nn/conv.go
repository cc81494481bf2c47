package nn

import (
	"fmt"
	"sync"

	"facereward/tensor"
)

// Conv2D convolves NHWC x[N,H,W,Cin] with w[kh,kw,Cin,Cout] (and bias b[Cout],
// may be nil) at the given stride and zero padding, as PyTorch's conv2d
// (cross-correlation). 1×1 convolutions at stride 1 are a single matrix
// product over channels; others go through im2col so the work is one large
// GEMM of M = N·Ho·Wo rows, K = kh·kw·Cin, N = Cout, except 3×3 stride-1
// ones with many channels, which take the Winograd path (winograd.go).
func (g *Graph) Conv2D(x, w, b *Var, stride, pad int) *Var {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 || ws[2] != xs[3] {
		shapeErr("Conv2D", xs, ws, "want x [N,H,W,Cin] and w [kh,kw,Cin,Cout]")
	}
	if b != nil && (len(b.Shape()) != 1 || b.Shape()[0] != ws[3]) {
		shapeErr("Conv2D", ws, b.Shape(), "bias must be [Cout]")
	}
	if stride < 1 || pad < 0 {
		panic(fmt.Sprintf("nn.Conv2D: stride %d, padding %d", stride, pad))
	}
	n, h, wd, cin := xs[0], xs[1], xs[2], xs[3]
	kh, kw, cout := ws[0], ws[1], ws[3]
	ho, wo := (h+2*pad-kh)/stride+1, (wd+2*pad-kw)/stride+1
	if ho < 1 || wo < 1 {
		shapeErr("Conv2D", xs, ws, "kernel larger than the padded input")
	}
	geo := convGeom{n, h, wd, cin, kh, kw, stride, pad, ho, wo}
	m, k := n*ho*wo, kh*kw*cin
	out := g.newVar([]int{n, ho, wo, cout}, x, w, b)
	out.convOut = true
	od, wdat := out.Value.Data, w.Value.Data

	direct := kh == 1 && kw == 1 && stride == 1 && pad == 0
	if !g.NoGrad && g.kernels != nil {
		// An optimiser may step after a pass that records gradients.
		clear(g.kernels)
	}
	var bias []float32
	if b != nil {
		bias = b.Value.Data
	}
	switch {
	case direct:
		beta := float32(0)
		if bias != nil {
			fillRows(od, bias, cout)
			beta = 1
		}
		tensor.Gemm(false, false, m, cout, k, 1, x.Value.Data, k, wdat, cout, beta, od, cout)
	case g.NoGrad && g.kernels != nil && !w.pooled && useWinograd(geo, cout):
		winogradConv(od, x.Value.Data, g.kernels.kernel(w, cin, cout), bias, geo, cout, false)
	default:
		convForward(od, x.Value.Data, wdat, bias, geo, cout, false)
	}

	g.record(out, func() {
		gd := out.Grad.Data
		if w.NeedGrad {
			if direct {
				tensor.Gemm(true, false, k, cout, m, 1, x.Value.Data, k, gd, cout, 1, g.grad(w), cout)
			} else {
				convWeightGrad(g.grad(w), x.Value.Data, gd, geo, cout)
			}
		}
		if b != nil && b.NeedGrad {
			sumRows(g.grad(b), gd, cout)
		}
		if !x.NeedGrad {
			return
		}
		switch {
		case direct:
			tensor.Gemm(false, true, m, k, cout, 1, gd, cout, wdat, cout, 1, g.grad(x), k)
		case stride == 1 && kh == kw:
			// At stride 1 the input gradient is itself a convolution: of
			// the output gradient with the kernel flipped in space and
			// transposed in channels, padded by k−1−pad. That reuses the
			// cache-friendly forward path instead of scattering columns.
			wf := g.buf(len(wdat), false)
			flipKernel(wf, wdat, kh, kw, cin, cout)
			back := convGeom{n, ho, wo, cout, kh, kw, 1, kh - 1 - pad, h, wd}
			convForward(g.grad(x), gd, wf, nil, back, cin, true)
		default:
			convInputGrad(g.grad(x), gd, wdat, geo, cout)
		}
	})
	return out
}

// convChunkRows is how many output pixels' columns are laid out at a time:
// 256 rows of a 3×3×64 kernel are 590 KB, which stays in L2 between the
// im2col that writes them and the GEMM that reads them, instead of
// streaming a whole batch's columns (75 MB for 8×64×64) through memory.
const convChunkRows = 256

var colPool = sync.Pool{New: func() any { return new([]float32) }}

// scratch returns a pooled buffer of at least n floats (contents undefined).
func scratch(n int) *[]float32 {
	p := colPool.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

// convForward computes out = im2col(x)·w + bias chunk by chunk, the chunks
// split over the cores; with accumulate it adds into out instead (bias must
// then be nil). Wide 3×3 stride-1 kernels go through Winograd instead
// (winograd.go).
func convForward(out, x, w, bias []float32, c convGeom, cout int, accumulate bool) {
	if useWinograd(c, cout) {
		buf := scratch(winogradKernelLen(c.cin, cout))
		defer colPool.Put(buf)
		winogradConv(out, x, winogradKernel(*buf, w, c.cin, cout), bias, c, cout, accumulate)
		return
	}
	m, k := c.n*c.ho*c.wo, c.kh*c.kw*c.cin
	chunks := (m + convChunkRows - 1) / convChunkRows
	tensor.Parallel(chunks, 2*m*k*cout, func(lo, hi int) {
		buf := scratch(convChunkRows * k)
		defer colPool.Put(buf)
		for ch := lo; ch < hi; ch++ {
			r0, r1 := ch*convChunkRows, min(m, (ch+1)*convChunkRows)
			im2col(*buf, x, c, r0, r1)
			o := out[r0*cout : r1*cout]
			beta := float32(0)
			if accumulate {
				beta = 1
			} else if bias != nil {
				fillRows(o, bias, cout)
				beta = 1
			}
			if cout < narrowConv {
				// A product only a few columns wide wastes most of each
				// vector tile; its transpose is a few rows by a wide n.
				t := scratch(cout * (r1 - r0))
				tensor.GemmSerial(true, true, cout, r1-r0, k, 1, w, cout, *buf, k, 0, *t, r1-r0)
				addTransposed(o, *t, cout, r1-r0, beta)
				colPool.Put(t)
				continue
			}
			tensor.GemmSerial(false, false, r1-r0, cout, k, 1, *buf, k, w, cout, beta, o, cout)
		}
	})
}

// narrowConv is the output width below which convolution products run
// transposed.
const narrowConv = 16

// addTransposed sets dst[j,i] = beta·dst[j,i] + t[i,j] for t of rows×cols
// (beta 0 or 1).
func addTransposed(dst, t []float32, rows, cols int, beta float32) {
	for i := range rows {
		for j, v := range t[i*cols : (i+1)*cols] {
			if beta == 0 {
				dst[j*rows+i] = v
			} else {
				dst[j*rows+i] += v
			}
		}
	}
}

// convWeightGrad adds im2col(x)ᵀ·gy into gw. Columns are rebuilt chunk by
// chunk rather than kept from the forward pass, which is cheaper than
// writing and re-reading them from memory; groups of chunks sum into their
// own copies of gw, merged in a fixed order (orderedPartials).
func convWeightGrad(gw, x, gy []float32, c convGeom, cout int) {
	m, k := c.n*c.ho*c.wo, c.kh*c.kw*c.cin
	chunks := (m + convChunkRows - 1) / convChunkRows
	orderedPartials(chunks, k*cout, 2*m*k*cout, func(lo, hi int, part []float32) {
		buf := scratch(convChunkRows * k)
		defer colPool.Put(buf)
		for ch := lo; ch < hi; ch++ {
			r0, r1 := ch*convChunkRows, min(m, (ch+1)*convChunkRows)
			im2col(*buf, x, c, r0, r1)
			if cout < narrowConv {
				// part holds gwᵀ [cout, k]: few rows, wide n.
				tensor.GemmSerial(true, false, cout, k, r1-r0, 1, gy[r0*cout:], cout, *buf, k, 1, part, k)
				continue
			}
			tensor.GemmSerial(true, false, k, cout, r1-r0, 1, *buf, k, gy[r0*cout:], cout, 1, part, cout)
		}
	}, func(part []float32) {
		if cout < narrowConv {
			addTransposed(gw, part, cout, k, 1)
			return
		}
		// Up to 16 parts of 147 k floats (3×3×128×128) would otherwise be
		// summed on one core while the other waits; split by element, each
		// sum still takes the parts in order.
		tensor.Parallel(len(gw), len(gw), func(lo, hi int) { tensor.VecAddTo(gw[lo:hi], part[lo:hi]) })
	})
}

// flipKernel writes w[kh,kw,cin,cout] rotated by 180° in space with its
// channel axes swapped: wf[ky,kx,co,ci] = w[kh−1−ky, kw−1−kx, ci, co].
func flipKernel(wf, w []float32, kh, kw, cin, cout int) {
	// The kernel's positions go to the cores: this runs on every backward
	// pass, between parallel convolutions.
	tensor.Parallel(kh*kw, 2*kh*kw*cin*cout, func(lo, hi int) {
		for pos := lo; pos < hi; pos++ {
			ky, kx := pos/kw, pos%kw
			src := w[((kh-1-ky)*kw+(kw-1-kx))*cin*cout:][:cin*cout]
			dst := wf[pos*cin*cout:][:cin*cout]
			for ci := range cin {
				for co := range cout {
					dst[co*cin+ci] = src[ci*cout+co]
				}
			}
		}
	})
}

type convGeom struct {
	n, h, w, cin, kh, kw, stride, pad, ho, wo int
}

// im2col lays out, for output pixels [r0, r1) (numbered over the batch),
// the kh·kw·Cin input values under the kernel, zeros where it overhangs the
// border, in the kernel's [kh,kw,Cin] order so that they line up with the
// weight's rows. Negative padding (from the flipped backward convolution)
// crops.
//
// It goes a run of pixels of one output row at a time and one kernel row
// at a time, so that the coordinates are divided out once per run and the
// interior, where a kernel row's pixels are adjacent in the input at any
// stride, is one copy per pixel in a tight loop: the stem's rows are only
// 27 values, and per-value bookkeeping cost more than the copying.
func im2col(col, x []float32, c convGeom, r0, r1 int) {
	k, seg := c.kh*c.kw*c.cin, c.kw*c.cin
	// Output columns [oxLo, oxHi) read no padding: ox·stride − pad ≥ 0 and
	// ox·stride − pad + kw ≤ w.
	oxLo := min(c.wo, (max(c.pad, 0)+c.stride-1)/c.stride)
	oxHi := oxLo
	if last := c.w - c.kw + c.pad; last >= 0 {
		oxHi = max(oxLo, min(c.wo, last/c.stride+1))
	}
	for r := r0; r < r1; {
		n, oy, ox0 := r/(c.ho*c.wo), r/c.wo%c.ho, r%c.wo
		ox1 := min(c.wo, ox0+r1-r)
		run := col[(r-r0)*k : (r-r0+ox1-ox0)*k]
		for ky := range c.kh {
			iy := oy*c.stride - c.pad + ky
			if iy < 0 || iy >= c.h {
				for i := range ox1 - ox0 {
					clear(run[i*k+ky*seg:][:seg])
				}
				continue
			}
			src := x[(n*c.h+iy)*c.w*c.cin:][:c.w*c.cin]
			lo, hi := max(ox0, oxLo), min(ox1, oxHi)
			if hi <= lo { // no interior in this run
				im2colBorder(run, src, c, ky, ox0, ox0, ox1)
				continue
			}
			im2colBorder(run, src, c, ky, ox0, ox0, lo)
			copyRows(run[(lo-ox0)*k+ky*seg:], k, src[(lo*c.stride-c.pad)*c.cin:], c.stride*c.cin, seg, hi-lo)
			im2colBorder(run, src, c, ky, ox0, hi, ox1)
		}
		r += ox1 - ox0
	}
}

// im2colBorder writes kernel row ky of output pixels [from, to) of a run
// that starts at ox0, pixel by pixel: zeros where the kernel overhangs the
// input row src.
func im2colBorder(run, src []float32, c convGeom, ky, ox0, from, to int) {
	k, seg := c.kh*c.kw*c.cin, c.kw*c.cin
	for ox := from; ox < to; ox++ {
		dst := run[(ox-ox0)*k+ky*seg:][:seg]
		for kx := range c.kw {
			ix := ox*c.stride - c.pad + kx
			d := dst[kx*c.cin:][:c.cin]
			if ix < 0 || ix >= c.w {
				clear(d)
				continue
			}
			copySmall(d, src[ix*c.cin:][:c.cin])
		}
	}
}

// copyRows copies rows values of n floats, dst's rows dstStride apart and
// src's srcStride apart: a kernel row of successive output pixels. The
// stem's 9 values take 16-byte copies the compiler inlines as single moves
// (one of 36 bytes would call memmove).
func copyRows(dst []float32, dstStride int, src []float32, srcStride, n, rows int) {
	if n == 9 {
		for i := range rows {
			d, s := dst[i*dstStride:][:9], src[i*srcStride:][:9]
			copy(d[:4], s[:4])
			copy(d[4:8], s[4:8])
			d[8] = s[8]
		}
		return
	}
	for i := range rows {
		copySmall(dst[i*dstStride:][:n], src[i*srcStride:][:n])
	}
}

// colBandRows is about how many output pixels' columns convInputGrad
// computes at a time: at the FRM's first stride-2 convolution (k = 288) a
// band's 8+1 output rows of 64 pixels are 0.66 MB, which stay in L2 from
// the product that writes them to the fold that reads them.
const colBandRows = 512

// convInputGrad adds the input gradient of a convolution that the flipped
// forward path cannot take (a stride) into gx: the columns' gradient gy·wᵀ,
// folded back onto the pixels it came from (col2im). The columns are as
// large as kh·kw inputs (38 MB for the FRM's first stride-2 convolution at
// batch 8), so rather than writing them all out and reading them back,
// each task takes a band of one image's input rows and computes the columns
// of only the output rows that reach it. Neighbouring bands both compute
// the output row they share: a row's columns do not depend on which rows
// share the product (tensor.Gemm), and each pixel sums its taps in the same
// order whatever the bands, so the bytes are those of one whole product.
func convInputGrad(gx, gy, w []float32, c convGeom, cout int) {
	k := c.kh * c.kw * c.cin
	band := max(1, c.stride*colBandRows/c.wo) // input rows
	bands := (c.h + band - 1) / band
	// Input rows [iy, iy+band) are reached from output rows whose taps
	// iy+pad−ky (ky < kh) are multiples of the stride: at most this many.
	outRows := min(c.ho, (band+c.kh-2)/c.stride+1)
	tensor.Parallel(c.n*bands, 2*c.n*c.ho*c.wo*k*cout, func(lo, hi int) {
		buf := scratch(outRows * c.wo * k)
		defer colPool.Put(buf)
		for t := lo; t < hi; t++ {
			img, iy0 := t/bands, t%bands*band
			iy1 := min(c.h, iy0+band)
			oy0 := (max(0, iy0+c.pad-c.kh+1) + c.stride - 1) / c.stride
			oy1 := min(c.ho, (iy1-1+c.pad)/c.stride+1)
			if oy0 >= oy1 {
				continue // rows that no tap reaches (a stride above the kernel)
			}
			r0 := (img*c.ho + oy0) * c.wo
			tensor.GemmSerial(false, true, (oy1-oy0)*c.wo, k, cout, 1, gy[r0*cout:], cout, w, cout, 0, *buf, k)
			col2im(gx, *buf, c, img, oy0, iy0, iy1)
		}
	})
}

// col2im adds the column gradients gcol, which start at output row oy0 of
// image img, back onto input rows [iy0, iy1) of that image. It gathers per
// input pixel, taps in kernel order, rather than scattering per output
// pixel, so that bands of rows can be folded at once without two writing
// one pixel.
func col2im(gx, gcol []float32, c convGeom, img, oy0, iy0, iy1 int) {
	k := c.kh * c.kw * c.cin
	for iy := iy0; iy < iy1; iy++ {
		for ky := 0; ky < c.kh; ky++ {
			ty := iy + c.pad - ky
			if ty < 0 || ty%c.stride != 0 || ty/c.stride >= c.ho {
				continue
			}
			oy := ty/c.stride - oy0
			for ix := 0; ix < c.w; ix++ {
				dst := gx[((img*c.h+iy)*c.w+ix)*c.cin:][:c.cin]
				for kx := 0; kx < c.kw; kx++ {
					tx := ix + c.pad - kx
					if tx < 0 || tx%c.stride != 0 || tx/c.stride >= c.wo {
						continue
					}
					ox := tx / c.stride
					addSmall(dst, gcol[(oy*c.wo+ox)*k+(ky*c.kw+kx)*c.cin:][:c.cin])
				}
			}
		}
	}
}

// copySmall is copy, with a plain loop for the few values of a thin input
// (3 colour channels), where calling memmove costs more than the copy.
func copySmall(dst, src []float32) {
	if len(src) > 16 {
		copy(dst, src)
		return
	}
	dst = dst[:len(src)] // one bounds check rather than one per value
	for i, v := range src {
		dst[i] = v
	}
}

// addSmall is tensor.VecAddTo, with a plain loop for the few values of a
// thin input (3 colour channels), where the call costs more than the adds.
// Each sum is one addition either way, so the bytes are the same.
func addSmall(dst, src []float32) {
	if len(src) > 16 {
		tensor.VecAddTo(dst, src)
		return
	}
	for i, v := range src {
		dst[i] += v
	}
}

// fillRows sets every row of m (width c) to v: one row, then copies that
// double the filled part, so a long matrix of narrow rows costs a few large
// copies rather than one small copy per row.
func fillRows(m, v []float32, c int) {
	if len(m) < c {
		return
	}
	copy(m[:c], v)
	for filled := c; filled < len(m); filled *= 2 {
		copy(m[filled:], m[:filled])
	}
}
