package train

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"

	"facereward/models"
	"facereward/nn"
	"facereward/optim"
	"facereward/refl"
	"facereward/restorer"
	"facereward/reward"
	"facereward/safetensors"
	"facereward/tensor"
)

// ReFLOptions are every setting of a ReFL run (saved as config.json).
type ReFLOptions struct {
	Base   string `json:"base"`   // restorer to tune: a model directory or builtin:NAME (restorer.Load)
	Reward string `json:"reward"` // FRM file or reward run folder ("": the built-in FRM)
	Data   string `json:"data"`
	Preset string `json:"preset"`
	Seed   uint64 `json:"seed"`
	Steps  int    `json:"steps"`
	Until  int    `json:"-"` // see Stage2Options.Until
	Batch  int    `json:"batch"`
	// Accum micro-batches of Batch make one update (effective batch
	// Batch·Accum).
	Accum       int          `json:"accum"`
	LR          float64      `json:"lr"`
	WeightDecay float64      `json:"weight_decay"`
	Clip        float64      `json:"clip"`
	EMA         float64      `json:"ema"`       // 0: none (the paper's); the exported weights are the last step's
	TrainAll    bool         `json:"train_all"` // UNet too, not only the control branch
	Weights     refl.Weights `json:"weights"`
	// The sampler the steps descend with: the restore command's defaults,
	// so ReFL tunes the images users get; eta is drawn per step.
	SampleSteps int     `json:"sample_steps"`
	Strength    float64 `json:"strength"`
	Guidance    float64 `json:"guidance"`
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

// DefaultReFLOptions are the paper's settings (DESIGN.md §1: AdamW lr 5e-5,
// effective batch 4, m from the last two steps, k = 10) but for the λs
// (refl.DefaultWeights, measured here), on our sampler, with the step count
// of the shipped run (README).
func DefaultReFLOptions(data string) ReFLOptions {
	return ReFLOptions{
		Base: models.BuiltinPrefix + models.Base, Data: data, Preset: "diffbir", Seed: 1, Steps: 200, Batch: 4, Accum: 1,
		LR: 5e-5, WeightDecay: 0.01, Clip: 1, Weights: refl.DefaultWeights(),
		SampleSteps: restorer.DefaultSampleOptions().Steps, Strength: restorer.DefaultSampleOptions().Strength, Guidance: restorer.DefaultSampleOptions().Guidance,
		LastSteps: 2, FRMEvery: 10, Watch: DefaultWatchOptions(), SaveEvery: 50, KeepCheckpts: 2,
	}
}

func (o ReFLOptions) validate() error {
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

// reflNets are a ReFL run's networks.
type reflNets struct {
	model  *restorer.Model
	frozen *restorer.Control // the base control branch, L_reg's reference
	frm    *reward.FRM       // trained by the dynamic update
	static *reward.FRM       // the FRM as loaded: what dev-val passes score with
	upd    *reward.Updater
}

func loadReFLNets(o ReFLOptions) (*reflNets, error) {
	var n reflNets
	var err error
	if n.model, err = restorer.Load(o.Base); err != nil {
		return nil, fmt.Errorf("train refl: %w", err)
	}
	nn.Freeze(n.model.Stage1)
	if !o.TrainAll {
		n.model.FreezeUNet()
	}
	n.frozen = nn.FrozenCopy(n.model.Control)
	if n.frm, err = reward.LoadOrBuiltin(o.Reward); err != nil {
		return nil, fmt.Errorf("train refl: %w", err)
	}
	n.static = nn.FrozenCopy(n.frm)
	if n.frm.Config.ImageSize != n.model.Config.UNet.ImageSize {
		return nil, fmt.Errorf("train refl: the FRM reads %d×%d faces but the restorer makes %d×%d", n.frm.Config.ImageSize, n.frm.Config.ImageSize, n.model.Config.UNet.ImageSize, n.model.Config.UNet.ImageSize)
	}
	if n.upd, err = reward.NewUpdater(n.frm); err != nil {
		return nil, err
	}
	// Frozen but for its own update: the ReFL loss's gradient flows
	// through the FRM to x0_hat, and its weights need none.
	nn.Freeze(n.frm)
	return &n, nil
}

// sampler is the sampler a run descends and validates with: o's settings
// on the base's schedule, eta set per use.
func (n *reflNets) sampler(o ReFLOptions) *restorer.Sampler {
	return &restorer.Sampler{Model: n.model, SampleOptions: restorer.SampleOptions{Steps: o.SampleSteps, Strength: o.Strength, Guidance: o.Guidance}}
}

// trained lists what the optimiser updates.
func (n *reflNets) trained(all bool) []*nn.Param {
	if all {
		return nn.Collect(n.model.UNet, n.model.Control)
	}
	return n.model.Control.Params()
}

// ReFL fine-tunes a restorer with reward feedback learning (DESIGN.md §1)
// in the run folder dir until opt.Steps or until ctx is cancelled, saving
// a checkpoint either way. A finished run leaves model/ (the tuned
// restorer), best/ (the best dev-val pass's, see WatchOptions), frm.safetensors
// (the dynamically updated FRM) and report.html.
func ReFL(ctx context.Context, dir string, opt ReFLOptions, resume bool, stdout io.Writer) error {
	if err := opt.validate(); err != nil {
		return err
	}
	nets, err := loadReFLNets(opt)
	if err != nil {
		return err
	}
	size := nets.model.Config.UNet.ImageSize
	pd, err := openPairs("train refl", opt.Data, opt.Preset, size, opt.Seed, opt.Watch.Every, opt.Watch.Faces)
	if err != nil {
		return err
	}
	ps := nets.trained(opt.TrainAll)
	// The dynamic FRM's weights and optimiser travel in every checkpoint,
	// so a resumed run goes on with the FRM it had.
	extra := map[string]optim.Stateful{"frm": paramState(nets.frm.Params()), "frm_optim": nets.upd.Opt}
	ses, err := newSession(dir, opt, resume, ps, opt.LR, opt.WeightDecay, opt.EMA, opt.KeepCheckpts, map[string]string{"stage": "refl"}, extra, stdout)
	if err != nil {
		return err
	}
	defer ses.run.Close()
	w, err := newWatch(ses, nets, opt, pd)
	if err != nil {
		return err
	}
	if done, err := ses.atEnd(opt.Steps, opt.Until, stdout); done || err != nil {
		if err == nil {
			err = w.finish(stdout)
		}
		return err
	}
	loader, err := pd.loader(opt.Batch, opt.Seed, ses.step*opt.Accum)
	if err != nil {
		return err
	}
	defer loader.Close()
	if ses.step == 0 && w.dev != nil && !w.haveBase() {
		fmt.Fprintln(stdout, "train refl: scoring the base restorer on dev-val (step 0)")
		if err := w.pass(0, stdout); err != nil {
			return err
		}
	}
	st := newStepper(nets, opt)
	var eval func(int) error
	if w.dev != nil {
		eval = func(step int) error { return w.pass(step, stdout) }
	}
	err = ses.loop(ctx, loopOptions{"train refl", opt.Steps, opt.Until, opt.Watch.Every, opt.SaveEvery}, func() (float32, map[string]any, error) {
		sum := map[string]float64{}
		fields := map[string]any{}
		for micro := range opt.Accum {
			b, err := loader.Next()
			if err != nil {
				return 0, nil, err
			}
			// One stream per micro-batch: a resumed run draws what the
			// straight run would have.
			rng := rand.New(rand.NewPCG(opt.Seed, uint64(ses.step*opt.Accum+micro)))
			eta, m := rng.Float64(), opt.SampleSteps-1-rng.IntN(opt.LastSteps)
			terms, x0, err := st.forward(b.Tensors[0], b.Tensors[1], eta, m, rng)
			if err != nil {
				return 0, nil, err
			}
			for k, v := range terms {
				sum[k] += v / float64(opt.Accum)
			}
			if opt.FRMEvery > 0 && (ses.step+1)%opt.FRMEvery == 0 && micro == opt.Accum-1 {
				fields["frm_bt"] = nets.updateFRM(b.Tensors[1], x0)
			}
		}
		fields["grad_norm"] = ses.update(opt.Clip)
		for k, v := range sum {
			if k != "loss" {
				fields[k] = v
			}
		}
		return float32(sum["loss"]), fields, nil
	}, eval, stdout)
	if err != nil || ses.step < stopStep(opt.Steps, opt.Until) {
		return err
	}
	return w.finish(stdout)
}

// stepper runs ReFL's micro-batches, the same for training and the
// benchmark. Each micro-batch takes fresh graphs: keeping them between
// steps (so their buffers are reused) measured no faster here (2.72 s
// against 2.77 s a step, within this machine's noise) and kept the whole
// tape's buffers, raising peak memory from 1.9 GB to 2.6 GB.
type stepper struct {
	nets    *reflNets
	opt     ReFLOptions
	sampler *restorer.Sampler
}

func newStepper(nets *reflNets, opt ReFLOptions) *stepper {
	return &stepper{nets: nets, opt: opt, sampler: nets.sampler(opt)}
}

// forward is one micro-batch of a ReFL step: the condition, the descent
// without gradients with DDIM's eta to step m (the caller draws both: eta
// ~ U(0,1), m from the last LastSteps), one forward pass with gradients at
// m giving x0_hat (guided as the sampler's last step is), the loss and its
// backward pass scaled for accumulation. It returns the loss and its
// unweighted terms by log name, and x0_hat in [0,1] (for the dynamic FRM
// update).
func (st *stepper) forward(lq, hq *tensor.Tensor, eta float64, m int, rng *rand.Rand) (map[string]float64, *tensor.Tensor, error) {
	s, nets := st.sampler, st.nets
	s.Eta = eta
	cond := nets.model.Condition(lq)
	xt, err := s.Descend(cond, rng, m)
	if err != nil {
		return nil, nil, err
	}
	ts := make([]int, lq.Shape[0])
	for i := range ts {
		ts[i] = s.DDIM().Timesteps()[m]
	}
	// The frozen branch's residuals are constants of the loss; computing
	// them off the tape keeps its activations out of memory.
	h := nn.NewGraph()
	h.NoGrad = true
	var frozen []*nn.Var
	for _, r := range nets.frozen.Forward(h, nn.Constant(xt), ts, nn.Constant(cond)) {
		frozen = append(frozen, nn.Constant(r.Value.Clone()))
	}
	h.Reset()

	g := nn.NewGraph()
	xv, cv := nn.Constant(xt), nn.Constant(cond)
	pred, res := nets.model.Predict(g, xv, ts, cv)
	x0 := s.GuideVar(g, nets.model.Schedule.X0FromPredVar(g, nets.model.Config.UNet.Prediction, xv, pred, ts), cv)
	terms := refl.Loss(g, st.opt.Weights, x0, nn.Constant(restorer.ToSigned(hq)), res, frozen, nets.frm)
	out := tensor.New(x0.Value.Shape...)
	for i, v := range x0.Value.Data {
		out.Data[i] = 0.5 * (v + 1)
	}
	vals := map[string]float64{}
	for k, v := range map[string]*nn.Var{"loss": terms.Total, "l_reg": terms.Reg, "l_struct": terms.Struct, "l_reward": terms.Reward, "l_pixel": terms.Pixel} {
		if v != nil {
			vals[k] = float64(v.Value.Data[0])
		}
	}
	g.Backward(g.Scale(terms.Total, float32(1/float64(st.opt.Accum))))
	g.Reset()
	return vals, out, nil
}

// updateFRM is the dynamic FRM update on hq over x0 (both in [0,1]); it
// returns the BT loss before the step.
func (n *reflNets) updateFRM(hq, x0 *tensor.Tensor) float64 {
	nn.Unfreeze(n.frm)
	defer nn.Freeze(n.frm)
	return n.upd.Step(hq, x0)
}

// paramState saves a module's weights as a checkpoint part (the dynamic
// FRM, which is not what the session's optimiser trains).
type paramState []*nn.Param

func (p paramState) State() map[string]*tensor.Tensor {
	st := make(map[string]*tensor.Tensor, len(p))
	for _, q := range p {
		st[q.Name] = q.Value
	}
	return st
}

func (p paramState) SetState(st map[string]*tensor.Tensor) error {
	for _, q := range p {
		v, ok := st[q.Name]
		if !ok {
			return fmt.Errorf("frm state: %s missing", q.Name)
		}
		if !tensor.SameShape(v.Shape, q.Value.Shape) {
			return fmt.Errorf("frm state: %s is %s, want %s", q.Name, tensor.ShapeString(v.Shape), tensor.ShapeString(q.Value.Shape))
		}
	}
	if len(st) != len(p) {
		return fmt.Errorf("frm state: %d tensors, want %d", len(st), len(p))
	}
	for _, q := range p {
		copy(q.Value.Data, st[q.Name].Data)
	}
	return nil
}

// saveModel writes the restorer with the current weights as a model
// directory (F32, so a reload is exact).
func (n *reflNets) saveModel(dir string) error {
	return restorer.SaveDir(dir, n.model, safetensors.F32)
}

// BenchReFL prepares one ReFL step as training takes it (descent to step
// m with eta 0.5, the forward pass with gradients, the loss, backward,
// clipping, AdamW on the trained weights) and one dynamic FRM update, on
// the batches lq and hq, for the benchmark to time.
func BenchReFL(o ReFLOptions, lq, hq *tensor.Tensor, m int) (step, frmUpdate func() error, err error) {
	if err := o.validate(); err != nil {
		return nil, nil, err
	}
	nets, err := loadReFLNets(o)
	if err != nil {
		return nil, nil, err
	}
	ps := nets.trained(o.TrainAll)
	cfg := optim.DefaultAdam(o.LR)
	cfg.WeightDecay = o.WeightDecay
	adam, err := optim.NewAdamW(ps, cfg)
	if err != nil {
		return nil, nil, err
	}
	st := newStepper(nets, o)
	rng := rand.New(rand.NewPCG(1, 2))
	var x0 *tensor.Tensor
	step = func() error {
		var err error
		if _, x0, err = st.forward(lq, hq, 0.5, m, rng); err != nil {
			return err
		}
		optim.ClipGradNorm(ps, o.Clip)
		adam.Step()
		nn.ZeroGrad(ps)
		return nil
	}
	frmUpdate = func() error {
		if x0 == nil {
			return fmt.Errorf("train refl: the FRM update needs a step's x0_hat first")
		}
		nets.updateFRM(hq, x0)
		return nil
	}
	return step, frmUpdate, nil
}
