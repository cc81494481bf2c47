package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"facereward/benchnet"
	"facereward/tensor"
)

func runBench(args []string, stdout io.Writer) error {
	return dispatch("bench", "Speed against PyTorch, in one run.", []subcommand{
		{"engine", "the engine's nets A and B against PyTorch", benchEngine},
		{"restorer", "the default restorer's training steps and restore time against PyTorch", benchRestorer},
		{"refl", "one ReFL step (batch 4) and one dynamic FRM update against PyTorch", benchReFL},
	}, args, stdout)
}

// engineTimes is one side's medians in seconds.
type engineTimes struct {
	Train   float64 `json:"train_s"`
	Forward float64 `json:"forward_s"`
}

type torchResult struct {
	Torch   string                 `json:"torch"`
	Threads int                    `json:"threads"`
	Nets    map[string]engineTimes `json:"-"`
	PeakMB  float64                `json:"peak_rss_mb"`
}

// benchReport is what --json writes.
type benchReport struct {
	Build       string                 `json:"build"`
	Backend     string                 `json:"gemm_backend"`
	Threads     int                    `json:"threads"`
	GemmGFLOPS  float64                `json:"gemm_conv_shape_gflops"`
	Go          map[string]engineTimes `json:"go"`
	GoPeakMB    float64                `json:"go_peak_rss_mb"`
	Torch       map[string]engineTimes `json:"torch,omitempty"`
	TorchPeakMB float64                `json:"torch_peak_rss_mb,omitempty"`
	TorchVer    string                 `json:"torch_version,omitempty"`
}

func benchEngine(args []string, stdout io.Writer) error {
	fs := newFlags("bench engine", "bench engine [flags]", `
Times benchmark nets A and B (docs/design.md §5: a three-layer conv net, and the
diffusion UNet's residual and attention blocks) for one training step and one
forward pass, in this binary's build, and the same nets in PyTorch
(bench/engine_torch.py, 2 threads) in the same run, then prints Go time /
PyTorch time for each and both sides' peak memory. Also prints the GEMM's
throughput on the convolution shape M=32768, K=576, N=64.

PyTorch runs first, in its own process, so the two never share the cores.
Without python3-torch the Go side is still timed and the ratios are left out.
bench/engine.sh runs this for the fast, plain and openblas builds.`, stdout)
	quick := fs.Bool("quick", false, "a short run: 1 warm-up and 3 timed iterations")
	iters := fs.Int("iters", 10, "timed iterations per measurement (the median is reported)")
	warmup := fs.Int("warmup", 3, "untimed iterations first")
	nets := fs.String("nets", "A,B", "which nets to time")
	python := fs.String("python", defaultPython(), "Python interpreter with torch")
	script := fs.String("torch-script", "bench/engine_torch.py", "the PyTorch side of the benchmark")
	noTorch := fs.Bool("no-torch", false, "skip PyTorch")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *quick {
		*iters, *warmup = 3, 1
	}
	if *iters < 1 || *warmup < 0 {
		return fmt.Errorf("bench engine: --iters must be ≥ 1 and --warmup ≥ 0")
	}
	names := strings.Split(*nets, ",")
	for _, n := range names {
		if n != "A" && n != "B" {
			return fmt.Errorf("bench engine: unknown net %q (want A or B)", n)
		}
	}
	rep := benchReport{Build: buildName(), Backend: tensor.GemmBackend(), Threads: runtime.GOMAXPROCS(0), Go: map[string]engineTimes{}}
	fmt.Fprintf(stdout, "facereward bench engine: build %s, GEMM %s, %d threads, median of %d after %d warm-up\n",
		rep.Build, rep.Backend, rep.Threads, *iters, *warmup)

	var torchErr error
	if !*noTorch {
		var tr *torchResult
		tr, torchErr = runTorch(*python, *script, *nets, *iters, *warmup)
		if torchErr == nil {
			rep.Torch, rep.TorchPeakMB, rep.TorchVer = tr.Nets, tr.PeakMB, tr.Torch
		}
	}

	rep.GemmGFLOPS = gemmThroughput(32768, 576, 64, max(*iters, 5))
	for _, name := range names {
		var n benchnet.Net
		if name == "A" {
			n = benchnet.NewA(1)
		} else {
			n = benchnet.NewB(1)
		}
		rep.Go[name] = engineTimes{
			Train:   median(n.TrainStep, *warmup, *iters),
			Forward: median(n.Forward, *warmup, *iters),
		}
	}
	rep.GoPeakMB = peakRSSMB()

	fmt.Fprintf(stdout, "GEMM 32768×576×64 (conv forward shape): %.1f GFLOP/s\n\n", rep.GemmGFLOPS)
	fmt.Fprintln(stdout, "| net | step | Go (s) | PyTorch (s) | Go / PyTorch |")
	fmt.Fprintln(stdout, "| --- | --- | --- | --- | --- |")
	for _, name := range names {
		g := rep.Go[name]
		t, ok := rep.Torch[name]
		for _, row := range []struct {
			step   string
			gs, ts float64
		}{{"train", g.Train, t.Train}, {"forward", g.Forward, t.Forward}} {
			if ok {
				fmt.Fprintf(stdout, "| %s | %s | %.4f | %.4f | %.2f× |\n", name, row.step, row.gs, row.ts, row.gs/row.ts)
			} else {
				fmt.Fprintf(stdout, "| %s | %s | %.4f | – | – |\n", name, row.step, row.gs)
			}
		}
	}
	fmt.Fprintf(stdout, "\npeak memory (RSS): Go %.0f MB", rep.GoPeakMB)
	if rep.Torch != nil {
		fmt.Fprintf(stdout, ", PyTorch %s %.0f MB\n", rep.TorchVer, rep.TorchPeakMB)
	} else {
		fmt.Fprintln(stdout)
	}
	if torchErr != nil {
		fmt.Fprintf(stdout, "PyTorch side skipped: %v\n(install Debian's python3-torch, or pass --python)\n", torchErr)
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("bench engine: %w", err)
		}
	}
	return nil
}

