package prefs

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
	"facereward/progress"
	"facereward/restorer"
	"facereward/tensor"
)

// stage2Variants are the sampler settings candidates cycle through: the
// sampler's defaults first (the "stage-2 restoration" the FRM's acceptance
// order speaks of; restore's, but for the mild inputs' guidance, which a
// candidate's provenance does not record), then half the steps with deterministic DDIM,
// then a later start with less guidance and full DDPM noise, which invents
// more detail and strays further from the stage-1 estimate.
var stage2Variants = func() []restorer.SampleOptions {
	d := restorer.DefaultSampleOptions()
	half := d
	half.Steps, half.Eta = d.Steps/2, 0
	return []restorer.SampleOptions{d, half, {Steps: d.Steps, Strength: 0.7, Guidance: 0.3, Eta: 1}}
}()

// IsDefaultStage2 picks the stage-2 candidate sampled as `restore` does by
// default (the first of stage2Variants).
func IsDefaultStage2(p Provenance) bool {
	d := stage2Variants[0]
	return p.Method == "stage2" && p.Steps == d.Steps && p.Strength == d.Strength && p.Guidance == d.Guidance && p.Eta == d.Eta && p.LowBand == d.LowBand
}

// GenerateOptions say which faces Generate takes, how it degrades and
// restores them, and where the pairs go.
type GenerateOptions struct {
	Data    string // folder of FFHQ-style faces
	Split   string // the ids to draw from (dataset.Folder.Split); "" for every face
	N       int    // faces, drawn at random with Seed
	Preset  string // degradation preset
	Model   string // restorer model directory or builtin:NAME; "" for the default
	Samples int    // stage-2 candidates per face
	GT      bool   // add the ground truth as a candidate
	Seed    uint64 // of the face choice, the degradations, the samplers and the left/right order
	Out     string // folder of the image store (Out/images) and the default database
	DB      string // a SQLite file or a postgres:// URL; "" for Out/prefs.db
}

// Generate makes the candidate pairs of o.N faces and adds them to the
// database, one transaction per face: faces whose pairs are there already
// (an interrupted or repeated run) are skipped. It prints a summary on
// stdout and a progress bar on stderr.
func Generate(o GenerateOptions, stdout, stderr io.Writer) error {
	if o.DB == "" {
		o.DB = filepath.Join(o.Out, "prefs.db")
	}
	folder, err := dataset.Open(o.Data)
	if err != nil {
		return fmt.Errorf("prefs generate: %w", err)
	}
	if o.Split != "" {
		if folder, err = folder.Split(o.Split); err != nil {
			return fmt.Errorf("prefs generate: %w", err)
		}
	}
	files := folder.Files
	pick := rand.New(rand.NewPCG(o.Seed, 0x70726566)) // "pref"
	pick.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	files = files[:min(o.N, len(files))]

	cfg, err := degrade.Preset(o.Preset)
	if err != nil {
		return fmt.Errorf("prefs generate: %w", err)
	}
	m, err := restorer.Load(o.Model)
	if err != nil {
		return err
	}
	size := m.Config.UNet.ImageSize
	cfg = cfg.AtSize(size)
	deg, err := degrade.New(cfg)
	if err != nil {
		return fmt.Errorf("prefs generate: %w", err)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("prefs generate: %w", err)
	}
	db, err := Open(o.DB)
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
	g := generator{store: Store{Dir: filepath.Join(o.Out, "images")}, deg: deg, samplers: samplers,
		modelName: m.Name, preset: o.Preset, seed: o.Seed, samples: o.Samples, gt: o.GT, size: size}
	bar := progress.New(stderr, "prefs generate", len(files))
	made, skipped := 0, 0
	for _, f := range files {
		face := fmt.Sprintf("%05d", f.ID)
		if f.ID < 0 {
			face = strings.TrimSuffix(f.Rel, filepath.Ext(f.Rel))
		}
		// Pair ids are s<seed>/<face>/<candidate>-<candidate>: runs with
		// other seeds add to the same database without clashing.
		prefix := fmt.Sprintf("s%d/%s", o.Seed, face)
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
	fmt.Fprintf(stdout, "prefs generate: %d pairs from %d faces into %s (images in %s)", made, len(files)-skipped, o.DB, g.store.Dir)
	if skipped > 0 {
		fmt.Fprintf(stdout, "; %d faces were already there", skipped)
	}
	fmt.Fprintln(stdout)
	return nil
}

// generator makes one face's candidates and pairs.
type generator struct {
	store     Store
	deg       *degrade.Degrader
	samplers  []*restorer.Sampler // one per stage2Variants entry
	modelName string
	preset    string
	seed      uint64
	samples   int
	gt        bool
	size      int
}

func (g *generator) face(f dataset.File, face, prefix string) ([]Pair, error) {
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
		c   Candidate
	}
	var cands []cand
	add := func(key string, img *tensor.Tensor, p Provenance) error {
		ref, err := g.put(img)
		if err != nil {
			return err
		}
		p.Preset = g.preset
		cands = append(cands, cand{key, Candidate{Image: ref, Provenance: p}})
		return nil
	}
	batch := tensor.FromSlice(lq.Data, 1, g.size, g.size, 3)
	for i := range g.samples {
		s := g.samplers[i%len(g.samplers)]
		seed := g.seed + uint64(i)
		est, res, err := s.Restore(batch, rand.New(rand.NewPCG(seed, stream)))
		if err != nil {
			return nil, err
		}
		if i == 0 {
			if err := add("stage1", squeeze(est), Provenance{Method: "stage1", Model: g.modelName}); err != nil {
				return nil, err
			}
		}
		err = add("stage2-"+strconv.Itoa(i), squeeze(res), Provenance{Method: "stage2", Model: g.modelName,
			Seed: seed, Steps: s.Steps, Eta: s.Eta, Strength: s.Strength, Guidance: s.Guidance, LowBand: s.LowBand})
		if err != nil {
			return nil, err
		}
	}
	if err := add("lq", lq, Provenance{Method: "lq"}); err != nil {
		return nil, err
	}
	if g.gt {
		if err := add("gt", hq, Provenance{Method: "gt"}); err != nil {
			return nil, err
		}
	}
	order := rand.New(rand.NewPCG(g.seed^0x6c656674, stream)) // "left"
	var ps []Pair
	for i := range cands {
		for j := i + 1; j < len(cands); j++ {
			a, b := cands[i], cands[j]
			if a.c.Image == b.c.Image {
				continue // two samplers that gave the same bytes: nothing to judge
			}
			if order.IntN(2) == 1 {
				a, b = b, a
			}
			ps = append(ps, Pair{ID: prefix + "/" + a.key + "-" + b.key, Face: face, LQ: lqRef, GT: gtRef, Left: a.c, Right: b.c})
		}
	}
	return ps, nil
}

// put stores img as PNG; the reference is of the 8-bit image, which is what
// annotators see and what the FRM is trained on.
func (g *generator) put(img *tensor.Tensor) (Ref, error) {
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
