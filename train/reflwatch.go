package train

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
)

// WatchOptions set the dev-val passes that watch a ReFL run for reward
// hacking: the reward rising while the faces drift from the ground truth.
type WatchOptions struct {
	Every int `json:"eval_every"` // steps between passes (0: none)
	Faces int `json:"eval_faces"` // dev-val faces per pass
	// A pass whose static-FRM score is above the base's while its PSNR is
	// more than PSNRTol dB, or its IDS more than IDSTol, below the base's
	// is flagged as hacking. The best checkpoint is the pass with the
	// highest static-FRM score among those within both tolerances (the
	// base itself when none is).
	PSNRTol float64 `json:"psnr_tol"`
	IDSTol  float64 `json:"ids_tol"`
}

// DefaultWatchOptions: a pass of 32 faces every 50 steps; PSNR may fall
// 0.3 dB (the bound), IDS 0.002 (about the spread between two
// samples of one face; README).
func DefaultWatchOptions() WatchOptions {
	return WatchOptions{Every: 50, Faces: 32, PSNRTol: 0.3, IDSTol: 0.002}
}

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
	return map[string]*float64{"dev_psnr": &p.PSNR, "dev_ssim": &p.SSIM, "dev_ids": &p.IDS, "dev_lmd": &p.LMD, "dev_brisque": &p.BRISQUE, "dev_frm": &p.Score}
}

// passFromLog reads a pass back from a log entry (a missing score is NaN);
// ok is false for entries that are not passes.
func passFromLog(e rundir.Entry) (passScores, bool) {
	p := passScores{Step: e.Step}
	if _, ok := e.Fields["dev_frm"].(float64); !ok {
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

// hacking says whether p gained reward while losing fidelity beyond the
// tolerances, against base.
func (o WatchOptions) hacking(base, p passScores) bool {
	return p.Score > base.Score && !o.faithful(base, p)
}

// faithful says whether p's PSNR and IDS are within the tolerances of base's.
func (o WatchOptions) faithful(base, p passScores) bool {
	return p.PSNR >= base.PSNR-o.PSNRTol && p.IDS >= base.IDS-o.IDSTol
}

// watch runs the dev-val passes of a ReFL run and keeps the best weights.
type watch struct {
	ses        *session
	nets       *reflNets
	opt        ReFLOptions
	dev        *evaluate.DevSet
	scorers    *evaluate.Pool
	base, best *passScores
}

// newWatch prepares the passes; on a resumed run it reads the base pass
// and the best one so far back from the log (passes logged after the
// checkpoint it resumed from do not count: the run will repeat them).
func newWatch(ses *session, nets *reflNets, opt ReFLOptions, pd *pairData) (*watch, error) {
	w := &watch{ses: ses, nets: nets, opt: opt, dev: pd.dev, scorers: pd.scorers}
	entries, err := rundir.ReadLog(ses.run.Dir)
	if err != nil {
		return nil, err
	}
	passes := map[int]passScores{}
	var steps []int
	for _, e := range entries {
		p, ok := passFromLog(e)
		if !ok || e.Step > ses.step {
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
	w.ses.ema.Swap()
	defer w.ses.ema.Swap()
	s := w.nets.sampler(w.opt)
	s.DDIM.Eta = restorer.DefaultEta
	rng := rand.New(rand.NewPCG(w.opt.Seed, 1<<62))
	sc, outs, err := w.dev.Score(w.scorers, 8, func(lq *tensor.Tensor) (*tensor.Tensor, error) {
		_, out, err := s.Restore(lq, rng)
		return out, err
	})
	if err != nil {
		return err
	}
	p := passScores{Step: step, PSNR: sc.PSNR, SSIM: sc.SSIM, IDS: sc.IDS, LMD: sc.LMD, BRISQUE: sc.BRISQUE}
	for _, v := range w.nets.static.Score(tensor.Stack(outs), 16) {
		p.Score += v / float64(len(outs))
	}
	fields := p.fields()
	fields["dev_faces"] = len(outs)
	if w.base != nil && w.opt.Watch.hacking(*w.base, p) {
		fields["hacking"] = true
		fmt.Fprintf(stdout, "\n!!!!!!!! WARNING: REWARD HACKING? step %d: FRM score %.3f > base %.3f, but PSNR %.2f dB (base %.2f, tolerance %.2f) / IDS %.4f (base %.4f, tolerance %.4f)\n!!!!!!!! the best checkpoint stays at step %d\n\n",
			step, p.Score, w.base.Score, p.PSNR, w.base.PSNR, w.opt.Watch.PSNRTol, p.IDS, w.base.IDS, w.opt.Watch.IDSTol, w.best.Step)
	}
	if err := w.ses.run.Log(step, fields); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dev-val step %d: FRM %.3f  PSNR %.2f  SSIM %.4f  IDS %.4f  LMD %.3f  BRISQUE %.2f\n", step, p.Score, p.PSNR, p.SSIM, p.IDS, p.LMD, p.BRISQUE)
	if err := writeGrid(w.ses.run, step, gridRows(w.dev, outs)); err != nil {
		return err
	}
	if w.consider(p) {
		if err := w.saveBest(p); err != nil {
			return err
		}
	}
	return WriteReFLReport(w.ses.run.Dir)
}

// bestInfo is best/best.json: which pass the weights in best/ come from.
type bestInfo struct {
	Step   int                `json:"step"`
	Rule   string             `json:"rule"`
	Scores map[string]float64 `json:"scores"`
}

func (w *watch) saveBest(p passScores) error {
	dir := filepath.Join(w.ses.run.Dir, "best")
	if err := w.nets.saveModel(dir); err != nil {
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

// rule states the best-checkpoint rule with its tolerances.
func (o WatchOptions) rule() string {
	return fmt.Sprintf("the dev-val pass with the highest static-FRM score whose PSNR is at most %.2f dB and IDS at most %.4f below the base's (step 0, the base, when none is)", o.PSNRTol, o.IDSTol)
}

// finish writes the run's results beside model.safetensors (the trained
// tensors alone): model/ (the whole tuned restorer, a model directory
// `restore --model` reads), frm.safetensors (the dynamically updated FRM)
// and report.html.
func (w *watch) finish(stdout io.Writer) error {
	w.ses.ema.Swap()
	err := w.nets.saveModel(filepath.Join(w.ses.run.Dir, "model"))
	w.ses.ema.Swap()
	if err != nil {
		return err
	}
	if err := w.nets.frm.Save(filepath.Join(w.ses.run.Dir, "frm.safetensors")); err != nil {
		return err
	}
	if w.best != nil {
		fmt.Fprintf(stdout, "%s: best dev-val pass at step %d (FRM %.3f, PSNR %.2f, IDS %.4f): restorer in %s\n",
			w.ses.run.Dir, w.best.Step, w.best.Score, w.best.PSNR, w.best.IDS, filepath.Join(w.ses.run.Dir, "best"))
	}
	fmt.Fprintf(stdout, "%s: tuned restorer in %s, report in %s\n", w.ses.run.Dir, filepath.Join(w.ses.run.Dir, "model"), filepath.Join(w.ses.run.Dir, "report.html"))
	return WriteReFLReport(w.ses.run.Dir)
}
