// Package train holds the training loops of facereward's networks (the
// restorer's stage 1 and stage 2, the reward model) and what every loop
// shares, which refl's ReFL run uses too: the Session (run folder,
// optimiser, EMA, Loop) and the on-the-fly pairs with their dev-val set.
// Each run lives in a rundir folder, resumes exactly from its newest
// checkpoint, and saves before exiting on Ctrl-C.
package train

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"

	"facereward/dataset"
	"facereward/degrade"
	"facereward/evaluate"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/tensor"
)

// DevSet is a fixed validation set: dev-val faces degraded once with
// per-file seeds, so every pass of every run sees the same pairs.
type DevSet struct {
	Names  []string
	LQ, GT []*tensor.Tensor // [S,S,3] in [0,1]
}

// NewDevSet degrades up to n files (all when n ≤ 0) at size×size with cfg.
func NewDevSet(files []dataset.File, n, size int, cfg degrade.Config, seed uint64) (*DevSet, error) {
	if n <= 0 || n > len(files) {
		n = len(files)
	}
	d, err := degrade.New(cfg)
	if err != nil {
		return nil, err
	}
	ds := &DevSet{}
	for _, f := range files[:n] {
		gt, err := imageio.Read(f.Path)
		if err != nil {
			return nil, fmt.Errorf("dev-val: %w", err)
		}
		if gt.Shape[0] != size || gt.Shape[1] != size {
			gt = imgproc.Resize(gt, size, size, imgproc.Area)
		}
		lq, _, err := d.Degrade(rand.New(rand.NewPCG(seed, degrade.Stream(f.Rel))), gt)
		if err != nil {
			return nil, fmt.Errorf("dev-val %s: %w", f.Path, err)
		}
		ds.Names, ds.LQ, ds.GT = append(ds.Names, f.Rel), append(ds.LQ, lq), append(ds.GT, gt)
	}
	return ds, nil
}

// DevScores are a dev-val pass's means.
type DevScores struct {
	PSNR, SSIM, IDS, LMD float64
	LMDCount             int // faces the landmark net could place on both sides
	// BRISQUE is the mean over the faces it is defined for (NaN when it is
	// for none: faces too small for its statistics).
	BRISQUE float64
}

// Score restores every LQ face with restore (batches of [N,S,S,3] in [0,1])
// and averages PSNR, SSIM, IDS and LMD against the GT, and BRISQUE. It also returns the
// restorations.
func (ds *DevSet) Score(s *evaluate.Scorer, batch int, restore func(lq *tensor.Tensor) (*tensor.Tensor, error)) (DevScores, []*tensor.Tensor, error) {
	var sc DevScores
	outs := make([]*tensor.Tensor, 0, len(ds.LQ))
	for i := 0; i < len(ds.LQ); i += batch {
		j := min(i+batch, len(ds.LQ))
		out, err := restore(Stack(ds.LQ[i:j]))
		if err != nil {
			return sc, nil, fmt.Errorf("dev-val: %w", err)
		}
		outs = append(outs, unstack(out)...)
	}
	var ids, lmd, brisque float64
	var nBrisque int
	for i, out := range outs {
		r, err := s.Pair(out, ds.GT[i], nil)
		if err != nil {
			return sc, nil, fmt.Errorf("dev-val %s: %w", ds.Names[i], err)
		}
		sc.PSNR += r.Values[evaluate.PSNR]
		sc.SSIM += r.Values[evaluate.SSIM]
		ids += r.Values[evaluate.IDS]
		if v := r.Values[evaluate.LMD]; !math.IsNaN(v) {
			lmd += v
			sc.LMDCount++
		}
		if v := r.Values[evaluate.BRISQUE]; !math.IsNaN(v) {
			brisque += v
			nBrisque++
		}
	}
	n := float64(len(outs))
	sc.PSNR, sc.SSIM, sc.IDS = sc.PSNR/n, sc.SSIM/n, ids/n
	sc.LMD = lmd / float64(max(sc.LMDCount, 1))
	sc.BRISQUE = brisque / float64(nBrisque) // 0/0 = NaN when undefined for all
	return sc, outs, nil
}

