package refl

import (
	"fmt"

	"facereward/models"
	"facereward/restorer"
	"facereward/train"
)

// Options are every setting of a ReFL run (saved as config.json).
type Options struct {
	Base   string `json:"base"`   // restorer to tune: a model directory or builtin:NAME (restorer.Load)
	Reward string `json:"reward"` // FRM file or reward run folder ("": the built-in FRM)
	Data   string `json:"data"`
	Preset string `json:"preset"`
	Seed   uint64 `json:"seed"`
	Steps  int    `json:"steps"`
	// Until stops the run early, at this step, without changing anything
	// else (train.StopStep); not part of the run's config (0: run all Steps).
	Until int `json:"-"`
	Batch int `json:"batch"`
	// Accum micro-batches of Batch make one update (effective batch
	// Batch·Accum).
	Accum       int     `json:"accum"`
	LR          float64 `json:"lr"`
	WeightDecay float64 `json:"weight_decay"`
	Clip        float64 `json:"clip"`
	EMA         float64 `json:"ema"`       // 0: none (the paper's); the exported weights are the last step's
	TrainAll    bool    `json:"train_all"` // UNet too, not only the control branch
	Weights     Weights `json:"weights"`
	// The sampler the steps descend with: the restore command's defaults,
	// so ReFL tunes the images users get; eta is drawn per step.
	SampleSteps int     `json:"sample_steps"`
	Strength    float64 `json:"strength"`
	Guidance    float64 `json:"guidance"`
	LowBand     int     `json:"low_band,omitempty"`
	// LastSteps: m is drawn from the last LastSteps DDIM steps (the
	// paper's 2).
	LastSteps int `json:"last_steps"`
	// FRMEvery is the dynamic FRM update's period k; 0 keeps the FRM
	// static (the ablation).
	FRMEvery int          `json:"frm_every"`
	Watch    WatchOptions `json:"watch"`
	// SaveEvery and KeepCheckpts as in the other runs.
	SaveEvery    int `json:"save_every"`
	KeepCheckpts int `json:"keep_checkpoints"`
}

// DefaultOptions are the paper's settings (docs/design.md §1: AdamW lr
// 5e-5, effective batch 4, m from the last two steps, k = 10) but for the
// λs (DefaultWeights, measured here), on our sampler, with the step count
// of the shipped run (README).
func DefaultOptions(data string) Options {
	d := restorer.DefaultSampleOptions()
	return Options{
		Base: models.BuiltinPrefix + models.Base, Data: data, Preset: "diffbir", Seed: 1, Steps: 200, Batch: 4, Accum: 1,
		LR: 5e-5, WeightDecay: 0.01, Clip: 1, Weights: DefaultWeights(),
		SampleSteps: d.Steps, Strength: d.Strength, Guidance: d.Guidance, LowBand: d.LowBand,
		LastSteps: 2, FRMEvery: 10, Watch: DefaultWatchOptions(), SaveEvery: 50, KeepCheckpts: 2,
	}
}

func (o Options) validate() error {
	c := train.Counts{Steps: o.Steps, Until: o.Until, Batch: o.Batch, EvalEvery: o.Watch.Every, EvalFaces: o.Watch.Faces,
		SaveEvery: o.SaveEvery, KeepCheckpts: o.KeepCheckpts, LR: o.LR, WeightDecay: o.WeightDecay, Clip: o.Clip, EMA: o.EMA}
	if err := c.Validate("train refl"); err != nil {
		return err
	}
	switch {
	case o.Steps <= 0 || o.Batch <= 0 || o.Accum <= 0:
		return fmt.Errorf("train refl: steps %d, batch %d, accum %d: all must be positive", o.Steps, o.Batch, o.Accum)
	case o.LastSteps < 1 || o.LastSteps > o.SampleSteps:
		return fmt.Errorf("train refl: --last-steps %d outside [1, %d] (the sampler's steps)", o.LastSteps, o.SampleSteps)
	case o.FRMEvery < 0:
		return fmt.Errorf("train refl: --frm-every %d is negative", o.FRMEvery)
	case o.Strength <= 0 || o.Strength > 1:
		return fmt.Errorf("train refl: strength %g outside (0, 1]", o.Strength)
	}
	// The descent must reach the first step m can be.
	run := int(float64(o.SampleSteps)*o.Strength + 0.5)
	if run < o.LastSteps {
		return fmt.Errorf("train refl: strength %g runs %d of %d steps, fewer than --last-steps %d", o.Strength, run, o.SampleSteps, o.LastSteps)
	}
	return nil
}

// WatchOptions set the dev-val passes that watch a ReFL run for reward
// hacking: the reward rising while the faces drift from the ground truth.
type WatchOptions struct {
	Every int `json:"eval_every"` // steps between passes (0: none)
	Faces int `json:"eval_faces"` // dev-val faces per pass
	// A pass whose static-FRM score is above the base's while its PSNR is
	// more than PSNRTol dB, or its IDS more than IDSTol, below the base's
	// is flagged as hacking. The best checkpoint is the pass with the
	// highest static-FRM score among those within both tolerances (the
	// base itself when none is).
	PSNRTol float64 `json:"psnr_tol"`
	IDSTol  float64 `json:"ids_tol"`
}

// DefaultWatchOptions: a pass of 32 faces every 50 steps; PSNR may fall
// 0.3 dB (the bound), IDS 0.002 (about the spread between two
// samples of one face; README).
func DefaultWatchOptions() WatchOptions {
	return WatchOptions{Every: 50, Faces: 32, PSNRTol: 0.3, IDSTol: 0.002}
}

// hacking says whether p gained reward while losing fidelity beyond the
// tolerances, against base.
func (o WatchOptions) hacking(base, p passScores) bool {
	return p.Score > base.Score && !o.faithful(base, p)
}

// faithful says whether p's PSNR and IDS are within the tolerances of base's.
func (o WatchOptions) faithful(base, p passScores) bool {
	return p.PSNR >= base.PSNR-o.PSNRTol && p.IDS >= base.IDS-o.IDSTol
}

// rule states the best-checkpoint rule with its tolerances.
func (o WatchOptions) rule() string {
	return fmt.Sprintf("the dev-val pass with the highest static-FRM score whose PSNR is at most %.2f dB and IDS at most %.4f below the base's (step 0, the base, when none is)", o.PSNRTol, o.IDSTol)
}
