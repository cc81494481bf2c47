package evaluate

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"facereward/imageio"
	"facereward/report"
)

// lmdCommon is the key of LMD over the faces every method placed.
const lmdCommon = "lmd_common"

// addCommonLMD adds, when several methods are compared on LMD, a column of
// LMD restricted to the faces every method's landmarks were placed on: a
// method that places one more hard face than another would otherwise show
// a worse mean for it. It returns how many faces that is.
func addCommonLMD(p *report.Page) (int, bool) {
	at := slices.IndexFunc(p.Columns, func(c report.Column) bool { return c.Key == LMD })
	if len(p.Methods) < 2 || at < 0 {
		return 0, false
	}
	placed := map[string]int{}
	for _, m := range p.Methods {
		for _, r := range m.Rows {
			if !math.IsNaN(r.Values[LMD]) {
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
				r.Values[lmdCommon] = r.Values[LMD]
			}
		}
	}
	c := p.Columns[at]
	c.Key, c.Label = lmdCommon, "LMD common (px)"
	p.Columns = slices.Insert(p.Columns, at+1, c)
	return n, true
}

// reportPage builds the report: the metrics the run has, strips of the three
// best and worst faces of the ranked method (the first whose folder is not
// the LQ's or the GT's; by PSNR, or by IDS without ground truth), each
// strip showing LQ, every method and GT, and notes counting what was left
// out.
func reportPage(rep Report, gt, lq map[string]string) report.Page {
	p := report.Page{Title: "facereward eval"}
	for _, info := range All {
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
			} else if _, ok := im.Values[LMD]; gt != nil && !ok {
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
	p.Notes = append(p.Notes, fmt.Sprintf("IDS, Deg and LMD use face-api's networks on the box x=%.5g, y=%.5g, side=%.5g of the image side.", FaceBox[0], FaceBox[1], FaceBox[2]))
	if len(p.Methods) == 0 || len(p.Columns) == 0 {
		return p
	}
	// The LQ and GT folders are often passed as rows of their own (to put
	// their scores in the table); their panels are already in each strip.
	same := func(a, b string) bool { return a != "" && filepath.Clean(a) == filepath.Clean(b) }
	var shown []int
	for i, m := range rep.Methods {
		if !same(m.Dir, rep.LQ) && !same(m.Dir, rep.GT) {
			shown = append(shown, i)
		}
	}
	if len(shown) == 0 {
		shown = []int{0}
	}
	idx := make([]map[string]string, len(rep.Methods))
	for _, i := range shown {
		idx[i], _ = Index(rep.Methods[i].Dir)
	}
	by := p.Columns[0]
	ranked := p.Methods[shown[0]]
	best, worst := report.BestWorst(ranked.Rows, by, 3)
	for _, set := range []struct {
		what  string
		names []string
	}{{"best", best}, {"worst", worst}} {
		for _, n := range set.names {
			s := report.Strip{Caption: fmt.Sprintf("%s %s of %s: %s", set.what, by.Label, ranked.Name, n)}
			add := func(label string, idx map[string]string) {
				if png := pngOf(idx, n); png != nil {
					s.Images = append(s.Images, report.StripImage{Label: label, PNG: png})
				}
			}
			add("LQ", lq)
			for _, i := range shown {
				add(rep.Methods[i].Name, idx[i])
			}
			add("GT", gt)
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
