package train

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"facereward/nn"
	"facereward/optim"
	"facereward/prefs"
	"facereward/reward"
)

// RewardOptions are every setting of a reward-model run; they are saved as
// the run's config.json and must match on --resume.
type RewardOptions struct {
	// Prefs is the preference data: a database (SQLite file or postgres://
	// URL) or a JSONL export; Store is the image store its refs name.
	Prefs string        `json:"prefs"`
	Store string        `json:"store"`
	Net   reward.Config `json:"net"`
	Seed  uint64        `json:"seed"`
	Steps int           `json:"steps"`
	// Until stops the run early without changing the schedule (see Stage1Options).
	Until       int     `json:"-"`
	Batch       int     `json:"batch"` // pairs per step
	LR          float64 `json:"lr"`
	Warmup      int     `json:"warmup"`
	WeightDecay float64 `json:"weight_decay"`
	Clip        float64 `json:"clip"`
	EMA         float64 `json:"ema"`
	// Center weighs reward.CenterLoss against the BT loss.
	Center       float64 `json:"center"`
	HoldOut      float64 `json:"hold_out"` // fraction of faces whose pairs are held out
	EvalEvery    int     `json:"eval_every"`
	SaveEvery    int     `json:"save_every"`
	KeepCheckpts int     `json:"keep_checkpoints"`
	// Data is a digest of the verdicts the run trains on, so that resuming
	// on changed data is refused instead of silently continuing another run.
	Data string `json:"data"`
}

// DefaultRewardOptions trains the default FRM.
func DefaultRewardOptions(prefsPath, store string) RewardOptions {
	return RewardOptions{
		Prefs: prefsPath, Store: store, Net: reward.DefaultConfig(), Seed: 1,
		Steps: 2000, Batch: 16, LR: 3e-4, Warmup: 100, WeightDecay: 0.01, Clip: 1, EMA: 0.99, Center: 1e-3,
		HoldOut: 0.1, EvalEvery: 250, SaveEvery: 250, KeepCheckpts: 3,
	}
}

// openPrefs loads the verdicts of o.Prefs and their images, split by face
// into training and held-out examples, and a digest of the verdicts.
func openPrefs(o RewardOptions) (im *reward.Images, tr, held []reward.Example, dropped int, digest string, err error) {
	recs, err := reward.ReadRecords(o.Prefs)
	if err != nil {
		return nil, nil, nil, 0, "", err
	}
	im = reward.NewImages(prefs.Store{Dir: o.Store}, o.Net.ImageSize)
	ex, dropped, err := im.Examples(recs)
	if err != nil {
		return nil, nil, nil, 0, "", err
	}
	// The database's order is the order verdicts arrived in; sorting makes
	// the run depend on the verdicts alone (the same labels written in
	// another order train the same model).
	slices.SortStableFunc(ex, func(a, b reward.Example) int {
		return cmp.Or(strings.Compare(a.Record.ID, b.Record.ID), strings.Compare(a.Record.Judge, b.Record.Judge),
			strings.Compare(string(a.Record.Verdict), string(b.Record.Verdict)))
	})
	h := sha256.New()
	for _, e := range ex {
		r := e.Record
		fmt.Fprintf(h, "%s %s %s %s\n", r.ID, r.Verdict, r.Judge, r.At.UTC().Format(time.RFC3339Nano))
		if heldOut(r.Face, o.Seed, o.HoldOut) {
			held = append(held, e)
		} else {
			tr = append(tr, e)
		}
	}
	if len(tr) == 0 {
		return nil, nil, nil, 0, "", fmt.Errorf("%s: no left/right verdicts to train on (%d records, %d ties or skips, %d held out)", o.Prefs, len(recs), dropped, len(held))
	}
	return im, tr, held, dropped, hex.EncodeToString(h.Sum(nil))[:16], nil
}

// heldOut puts a face's pairs in the held-out set by a seeded hash of its
// name: every pair of a face lands on the same side, so held-out accuracy
// is measured on faces the model never saw.
func heldOut(face string, seed uint64, frac float64) bool {
	h := sha256.New()
	binary.Write(h, binary.LittleEndian, seed)
	h.Write([]byte(face))
	v := binary.LittleEndian.Uint64(h.Sum(nil))
	return float64(v>>11)/(1<<53) < frac
}

