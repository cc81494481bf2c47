// Command mildtune fits restore's --mild-guidance rule to per-face results:
// for each preset folder of ROOT (as bench/mild.sh lays it out: stage1/
// and eval/metrics.json with rows LQ and g<guidance> for a grid of uniform
// guidance values), it reads each face's stage-1 detail
// (restorer.LogDetail) and its PSNR and BRISQUE at every guidance, then
// tries ramps of guidance over detail: from the grid's lowest guidance at
// detail FROM up to MILD at FROM+SPAN. A face's results between grid
// values are interpolated linearly, so the chosen rule must then be
// checked with a real run.
//
// Of the rules that keep every preset's mean PSNR at least --psnr-gain
// above the LQ's and its mean BRISQUE at most --max-brisque, it prints
// those of lowest mean BRISQUE; when none does, those under the BRISQUE
// bound whose PSNR gains are best in leximin order (the smallest gain
// first, then the next; gains equal to 0.01 dB tie, and lower mean
// BRISQUE breaks a tie).
//
//	go run ./tools/mildtune [--psnr-gain 0.3] [--max-brisque 17] ROOT
//
// --bins D1,D2,… prints the per-face data instead, split by stage-1
// detail: each bin's mean PSNR gain and BRISQUE in the stage-1 row, at
// each grid guidance, and the GT's BRISQUE.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"facereward/evaluate"
	"facereward/imageio"
	"facereward/restorer"
	"facereward/tensor"
)

