package main

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

func benchRestorer(args []string, stdout io.Writer) error {
	fs := newFlags("bench restorer", "bench restorer [flags]", `
Times the default restorer (restorer.DefaultConfig) in this binary's build
and the same networks in PyTorch (bench/restorer_torch.py, as many threads
as this process has) in the same run, and prints Go time / PyTorch time:
  stage-1 train step    batch 8 at 128×128: forward, L1, backward, AdamW
  stage-2 train step    batch 8, UNet and control branch trained jointly
                        (the default mode): v-prediction loss at uniform t
  restore one face      stage 1, then 20 DDIM steps of control + UNet,
                        batch 1 (what restore does per face, from pure noise)
The two sides' parameter counts are compared first: the PyTorch script
must model the same networks. PyTorch runs first, in its own process, so
the two never share the cores. bench/restorer.sh runs this for the fast and
plain builds.`, stdout)
	iters := fs.Int("iters", 5, "timed iterations per measurement (the median is reported)")
	warmup := fs.Int("warmup", 1, "untimed iterations first")
	python := fs.String("python", defaultPython(), "Python interpreter with torch")
	script := fs.String("torch-script", "bench/restorer_torch.py", "the PyTorch side of the benchmark")
	noTorch := fs.Bool("no-torch", false, "skip PyTorch")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *iters < 1 || *warmup < 0 {
		return fmt.Errorf("bench restorer: --iters must be ≥ 1 and --warmup ≥ 0")
	}
	c := restorer.DefaultConfig()
	m, err := restorer.NewModel(c, 1)
	if err != nil {
		return err
	}
	counts := [3]int{nn.NumParams(m.Stage1.Params()), nn.NumParams(m.UNet.Params()), nn.NumParams(m.Control.Params())}
	fmt.Fprintf(stdout, "facereward bench restorer: build %s, GEMM %s, %d threads, median of %d after %d warm-up\n",
		buildName(), tensor.GemmBackend(), runtime.GOMAXPROCS(0), *iters, *warmup)
	fmt.Fprintf(stdout, "parameters: stage 1 %d, UNet %d, control %d\n", counts[0], counts[1], counts[2])

	var tr *torchRestorer
	var torchErr error
	if !*noTorch {
		tr, torchErr = runTorchRestorer(*python, *script, *iters, *warmup)
		if torchErr == nil {
			if got := [3]int{tr.Stage1Params, tr.UNetParams, tr.ControlParams}; got != counts {
				return fmt.Errorf("bench restorer: %s models %v parameters, Go %v: not the same networks", *script, got, counts)
			}
		}
	}
	goT := timeRestorer(m, *warmup, *iters)
	peak := peakRSSMB()

	rows := []ratioRow{{"stage-1 train step (batch 8)", goT.Stage1Train, 0}, {"stage-2 train step (batch 8)", goT.Stage2Train, 0}, {"restore one face (20 steps)", goT.Restore, 0}}
	var torchName string
	var torchPeak float64
	if tr != nil {
		rows[0].torS, rows[1].torS, rows[2].torS = tr.Stage1Train, tr.Stage2Train, tr.Restore
		torchName, torchPeak = tr.Torch, tr.PeakMB
	}
	printRatios(stdout, rows, peak, torchName, torchPeak, torchErr)
	if *jsonOut != "" {
		rep := map[string]any{"go": goT, "go_peak_rss_mb": peak, "params": counts}
		if tr != nil {
			rep["torch"] = tr
		}
		if err := writeBenchJSON(*jsonOut, rep); err != nil {
			return fmt.Errorf("bench restorer: %w", err)
		}
	}
	return nil
}

func runTorchRestorer(python, script string, iters, warmup int) (*torchRestorer, error) {
	last, _, err := torchJSON(python, script, "--threads", strconv.Itoa(runtime.GOMAXPROCS(0)), "--iters", strconv.Itoa(iters),
		"--warmup", strconv.Itoa(warmup), "--json")
	if err != nil {
		return nil, err
	}
	var tr torchRestorer
	if err := json.Unmarshal(last, &tr); err != nil {
		return nil, fmt.Errorf("reading %s output: %w", script, err)
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
	t.Stage1Train = median(func() {
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
	t.Stage2Train = median(func() {
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
	t.Restore = median(func() {
		if _, _, err := smp.Restore(face, rng); err != nil {
			panic(err)
		}
	}, warmup, iters)
	return t
}
