package nn

import (
	"unsafe"

	"facereward/tensor"
)

// Winograd F(2×2, 3×3): a 3×3 stride-1 convolution computed tile by tile,
// each 4×4 input tile giving a 2×2 output tile. In the transformed domain
// the 3×3 kernel becomes 16 pointwise products, so a tile costs 16 products
// over channels instead of 9 per output pixel (36 per tile): 2.25× fewer
// multiplications, paid for with transforms that are linear in Cin and Cout
// rather than in Cin·Cout. With Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A:
//
//	Bᵀ = | 1  0 -1  0 |    G = | 1    0    0   |    Aᵀ = | 1  1  1  0 |
//	     | 0  1  1  0 |        | 1/2  1/2  1/2 |         | 0  1 -1 -1 |
//	     | 0 -1  1  0 |        | 1/2 -1/2  1/2 |
//	     | 0  1  0 -1 |        | 0    0    1   |
//
// The elementwise product over each of the 16 positions, summed over Cin,
// is a GEMM [tiles × Cin]·[Cin × Cout], so the channel sums still run in the
// tuned GEMM kernels. Every vector below is one pixel's channels (NHWC), so
// the transforms are elementwise combinations of whole channel vectors.

// winogradMinChannels is the smallest Cin and Cout that take the Winograd
// path. The transforms are linear in the channels and the GEMM they save
// quadratic; BenchmarkConv3x3 measured Winograd 1.7-2.1× faster at 48, 96
// and 192 channels but 0.6-0.8× at 32 (and at the hint encoder's 12→32 and
// 32→12), where K = Cin is too short for the GEMM kernels to pay their way.
const winogradMinChannels = 48

// winogradMinChannelsSSE is winogradMinChannels for the plain build's SSE2
// kernel, whose short-K products and padded panels (Cout to whole 64-column
// panels) cost more next to its slower multiply: at batch 8 BenchmarkConv3x3
// measured Winograd slower at 48, 64 and 96 channels (31.3 against 28.6 ms,
// 13.2 against 11.5, 24.7 against 22.4) and faster at 128 and 192 (9.3
// against 11.4, 15.6 against 18.9). The portable scalar kernel gains from
// Winograd at every width from 48 (1.45-2.2× at batch 8, FACEREWARD_GEMM=scalar).
const winogradMinChannelsSSE = 128

// winogradMin is the threshold for this process's GEMM kernel, which is
// fixed at start-up (tests of the Winograd path set it).
var winogradMin = winogradMinFor(tensor.GemmBackend())

// winogradMinFor is the Winograd threshold for the GEMM kernel named k
// (tensor.GemmBackend).
func winogradMinFor(k string) int {
	if k == "sse" {
		return winogradMinChannelsSSE
	}
	return winogradMinChannels
}

// winogradChunkTiles is how many tiles are transformed and multiplied at a
// time: at 96 channels the chunk's 16 input and 16 product matrices are
// 16×64×(96+128) floats (0.9 MB), which stay in L2 from transform to GEMM to
// inverse transform. 32 tiles measured slower: each of the 16 products packs
// its Cin×Cout weights, and fewer rows share that cost.
const winogradChunkTiles = 64

// winogradColumns is what the products' width (Cout) is padded to, with zero
// weights: the widest GEMM tile, AVX-512's 64 columns. A width that is not a
// multiple of the tile sends every tile through the kernel's scalar edge
// merge, which at K = Cin (not im2col's 9·Cin) costs as much as the multiply
// (48 columns: a third of the time, measured). The AVX-512 and AVX2 kernels
// compute whole tiles anyway, so the padding costs them nothing.
const winogradColumns = 64

// winogradOff sends every convolution through im2col; tests and benchmarks
// set it to compare the two paths.
var winogradOff bool

// useWinograd reports whether convForward's convolution takes the Winograd
// path. Negative padding (the backward convolution of a padding larger than
// the kernel) stays on im2col, which crops.
func useWinograd(c convGeom, cout int) bool {
	return !winogradOff && c.kh == 3 && c.kw == 3 && c.stride == 1 && c.pad >= 0 &&
		c.cin >= winogradMin && cout >= winogradMin
}

