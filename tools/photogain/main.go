// Command photogain measures restore on whole photos whose ground truth is
// known: each sharp photo is shrunk to -width (the ground truth), degraded
// at half that size (Gaussian blur, area downscale ×2, Gaussian noise, JPEG),
// and restored with `restore --upscale 2`; every face the detector finds in
// the ground truth is then aligned to 128×128 as FFHQ is, with one transform
// for all methods, and scored as `eval` scores a face (PSNR, SSIM, IDS, LMD,
// BRISQUE, NIQE) for plain cubic upscaling, restore's defaults and restore
// --no-gate. -fig writes one before/after figure per photo (README's
// pictures):
//
//	go run ./tools/photogain -out /tmp/pg -fig docs/photos
//
// The degradation is fixed (no draws but the noise, from -seed), milder
// than the training presets' worst and harsher than their mildest; it is
// the same for every photo.
package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"facereward/degrade"
	"facereward/evaluate"
	"facereward/facenet"
	"facereward/faces"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/photo"
	"facereward/tensor"
)

func main() {
	out := flag.String("out", "", "work folder (ground truths, inputs, restorations); must not exist or be empty")
	fig := flag.String("fig", "", "also write one before/after JPEG per photo here")
	width := flag.Int("width", 1024, "ground-truth width (photos narrower than this keep theirs)")
	sigma := flag.Float64("blur", 1.5, "Gaussian blur σ at ground-truth scale")
	noise := flag.Float64("noise", 6, "noise σ at input scale, 8-bit levels")
	quality := flag.Int("jpeg", 60, "JPEG quality of the input")
	model := flag.String("model", "", "restorer (restore --model); empty for the default")
	seed := flag.Uint64("seed", 1, "noise seed")
	flag.Parse()
	photos := flag.Args()
	if len(photos) == 0 {
		photos = defaultPhotos()
	}
	d := degradation{width: *width, sigma: *sigma, noise: *noise, quality: *quality, seed: *seed}
	if err := run(*out, *fig, *model, d, photos); err != nil {
		fmt.Fprintln(os.Stderr, "photogain:", err)
		os.Exit(1)
	}
}

// defaultPhotos are the committed sharp photos with several faces each,
// plus one public-domain portrait.
func defaultPhotos() []string {
	var ps []string
	for i := 1; i <= 6; i++ {
		ps = append(ps, fmt.Sprintf("testdata/detect/faceapi_sample%d.jpg", i))
	}
	return append(ps, "testdata/faces/grace_hopper_512x512.jpg")
}

type degradation struct {
	width        int
	sigma, noise float64
	quality      int
	seed         uint64
}

// apply returns the ground truth (gt, at most d.width wide) and the input
// (half its size) of one photo.
func (d degradation) apply(img *tensor.Tensor, name string) (gt, lq *tensor.Tensor, err error) {
	h, w := img.Shape[0], img.Shape[1]
	if w > d.width {
		h, w = h*d.width/w, d.width
		img = imgproc.Resize(img, h, w, imgproc.Area)
	}
	h, w = h/2*2, w/2*2
	gt = imgproc.Resize(img, h, w, imgproc.Area)
	k := 2*int(3*d.sigma+0.5) + 1
	blur, err := degrade.New(degrade.Config{Name: "photo-blur", Size: w, Blur: true, KernelSize: k,
		KernelTypes: []degrade.KernelType{degrade.Iso}, KernelProbs: []float64{1}, Sigma: [2]float64{d.sigma, d.sigma}, BetaG: [2]float64{1, 1}, BetaP: [2]float64{1, 1}}) // betas unused by iso, but validated
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(d.seed, degrade.Stream(name)))
	soft, _, err := blur.Degrade(rng, gt)
	if err != nil {
		return nil, nil, err
	}
	small := imgproc.Resize(soft, h/2, w/2, imgproc.Area)
	q := [2]int{d.quality, d.quality}
	rest, err := degrade.New(degrade.Config{Name: "photo-noise-jpeg", Size: w / 2, Noise: true, NoiseRange: [2]float64{d.noise, d.noise},
		JPEG: true, JPEGRange: q, Quantize: true})
	if err != nil {
		return nil, nil, err
	}
	lq, _, err = rest.Degrade(rng, small)
	return gt, lq, err
}

// methods are the restorations compared, by folder under -out.
var methods = []struct{ dir, label string }{
	{"cubic", "cubic ×2 (no restoration)"},
	{"restore", "restore (defaults)"},
	{"nogate", "restore --no-gate"},
}

func run(out, fig, model string, d degradation, photos []string) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
		return fmt.Errorf("-out %s is not empty", out)
	}
	names, err := prepare(out, d, photos)
	if err != nil {
		return err
	}
	for _, gate := range []bool{true, false} {
		o := photo.DefaultOptions()
		o.Model, o.Ext, o.NoGate = model, "png", !gate
		o.Out = filepath.Join(out, map[bool]string{true: "restore", false: "nogate"}[gate])
		if err := photo.Run([]string{filepath.Join(out, "lq")}, o, io.Discard, os.Stderr); err != nil {
			return err
		}
	}
	return score(out, fig, names)
}

