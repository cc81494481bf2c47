package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"facereward/dataset"
	"facereward/degrade"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/prefs"
	"facereward/progress"
	"facereward/restorer"
	"facereward/tensor"
)

// stage2Variants are the sampler settings candidates cycle through: the
// restore command's defaults first (the "stage-2 restoration" the FRM's
// acceptance order speaks of), then half the steps with deterministic DDIM,
// then a later start with less guidance and full DDPM noise, which invents
// more detail and strays further from the stage-1 estimate.
var stage2Variants = []restorer.SampleOptions{
	restorer.DefaultSampleOptions(),
	{Steps: restorer.DefaultSampleOptions().Steps / 2, Strength: restorer.DefaultSampleOptions().Strength, Guidance: restorer.DefaultSampleOptions().Guidance, Eta: 0},
	{Steps: restorer.DefaultSampleOptions().Steps, Strength: 0.7, Guidance: 0.3, Eta: 1},
}

func prefsGenerate(args []string, stdout io.Writer) error {
	fs := newFlags("prefs generate", "prefs generate --data DIR --out DIR [--n N] [flags]", `
Makes preference pairs to judge. For N faces of --split (picked at random
with --seed) it degrades each face (--preset, seeded per face), restores the
LQ with the model, and stores in the image store (--out/images) the LQ, the
ground truth and K candidates:
  stage1    the stage-1 estimate,
  stage2-i  --samples stage-2 restorations, i = 0, 1, …, each with its own
            seed, cycling through three sampler settings: restore's
            defaults (20 steps from strength 0.5, guidance 0.45, eta 0.5);
            10 steps with eta 0; 20 steps from strength 0.7, guidance 0.3,
            eta 1,
  lq        the degraded input as the restorer sees it (resized back to the
            working size, bilinearly, as basicsr does: the issue's
            "bicubic upsampled LQ"),
  gt        the ground truth itself, with --gt.
Every two candidates of a face make a pair, shown left/right in a seeded
random order. Pairs go to --db (default --out/prefs.db; a postgres:// URL
for PostgreSQL), one transaction per face: an interrupted run keeps the faces
it finished, and running it again skips them.`, stdout)
	data := fs.String("data", "", "folder of FFHQ-style faces (ids in the file names)")
	out := fs.String("out", "", "folder for the image store (images/) and the default database")
	dsn := fs.String("db", "", "database: a SQLite file or a postgres:// URL (default OUT/prefs.db)")
	model := fs.String("model", "", "model directory, or builtin:refl (the default: the ReFL-tuned built-in weights) or builtin:base (before ReFL)")
	n := fs.Int("n", 100, "faces")
	split := fs.String("split", "train", "the FFHQ ids to draw from: train (01001–04799), devval (04800–04999), or empty for every face")
	preset := fs.String("preset", "diffbir", "degradation preset")
	seed := fs.Uint64("seed", 1, "seed of the face choice, the degradations, the samplers and the left/right order")
	samples := fs.Int("samples", 3, "stage-2 candidates per face")
	withGT := fs.Bool("gt", false, "add the ground truth as a candidate")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" || *out == "" {
		return fmt.Errorf("prefs generate: --data and --out are required (see --help)")
	}
	if *n <= 0 || *samples < 0 {
		return fmt.Errorf("prefs generate: --n %d and --samples %d: want n > 0 and samples ≥ 0", *n, *samples)
	}
	if *dsn == "" {
		*dsn = filepath.Join(*out, "prefs.db")
	}
	folder, err := dataset.Open(*data)
	if err != nil {
		return fmt.Errorf("prefs generate: %w", err)
	}
	if *split != "" {
		if folder, err = folder.Split(*split); err != nil {
			return fmt.Errorf("prefs generate: %w", err)
		}
	}
	files := folder.Files
	pick := rand.New(rand.NewPCG(*seed, 0x70726566)) // "pref"
	pick.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	files = files[:min(*n, len(files))]

	cfg, err := degrade.Preset(*preset)
	if err != nil {
		return fmt.Errorf("prefs generate: %w", err)
	}
	m, err := restorer.Load(*model)
	if err != nil {
		return err
	}
	size := m.Config.UNet.ImageSize
	cfg = cfg.AtSize(size)
	deg, err := degrade.New(cfg)
	if err != nil {
		return fmt.Errorf("prefs generate: %w", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("prefs generate: %w", err)
	}
	db, err := prefs.Open(*dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	have, err := db.Pairs()
	if err != nil {
		return err
	}
	done := map[string]bool{} // faces already there, by their pairs' id prefix
	for _, p := range have {
		done[path.Dir(p.ID)] = true
	}
	var samplers []*restorer.Sampler
	for _, v := range stage2Variants {
		s, err := restorer.NewSampler(m, v)
		if err != nil {
			return fmt.Errorf("prefs generate: %w", err)
		}
		samplers = append(samplers, s)
	}
	g := generator{store: prefs.Store{Dir: filepath.Join(*out, "images")}, deg: deg, samplers: samplers,
		modelName: m.Name, preset: *preset, seed: *seed, samples: *samples, gt: *withGT, size: size}
	bar := progress.New(os.Stderr, "prefs generate", len(files))
	made, skipped := 0, 0
	for _, f := range files {
		face := fmt.Sprintf("%05d", f.ID)
		if f.ID < 0 {
			face = strings.TrimSuffix(f.Rel, filepath.Ext(f.Rel))
		}
		// Pair ids are s<seed>/<face>/<candidate>-<candidate>: runs with
		// other seeds add to the same database without clashing.
		prefix := fmt.Sprintf("s%d/%s", *seed, face)
		if done[prefix] {
			skipped++
			bar.Resume(1)
			continue
		}
		ps, err := g.face(f, face, prefix)
		if err != nil {
			return fmt.Errorf("prefs generate: %s: %w", f.Path, err)
		}
		if err := db.AddPairs(ps); err != nil {
			return err
		}
		made += len(ps)
		bar.Add(1)
	}
	bar.Finish()
	fmt.Fprintf(stdout, "prefs generate: %d pairs from %d faces into %s (images in %s)", made, len(files)-skipped, *dsn, g.store.Dir)
	if skipped > 0 {
		fmt.Fprintf(stdout, "; %d faces were already there", skipped)
	}
	fmt.Fprintln(stdout)
	return nil
}

// generator makes one face's candidates and pairs.
type generator struct {
	store     prefs.Store
	deg       *degrade.Degrader
	samplers  []*restorer.Sampler // one per stage2Variants entry
	modelName string
	preset    string
	seed      uint64
	samples   int
	gt        bool
	size      int
}

func (g *generator) face(f dataset.File, face, prefix string) ([]prefs.Pair, error) {
	hq, err := imageio.Read(f.Path)
	if err != nil {
		return nil, err
	}
	if hq.Shape[0] != g.size || hq.Shape[1] != g.size {
		hq = imgproc.Resize(hq, g.size, g.size, imgproc.Area)
	}
	stream := degrade.Stream(f.Rel)
	lq, _, err := g.deg.Degrade(rand.New(rand.NewPCG(g.seed, stream)), hq)
	if err != nil {
		return nil, err
	}
	lqRef, err := g.put(lq)
	if err != nil {
		return nil, err
	}
	gtRef, err := g.put(hq)
	if err != nil {
		return nil, err
	}
	type cand struct {
		key string
		c   prefs.Candidate
	}
	var cands []cand
	add := func(key string, img *tensor.Tensor, p prefs.Provenance) error {
		ref, err := g.put(img)
		if err != nil {
			return err
		}
		p.Preset = g.preset
		cands = append(cands, cand{key, prefs.Candidate{Image: ref, Provenance: p}})
		return nil
	}
	batch := tensor.FromSlice(lq.Data, 1, g.size, g.size, 3)
	for i := range g.samples {
		v, s := stage2Variants[i%len(stage2Variants)], g.samplers[i%len(g.samplers)]
		seed := g.seed + uint64(i)
		est, res, err := s.Restore(batch, rand.New(rand.NewPCG(seed, stream)))
		if err != nil {
			return nil, err
		}
		if i == 0 {
			if err := add("stage1", squeeze(est), prefs.Provenance{Method: "stage1", Model: g.modelName}); err != nil {
				return nil, err
			}
		}
		err = add("stage2-"+strconv.Itoa(i), squeeze(res), prefs.Provenance{Method: "stage2", Model: g.modelName,
			Seed: seed, Steps: v.Steps, Eta: v.Eta, Strength: v.Strength, Guidance: v.Guidance})
		if err != nil {
			return nil, err
		}
	}
	if err := add("lq", lq, prefs.Provenance{Method: "lq"}); err != nil {
		return nil, err
	}
	if g.gt {
		if err := add("gt", hq, prefs.Provenance{Method: "gt"}); err != nil {
			return nil, err
		}
	}
	order := rand.New(rand.NewPCG(g.seed^0x6c656674, stream)) // "left"
	var ps []prefs.Pair
	for i := range cands {
		for j := i + 1; j < len(cands); j++ {
			a, b := cands[i], cands[j]
			if a.c.Image == b.c.Image {
				continue // two samplers that gave the same bytes: nothing to judge
			}
			if order.IntN(2) == 1 {
				a, b = b, a
			}
			ps = append(ps, prefs.Pair{ID: prefix + "/" + a.key + "-" + b.key, Face: face, LQ: lqRef, GT: gtRef, Left: a.c, Right: b.c})
		}
	}
	return ps, nil
}

// put stores img as PNG; the reference is of the 8-bit image, which is what
// annotators see and what the FRM is trained on.
func (g *generator) put(img *tensor.Tensor) (prefs.Ref, error) {
	var b bytes.Buffer
	if err := imageio.EncodePNG(&b, img); err != nil {
		return "", err
	}
	return g.store.Put(b.Bytes())
}

// squeeze drops the batch dimension of a one-image batch.
func squeeze(t *tensor.Tensor) *tensor.Tensor {
	return tensor.FromSlice(t.Data, t.Shape[1:]...)
}
