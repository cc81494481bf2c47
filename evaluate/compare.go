package evaluate

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"facereward/atomicfile"
	"facereward/imageio"
	"facereward/metrics"
	"facereward/progress"
	"facereward/report"
	"facereward/tensor"
)

// CompareOptions are the folders Compare scores and where it writes.
type CompareOptions struct {
	Preds []string // folders of restorations, compared side by side
	Names []string // their names in tables; empty for the folder names
	GT    string   // folder of ground-truth faces; "" for no-reference mode
	LQ    string   // folder of the inputs: shown in strips, identity reference without GT
	Out   string   // where metrics.json, metrics.csv and report.html go
	// Workers score in parallel, each with its own face networks.
	Workers    int
	CropBorder int  // pixels at each edge that PSNR and SSIM ignore
	FIDID      bool // also compute FID-ID per folder
}

// Report is metrics.json.
type Report struct {
	GT      string     `json:"gt,omitempty"`
	LQ      string     `json:"lq,omitempty"`
	FaceBox [3]float64 `json:"face_box"`
	Methods []Method   `json:"methods"`
}

// Method is one scored folder of restorations.
type Method struct {
	Name   string             `json:"name"`
	Dir    string             `json:"dir"`
	Means  map[string]float64 `json:"means"`
	Counts map[string]int     `json:"counts"`
	// FIDID is the Fréchet distance between the identity descriptors of the
	// restorations and of the references (--fid-id), a set-level number.
	FIDID  *float64 `json:"fid_id,omitempty"`
	Images []Image  `json:"images"`
}

// Compare scores every folder of o.Preds against the references matched by
// name without extension (progress bars on stderr), prints the Markdown
// summary and its notes on stdout, and writes metrics.json, metrics.csv
// and report.html into o.Out.
func Compare(o CompareOptions, stdout, stderr io.Writer) error {
	gt, err := Index(o.GT)
	if err != nil {
		return err
	}
	lq, err := Index(o.LQ)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	pool, err := NewPool(o.Workers, o.CropBorder)
	if err != nil {
		return err
	}
	rep := Report{GT: o.GT, LQ: o.LQ, FaceBox: FaceBox}
	for i, dir := range o.Preds {
		name := filepath.Base(filepath.Clean(dir))
		if len(o.Names) > 0 {
			name = o.Names[i]
		}
		m, err := scoreFolder(pool, dir, name, gt, lq, o.FIDID, stderr)
		if err != nil {
			return err
		}
		rep.Methods = append(rep.Methods, m)
	}

	page := reportPage(rep, gt, lq)
	fmt.Fprintln(stdout)
	report.Markdown(stdout, page)
	for _, n := range page.Notes {
		fmt.Fprintln(stdout, n)
	}
	for _, m := range rep.Methods {
		if m.FIDID != nil {
			fmt.Fprintf(stdout, "%s: FID-ID %.4f over %d faces (Fréchet distance of face-api identity descriptors; not image FID)\n", m.Name, *m.FIDID, m.Counts[IDS])
		}
	}
	if err := writeJSON(filepath.Join(o.Out, "metrics.json"), rep); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if err := writeCSV(filepath.Join(o.Out, "metrics.csv"), rep); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if err := report.WriteFile(filepath.Join(o.Out, "report.html"), page); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	fmt.Fprintf(stdout, "eval: wrote metrics.json, metrics.csv and report.html to %s\n", o.Out)
	return nil
}

// scoreFolder scores the restorations in dir against gt (or, without it,
// identity against lq), averages them and, with fidID, measures FID-ID.
func scoreFolder(pool *Pool, dir, name string, gt, lq map[string]string, fidID bool, stderr io.Writer) (Method, error) {
	pred, err := Index(dir)
	if err != nil {
		return Method{}, err
	}
	ref := gt
	if ref == nil {
		ref = lq
	}
	keys, err := Match(dir, pred, ref)
	if err != nil {
		return Method{}, err
	}
	bar := progress.New(stderr, "eval "+name, len(keys))
	m := Method{Name: name, Dir: dir}
	m.Images = pool.Score(len(keys), func(i int) (Item, error) {
		return loadItem(keys[i], pred, gt, lq)
	}, func() { bar.Add(1) })
	bar.Finish()
	m.Means, m.Counts = Means(m.Images)
	if fidID {
		var a, b [][]float32
		for _, im := range m.Images {
			if d := im.Desc; d[0] != nil && d[1] != nil {
				a, b = append(a, d[0]), append(b, d[1])
			}
		}
		v, err := metrics.FIDID(a, b)
		if err != nil {
			return Method{}, fmt.Errorf("eval: %s: %w", name, err)
		}
		m.FIDID = &v
	}
	return m, nil
}

// loadItem reads the restoration key and its ground truth or, without
// one, its LQ input, which must be the restoration's size.
func loadItem(key string, pred, gt, lq map[string]string) (Item, error) {
	it := Item{Name: key}
	load := func(idx map[string]string) (*tensor.Tensor, error) {
		if idx == nil {
			return nil, nil
		}
		return imageio.Read(idx[key])
	}
	var err error
	if it.Pred, err = load(pred); err != nil {
		return it, err
	}
	if it.GT, err = load(gt); err != nil {
		return it, err
	}
	if it.GT == nil {
		if it.Ref, err = load(lq); err != nil {
			return it, err
		}
		if it.Ref != nil && !tensor.SameShape(it.Ref.Shape, it.Pred.Shape) {
			return it, fmt.Errorf("input is %s but restoration is %s", tensor.ShapeString(it.Ref.Shape), tensor.ShapeString(it.Pred.Shape))
		}
	}
	return it, nil
}

func writeJSON(path string, rep Report) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(rep)
	})
}

func writeCSV(path string, rep Report) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		head := []string{"method", "image"}
		for _, m := range All {
			head = append(head, m.Key)
		}
		cw.Write(append(head, "problems"))
		for _, m := range rep.Methods {
			for _, im := range m.Images {
				row := []string{m.Name, im.Name}
				for _, info := range All {
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