// winogradConv is convForward for a 3×3 stride-1 kernel, with w already
// transformed by winogradKernel into u. Tiles are numbered over the batch
// and cut into chunks spread over the cores; a tile's result depends only
// on its own pixels and on the GEMM's per-row sums, which do not depend on
// how many rows share a product, so the bytes of one image's output do not
// depend on the batch or on the split.
func winogradConv(out, x, u, bias []float32, c convGeom, cout int, accumulate bool) {
	cin, cp := c.cin, winogradWidth(cout)
	panels := cp / winogradColumns
	tilesY, tilesX := (c.ho+1)/2, (c.wo+1)/2
	tiles := c.n * tilesY * tilesX

	work := 2 * tiles * 16 * cin * cout
	tensor.Parallel((tiles+winogradChunkTiles-1)/winogradChunkTiles, work, func(lo, hi int) {
		nt := winogradChunkTiles
		buf := scratch(16*nt*(cin+cp) + cin + 2*cout)
		defer colPool.Put(buf)
		rest := *buf
		take := func(n int) []float32 { s := rest[:n]; rest = rest[n:]; return s }
		v, m := take(16*nt*cin), take(16*nt*cp)
		zeros, discard := take(cin), take(2*cout)
		clear(zeros)
		for ch := lo; ch < hi; ch++ {
			t0, t1 := ch*nt, min(tiles, (ch+1)*nt)
			for t := t0; t < t1; t++ {
				winogradInput(v, zeros, x, c, tilesY, tilesX, t, t-t0, nt)
			}
			// One product per panel of 64 weight columns, each panel
			// already in the GEMM's packed layout: the kernel reads it
			// in place instead of packing Cin×cp weights for every chunk
			// and position. The columns' sums do not depend on the
			// split, so the bytes are those of one product per position.
			for i := range 16 {
				for p := range panels {
					tensor.GemmSerial(false, false, t1-t0, winogradColumns, cin, 1, v[i*nt*cin:], cin,
						u[(i*panels+p)*cin*winogradColumns:], winogradColumns, 0, m[i*nt*cp+p*winogradColumns:], cp)
				}
			}
			for t := t0; t < t1; t++ {
				winogradOutput(out, m, discard, bias, c, cout, cp, tilesY, tilesX, t, t-t0, nt, accumulate)
			}
		}
	})
}

// winogradWidth is Cout padded to whole panels of winogradColumns.
func winogradWidth(cout int) int {
	return (cout + winogradColumns - 1) / winogradColumns * winogradColumns
}

// winogradKernelLen is the length of a buffer winogradKernel can write
// into: its 16·Cin·cp floats and room to start them on a cache line.
func winogradKernelLen(cin, cout int) int { return 16*cin*winogradWidth(cout) + 15 }

// winogradKernel writes U = G g Gᵀ for every (ci, co) pair of w[3,3,Cin,Cout]
// into buf (winogradKernelLen long) and returns it: for each of the 16
// positions, the Cin×cp weight matrix cut into panels of winogradColumns
// columns, each Cin×64 row-major, columns past Cout zero. The panels start
// on 64-byte boundaries, where the GEMM reads a panel in place.
func winogradKernel(buf, w []float32, cin, cout int) []float32 {
	cp := winogradWidth(cout)
	u := align64(buf, 16*cin*cp)
	cc := cin * cout
	tmp := scratch(28 * cc)
	defer colPool.Put(tmp)
	gg, ggt := (*tmp)[:12*cc], (*tmp)[12*cc:]
	// Each (ci, co) pair transforms on its own, so ranges of pairs go to
	// the cores: the kernel is transformed on every uncached call (twice
	// per forward and backward pass), between parallel passes.
	tensor.Parallel(cc, 40*cc, func(lo, hi int) {
		at := func(b []float32, cols, r, col int) []float32 { return b[(r*cols+col)*cc:][lo:hi] }
		// G g: down each of the kernel's three columns, four rows out of three.
		for col := range 3 {
			tensor.VecWinogradKernel(at(gg, 3, 0, col), at(gg, 3, 1, col), at(gg, 3, 2, col), at(gg, 3, 3, col),
				at(w, 3, 0, col), at(w, 3, 1, col), at(w, 3, 2, col))
		}
		// (G g) Gᵀ: along each of the four rows.
		for r := range 4 {
			tensor.VecWinogradKernel(at(ggt, 4, r, 0), at(ggt, 4, r, 1), at(ggt, 4, r, 2), at(ggt, 4, r, 3),
				at(gg, 3, r, 0), at(gg, 3, r, 1), at(gg, 3, r, 2))
		}
	})
	// Row r of ggt is (position i, input channel ci); its columns go to
	// the same row of each panel.
	panels, pw := cp/winogradColumns, winogradColumns
	tensor.Parallel(16*cin, 2*16*cin*cp, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			i, ci := r/cin, r%cin
			src := ggt[r*cout:][:cout]
			for p := range panels {
				row := u[((i*panels+p)*cin+ci)*pw:][:pw]
				n := copy(row, src[min(p*pw, cout):])
				clear(row[n:])
			}
		}
	})
	return u
}

