package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"

	"facereward/diffusion"
	"facereward/nn"
	"facereward/optim"
	"facereward/restorer"
	"facereward/tensor"
)

// Options are what every benchmark against PyTorch takes.
type Options struct {
	Iters, Warmup int    // timed (the median is reported) and untimed iterations
	Python        string // interpreter with torch
	Script        string // the PyTorch side, a script in bench/
	NoTorch       bool   // time the Go side only
	JSON          string // also write the results as JSON here; "" for none
}

// restorerTimes are one side's medians in seconds.
type restorerTimes struct {
	Stage1Train float64 `json:"stage1_train_s"`
	Stage2Train float64 `json:"stage2_train_s"`
	Restore     float64 `json:"restore_s"`
}

// torchRestorer is bench/restorer_torch.py's JSON line.
type torchRestorer struct {
	restorerTimes
	Torch         string  `json:"torch"`
	Threads       int     `json:"threads"`
	Stage1Params  int     `json:"stage1_params"`
	UNetParams    int     `json:"unet_params"`
	ControlParams int     `json:"control_params"`
	PeakMB        float64 `json:"peak_rss_mb"`
}

const restorerBatch, restorerSteps = 8, 20

// Restorer times the default restorer (restorer.DefaultConfig) in this
// binary's build and in PyTorch: a stage-1 and a stage-2 training step
// (batch 8) and the restore of one face (20 DDIM steps). The PyTorch side
// must model the same networks: equal parameter counts.
func Restorer(o Options, stdout io.Writer) error {
	m, err := restorer.NewModel(restorer.DefaultConfig(), 1)
	if err != nil {
		return err
	}
	counts := [3]int{nn.NumParams(m.Stage1.Params()), nn.NumParams(m.UNet.Params()), nn.NumParams(m.Control.Params())}
	fmt.Fprintf(stdout, "facereward bench restorer: build %s, GEMM %s, %d threads, median of %d after %d warm-up\n",
		tensor.Build(), tensor.GemmBackend(), runtime.GOMAXPROCS(0), o.Iters, o.Warmup)
	fmt.Fprintf(stdout, "parameters: stage 1 %d, UNet %d, control %d\n", counts[0], counts[1], counts[2])

	var tr *torchRestorer
	var torchErr error
	if !o.NoTorch {
		tr, torchErr = runTorchRestorer(o)
		if torchErr == nil {
			if got := [3]int{tr.Stage1Params, tr.UNetParams, tr.ControlParams}; got != counts {
				return fmt.Errorf("bench restorer: %s models %v parameters, Go %v: not the same networks", o.Script, got, counts)
			}
		}
	}
	goT := timeRestorer(m, o.Warmup, o.Iters)
	peak := PeakRSSMB()

	rows := []Row{{"stage-1 train step (batch 8)", goT.Stage1Train, 0}, {"stage-2 train step (batch 8)", goT.Stage2Train, 0}, {"restore one face (20 steps)", goT.Restore, 0}}
	var torchName string
	var torchPeak float64
	if tr != nil {
		rows[0].Torch, rows[1].Torch, rows[2].Torch = tr.Stage1Train, tr.Stage2Train, tr.Restore
		torchName, torchPeak = tr.Torch, tr.PeakMB
	}
	PrintRatios(stdout, rows, peak, torchName, torchPeak, torchErr)
	if o.JSON != "" {
		rep := map[string]any{"go": goT, "go_peak_rss_mb": peak, "params": counts}
		if tr != nil {
			rep["torch"] = tr
		}
		if err := WriteJSON(o.JSON, rep); err != nil {
			return fmt.Errorf("bench restorer: %w", err)
		}
	}
	return nil
}

func runTorchRestorer(o Options) (*torchRestorer, error) {
	last, _, err := TorchJSON(o.Python, o.Script, "--threads", strconv.Itoa(runtime.GOMAXPROCS(0)), "--iters", strconv.Itoa(o.Iters),
		"--warmup", strconv.Itoa(o.Warmup), "--json")
	if err != nil {
		return nil, err
	}
	var tr torchRestorer
	if err := json.Unmarshal(last, &tr); err != nil {
		return nil, fmt.Errorf("reading %s output: %w", o.Script, err)
	}
	return &tr, nil
}

// timeRestorer times the three steps on m with random inputs (the timings
// do not depend on the weights' values).
func timeRestorer(m *restorer.Model, warmup, iters int) restorerTimes {
	s := m.Config.UNet.ImageSize
	rng := nn.NewRNG(3)
	img := func(n int) *tensor.Tensor {
		x := tensor.New(n, s, s, 3)
		nn.Normal(x, 0.5, rng)
		return x
	}
	var t restorerTimes
	g := nn.NewGraph()

	ps1 := m.Stage1.Params()
	opt1, _ := optim.NewAdamW(ps1, optim.DefaultAdam(2e-4))
	lq, hq := nn.Constant(img(restorerBatch)), nn.Constant(img(restorerBatch))
	t.Stage1Train = Median(func() {
		g.Backward(g.L1Loss(m.Stage1.Forward(g, lq), hq))
		g.Reset()
		opt1.Step()
		nn.ZeroGrad(ps1)
	}, warmup, iters)

	sched, _ := diffusion.NewSchedule(diffusion.DefaultBetaSchedule, diffusion.DefaultT)
	den := diffusion.Denoiser{Pred: diffusion.Prediction(m.Config.UNet.Prediction), Net: func(g *nn.Graph, xt *nn.Var, ts []int, c *nn.Var) *nn.Var {
		out, _ := m.Predict(g, xt, ts, c)
		return out
	}}
	ps2 := nn.Collect(m.UNet, m.Control)
	opt2, _ := optim.NewAdamW(ps2, optim.DefaultAdam(2e-4))
	x0, cond := img(restorerBatch), nn.Constant(img(restorerBatch))
	lrng := rand.New(rand.NewPCG(1, 2))
	t.Stage2Train = Median(func() {
		loss, err := sched.Loss(g, den, x0, cond, lrng, diffusion.LossOptions{})
		if err != nil {
			panic(err)
		}
		g.Backward(loss)
		g.Reset()
		opt2.Step()
		nn.ZeroGrad(ps2)
	}, warmup, iters)

	// All steps from pure noise, unguided and deterministic: the work the
	// PyTorch side times.
	smp, err := restorer.NewSampler(m, restorer.SampleOptions{Steps: restorerSteps, Strength: 1})
	if err != nil {
		panic(err)
	}
	face := img(1)
	t.Restore = Median(func() {
		if _, _, err := smp.Restore(face, rng); err != nil {
			panic(err)
		}
	}, warmup, iters)
	return t
}
