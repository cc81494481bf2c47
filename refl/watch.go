package refl

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"

	"facereward/atomicfile"
	"facereward/evaluate"
	"facereward/restorer"
	"facereward/rundir"
	"facereward/tensor"
	"facereward/train"
)

// passScores are one dev-val pass's means.
type passScores struct {
	Step                                 int
	PSNR, SSIM, IDS, LMD, BRISQUE, Score float64
}

// fields are p's log fields; a NaN score (BRISQUE of faces too small for
// it) is left out, as JSON has no NaN.
func (p passScores) fields() map[string]any {
	f := map[string]any{}
	for k, v := range p.byKey() {
		if !math.IsNaN(*v) {
			f[k] = *v
		}
	}
	return f
}

func (p *passScores) byKey() map[string]*float64 {
	return map[string]*float64{KeyDevPSNR: &p.PSNR, KeyDevSSIM: &p.SSIM, KeyDevIDS: &p.IDS, KeyDevLMD: &p.LMD, KeyDevBRISQUE: &p.BRISQUE, KeyDevFRM: &p.Score}
}

// passFromLog reads a pass back from a log entry (a missing score is NaN);
// ok is false for entries that are not passes.
func passFromLog(e rundir.Entry) (passScores, bool) {
	p := passScores{Step: e.Step}
	if _, ok := e.Fields[KeyDevFRM].(float64); !ok {
		return p, false
	}
	for k, dst := range p.byKey() {
		v, ok := e.Fields[k].(float64)
		if !ok {
			v = math.NaN()
		}
		*dst = v
	}
	return p, true
}

// watch runs the dev-val passes of a ReFL run and keeps the best weights.
type watch struct {
	ses        *train.Session
	nets       *Nets
	opt        Options
	dev        *evaluate.DevSet
	scorers    *evaluate.Pool
	base, best *passScores
}

// newWatch prepares the passes; on a resumed run it reads the base pass
// and the best one so far back from the log (passes logged after the
// checkpoint it resumed from do not count: the run will repeat them).
func newWatch(ses *train.Session, nets *Nets, opt Options, pd *train.Pairs) (*watch, error) {
	w := &watch{ses: ses, nets: nets, opt: opt, dev: pd.Dev, scorers: pd.Scorers}
	entries, err := rundir.ReadLog(ses.Run().Dir)
	if err != nil {
		return nil, err
	}
	passes := map[int]passScores{}
	var steps []int
	for _, e := range entries {
		p, ok := passFromLog(e)
		if !ok || e.Step > ses.Step() {
			continue
		}
		if _, seen := passes[e.Step]; !seen {
			steps = append(steps, e.Step)
		}
		passes[e.Step] = p
	}
	for _, s := range steps {
		w.consider(passes[s])
	}
	return w, nil
}

func (w *watch) haveBase() bool { return w.base != nil }

// consider takes p as the base (step 0) or as the best so far when it
// qualifies; it reports whether p is the new best.
func (w *watch) consider(p passScores) bool {
	if p.Step == 0 {
		w.base, w.best = &p, &p
		return true
	}
	if w.base == nil || !w.opt.Watch.faithful(*w.base, p) || p.Score <= w.best.Score {
		return false
	}
	w.best = &p
	return true
}

// pass restores the dev faces with the current weights and the restore
// command's sampler (fixed noise, so passes differ only by the weights),
// logs the scores, writes the sample grid, flags hacking loudly, keeps
// the best weights in best/ and rewrites the report.
func (w *watch) pass(step int, stdout io.Writer) error {
	w.ses.EMA().Swap()
	defer w.ses.EMA().Swap()
	s := w.nets.Sampler(w.opt)
	s.Eta = restorer.DefaultSampleOptions().Eta
	rng := rand.New(rand.NewPCG(w.opt.Seed, 1<<62))
	sc, outs, err := w.dev.Score(w.scorers, 8, func(lq *tensor.Tensor) (*tensor.Tensor, error) {
		_, out, err := s.Restore(lq, rng)
		return out, err
	})
	if err != nil {
		return err
	}
	p := passScores{Step: step, PSNR: sc.PSNR, SSIM: sc.SSIM, IDS: sc.IDS, LMD: sc.LMD, BRISQUE: sc.BRISQUE}
	for _, v := range w.nets.Static.Score(tensor.Stack(outs), 16) {
		p.Score += v / float64(len(outs))
	}
	fields := p.fields()
	fields[KeyDevFaces] = len(outs)
	if w.base != nil && w.opt.Watch.hacking(*w.base, p) {
		fields[KeyHacking] = true
		fmt.Fprintf(stdout, "\n!!!!!!!! WARNING: REWARD HACKING? step %d: FRM score %.3f > base %.3f, but PSNR %.2f dB (base %.2f, tolerance %.2f) / IDS %.4f (base %.4f, tolerance %.4f)\n!!!!!!!! the best checkpoint stays at step %d\n\n",
			step, p.Score, w.base.Score, p.PSNR, w.base.PSNR, w.opt.Watch.PSNRTol, p.IDS, w.base.IDS, w.opt.Watch.IDSTol, w.best.Step)
	}
	if err := w.ses.Run().Log(step, fields); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dev-val step %d: FRM %.3f  PSNR %.2f  SSIM %.4f  IDS %.4f  LMD %.3f  BRISQUE %.2f\n", step, p.Score, p.PSNR, p.SSIM, p.IDS, p.LMD, p.BRISQUE)
	if err := train.WriteGrid(w.ses.Run(), step, w.dev.Rows(outs)); err != nil {
		return err
	}
	if w.consider(p) {
		if err := w.saveBest(p); err != nil {
			return err
		}
	}
	return WriteReport(w.ses.Run().Dir)
}

// bestInfo is best/best.json: which pass the weights in best/ come from.
type bestInfo struct {
	Step   int                `json:"step"`
	Rule   string             `json:"rule"`
	Scores map[string]float64 `json:"scores"`
}

func (w *watch) saveBest(p passScores) error {
	dir := filepath.Join(w.ses.Run().Dir, "best")
	if err := w.nets.SaveModel(dir); err != nil {
		return err
	}
	scores := map[string]float64{}
	for k, v := range p.fields() {
		scores[k] = v.(float64)
	}
	b, err := json.MarshalIndent(bestInfo{Step: p.Step, Rule: w.opt.Watch.rule(), Scores: scores}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "best.json"), func(f io.Writer) error { _, err := f.Write(append(b, '\n')); return err })
}

// finish writes the run's results beside model.safetensors (the trained
// tensors alone): model/ (the whole tuned restorer, a model directory
// `restore --model` reads), frm.safetensors (the dynamically updated FRM)
// and report.html.
func (w *watch) finish(stdout io.Writer) error {
	dir := w.ses.Run().Dir
	w.ses.EMA().Swap()
	err := w.nets.SaveModel(filepath.Join(dir, "model"))
	w.ses.EMA().Swap()
	if err != nil {
		return err
	}
	if err := w.nets.FRM.Save(filepath.Join(dir, "frm.safetensors")); err != nil {
		return err
	}
	if w.best != nil {
		fmt.Fprintf(stdout, "%s: best dev-val pass at step %d (FRM %.3f, PSNR %.2f, IDS %.4f): restorer in %s\n",
			dir, w.best.Step, w.best.Score, w.best.PSNR, w.best.IDS, filepath.Join(dir, "best"))
	}
	fmt.Fprintf(stdout, "%s: tuned restorer in %s, report in %s\n", dir, filepath.Join(dir, "model"), filepath.Join(dir, "report.html"))
	return WriteReport(dir)
}
