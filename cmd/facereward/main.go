// Command facereward restores degraded face photos with a diffusion model and
// trains that model with reward feedback learning (DiffusionReward).
//
// Run `facereward help` for the list of commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"facereward/tensor"
)

// version is the release; the VCS revision is added from the build info.
const version = "0.1.0-dev"

type command struct {
	name, summary string
	run           func(args []string, stdout io.Writer) error
}

func commands() []command {
	return []command{
		{"version", "print the version, the build and the matrix-product kernel in use", runVersion},
		{"restore", "restore faces: aligned crops, or whole photos (detect, align, restore, paste back)", runRestore},
		{"degrade", "make (LQ, GT) test pairs from a folder of faces with a degradation preset", runDegrade},
		{"train", "train a network: `train restorer --stage 1|2`, `train reward`", runTrain},
		{"pack", "assemble a model directory (what restore --model reads) from a stage-2 run", runPack},
		{"prefs", "preference data for the reward model: generate pairs, label, export, import", runPrefs},
		{"serve", "serve restore over HTTP (/restore page, /api/restore) and the annotation page (/annotate)", runServe},
		{"reward", "the Face Reward Model: `reward score` faces, `reward eval` it on preference pairs", runReward},
		{"eval", "score restorations: PSNR, SSIM, IDS, LMD, BRISQUE, NIQE-FFHQ; writes an HTML report", runEval},
		{"bench", "measure speed against PyTorch: `bench engine|restorer|photo|refl`", runBench},
		{"help", "list the commands, or explain one: help COMMAND", nil},
	}
}

// gcPercent is the collector's target unless GOGC is set: a new cycle once
// the heap has grown by a quarter over what the last one kept, not by the
// runtime's default of all of it. The heap is mostly the graphs'
// pointer-free float buffers, which a collection does not scan, so
// frequent cycles cost little, while a training step's few hundred MB of
// garbage would otherwise pile up to the size of everything live.
const gcPercent = 25

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "facereward:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	prof, args, err := parseProfileFlags(args)
	if err != nil {
		return err
	}
	if prof != (profileFlags{}) {
		return profiled(prof, func() error { return run(args, stdout, stderr) })
	}
	if len(args) == 0 || isHelp(args[0]) {
		// "help help" and "--help -h" ask for the list, not for a command.
		if len(args) > 1 && !isHelp(args[1]) {
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] && c.run != nil {
			return c.run(args[1:], stdout)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "--help" || arg == "-help"
}

func usage(w io.Writer) {
	fmt.Fprint(w, `facereward: blind face restoration with a diffusion model, tuned by reward feedback learning.

Usage: facereward COMMAND [flags]
       facereward --cpuprofile FILE --memprofile FILE COMMAND [flags]   (profiles: docs/profiling.md)

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun `facereward COMMAND --help` for a command's flags.\n")
}

// newFlags makes a command's flag set whose --help prints the summary first.
func newFlags(name, synopsis, about string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: facereward %s\n\n%s\n", synopsis, strings.TrimSpace(about))
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprint(out, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args and refuses a number flag set to NaN or ±Inf:
// every range check compares, and a NaN passes every comparison.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return checkFinite(fs)
}

// checkFinite names the first flag set to a non-finite number.
func checkFinite(fs *flag.FlagSet) error {
	var bad error
	fs.Visit(func(f *flag.Flag) {
		g, ok := f.Value.(flag.Getter)
		if !ok || bad != nil {
			return
		}
		if v, ok := g.Get().(float64); ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			bad = fmt.Errorf("%s: --%s %v: want a finite number", fs.Name(), f.Name, v)
		}
	})
	return bad
}

// parseInterspersed parses flags that may come before, between or after
// positional arguments (`restore a.png b.png --out dir`), which the flag
// package alone stops at; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, checkFinite(fs)
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), checkFinite(fs)
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func runVersion(args []string, stdout io.Writer) error {
	fs := newFlags("version", "version", "Prints the version, the Go toolchain, the build and the GEMM kernel chosen for this CPU.", stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	fmt.Fprintf(stdout, "facereward %s%s (%s, %s/%s, build %s, GEMM %s, %d threads)\n",
		version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH, tensor.Build(), tensor.GemmBackend(), runtime.GOMAXPROCS(0))
	return nil
}