// align64 returns n floats of buf (which holds at least n+15) starting on
// a 64-byte boundary.
func align64(buf []float32, n int) []float32 {
	off := (64 - int(uintptr(unsafe.Pointer(&buf[0]))%64)) % 64 / 4
	return buf[off:][:n]
}

// winogradKernels caches winogradKernel's transforms for a graph whose
// weights stay fixed over several passes (Graph.CacheKernels).
type winogradKernels map[*Var][]float32

// kernel returns w's transform, making it on first use.
func (k winogradKernels) kernel(w *Var, cin, cout int) []float32 {
	u, ok := k[w]
	if !ok {
		u = winogradKernel(make([]float32, winogradKernelLen(cin, cout)), w.Value.Data, cin, cout)
		k[w] = u
	}
	return u
}

// winogradInput writes Bᵀ d B for tile t's 4×4 input pixels d into row slot
// of the 16 matrices v[i] (each nt×Cin). Pixels outside the image read from
// zeros (Cin zeros).
func winogradInput(v, zeros, x []float32, c convGeom, tilesY, tilesX, t, slot, nt int) {
	cin := c.cin
	img, ty, tx := t/(tilesY*tilesX), t/tilesX%tilesY, t%tilesX
	var d, o [16][]float32
	for r := range 4 {
		for col := range 4 {
			iy, ix := 2*ty-c.pad+r, 2*tx-c.pad+col
			if iy < 0 || iy >= c.h || ix < 0 || ix >= c.w {
				d[4*r+col] = zeros
			} else {
				d[4*r+col] = x[((img*c.h+iy)*c.w+ix)*cin:][:cin]
			}
		}
	}
	for i := range o {
		o[i] = v[(i*nt+slot)*cin:][:cin]
	}
	tensor.VecWinogradInput(&o, &d)
}

// winogradOutput writes Aᵀ m A, tile t's 2×2 output pixels, from row slot of
// the 16 product matrices m[i] (each nt×cp, Cout of them used); pixels past
// an odd edge go to discard (2·Cout floats). It adds bias, or adds into out
// with accumulate.
func winogradOutput(out, m, discard, bias []float32, c convGeom, cout, cp, tilesY, tilesX, t, slot, nt int, accumulate bool) {
	img, ty, tx := t/(tilesY*tilesX), t/tilesX%tilesY, t%tilesX
	var rows [16][]float32
	for i := range rows {
		rows[i] = m[(i*nt+slot)*cp:][:cout]
	}
	var y [4][]float32
	for r := range 2 {
		for col := range 2 {
			oy, ox := 2*ty+r, 2*tx+col
			if oy >= c.ho || ox >= c.wo {
				y[2*r+col] = discard[col*cout:][:cout]
			} else {
				y[2*r+col] = out[((img*c.ho+oy)*c.wo+ox)*cout:][:cout]
			}
		}
	}
	tensor.VecWinogradOutput(&y, &rows, bias, accumulate)
}
