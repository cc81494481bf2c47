package evaluate

import (
	"fmt"
	"math"
	"math/rand/v2"

	"facereward/dataset"
	"facereward/degrade"
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

// Score restores every LQ face with restore (batches of [N,S,S,3] in [0,1]),
// scores the restorations against the GT with the pool and averages PSNR,
// SSIM, IDS, LMD and BRISQUE over the faces that have each. It also
// returns the restorations.
func (ds *DevSet) Score(p *Pool, batch int, restore func(lq *tensor.Tensor) (*tensor.Tensor, error)) (DevScores, []*tensor.Tensor, error) {
	var sc DevScores
	outs := make([]*tensor.Tensor, 0, len(ds.LQ))
	for i := 0; i < len(ds.LQ); i += batch {
		j := min(i+batch, len(ds.LQ))
		out, err := restore(tensor.Stack(ds.LQ[i:j]))
		if err != nil {
			return sc, nil, fmt.Errorf("dev-val: %w", err)
		}
		outs = append(outs, tensor.Unstack(out)...)
	}
	images := p.Score(len(outs), func(i int) (Item, error) {
		return Item{Name: ds.Names[i], Pred: outs[i], GT: ds.GT[i]}, nil
	}, nil)
	for _, im := range images {
		if im.Err != nil {
			return sc, nil, fmt.Errorf("dev-val %s: %w", im.Name, im.Err)
		}
	}
	mean, n := Means(images)
	sc = DevScores{PSNR: mean[PSNR], SSIM: mean[SSIM], IDS: mean[IDS], LMD: mean[LMD], LMDCount: n[LMD], BRISQUE: mean[BRISQUE]}
	if n[BRISQUE] == 0 {
		sc.BRISQUE = math.NaN()
	}
	return sc, outs, nil
}

// Rows lays the first (up to) eight faces out as LQ | restoration | GT rows
// of a sample grid (train.Grid).
func (ds *DevSet) Rows(outs []*tensor.Tensor) [][]*tensor.Tensor {
	var rows [][]*tensor.Tensor
	for i := range min(8, len(outs)) {
		rows = append(rows, []*tensor.Tensor{ds.LQ[i], outs[i], ds.GT[i]})
	}
	return rows
}