// Rows lays the first (up to) eight faces out as LQ | out | GT rows for
// a sample grid.
func (ds *DevSet) Rows(outs []*tensor.Tensor) [][]*tensor.Tensor {
	var rows [][]*tensor.Tensor
	for i := range min(8, len(outs)) {
		rows = append(rows, []*tensor.Tensor{ds.LQ[i], outs[i], ds.GT[i]})
	}
	return rows
}

// Stack batches images of one shape into one [N,...] tensor.
func Stack(imgs []*tensor.Tensor) *tensor.Tensor {
	s := imgs[0].Shape
	out := tensor.New(len(imgs), s[0], s[1], s[2])
	n := imgs[0].Len()
	for i, im := range imgs {
		copy(out.Data[i*n:(i+1)*n], im.Data)
	}
	return out
}

func unstack(b *tensor.Tensor) []*tensor.Tensor {
	n := b.Len() / b.Shape[0]
	out := make([]*tensor.Tensor, b.Shape[0])
	for i := range out {
		out[i] = tensor.FromSlice(append([]float32(nil), b.Data[i*n:(i+1)*n]...), b.Shape[1:]...)
	}
	return out
}

// Grid lays rows of images side by side (each row one face: LQ | output |
// GT) and encodes it as PNG, for the run's samples/ folder.
func Grid(rows [][]*tensor.Tensor) ([]byte, error) {
	h, w := rows[0][0].Shape[0], rows[0][0].Shape[1]
	cols := len(rows[0])
	g := tensor.New(h*len(rows), w*cols, 3)
	for r, row := range rows {
		for c, im := range row {
			for y := range h {
				copy(g.Data[((r*h+y)*w*cols+c*w)*3:][:w*3], im.Data[y*w*3:(y+1)*w*3])
			}
		}
	}
	var b bytes.Buffer
	if err := imageio.EncodePNG(&b, g); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Pairs are what a restorer stage trains and validates on.
type Pairs struct {
	train  []dataset.File
	tf     dataset.Transform
	Dev    *DevSet          // nil without dev-val passes
	Scorer *evaluate.Scorer // nil without dev-val passes
}

// OpenPairs checks root and prepares on-the-fly degraded pairs from its
// train split and, when evalEvery > 0, the fixed dev set of up to
// evalFaces dev-val faces. It runs before the run folder is made, so a
// wrong --data leaves nothing behind.
func OpenPairs(label, root, preset string, size int, seed uint64, evalEvery, evalFaces int) (*Pairs, error) {
	folder, err := dataset.Open(root)
	if err != nil {
		return nil, err
	}
	trainSet, err := folder.Split("train")
	if err != nil {
		return nil, err
	}
	if trainSet.Len() == 0 {
		return nil, fmt.Errorf("%s: no training faces (ids 01001–04799) in %s", label, root)
	}
	devFiles, err := folder.Split("devval")
	if err != nil {
		return nil, err
	}
	cfg, err := degrade.Preset(preset)
	if err != nil {
		return nil, err
	}
	cfg = cfg.AtSize(size)
	pd := &Pairs{train: trainSet.Files}
	if pd.tf, err = pairTransform(cfg, size); err != nil {
		return nil, err
	}
	if evalEvery > 0 && devFiles.Len() > 0 {
		if pd.Dev, err = NewDevSet(devFiles.Files, evalFaces, size, cfg, 1000+seed); err != nil {
			return nil, err
		}
		if pd.Scorer, err = evaluate.NewScorer(); err != nil {
			return nil, err
		}
	}
	return pd, nil
}

// Loader starts the batch loader at batch slot start (a resumed run's
// step), so the run sees the batches it would have seen.
func (pd *Pairs) Loader(batch int, seed uint64, start int) (*dataset.Loader, error) {
	return dataset.NewLoader(pd.train, dataset.Options{
		BatchSize: batch, Seed: seed, Shuffle: true, Flip: true, DropLast: true, Start: start, Transform: pd.tf,
	})
}
