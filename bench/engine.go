package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"facereward/benchnet"
	"facereward/tensor"
)

// EngineOptions say which nets the engine benchmark times, and how.
type EngineOptions struct {
	Options
	Nets []string // "A", "B"
}

// EngineTimes is one side's medians in seconds.
type EngineTimes struct {
	Train   float64 `json:"train_s"`
	Forward float64 `json:"forward_s"`
}

// EngineReport is what the engine benchmark's --json writes.
type EngineReport struct {
	Build       string                 `json:"build"`
	Backend     string                 `json:"gemm_backend"`
	Threads     int                    `json:"threads"`
	GemmGFLOPS  float64                `json:"gemm_conv_shape_gflops"`
	Go          map[string]EngineTimes `json:"go"`
	GoPeakMB    float64                `json:"go_peak_rss_mb"`
	Torch       map[string]EngineTimes `json:"torch,omitempty"`
	TorchPeakMB float64                `json:"torch_peak_rss_mb,omitempty"`
	TorchVer    string                 `json:"torch_version,omitempty"`
}

// torchEngine is engine_torch.py's JSON line.
type torchEngine struct {
	Torch   string                 `json:"torch"`
	Threads int                    `json:"threads"`
	Nets    map[string]EngineTimes `json:"-"`
	PeakMB  float64                `json:"peak_rss_mb"`
}

// Engine times a training step and a forward pass of each of o.Nets
// (benchnet's nets A and B) in this binary's build and in PyTorch, and the
// GEMM on the convolution shape M=32768, K=576, N=64; it prints the table
// of Go time / PyTorch time and both sides' peak memory.
func Engine(o EngineOptions, stdout io.Writer) error {
	rep := EngineReport{Build: tensor.Build(), Backend: tensor.GemmBackend(), Threads: runtime.GOMAXPROCS(0), Go: map[string]EngineTimes{}}
	fmt.Fprintf(stdout, "facereward bench engine: build %s, GEMM %s, %d threads, median of %d after %d warm-up\n",
		rep.Build, rep.Backend, rep.Threads, o.Iters, o.Warmup)

	var torchErr error
	if !o.NoTorch {
		var tr *torchEngine
		tr, torchErr = runTorchEngine(o)
		if torchErr == nil {
			rep.Torch, rep.TorchPeakMB, rep.TorchVer = tr.Nets, tr.PeakMB, tr.Torch
		}
	}

	rep.GemmGFLOPS = GemmGFLOPS(32768, 576, 64, max(o.Iters, 5))
	for _, name := range o.Nets {
		var n benchnet.Net
		if name == "A" {
			n = benchnet.NewA(1)
		} else {
			n = benchnet.NewB(1)
		}
		rep.Go[name] = EngineTimes{
			Train:   Median(n.TrainStep, o.Warmup, o.Iters),
			Forward: Median(n.Forward, o.Warmup, o.Iters),
		}
	}
	rep.GoPeakMB = PeakRSSMB()
	printEngine(stdout, rep, o.Nets, torchErr)
	if o.JSON != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.JSON, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("bench engine: %w", err)
		}
	}
	return nil
}

// printEngine prints the GEMM throughput, a row per net and step, and the
// peak memory.
func printEngine(w io.Writer, rep EngineReport, nets []string, torchErr error) {
	fmt.Fprintf(w, "GEMM 32768×576×64 (conv forward shape): %.1f GFLOP/s\n\n", rep.GemmGFLOPS)
	fmt.Fprintln(w, "| net | step | Go (s) | PyTorch (s) | Go / PyTorch |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	for _, name := range nets {
		g := rep.Go[name]
		t, ok := rep.Torch[name]
		for _, row := range []struct {
			step   string
			gs, ts float64
		}{{"train", g.Train, t.Train}, {"forward", g.Forward, t.Forward}} {
			if ok {
				fmt.Fprintf(w, "| %s | %s | %.4f | %.4f | %.2f× |\n", name, row.step, row.gs, row.ts, row.gs/row.ts)
			} else {
				fmt.Fprintf(w, "| %s | %s | %.4f | – | – |\n", name, row.step, row.gs)
			}
		}
	}
	fmt.Fprintf(w, "\npeak memory (RSS): Go %.0f MB", rep.GoPeakMB)
	if rep.Torch != nil {
		fmt.Fprintf(w, ", PyTorch %s %.0f MB\n", rep.TorchVer, rep.TorchPeakMB)
	} else {
		fmt.Fprintln(w)
	}
	if torchErr != nil {
		fmt.Fprintf(w, "PyTorch side skipped: %v\n(install Debian's python3-torch, or pass --python)\n", torchErr)
	}
}

func runTorchEngine(o EngineOptions) (*torchEngine, error) {
	last, raw, err := TorchJSON(o.Python, o.Script, "--threads", strconv.Itoa(runtime.GOMAXPROCS(0)), "--iters", strconv.Itoa(o.Iters),
		"--warmup", strconv.Itoa(o.Warmup), "--nets", strings.Join(o.Nets, ","), "--json")
	if err != nil {
		return nil, err
	}
	tr := &torchEngine{Nets: map[string]EngineTimes{}}
	if err := json.Unmarshal(last, tr); err != nil {
		return nil, fmt.Errorf("reading %s output: %w", o.Script, err)
	}
	for _, n := range []string{"A", "B"} {
		if r, ok := raw[n]; ok {
			var t EngineTimes
			if err := json.Unmarshal(r, &t); err != nil {
				return nil, fmt.Errorf("reading %s output for net %s: %w", o.Script, n, err)
			}
			tr.Nets[n] = t
		}
	}
	return tr, nil
}
