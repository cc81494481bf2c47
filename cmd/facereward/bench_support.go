package main

import (
	"encoding/json"
	"io"

	"facereward/bench"
	"facereward/tensor"
)

// What bench_refl.go uses of package bench, under the names it calls; this
// file goes when `bench refl` moves into a library as engine and restorer
// have.

func buildName() string     { return tensor.Build() }
func defaultPython() string { return bench.DefaultPython() }
func peakRSSMB() float64    { return bench.PeakRSSMB() }

func median(fn func(), warmup, iters int) float64 { return bench.Median(fn, warmup, iters) }

func torchJSON(python, script string, args ...string) ([]byte, map[string]json.RawMessage, error) {
	return bench.TorchJSON(python, script, args...)
}

func writeBenchJSON(path string, rep map[string]any) error { return bench.WriteJSON(path, rep) }

// ratioRow is bench.Row; torS is 0 when the PyTorch side did not run.
type ratioRow struct {
	name      string
	goS, torS float64
}

func printRatios(w io.Writer, rows []ratioRow, goPeak float64, torchName string, torchPeak float64, torchErr error) {
	rs := make([]bench.Row, len(rows))
	for i, r := range rows {
		rs[i] = bench.Row{Name: r.name, Go: r.goS, Torch: r.torS}
	}
	bench.PrintRatios(w, rs, goPeak, torchName, torchPeak, torchErr)
}
