package restorer

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"facereward/atomicfile"
	"facereward/checkpoint"
	"facereward/diffusion"
	"facereward/nn"
	"facereward/safetensors"
	"facereward/tensor"
)

// A model directory holds config.json (DirConfig) and one weight file per
// network, each the model.safetensors of its training run: stage1.safetensors,
// unet.safetensors and control.safetensors.
var dirFiles = [3]string{"stage1.safetensors", "unet.safetensors", "control.safetensors"}

// DirConfig is a model directory's config.json.
type DirConfig struct {
	Restorer Config `json:"restorer"`
	Schedule string `json:"schedule"`
}

// LoadDir reads a model directory.
func LoadDir(dir string) (*Model, DirConfig, error) {
	var dc DirConfig
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, dc, fmt.Errorf("restorer: model %s: %w", dir, err)
	}
	if err := json.Unmarshal(b, &dc); err != nil {
		return nil, dc, fmt.Errorf("restorer: model %s: config.json: %w", dir, err)
	}
	m, err := NewModel(dc.Restorer, 0)
	if err != nil {
		return nil, dc, fmt.Errorf("restorer: model %s: %w", dir, err)
	}
	for i, mod := range []nn.Module{m.Stage1, m.UNet, m.Control} {
		path := filepath.Join(dir, dirFiles[i])
		if _, err := checkpoint.LoadParts(path, mod.Params(), nil, checkpoint.Options{}); err != nil {
			return nil, dc, fmt.Errorf("restorer: model %s: %w", dir, err)
		}
	}
	return m, dc, nil
}

// SaveDir writes m as a model directory.
func SaveDir(dir string, m *Model, schedule string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(DirConfig{Restorer: m.Config, Schedule: schedule}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "config.json"), func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
		return err
	}
	for i, mod := range []nn.Module{m.Stage1, m.UNet, m.Control} {
		if err := checkpoint.Save(filepath.Join(dir, dirFiles[i]), mod.Params(), nil, nil, safetensors.F32); err != nil {
			return fmt.Errorf("restorer: saving %s: %w", dir, err)
		}
	}
	return nil
}

// Sampler restores aligned faces: stage 1, then DDIM steered by the
// control branch with the stage-1 estimate as its condition.
type Sampler struct {
	Model *Model
	DDIM  diffusion.DDIM
	// Strength is where sampling starts: 1 from pure noise, less from the
	// stage-1 estimate noised to that fraction of the steps (fewer steps).
	Strength float64
}

// NewSampler makes a sampler with steps DDIM steps (eta 0) on the named
// β schedule.
func NewSampler(m *Model, schedule string, steps int) (*Sampler, error) {
	s, err := diffusion.NewSchedule(diffusion.BetaSchedule(schedule), diffusion.DefaultT)
	if err != nil {
		return nil, err
	}
	return &Sampler{Model: m, DDIM: diffusion.DDIM{Schedule: s, Steps: steps}, Strength: 1}, nil
}

// Restore restores a batch of aligned faces lq [N,S,S,3] in [0,1]; the
// noise comes from rng, so the same seed gives the same bytes. It returns
// the stage-1 estimates and the final restorations, both in [0,1].
func (s *Sampler) Restore(lq *tensor.Tensor, rng *rand.Rand) (stage1, out *tensor.Tensor, err error) {
	g := nn.NewGraph()
	g.NoGrad = true
	signed := tensor.New(lq.Shape...)
	for i, v := range lq.Data {
		signed.Data[i] = 2*v - 1
	}
	cond := s.Model.Stage1.Forward(g, nn.Constant(signed)).Value.Clone()
	g.Reset()
	den := diffusion.Denoiser{Pred: diffusion.Prediction(s.Model.Config.UNet.Prediction), Net: func(g *nn.Graph, xt *nn.Var, t []int, c *nn.Var) *nn.Var {
		pred, _ := s.Model.Predict(g, xt, t, c)
		return pred
	}}
	xT, start, err := s.DDIM.StartFrom(cond, s.Strength, rng)
	if err != nil {
		return nil, nil, err
	}
	res, err := s.DDIM.Sample(g, den, xT, nn.Constant(cond), rng, diffusion.SampleOptions{StartStep: start})
	if err != nil {
		return nil, nil, err
	}
	return toUnit(cond), toUnit(res.X), nil
}

func toUnit(t *tensor.Tensor) *tensor.Tensor {
	out := tensor.New(t.Shape...)
	for i, v := range t.Data {
		out.Data[i] = min(max(0.5*(v+1), 0), 1)
	}
	return out
}
