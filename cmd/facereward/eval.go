package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"facereward/atomicfile"
	"facereward/dataset"
	"facereward/evaluate"
	"facereward/imageio"
	"facereward/metrics"
	"facereward/progress"
	"facereward/report"
	"facereward/tensor"
)

// evalImage is one image's entry in metrics.json; missing metrics are left
// out of Values (JSON has no NaN) and explained in Problems.
type evalImage struct {
	Name     string             `json:"name"`
	Values   map[string]float64 `json:"values"`
	Problems []string           `json:"problems,omitempty"`
}

type evalMethod struct {
	Name   string             `json:"name"`
	Dir    string             `json:"dir"`
	Means  map[string]float64 `json:"means"`
	Counts map[string]int     `json:"counts"`
	// FIDID is the Fréchet distance between the identity descriptors of the
	// restorations and of the references (--fid-id), a set-level number.
	FIDID  *float64    `json:"fid_id,omitempty"`
	Images []evalImage `json:"images"`
}

type evalReport struct {
	GT      string       `json:"gt,omitempty"`
	LQ      string       `json:"lq,omitempty"`
	FaceBox [3]float64   `json:"face_box"`
	Methods []evalMethod `json:"methods"`
}

func runEval(args []string, stdout io.Writer) error {
	fs := newFlags("eval", "eval --pred DIR [--pred DIR…] [--gt DIR] [--lq DIR] --out DIR", `
Scores restored faces. With --gt: PSNR, SSIM (RGB and Y, as basicsr), IDS and
its angle Deg (face-api recognition descriptors), LMD (68 face-api landmarks,
in pixels and over the inter-ocular distance), BRISQUE (OpenCV's LIVE model)
and NIQE-FFHQ (NIQE fitted on this project's FFHQ train faces — not MATLAB's
model). Without --gt (real low-quality photos): the no-reference metrics and
identity against --lq.

Files are matched by name without extension. Several --pred folders are
compared side by side. Writes metrics.json (means and per image),
metrics.csv and report.html (one self-contained page) into --out and prints
a Markdown summary. A face the landmark net cannot place is reported, left
out of LMD and counted.`, stdout)
	var preds stringList
	fs.Var(&preds, "pred", "folder of restorations (repeatable)")
	var names stringList
	fs.Var(&names, "name", "name of the matching --pred in tables (repeatable; default: the folder name)")
	gtDir := fs.String("gt", "", "folder of ground-truth faces")
	lqDir := fs.String("lq", "", "folder of low-quality inputs (shown in strips; identity reference without --gt)")
	out := fs.String("out", "", "output folder")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "parallel workers")
	cropBorder := fs.Int("crop-border", 0, "pixels at each edge that PSNR and SSIM ignore (basicsr's crop_border)")
	fidID := fs.Bool("fid-id", false, "also report FID-ID: the Fréchet distance between the sets of identity descriptors (needs well over 128 images to be meaningful)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(preds) == 0 || *out == "" {
		return fmt.Errorf("eval: --pred and --out are required (see --help)")
	}
	if *gtDir == "" && *lqDir == "" {
		return fmt.Errorf("eval: give --gt (full-reference metrics) or --lq (no-ground-truth mode)")
	}
	if len(names) != 0 && len(names) != len(preds) {
		return fmt.Errorf("eval: %d --name for %d --pred", len(names), len(preds))
	}
	if *workers < 1 {
		return fmt.Errorf("eval: --workers must be ≥ 1")
	}
	gt, err := indexDir(*gtDir)
	if err != nil {
		return err
	}
	lq, err := indexDir(*lqDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("eval: %w", err)
	}

	rep := evalReport{GT: *gtDir, LQ: *lqDir, FaceBox: evaluate.FaceBox}
	scorers := make(chan *evaluate.Scorer, *workers)
	for range *workers {
		s, err := evaluate.NewScorer()
		if err != nil {
			return err
		}
		s.CropBorder = *cropBorder
		scorers <- s
	}
	for i, dir := range preds {
		pred, err := indexDir(dir)
		if err != nil {
			return err
		}
		ref := gt
		if ref == nil {
			ref = lq
		}
		keys, err := matchNames(dir, pred, ref)
		if err != nil {
			return err
		}
		name := filepath.Base(filepath.Clean(dir))
		if len(names) > 0 {
			name = names[i]
		}
		m := evalMethod{Name: name, Dir: dir, Images: make([]evalImage, len(keys))}
		descs := make([][2][]float32, len(keys))
		bar := progress.New(os.Stderr, "eval "+name, len(keys))
		var wg sync.WaitGroup
		next := make(chan int)
		for range *workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := <-scorers
				defer func() { scorers <- s }()
				for j := range next {
					m.Images[j], descs[j] = scoreOne(s, keys[j], pred, gt, lq)
					bar.Add(1)
				}
			}()
		}
		for j := range keys {
			next <- j
		}
		close(next)
		wg.Wait()
		bar.Finish()
		m.Means, m.Counts = means(m.Images)
		if *fidID {
			var a, b [][]float32
			for _, d := range descs {
				if d[0] != nil && d[1] != nil {
					a, b = append(a, d[0]), append(b, d[1])
				}
			}
			v, err := metrics.FIDID(a, b)
			if err != nil {
				return fmt.Errorf("eval: %s: %w", name, err)
			}
			m.FIDID = &v
		}
		rep.Methods = append(rep.Methods, m)
	}

	page := reportPage(rep, preds[0], gt, lq)
	fmt.Fprintln(stdout)
	report.Markdown(stdout, page)
	for _, n := range page.Notes {
		fmt.Fprintln(stdout, n)
	}
	for _, m := range rep.Methods {
		if m.FIDID != nil {
			fmt.Fprintf(stdout, "%s: FID-ID %.4f over %d faces (Fréchet distance of face-api identity descriptors; not image FID)\n", m.Name, *m.FIDID, m.Counts[evaluate.IDS])
		}
	}
	if err := writeEvalJSON(filepath.Join(*out, "metrics.json"), rep); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if err := writeEvalCSV(filepath.Join(*out, "metrics.csv"), rep); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if err := report.WriteFile(filepath.Join(*out, "report.html"), page); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	fmt.Fprintf(stdout, "eval: wrote metrics.json, metrics.csv and report.html to %s\n", *out)
	return nil
}

