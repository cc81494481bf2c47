// Command components measures restored faces where a blur takes most, in
// the windows of the eyes and the mouth that stage 2's component critic
// judges (train.ComponentBoxes): for each folder of restorations against
// the ground truth, the mean over faces of
//
//   - PSNR inside the windows (RGB, peak 255);
//   - detail: the high-frequency energy (imgproc.HFEnergy, the mean squared
//     Laplacian of the luma) inside the windows over the GT's, as log2 (0:
//     as much detail as the GT, −1: half);
//   - match: the cosine between the restoration's Laplacian and the
//     GT's inside the windows: detail drawn where the GT has it scores
//     high, grain scores near 0 however much of it there is.
//
// With --strip it also lays the eyes' and mouth's windows of the first --n
// faces out as one PNG, one row per folder, each window enlarged 3×.
//
//	go run ./tools/components --gt GT [--strip FILE --n 8] DIR...
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"facereward/atomicfile"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/metrics"
	"facereward/tensor"
	"facereward/train"
)

func main() {
	gt := flag.String("gt", "", "folder of ground-truth faces")
	strip := flag.String("strip", "", "also write the windows of the first --n faces here (PNG)")
	n := flag.Int("n", 8, "faces in --strip")
	flag.Parse()
	if err := run(*gt, *strip, *n, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "components:", err)
		os.Exit(1)
	}
}

// window names the boxes of train.ComponentBoxes, in its order.
var window = []string{"eyes", "eyes", "mouth"}

func run(gt, strip string, n int, dirs []string) error {
	if gt == "" || len(dirs) == 0 {
		return fmt.Errorf("usage: components --gt GT [--strip FILE --n 8] DIR...")
	}
	names, err := filepath.Glob(filepath.Join(gt, "*.png"))
	if err != nil {
		return err
	}
	slices.Sort(names)
	if len(names) == 0 {
		return fmt.Errorf("%s has no PNGs", gt)
	}
	// The GT's windows, read once: every face is the same square.
	var boxes []train.Box
	var shape []int
	gtWin := make([][]*tensor.Tensor, len(names))
	for i, name := range names {
		g, err := imageio.Read(name)
		if err != nil {
			return err
		}
		if shape == nil {
			shape = g.Shape
			if boxes, err = train.ComponentBoxes(shape[0], 3); err != nil || shape[0] != shape[1] {
				return fmt.Errorf("%s: size %v, want a square face of 32 pixels or more (%v)", name, shape, err)
			}
		}
		if !tensor.SameShape(g.Shape, shape) {
			return fmt.Errorf("%s: size %v, the first GT's %v", name, g.Shape, shape)
		}
		for _, b := range boxes {
			gtWin[i] = append(gtWin[i], crop(g, b))
		}
	}
	fmt.Println("| folder | eyes PSNR | eyes detail (log2 vs GT) | eyes match | mouth PSNR | mouth detail | mouth match |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- |")
	var rows [][]*tensor.Tensor
	for _, d := range dirs {
		sum := map[string]*[3]float64{"eyes": {}, "mouth": {}}
		var row []*tensor.Tensor
		for i, name := range names {
			path := filepath.Join(d, filepath.Base(name))
			p, err := imageio.Read(path)
			if err != nil {
				return err
			}
			if !tensor.SameShape(p.Shape, shape) {
				return fmt.Errorf("%s: size %v, the GT's %v", path, p.Shape, shape)
			}
			for k, b := range boxes {
				pc, gc := crop(p, b), gtWin[i][k]
				psnr, err := metrics.PSNR(pc, gc, metrics.RGB, 0)
				if err != nil {
					return err
				}
				s := sum[window[k]]
				s[0] += psnr
				s[1] += math.Log2(imgproc.HFEnergy(pc, 0, 0, b.Side) / imgproc.HFEnergy(gc, 0, 0, b.Side))
				s[2] += laplacianCorr(pc, gc)
				if strip != "" && i < n {
					row = append(row, enlarge(pc, 3))
				}
			}
		}
		e, m := sum["eyes"], sum["mouth"]
		ne, nm := float64(2*len(names)), float64(len(names))
		fmt.Printf("| %s | %.2f | %+.2f | %.3f | %.2f | %+.2f | %.3f |\n", d, e[0]/ne, e[1]/ne, e[2]/ne, m[0]/nm, m[1]/nm, m[2]/nm)
		rows = append(rows, row)
	}
	if strip == "" {
		return nil
	}
	b, err := train.Grid(rows)
	if err != nil {
		return err
	}
	return atomicfile.Write(strip, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// crop copies box b of img [S,S,3].
func crop(img *tensor.Tensor, b train.Box) *tensor.Tensor {
	w := img.Shape[1]
	out := tensor.New(b.Side, b.Side, 3)
	for y := range b.Side {
		copy(out.Data[y*b.Side*3:(y+1)*b.Side*3], img.Data[((b.Y+y)*w+b.X)*3:])
	}
	return out
}

// enlarge repeats every pixel of img k×k times.
func enlarge(img *tensor.Tensor, k int) *tensor.Tensor {
	h, w := img.Shape[0], img.Shape[1]
	out := tensor.New(h*k, w*k, 3)
	for y := range h * k {
		for x := range w * k {
			copy(out.Data[(y*w*k+x)*3:][:3], img.Data[((y/k)*w+x/k)*3:])
		}
	}
	return out
}

// laplacianCorr is the cosine between a's and b's luma Laplacians (the
// detail HFEnergy measures) over their inner pixels.
func laplacianCorr(a, b *tensor.Tensor) float64 {
	la, lb := imgproc.Laplacian(a, 0, 0, a.Shape[0]), imgproc.Laplacian(b, 0, 0, b.Shape[0])
	var sab, saa, sbb float64
	for i := range la {
		sab += la[i] * lb[i]
		saa += la[i] * la[i]
		sbb += lb[i] * lb[i]
	}
	if saa == 0 || sbb == 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}