// Reward trains (or resumes) a reward-model run in dir with the BT loss on
// the preference pairs of opt.Prefs, until opt.Steps or until ctx is
// cancelled, saving a checkpoint either way.
func Reward(ctx context.Context, dir string, opt RewardOptions, resume bool, stdout io.Writer) error {
	c := Counts{Steps: opt.Steps, Until: opt.Until, Batch: opt.Batch, Warmup: opt.Warmup, EvalEvery: opt.EvalEvery,
		SaveEvery: opt.SaveEvery, KeepCheckpts: opt.KeepCheckpts, LR: opt.LR, WeightDecay: opt.WeightDecay, Clip: opt.Clip, EMA: opt.EMA}
	if err := c.Validate("train reward"); err != nil {
		return err
	}
	if err := opt.Net.Validate(); err != nil {
		return err
	}
	if opt.Batch <= 0 || opt.Steps <= 0 || opt.HoldOut < 0 || opt.HoldOut >= 1 {
		return fmt.Errorf("train reward: batch %d, steps %d, hold-out %g: want positive batch and steps, hold-out in [0, 1)", opt.Batch, opt.Steps, opt.HoldOut)
	}
	im, tr, held, dropped, digest, err := openPrefs(opt)
	if err != nil {
		return fmt.Errorf("train reward: %w", err)
	}
	opt.Data = digest
	fmt.Fprintf(stdout, "train reward: %d training pairs, %d held out (%.0f%% of faces), %d images; %d ties and skips dropped\n",
		len(tr), len(held), 100*opt.HoldOut, im.Len(), dropped)
	frm, err := reward.New(opt.Net, nn.NewRNG(opt.Seed))
	if err != nil {
		return err
	}
	ses, err := NewSession(dir, opt, resume, frm.Params(), opt.LR, opt.WeightDecay, opt.EMA, opt.KeepCheckpts, frm.Meta(), nil, stdout)
	if err != nil {
		return err
	}
	defer ses.run.Close()
	if done, err := ses.AtEnd(opt.Steps, opt.Until, stdout); done || err != nil {
		return err
	}
	sched := optim.WarmupCosine(opt.LR, opt.Warmup, opt.Steps, opt.LR/100)
	g := nn.NewGraph()
	g.FreeValues = true
	var eval func(int) error
	if len(held) > 0 {
		eval = func(step int) error {
			ses.ema.Swap()
			defer ses.ema.Swap()
			acc, loss := reward.Accuracy(im.Scores(frm, reward.Indices(held)), held)
			return ses.run.Log(step, map[string]any{KeyValAcc: acc, KeyValLoss: loss, KeyValPairs: len(held)})
		}
	}
	return ses.Loop(ctx, LoopOptions{"train reward", opt.Steps, opt.Until, opt.EvalEvery, opt.SaveEvery}, func() (float32, map[string]any, error) {
		// Each step's draw depends on the seed and the step alone, so a
		// resumed run draws what the straight run would have.
		rng := rand.New(rand.NewPCG(opt.Seed, uint64(ses.step)))
		wi, li, flip := make([]int, opt.Batch), make([]int, opt.Batch), make([]bool, opt.Batch)
		for i := range wi {
			e := tr[rng.IntN(len(tr))]
			// A mirrored face is as good a face (they are aligned): the
			// verdict stands, and the FRM must not learn which side is which.
			wi[i], li[i], flip[i] = e.Win, e.Lose, rng.IntN(2) == 1
		}
		ses.opt.SetLR(sched(ses.step))
		sw, sl := frm.Forward(g, nn.Constant(im.Batch(wi, flip))), frm.Forward(g, nn.Constant(im.Batch(li, flip)))
		right := 0
		for i := range wi {
			if sw.Value.Data[i] > sl.Value.Data[i] {
				right++
			}
		}
		bt := reward.BTLoss(g, sw, sl)
		lossV := bt.Value.Data[0] // the log shows the BT loss, comparable with val_loss
		loss := bt
		if opt.Center > 0 {
			loss = g.Add(bt, g.Scale(reward.CenterLoss(g, sw, sl), float32(opt.Center)))
		}
		g.Backward(loss)
		g.Reset()
		return lossV, map[string]any{KeyGradNorm: ses.Update(opt.Clip), KeyBatchAcc: float64(right) / float64(len(wi))}, nil
	}, eval, stdout)
}
