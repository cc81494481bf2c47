package train

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"

	"facereward/dataset"
	"facereward/degrade"
	"facereward/evaluate"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/tensor"
)

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
	train   []dataset.File
	tf      dataset.Transform
	Dev     *evaluate.DevSet // nil without dev-val passes
	Scorers *evaluate.Pool   // nil without dev-val passes
}

// OpenPairs checks root and prepares on-the-fly degraded pairs from its
// train split and, when evalEvery > 0, the fixed dev set of up to
// evalFaces dev-val faces. preset names one degradation preset or a
// comma-separated mix, each training face drawing one of them; the dev
// set is degraded with the first, so its figures stay comparable with a
// one-preset run's. It runs before the run folder is made, so a wrong
// --data leaves nothing behind.
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
	var cfgs []degrade.Config
	for _, name := range strings.Split(preset, ",") {
		cfg, err := degrade.Preset(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", label, err)
		}
		cfgs = append(cfgs, cfg.AtSize(size))
	}
	pd := &Pairs{train: trainSet.Files}
	if pd.tf, err = pairTransform(cfgs, size); err != nil {
		return nil, err
	}
	if evalEvery > 0 && devFiles.Len() > 0 {
		if pd.Dev, err = evaluate.NewDevSet(devFiles.Files, evalFaces, size, cfgs[0], 1000+seed); err != nil {
			return nil, err
		}
		if pd.Scorers, err = evaluate.NewPool(min(runtime.GOMAXPROCS(0), len(pd.Dev.Names)), 0); err != nil {
			return nil, err
		}
	}
	return pd, nil
}

// pairTransform degrades each training face on the fly (in the loader's
// seeded stream) with one of cfgs, drawn uniformly per face; a single
// config draws nothing, so a one-preset run sees the pairs it always has.
func pairTransform(cfgs []degrade.Config, size int) (dataset.Transform, error) {
	for _, cfg := range cfgs {
		if _, err := degrade.New(cfg); err != nil {
			return nil, err
		}
	}
	return func(img *tensor.Tensor, rng *rand.Rand) ([]*tensor.Tensor, error) {
		if img.Shape[0] != size || img.Shape[1] != size {
			img = imgproc.Resize(img, size, size, imgproc.Area)
		}
		cfg := cfgs[0]
		if len(cfgs) > 1 {
			cfg = cfgs[rng.IntN(len(cfgs))]
		}
		lq, _, err := degrade.Degrade(rng, img, cfg)
		if err != nil {
			return nil, err
		}
		return []*tensor.Tensor{lq, img}, nil
	}, nil
}

// Loader starts the batch loader at batch slot start (a resumed run's
// step), so the run sees the batches it would have seen.
func (pd *Pairs) Loader(batch int, seed uint64, start int) (*dataset.Loader, error) {
	return dataset.NewLoader(pd.train, dataset.Options{
		BatchSize: batch, Seed: seed, Shuffle: true, Flip: true, DropLast: true, Start: start, Transform: pd.tf,
	})
}