func main() {
	gain := flag.Float64("psnr-gain", 0.3, "least mean PSNR gain over the LQ, per preset (dB)")
	maxB := flag.Float64("max-brisque", 17, "most mean BRISQUE, per preset (the restorer's bound is 18: 1 less leaves a margin for other faces than these)")
	top := flag.Int("top", 8, "rules printed")
	compare := flag.String("rule", fmt.Sprintf("%g,%g,%g", restorer.MildFrom, restorer.MildSpan, restorer.DefaultMildGuidance),
		"a ramp FROM,SPAN,MILD printed first, to compare the fitted ones with (the default is restore's)")
	bins := flag.String("bins", "", "instead of fitting, print each preset's faces split by stage-1 detail at these\ncomma-separated values (ascending), as -3.8,-3.6,-3.3")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: mildtune [flags] ROOT (bench/mild.sh's output folder)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	var err error
	if *bins != "" {
		err = runBins(flag.Arg(0), *bins)
	} else {
		err = run(flag.Arg(0), *compare, *gain, *maxB, *top)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mildtune:", err)
		os.Exit(1)
	}
}

// preset is one degradation's faces: detail[i] of face i, and its PSNR
// and BRISQUE at grid[k] (psnr[i][k], brisque[i][k]).
type preset struct {
	name          string
	grid          []float64
	detail        []float64
	psnr, brisque [][]float64
	// lq is each face's LQ PSNR; rows are its results in the other rows
	// of the report ("stage 1", "GT"), where the report has them.
	lq   []float64
	rows map[string][]result
}

// result is one face's PSNR and BRISQUE in one row (PSNR NaN where the
// row has none, as the GT's).
type result struct{ psnr, brisque float64 }

// rule is a guidance ramp and what it gives each preset.
type rule struct {
	from, span, mild float64
	gain, brisque    []float64
}

func runBins(root, bins string) error {
	edges, err := parseEdges(bins)
	if err != nil {
		return err
	}
	ps, err := loadAll(root)
	if err != nil {
		return err
	}
	printBins(os.Stdout, ps, edges)
	return nil
}

// loadAll loads every preset folder of root.
func loadAll(root string) ([]*preset, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "*", "eval", "metrics.json"))
	if err != nil || len(dirs) == 0 {
		return nil, fmt.Errorf("no */eval/metrics.json under %s (run bench/mild.sh first)", root)
	}
	var ps []*preset
	for _, f := range dirs {
		p, err := load(filepath.Dir(filepath.Dir(f)))
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func run(root, compare string, minGain, maxB float64, top int) error {
	c, err := parseFloats("rule", compare)
	if err != nil {
		return err
	}
	if len(c) != 3 || !(c[1] > 0) {
		return fmt.Errorf("--rule %q: want FROM,SPAN,MILD with SPAN > 0, as -2.5,0.4,0.75", compare)
	}
	ps, err := loadAll(root)
	if err != nil {
		return err
	}
	fmt.Println("the rule compared (--rule):")
	header(ps)
	printRule(measure(ps, c[0], c[1], c[2]))
	fmt.Println()
	grid := ps[0].grid
	var rules []rule
	for from := -3.4; from <= -1.85; from += 0.1 {
		for _, span := range []float64{0.1, 0.2, 0.4, 0.6, 0.8} {
			for _, mild := range grid[1:] {
				rules = append(rules, measure(ps, from, span, mild))
			}
		}
	}
	ok := func(r rule) bool { return slices.Max(r.brisque) <= maxB && slices.Min(r.gain) >= minGain }
	var pick []rule
	for _, r := range rules {
		if ok(r) {
			pick = append(pick, r)
		}
	}
	if len(pick) > 0 {
		fmt.Printf("rules meeting PSNR gain >= %g dB and BRISQUE <= %g in every preset, lowest mean BRISQUE first:\n", minGain, maxB)
		sort.SliceStable(pick, func(i, j int) bool { return mean(pick[i].brisque) < mean(pick[j].brisque) })
	} else {
		fmt.Printf("no rule meets PSNR gain >= %g dB and BRISQUE <= %g in every preset; under the BRISQUE bound, best PSNR gains first (leximin):\n", minGain, maxB)
		for _, r := range rules {
			if slices.Max(r.brisque) <= maxB {
				pick = append(pick, r)
			}
		}
		sort.SliceStable(pick, func(i, j int) bool { return leximin(pick[i], pick[j]) })
	}
	header(ps)
	for _, r := range pick[:min(top, len(pick))] {
		printRule(r)
	}
	fmt.Println("\nuniform guidance (no rule), for reference:")
	header(ps)
	for k, g := range grid {
		fmt.Printf("| – | – | %g |", g)
		for _, p := range ps {
			var sp, sb float64
			for i := range p.detail {
				sp, sb = sp+p.psnr[i][k], sb+p.brisque[i][k]
			}
			n := float64(len(p.detail))
			fmt.Printf(" %+.2f / %.1f |", sp/n-mean(p.lq), sb/n)
		}
		fmt.Println()
	}
	return nil
}

// leximin reports whether a's PSNR gains beat b's: compared smallest
// first, to 0.01 dB, then by lower mean BRISQUE.
func leximin(a, b rule) bool {
	ga, gb := slices.Sorted(slices.Values(a.gain)), slices.Sorted(slices.Values(b.gain))
	for k := range ga {
		if x, y := math.Round(100*ga[k]), math.Round(100*gb[k]); x != y {
			return x > y
		}
	}
	return mean(a.brisque) < mean(b.brisque)
}

// measure is the ramp from, span, mild and what it gives each preset.
func measure(ps []*preset, from, span, mild float64) rule {
	r := rule{from: from, span: span, mild: mild}
	for _, p := range ps {
		g, b := p.apply(from, span, mild)
		r.gain, r.brisque = append(r.gain, g), append(r.brisque, b)
	}
	return r
}

// printRule prints r as a row under header; the grid's sums of 0.1 steps
// are rounded to read as typed.
func printRule(r rule) {
	num := func(x float64) string { return strconv.FormatFloat(math.Round(x*1e6)/1e6, 'g', -1, 64) }
	fmt.Printf("| %s | %s | %s |", num(r.from), num(r.span), num(r.mild))
	for k := range r.gain {
		fmt.Printf(" %+.2f / %.1f |", r.gain[k], r.brisque[k])
	}
	fmt.Println()
}

func header(ps []*preset) {
	fmt.Print("| from | span | mild |")
	for _, p := range ps {
		fmt.Printf(" %s (%d): PSNR − LQ / BRISQUE |", p.name, len(p.detail))
	}
	fmt.Print("\n| --- | --- | --- |")
	for range ps {
		fmt.Print(" --- |")
	}
	fmt.Println()
}

// apply is the preset's mean PSNR gain over the LQ and mean BRISQUE under
// the ramp.
func (p *preset) apply(from, span, mild float64) (gain, brisque float64) {
	lo := p.grid[0]
	for i, d := range p.detail {
		g := lo + (mild-lo)*min(max((d-from)/span, 0), 1)
		gain += interp(p.grid, p.psnr[i], g)
		brisque += interp(p.grid, p.brisque[i], g)
	}
	n := float64(len(p.detail))
	return gain/n - mean(p.lq), brisque / n
}

// interp is y at x, linear between the grid points xs (ascending) and
// constant beyond them.
func interp(xs, ys []float64, x float64) float64 {
	if x <= xs[0] {
		return ys[0]
	}
	for k := 1; k < len(xs); k++ {
		if x <= xs[k] {
			t := (x - xs[k-1]) / (xs[k] - xs[k-1])
			return ys[k-1] + t*(ys[k]-ys[k-1])
		}
	}
	return ys[len(ys)-1]
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// load reads one preset folder: eval/metrics.json (as `facereward eval`
// writes it) and the stage-1 estimates its faces are named after.
func load(dir string) (*preset, error) {
	name := filepath.Join(dir, "eval", "metrics.json")
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var rep evaluate.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	byG := map[float64]map[string]result{}
	lq := map[string]float64{}
	other := map[string]map[string]result{}
	for _, m := range rep.Methods {
		g, err := strconv.ParseFloat(strings.TrimPrefix(m.Name, "g"), 64)
		isG := strings.HasPrefix(m.Name, "g") && err == nil
		if m.Name != "LQ" && !isG {
			other[m.Name] = map[string]result{}
			for _, im := range m.Images {
				ps, ok := im.Values["psnr"]
				if !ok {
					ps = math.NaN()
				}
				other[m.Name][im.Name] = result{ps, im.Values["brisque"]}
			}
			continue
		}
		if isG {
			byG[g] = map[string]result{}
		}
		for _, im := range m.Images {
			ps, ok1 := im.Values["psnr"]
			br, ok2 := im.Values["brisque"]
			if !ok1 || (isG && !ok2) {
				return nil, fmt.Errorf("%s: %s of %s: no PSNR or BRISQUE", name, m.Name, im.Name)
			}
			if isG {
				byG[g][im.Name] = result{ps, br}
			} else {
				lq[im.Name] = ps
			}
		}
	}
	p := &preset{name: filepath.Base(dir), rows: map[string][]result{}}
	for g := range byG {
		p.grid = append(p.grid, g)
	}
	slices.Sort(p.grid)
	if len(p.grid) < 2 || len(lq) == 0 {
		return nil, fmt.Errorf("%s: want an LQ row and at least two g<guidance> rows", name)
	}
	ids := slices.Sorted(maps.Keys(lq))
	for _, id := range ids {
		img, err := imageio.Read(filepath.Join(dir, "stage1", id+".png"))
		if err != nil {
			return nil, err
		}
		cond := tensor.New(append([]int{1}, img.Shape...)...)
		for j, v := range img.Data {
			cond.Data[j] = 2*v - 1
		}
		p.detail = append(p.detail, restorer.LogDetail(cond)[0])
		p.lq = append(p.lq, lq[id])
		for row, byID := range other {
			if v, ok := byID[id]; ok {
				p.rows[row] = append(p.rows[row], v)
			}
		}
		var ps, bs []float64
		for _, g := range p.grid {
			v, ok := byG[g][id]
			if !ok {
				return nil, fmt.Errorf("%s: no g%g row for %s", name, g, id)
			}
			ps, bs = append(ps, v.psnr), append(bs, v.brisque)
		}
		p.psnr, p.brisque = append(p.psnr, ps), append(p.brisque, bs)
	}
	for row, v := range p.rows {
		if len(v) != len(ids) {
			delete(p.rows, row) // a row without every face is left out
		}
	}
	return p, nil
}