// indexDir maps each image's relative path without extension to its file.
func indexDir(dir string) (map[string]string, error) {
	if dir == "" {
		return nil, nil
	}
	f, err := dataset.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	idx := make(map[string]string, f.Len())
	for _, file := range f.Files {
		idx[strings.TrimSuffix(filepath.ToSlash(file.Rel), filepath.Ext(file.Rel))] = file.Path
	}
	return idx, nil
}

// matchNames pairs every restoration with a reference image; anything
// unmatched on either side is an error that lists it.
func matchNames(dir string, pred, ref map[string]string) ([]string, error) {
	var keys, onlyPred, onlyRef []string
	for k := range pred {
		if _, ok := ref[k]; ok {
			keys = append(keys, k)
		} else {
			onlyPred = append(onlyPred, k)
		}
	}
	for k := range ref {
		if _, ok := pred[k]; !ok {
			onlyRef = append(onlyRef, k)
		}
	}
	sort.Strings(keys)
	if len(onlyPred)+len(onlyRef) > 0 {
		return nil, fmt.Errorf("eval: %s does not pair up with the references: %s", dir, unmatched(onlyPred, onlyRef))
	}
	return keys, nil
}

func unmatched(onlyPred, onlyRef []string) string {
	list := func(s []string) string {
		sort.Strings(s)
		if len(s) > 10 {
			return strings.Join(s[:10], ", ") + fmt.Sprintf(" … and %d more", len(s)-10)
		}
		return strings.Join(s, ", ")
	}
	var parts []string
	if len(onlyPred) > 0 {
		parts = append(parts, fmt.Sprintf("%d restorations without a reference (%s)", len(onlyPred), list(onlyPred)))
	}
	if len(onlyRef) > 0 {
		parts = append(parts, fmt.Sprintf("%d references without a restoration (%s)", len(onlyRef), list(onlyRef)))
	}
	return strings.Join(parts, "; ")
}

