package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"facereward/bench"
)

func runBench(args []string, stdout io.Writer) error {
	return dispatch("bench", "Speed against PyTorch, in one run.", []subcommand{
		{"engine", "the engine's nets A and B against PyTorch", benchEngine},
		{"restorer", "the default restorer's training steps and restore time against PyTorch", benchRestorer},
		{"photo", "restore's whole-photo pipeline per photo and per face, beside the peers' published CPU figures", benchPhoto},
		{"refl", "one ReFL step (batch 4) and one dynamic FRM update against PyTorch", benchReFL},
	}, args, stdout)
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
	nets := fs.String("nets", "A,B", "which nets to time")
	o, check := benchOptions(fs, 10, 3, "bench/engine_torch.py")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *quick {
		o.Iters, o.Warmup = 3, 1
	}
	if err := check("engine"); err != nil {
		return err
	}
	names := strings.Split(*nets, ",")
	for _, n := range names {
		if n != "A" && n != "B" {
			return fmt.Errorf("bench engine: unknown net %q (want A or B)", n)
		}
	}
	return bench.Engine(bench.EngineOptions{Nets: names, Options: *o}, stdout)
}

// benchOptions declares the flags every benchmark against PyTorch takes
// (iterations, warm-up, the PyTorch side, --json); check validates them
// after fs.Parse.
func benchOptions(fs *flag.FlagSet, iters, warmup int, script string) (o *bench.Options, check func(name string) error) {
	o = &bench.Options{}
	fs.IntVar(&o.Iters, "iters", iters, "timed iterations per measurement (the median is reported)")
	fs.IntVar(&o.Warmup, "warmup", warmup, "untimed iterations first")
	fs.StringVar(&o.Python, "python", bench.DefaultPython(), "Python interpreter with torch")
	fs.StringVar(&o.Script, "torch-script", script, "the PyTorch side of the benchmark")
	fs.BoolVar(&o.NoTorch, "no-torch", false, "skip PyTorch")
	fs.StringVar(&o.JSON, "json", "", "also write the results as JSON to this file")
	return o, func(name string) error {
		if o.Iters < 1 || o.Warmup < 0 {
			return fmt.Errorf("bench %s: --iters must be ≥ 1 and --warmup ≥ 0", name)
		}
		return nil
	}
}
