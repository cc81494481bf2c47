package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// printBins prints, for each preset, its faces split by stage-1 detail at
// edges (ascending): per bin, the mean PSNR gain over the LQ and the mean
// BRISQUE of stage 1, of each grid guidance and of the GT (its BRISQUE),
// where the report has those rows. It is how the rules' data looks before
// any ramp is fitted to it.
func printBins(w io.Writer, ps []*preset, edges []float64) {
	for _, p := range ps {
		fmt.Fprintf(w, "\n%s (%d faces): PSNR − LQ / BRISQUE by stage-1 detail\n", p.name, len(p.detail))
		fmt.Fprint(w, "| stage-1 detail | faces |")
		_, s1 := p.rows["stage 1"]
		_, gt := p.rows["GT"]
		if s1 {
			fmt.Fprint(w, " stage 1 |")
		}
		for _, g := range p.grid {
			fmt.Fprintf(w, " %g |", g)
		}
		if gt {
			fmt.Fprint(w, " GT BRISQUE |")
		}
		fmt.Fprint(w, "\n| --- | --- |")
		for range len(p.grid) + btoi(s1) + btoi(gt) {
			fmt.Fprint(w, " --- |")
		}
		fmt.Fprintln(w)
		lo := math.Inf(-1)
		for k := 0; k <= len(edges); k++ {
			hi := math.Inf(1)
			if k < len(edges) {
				hi = edges[k]
			}
			var in []int
			for i, d := range p.detail {
				if d >= lo && d < hi {
					in = append(in, i)
				}
			}
			fmt.Fprintf(w, "| %s | %d |", binName(lo, hi), len(in))
			if len(in) > 0 {
				if s1 {
					v := p.rows["stage 1"]
					fmt.Fprintf(w, " %s |", cell(in, func(i int) float64 { return v[i].psnr - p.lq[i] }, func(i int) float64 { return v[i].brisque }))
				}
				for j := range p.grid {
					fmt.Fprintf(w, " %s |", cell(in, func(i int) float64 { return p.psnr[i][j] - p.lq[i] }, func(i int) float64 { return p.brisque[i][j] }))
				}
				if gt {
					v := p.rows["GT"]
					fmt.Fprintf(w, " %.1f |", meanOf(in, func(i int) float64 { return v[i].brisque }))
				}
			}
			fmt.Fprintln(w)
			lo = hi
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func binName(lo, hi float64) string {
	switch {
	case math.IsInf(lo, -1):
		return fmt.Sprintf("below %g", hi)
	case math.IsInf(hi, 1):
		return fmt.Sprintf("%g and above", lo)
	}
	return fmt.Sprintf("%g to %g", lo, hi)
}

func cell(in []int, gain, brisque func(int) float64) string {
	return fmt.Sprintf("%+.2f / %.1f", meanOf(in, gain), meanOf(in, brisque))
}

func meanOf(in []int, f func(int) float64) float64 {
	var s float64
	for _, i := range in {
		s += f(i)
	}
	return s / float64(len(in))
}

// parseFloats reads flag's comma-separated list of numbers.
func parseFloats(flag, s string) ([]float64, error) {
	var e []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || math.IsNaN(v) {
			return nil, fmt.Errorf("--%s %q: %q is not a number", flag, s, f)
		}
		e = append(e, v)
	}
	return e, nil
}

// parseEdges reads a comma-separated list of detail values, ascending.
func parseEdges(s string) ([]float64, error) {
	e, err := parseFloats("bins", s)
	if err != nil {
		return nil, err
	}
	if !slices.IsSorted(e) || len(e) == 0 {
		return nil, fmt.Errorf("--bins %q: want ascending detail values, as -3.8,-3.6,-3.3", s)
	}
	return e, nil
}