// scoreOne scores one image and returns its identity descriptors (pred,
// ref) for FID-ID, nil when there are none.
func scoreOne(s *evaluate.Scorer, key string, pred, gt, lq map[string]string) (im evalImage, desc [2][]float32) {
	im = evalImage{Name: key, Values: map[string]float64{}}
	load := func(idx map[string]string) (*tensor.Tensor, error) {
		if idx == nil {
			return nil, nil
		}
		return imageio.Read(idx[key])
	}
	p, err := load(pred)
	if err != nil {
		im.Problems = append(im.Problems, err.Error())
		return im, desc
	}
	g, err := load(gt)
	if err != nil {
		im.Problems = append(im.Problems, err.Error())
		return im, desc
	}
	var ref *tensor.Tensor
	if g == nil {
		if ref, err = load(lq); err != nil {
			im.Problems = append(im.Problems, err.Error())
			return im, desc
		}
		if ref != nil && !tensor.SameShape(ref.Shape, p.Shape) {
			im.Problems = append(im.Problems, fmt.Sprintf("input is %s but restoration is %s", tensor.ShapeString(ref.Shape), tensor.ShapeString(p.Shape)))
			return im, desc
		}
	}
	r, err := s.Pair(p, g, ref)
	if err != nil {
		im.Problems = append(im.Problems, err.Error())
		return im, desc
	}
	for k, v := range r.Values {
		switch {
		case math.IsInf(v, 0):
			// PSNR of identical images; JSON cannot hold it, so say so.
			im.Problems = append(im.Problems, k+" is infinite (identical images); left out of the mean")
		case !math.IsNaN(v):
			im.Values[k] = v
		}
	}
	im.Problems = append(im.Problems, r.Problems...)
	return im, [2][]float32{r.PredDesc, r.RefDesc}
}

func means(images []evalImage) (map[string]float64, map[string]int) {
	sum, cnt := map[string]float64{}, map[string]int{}
	for _, im := range images {
		for k, v := range im.Values {
			sum[k] += v
			cnt[k]++
		}
	}
	for k := range sum {
		sum[k] /= float64(cnt[k])
	}
	return sum, cnt
}

func writeEvalJSON(path string, rep evalReport) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(rep)
	})
}

func writeEvalCSV(path string, rep evalReport) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		head := []string{"method", "image"}
		for _, m := range evaluate.All {
			head = append(head, m.Key)
		}
		cw.Write(append(head, "problems"))
		for _, m := range rep.Methods {
			for _, im := range m.Images {
				row := []string{m.Name, im.Name}
				for _, info := range evaluate.All {
					if v, ok := im.Values[info.Key]; ok {
						row = append(row, strconv.FormatFloat(v, 'g', 8, 64))
					} else {
						row = append(row, "")
					}
				}
				cw.Write(append(row, strings.Join(im.Problems, "; ")))
			}
		}
		cw.Flush()
		return cw.Error()
	})
}

// lmdCommon is the key of LMD over the faces every method placed.
const lmdCommon = "lmd_common"

// addCommonLMD adds, when several methods are compared on LMD, a column of
// LMD restricted to the faces every method's landmarks were placed on: a
// method that places one more hard face than another would otherwise show
// a worse mean for it. It returns how many faces that is.
func addCommonLMD(p *report.Page) (int, bool) {
	at := slices.IndexFunc(p.Columns, func(c report.Column) bool { return c.Key == evaluate.LMD })
	if len(p.Methods) < 2 || at < 0 {
		return 0, false
	}
	placed := map[string]int{}
	for _, m := range p.Methods {
		for _, r := range m.Rows {
			if !math.IsNaN(r.Values[evaluate.LMD]) {
				placed[r.Name]++
			}
		}
	}
	n := 0
	for _, c := range placed {
		if c == len(p.Methods) {
			n++
		}
	}
	for _, m := range p.Methods {
		for _, r := range m.Rows {
			r.Values[lmdCommon] = math.NaN()
			if placed[r.Name] == len(p.Methods) {
				r.Values[lmdCommon] = r.Values[evaluate.LMD]
			}
		}
	}
	c := p.Columns[at]
	c.Key, c.Label = lmdCommon, "LMD common (px)"
	p.Columns = slices.Insert(p.Columns, at+1, c)
	return n, true
}

