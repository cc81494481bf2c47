package upscale

import (
	"fmt"

	"facereward/nn"
	"facereward/tensor"
)

// Margin is how many input pixels of context each tile sees beyond the
// part of it that is kept. The net's receptive field is far wider, but its
// output hardly depends on pixels this far away: against one pass over a
// 128×128 photo, 48-pixel tiles moved no output value by 1e-4 or more with a
// 12-pixel margin (8 pixels: 6e-4, a sixth of an 8-bit level; 4: three
// levels, visible seams). At the photo's own border the tile is padded with
// zeros exactly as the whole photo would be.
const Margin = 12

// DefaultTile is a tile size for photos: each 128×128 tile (152×152 with
// its margins) takes about 300 MB, against 700 MB for a 256×256 photo in
// one pass, and was no slower there.
const DefaultTile = 128

// Upscale returns img [H,W,3] in [0,1] enlarged to [H·s,W·s,3], clipped to
// [0,1] as UpscalerJS clips to the model's output range. The input is cut
// into tile×tile squares (tile ≤ 0: the whole image in one pass), each run
// with Margin pixels of its surroundings, so memory follows the tile, not
// the photo. progress, if not nil, is called after each tile with the
// count done and the total, on the caller's goroutine. The result does not
// depend on the number of cores; it does, below 1e-4, on tile.
func (n *Net) Upscale(img *tensor.Tensor, tile int, progress func(done, total int)) (*tensor.Tensor, error) {
	s := img.Shape
	if len(s) != 3 || s[2] != 3 || s[0] < 1 || s[1] < 1 {
		return nil, fmt.Errorf("upscale: %s: image shape %s, want [H W 3]", n.Name, tensor.ShapeString(s))
	}
	h, w := s[0], s[1]
	if tile <= 0 {
		tile = max(h, w)
	}
	rows, cols := (h+tile-1)/tile, (w+tile-1)/tile
	out := tensor.New(h*n.Scale, w*n.Scale, 3)
	g := nn.NewGraph()
	g.NoGrad = true
	for r := range rows {
		for c := range cols {
			// The kept square [y0,y1)×[x0,x1) and the computed one around it.
			y0, x0 := r*tile, c*tile
			y1, x1 := min(h, y0+tile), min(w, x0+tile)
			cy0, cx0 := max(0, y0-Margin), max(0, x0-Margin)
			cy1, cx1 := min(h, y1+Margin), min(w, x1+Margin)
			res := n.run(g, crop(img, cy0, cx0, cy1, cx1))
			paste(out, res, (y0-cy0)*n.Scale, (x0-cx0)*n.Scale, y0*n.Scale, x0*n.Scale, (y1-y0)*n.Scale, (x1-x0)*n.Scale)
			g.Reset()
			if progress != nil {
				progress(r*cols+c+1, rows*cols)
			}
		}
	}
	return out, nil
}

// run upscales one tile [h,w,3] in [0,1] and returns the output clipped to
// [0,1], [h·s,w·s,3] (a value of g, valid until g.Reset).
func (n *Net) run(g *nn.Graph, tile *tensor.Tensor) *tensor.Tensor {
	y := n.raw(g, tile)
	for i, v := range y.Data {
		y.Data[i] = min(max(v, 0), 1)
	}
	return y
}

// raw is the model's own output for a [h,w,3] tile in [0,1], unclipped, as
// TF.js computes it: what the parity test compares.
func (n *Net) raw(g *nn.Graph, tile *tensor.Tensor) *tensor.Tensor {
	x := tensor.FromSlice(tile.Data, append([]int{1}, tile.Shape...)...)
	y := n.body.forward(g, nn.Constant(x)).Value
	return tensor.FromSlice(y.Data, y.Shape[1:]...)
}

// crop copies rows [y0,y1) and columns [x0,x1) of img [H,W,3].
func crop(img *tensor.Tensor, y0, x0, y1, x1 int) *tensor.Tensor {
	w := img.Shape[1]
	t := tensor.New(y1-y0, x1-x0, 3)
	for y := y0; y < y1; y++ {
		copy(t.Data[(y-y0)*(x1-x0)*3:(y-y0+1)*(x1-x0)*3], img.Data[(y*w+x0)*3:(y*w+x1)*3])
	}
	return t
}

// paste copies the h×w square of src [.,sw,3] at (sy, sx) to dst [.,dw,3] at
// (dy, dx).
func paste(dst, src *tensor.Tensor, sy, sx, dy, dx, h, w int) {
	sw, dw := src.Shape[1], dst.Shape[1]
	for y := range h {
		copy(dst.Data[((dy+y)*dw+dx)*3:((dy+y)*dw+dx+w)*3], src.Data[((sy+y)*sw+sx)*3:((sy+y)*sw+sx+w)*3])
	}
}
