package bench

import (
	"fmt"
	"io"
	"runtime"
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

// Engine times a training step and a forward pass of each of o.Nets
// (benchnet's nets A and B) in this binary's build and in PyTorch, and the
// GEMM on the convolution shape M=32768, K=576, N=64; it prints the table
// of Go time / PyTorch time and both sides' peak memory.
func Engine(o EngineOptions, stdout io.Writer) error {
	rep := EngineReport{Build: tensor.Build(), Backend: tensor.GemmBackend(), Threads: runtime.GOMAXPROCS(0), Go: map[string]EngineTimes{}}
	printHeader(stdout, "engine", o.Options)

	var nets struct{ A, B *EngineTimes } // the nets engine_torch.py timed
	t, err := runTorch(o.Options, &nets, "--nets", strings.Join(o.Nets, ","))
	if err != nil {
		return fmt.Errorf("bench engine: %w", err)
	}
	if t.ran() {
		rep.Torch, rep.TorchPeakMB, rep.TorchVer = map[string]EngineTimes{}, t.PeakMB, t.Torch
		if nets.A != nil {
			rep.Torch["A"] = *nets.A
		}
		if nets.B != nil {
			rep.Torch["B"] = *nets.B
		}
	}

	rep.GemmGFLOPS = gemmGFLOPS(32768, 576, 64, max(o.Iters, 5))
	for _, name := range o.Nets {
		var n benchnet.Net
		if name == "A" {
			n = benchnet.NewA(1)
		} else {
			n = benchnet.NewB(1)
		}
		rep.Go[name] = EngineTimes{
			Train:   median(n.TrainStep, o.Warmup, o.Iters),
			Forward: median(n.Forward, o.Warmup, o.Iters),
		}
	}
	rep.GoPeakMB = peakRSSMB()
	printEngine(stdout, rep, o.Nets, t.skipped)
	if o.JSON != "" {
		if err := writeJSON(o.JSON, rep); err != nil {
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
	printPeaks(w, rep.GoPeakMB, rep.TorchVer, rep.TorchPeakMB, torchErr)
}
