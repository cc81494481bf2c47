package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"

	"facereward/tensor"
)

// printHeader prints the line every benchmark starts with: the build, the
// GEMM kernel, the thread count and how the medians were taken.
func printHeader(w io.Writer, name string, o Options) {
	fmt.Fprintf(w, "facereward bench %s: build %s, GEMM %s, %d threads, median of %d after %d warm-up\n",
		name, tensor.Build(), tensor.GemmBackend(), runtime.GOMAXPROCS(0), o.Iters, o.Warmup)
}

// paramList is "stage 1 457036, UNet 6041276": counts[i] parameters in
// the network names[i].
func paramList(names []string, counts []int) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = fmt.Sprintf("%s %d", n, counts[i])
	}
	return strings.Join(s, ", ")
}

// sameNets checks that the PyTorch side models the networks the Go side
// times: equal parameter counts, network by network (names).
func sameNets(script string, names []string, goCounts, torchCounts []int) error {
	if slices.Equal(goCounts, torchCounts) {
		return nil
	}
	return fmt.Errorf("%s models %s parameters, Go %s: not the same networks", script, paramList(names, torchCounts), paramList(names, goCounts))
}

// row is one line of a Go-against-PyTorch table; torchS is 0 when the
// PyTorch side did not run, goMB and torchMB 0 where the step's peak
// memory was not measured.
type row struct {
	name          string
	goS, torchS   float64 // seconds
	goMB, torchMB float64 // the step's peak RSS (medianPeak)
}

// report ends a benchmark against PyTorch: it prints the table of rows,
// the peak memory (the Go side's read now, after its timing) and why
// PyTorch was skipped, if it was, and, when o.JSON is set, writes there
// {"go": goTimes, "go_peak_rss_mb": …, "torch": PyTorch's JSON line when
// it ran}, the build, GEMM kernel and thread count, and extra's keys.
func report(w io.Writer, o Options, rows []row, goTimes any, t torchRun, extra map[string]any) error {
	// medianPeak's resets lower VmHWM: the run's peak is the largest
	// step's, or what came after the last reset.
	peak := peakRSSMB()
	for _, r := range rows {
		peak = max(peak, r.goMB)
	}
	printRatios(w, rows, peak, t.Torch, t.PeakMB, t.skipped)
	if o.JSON == "" {
		return nil
	}
	rep := map[string]any{"go": goTimes, "go_peak_rss_mb": peak,
		"build": tensor.Build(), "gemm_backend": tensor.GemmBackend(), "threads": runtime.GOMAXPROCS(0)}
	if t.ran() {
		rep["torch"] = t.line
	}
	for k, v := range extra {
		rep[k] = v
	}
	return writeJSON(o.JSON, rep)
}

// printRatios prints a benchmark's table, its peak memory line and why
// PyTorch was skipped, if it was (torchName is "" when it did not run).
func printRatios(w io.Writer, rows []row, goPeak float64, torchName string, torchPeak float64, torchErr error) {
	fmt.Fprintln(w, "\n| step | Go (s) | PyTorch (s) | Go / PyTorch | Go peak (MB) | PyTorch peak (MB) | Go / PyTorch |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- |")
	num := func(v float64, format string) string {
		if v > 0 {
			return fmt.Sprintf(format, v)
		}
		return "–"
	}
	ratio := func(a, b float64) string {
		if a > 0 && b > 0 {
			return fmt.Sprintf("%.2f×", a/b)
		}
		return "–"
	}
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %.3f | %s | %s | %s | %s | %s |\n", r.name, r.goS, num(r.torchS, "%.3f"), ratio(r.goS, r.torchS),
			num(r.goMB, "%.0f"), num(r.torchMB, "%.0f"), ratio(r.goMB, r.torchMB))
	}
	printPeaks(w, goPeak, torchName, torchPeak, torchErr)
}

// printPeaks prints both sides' peak memory after a table, and why
// PyTorch was skipped, if it was (torchName is "" when it did not run).
func printPeaks(w io.Writer, goPeak float64, torchName string, torchPeak float64, torchErr error) {
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

// writeJSON writes a --json report, indented.
func writeJSON(path string, rep any) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