// prepare writes out/gt/NAME.png, out/lq/NAME.png and out/cubic/…
func prepare(out string, d degradation, photos []string) ([]string, error) {
	var names []string
	for _, p := range photos {
		img, err := imageio.Read(p)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		gt, lq, err := d.apply(img, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		cubic := imgproc.Resize(lq, gt.Shape[0], gt.Shape[1], imgproc.Cubic)
		for dir, t := range map[string]*tensor.Tensor{"gt": gt, "lq": lq, "cubic": cubic} {
			if err := os.MkdirAll(filepath.Join(out, dir), 0o755); err != nil {
				return nil, err
			}
			if err := imageio.WritePNG(filepath.Join(out, dir, name+".png"), t); err != nil {
				return nil, err
			}
		}
		names = append(names, name)
	}
	return names, nil
}

// score aligns every face of each ground truth and scores each method's
// crop of it; it prints a table of means and writes the figures.
func score(out, fig string, names []string) error {
	sc, err := evaluate.NewScorer()
	if err != nil {
		return err
	}
	lm, _, err := facenet.Load()
	if err != nil {
		return err
	}
	keys := []string{evaluate.PSNR, evaluate.SSIM, evaluate.IDS, evaluate.LMD, evaluate.BRISQUE, evaluate.NIQE}
	sums := make([]map[string]float64, len(methods))
	counts := make([]map[string]int, len(methods))
	for i := range methods {
		sums[i], counts[i] = map[string]float64{}, map[string]int{}
	}
	nFaces := 0
	for _, name := range names {
		gt, err := imageio.Read(filepath.Join(out, "gt", name+".png"))
		if err != nil {
			return err
		}
		imgs := make([]*tensor.Tensor, len(methods))
		for i, m := range methods {
			p := filepath.Join(out, m.dir, name+".png")
			if m.dir != "cubic" {
				p = filepath.Join(out, m.dir, photo.DirImages, name+".png")
			}
			if imgs[i], err = imageio.Read(p); err != nil {
				return err
			}
			if !tensor.SameShape(imgs[i].Shape, gt.Shape) {
				return fmt.Errorf("%s is %v, ground truth %v", p, imgs[i].Shape, gt.Shape)
			}
		}
		res, err := faces.DefaultOptions().Detect(gt)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var crops [][]*tensor.Tensor // per face: methods…, gt
		for _, f := range res.Faces {
			if err := faces.RefinePoints(gt, &f, lm); err != nil {
				return err
			}
			gtCrop, m, err := faces.Align(gt, f.Points, 128)
			if err != nil {
				return err
			}
			row := make([]*tensor.Tensor, 0, len(methods)+1)
			for i, img := range imgs {
				c, err := faces.Warp(img, m, 128, 128, nil)
				if err != nil {
					return err
				}
				r, err := sc.Pair(c, gtCrop, nil)
				if err != nil {
					return err
				}
				for _, k := range keys {
					if v, ok := r.Values[k]; ok && v == v {
						sums[i][k] += v
						counts[i][k]++
					}
				}
				row = append(row, c)
			}
			crops = append(crops, append(row, gtCrop))
			nFaces++
		}
		if fig != "" {
			if err := writeFigure(filepath.Join(fig, name+".jpg"), imgs[0], imgs[1], gt, crops); err != nil {
				return err
			}
		}
	}
	fmt.Printf("%d photos, %d faces (aligned 128×128, against the ground truth)\n\n", len(names), nFaces)
	fmt.Printf("| method | %s |\n|---|%s\n", strings.Join(keys, " | "), strings.Repeat("---|", len(keys)))
	for i, m := range methods {
		var cells []string
		for _, k := range keys {
			if counts[i][k] == 0 {
				cells = append(cells, "–")
				continue
			}
			cells = append(cells, fmt.Sprintf("%.4g", sums[i][k]/float64(counts[i][k])))
		}
		fmt.Printf("| %s | %s |\n", m.label, strings.Join(cells, " | "))
	}
	return nil
}

// writeFigure lays out one photo: input (cubic ×2) | restored | ground
// truth at up to 480 px wide, and below them each face's aligned crops in
// the same order (at most four faces, the detector's first).
func writeFigure(path string, in, restored, gt *tensor.Tensor, crops [][]*tensor.Tensor) error {
	pw := min(480, gt.Shape[1])
	ph := gt.Shape[0] * pw / gt.Shape[1]
	top := []*tensor.Tensor{}
	for _, t := range []*tensor.Tensor{in, restored, gt} {
		top = append(top, imgproc.Resize(t, ph, pw, imgproc.Area))
	}
	nf := min(4, len(crops))
	rowH := 0
	if nf > 0 {
		rowH = 128
	}
	W := max(3*pw, nf*3*128)
	canvas := tensor.New(ph+rowH, W, 3)
	for i := range canvas.Data {
		canvas.Data[i] = 1
	}
	for i, t := range top {
		paste(canvas, t, 0, i*pw)
	}
	for fi := 0; fi < nf; fi++ {
		c := crops[fi]
		for j, t := range []*tensor.Tensor{c[0], c[1], c[len(c)-1]} {
			paste(canvas, t, ph, (fi*3+j)*128)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return imageio.WriteJPEG(path, canvas, 90)
}

func paste(dst, src *tensor.Tensor, y0, x0 int) {
	W := dst.Shape[1]
	h, w := src.Shape[0], src.Shape[1]
	for y := range h {
		copy(dst.Data[((y0+y)*W+x0)*3:][:w*3], src.Data[y*w*3:(y+1)*w*3])
	}
}