// defaultPython prefers Debian's interpreter, where python3-torch installs.
func defaultPython() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

func runTorch(python, script, nets string, iters, warmup int) (*torchResult, error) {
	last, raw, err := torchJSON(python, script, "--threads", strconv.Itoa(runtime.GOMAXPROCS(0)), "--iters", strconv.Itoa(iters),
		"--warmup", strconv.Itoa(warmup), "--nets", nets, "--json")
	if err != nil {
		return nil, err
	}
	tr := &torchResult{Nets: map[string]engineTimes{}}
	if err := json.Unmarshal(last, tr); err != nil {
		return nil, fmt.Errorf("reading %s output: %w", script, err)
	}
	for _, n := range []string{"A", "B"} {
		if r, ok := raw[n]; ok {
			var t engineTimes
			if err := json.Unmarshal(r, &t); err != nil {
				return nil, fmt.Errorf("reading %s output for net %s: %w", script, n, err)
			}
			tr.Nets[n] = t
		}
	}
	return tr, nil
}

// torchJSON runs a PyTorch benchmark script and returns the JSON object on
// the last line of its output, whole and by key.
func torchJSON(python, script string, args ...string) ([]byte, map[string]json.RawMessage, error) {
	if _, err := os.Stat(script); err != nil {
		return nil, nil, fmt.Errorf("%s not found (run from the repository root, or pass --torch-script)", script)
	}
	cmd := exec.Command(python, append([]string{script}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return nil, nil, fmt.Errorf("%s %s: %v: %s", python, script, err, msg)
	}
	// The JSON is the last line; anything before it is the script's chatter.
	var last string
	for sc := bufio.NewScanner(&out); sc.Scan(); {
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "{") {
			last = l
		}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(last), &raw); err != nil {
		return nil, nil, fmt.Errorf("reading %s output %q: %w", script, last, err)
	}
	return []byte(last), raw, nil
}

// median times fn after warm-up calls and returns the median in seconds.
func median(fn func(), warmup, iters int) float64 {
	for range warmup {
		fn()
	}
	ts := make([]float64, iters)
	for i := range ts {
		start := time.Now()
		fn()
		ts[i] = time.Since(start).Seconds()
	}
	slices.Sort(ts)
	return ts[len(ts)/2]
}

func gemmThroughput(m, k, n, iters int) float64 {
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%13) * 0.1
	}
	for i := range b {
		b[i] = float32(i%7) * 0.1
	}
	s := median(func() { tensor.Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) }, 2, iters)
	return 2 * float64(m) * float64(k) * float64(n) / s / 1e9
}

// peakRSSMB reads the process's peak resident set size (Linux); 0 elsewhere.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// ratioRow is one line of a Go-against-PyTorch table; torch is 0 when the
// PyTorch side did not run.
type ratioRow struct {
	name      string
	goS, torS float64
}

// printRatios prints the table of a bench command, its peak memory line
// and why PyTorch was skipped, if it was (torchName "" when it did not run).
func printRatios(w io.Writer, rows []ratioRow, goPeak float64, torchName string, torchPeak float64, torchErr error) {
	fmt.Fprintln(w, "\n| step | Go (s) | PyTorch (s) | Go / PyTorch |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	for _, r := range rows {
		if r.torS > 0 {
			fmt.Fprintf(w, "| %s | %.3f | %.3f | %.2f× |\n", r.name, r.goS, r.torS, r.goS/r.torS)
		} else {
			fmt.Fprintf(w, "| %s | %.3f | – | – |\n", r.name, r.goS)
		}
	}
	fmt.Fprintf(w, "\npeak memory (RSS): Go %.0f MB", goPeak)
	if torchName != "" {
		fmt.Fprintf(w, ", PyTorch %s %.0f MB\n", torchName, torchPeak)
	} else {
		fmt.Fprintln(w)
	}
	if torchErr != nil {
		fmt.Fprintf(w, "PyTorch side skipped: %v\n(install Debian's python3-torch, or pass --python)\n", torchErr)
	}
}

// writeBenchJSON writes a bench command's --json report: the build, the
// kernel and thread count, plus rep.
func writeBenchJSON(path string, rep map[string]any) error {
	rep["build"], rep["gemm_backend"], rep["threads"] = buildName(), tensor.GemmBackend(), runtime.GOMAXPROCS(0)
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