// reportPage builds the report: the metrics the run has, strips of the three
// best and worst faces of the first method (by PSNR, or by IDS without
// ground truth), and notes counting what was left out.
func reportPage(rep evalReport, predDir string, gt, lq map[string]string) report.Page {
	p := report.Page{Title: "facereward eval"}
	for _, info := range evaluate.All {
		if info.NeedsGT && gt == nil {
			continue
		}
		p.Columns = append(p.Columns, report.Column{Key: info.Key, Label: info.Label, HigherBetter: info.HigherBetter, Digits: info.Digits})
	}
	for _, m := range rep.Methods {
		rm := report.Method{Name: m.Name}
		for _, im := range m.Images {
			vals := map[string]float64{}
			for _, c := range p.Columns {
				vals[c.Key] = math.NaN()
				if v, ok := im.Values[c.Key]; ok {
					vals[c.Key] = v
				}
			}
			rm.Rows = append(rm.Rows, report.Row{Name: im.Name, Values: vals})
		}
		p.Methods = append(p.Methods, rm)
		var lmdMissing, failed int
		for _, im := range m.Images {
			if len(im.Values) == 0 {
				failed++
			} else if _, ok := im.Values[evaluate.LMD]; gt != nil && !ok {
				lmdMissing++
			}
		}
		if failed > 0 {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: %d images could not be scored (see metrics.json).", m.Name, failed))
		}
		if lmdMissing > 0 {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: %d faces left out of LMD (the landmark net could not place them).", m.Name, lmdMissing))
		}
	}
	if n, ok := addCommonLMD(&p); ok {
		p.Notes = append(p.Notes, fmt.Sprintf("LMD common: LMD over the %d faces placed in every row, the figure to compare across rows (each row's LMD counts the faces its own landmarks were placed on).", n))
	}
	p.Notes = append(p.Notes, fmt.Sprintf("IDS, Deg and LMD use face-api's networks on the box x=%.5g, y=%.5g, side=%.5g of the image side.", evaluate.FaceBox[0], evaluate.FaceBox[1], evaluate.FaceBox[2]))
	if len(p.Methods) == 0 || len(p.Columns) == 0 {
		return p
	}
	by := p.Columns[0]
	best, worst := report.BestWorst(p.Methods[0].Rows, by, 3)
	pred, _ := indexDir(predDir)
	for _, set := range []struct {
		what  string
		names []string
	}{{"best", best}, {"worst", worst}} {
		for _, n := range set.names {
			s := report.Strip{Caption: fmt.Sprintf("%s %s: %s", set.what, by.Label, n)}
			for _, panel := range []struct {
				label string
				idx   map[string]string
			}{{"LQ", lq}, {p.Methods[0].Name, pred}, {"GT", gt}} {
				if png := pngOf(panel.idx, n); png != nil {
					s.Images = append(s.Images, report.StripImage{Label: panel.label, PNG: png})
				}
			}
			p.Strips = append(p.Strips, s)
		}
	}
	return p
}

// pngOf re-encodes an image as PNG for embedding (inputs may be JPEG/WebP).
func pngOf(idx map[string]string, key string) []byte {
	path, ok := idx[key]
	if !ok {
		return nil
	}
	img, err := imageio.Read(path)
	if err != nil {
		return nil
	}
	var b bytes.Buffer
	if imageio.EncodePNG(&b, img) != nil {
		return nil
	}
	return b.Bytes()
}
