package restorer

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"facereward/diffusion"
	"facereward/nn"
	"facereward/safetensors"
	"facereward/tensor"
)

// A model directory round-trips, and restoring with it is deterministic
// per seed, keeps shapes and stays in [0, 1].
func TestModelDirAndSampler(t *testing.T) {
	m := newTiny(t, 16, 3)
	dir := filepath.Join(t.TempDir(), "model")
	m.Config.Schedule = diffusion.Linear
	if err := SaveDir(dir, m, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	back, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Config.Schedule != diffusion.Linear || back.Schedule.Kind != diffusion.Linear {
		t.Fatalf("schedule %q, %q", back.Config.Schedule, back.Schedule.Kind)
	}
	if !reflect.DeepEqual(back.Config, m.Config) {
		t.Fatalf("config %+v, saved %+v", back.Config, m.Config)
	}
	s, err := NewSampler(back, SampleOptions{Steps: 4, Strength: 1})
	if err != nil {
		t.Fatal(err)
	}
	lq := randImage(rand.New(rand.NewPCG(1, 2)), 2, 16)
	for i := range lq.Data {
		lq.Data[i] = 0.5 + 0.5*lq.Data[i]/(1+abs(lq.Data[i]))
	}
	st1, a, err := s.Restore(lq, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := s.Restore(lq, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	_, c, err := s.Restore(lq, rand.New(rand.NewPCG(10, 9)))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Data) != len(lq.Data) || len(st1.Data) != len(lq.Data) {
		t.Fatalf("shapes %v %v", a.Shape, st1.Shape)
	}
	same, differ := true, false
	for i := range a.Data {
		if a.Data[i] < 0 || a.Data[i] > 1 {
			t.Fatalf("value %g outside [0,1]", a.Data[i])
		}
		same = same && a.Data[i] == b.Data[i]
		differ = differ || a.Data[i] != c.Data[i]
	}
	if !same || !differ {
		t.Errorf("same seed identical: %v; other seed differs: %v", same, differ)
	}
	// A missing weight file names itself.
	os.Remove(filepath.Join(dir, "unet.safetensors"))
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "unet.safetensors") {
		t.Errorf("missing file: %v", err)
	}
}

// Guidance 1 pulls every clean-image estimate all the way to the stage-1
// estimate, so the restoration is that estimate; partial guidance lands
// in between; a value outside [0, 1] is an error.
func TestGuidance(t *testing.T) {
	m := newTiny(t, 16, 3)
	perturbZeros(m, rand.New(rand.NewPCG(4, 4)))
	m.Config.UNet.Prediction = "v"
	s, err := NewSampler(m, SampleOptions{Steps: 5, Strength: 1})
	if err != nil {
		t.Fatal(err)
	}
	lq := randImage(rand.New(rand.NewPCG(1, 2)), 2, 16)
	for i := range lq.Data {
		lq.Data[i] = 0.5 + 0.5*lq.Data[i]/(1+abs(lq.Data[i]))
	}
	dist := func(g float64) float64 {
		s.Guidance = g
		est, out, err := s.Restore(lq, rand.New(rand.NewPCG(9, 9)))
		if err != nil {
			t.Fatal(err)
		}
		d := 0.0
		for i := range out.Data {
			d = max(d, float64(abs(out.Data[i]-est.Data[i])))
		}
		return d
	}
	free, half, full := dist(0), dist(0.5), dist(1)
	if full > 1e-4 {
		t.Errorf("guidance 1: restoration %g from the stage-1 estimate", full)
	}
	if !(free > 0.05 && half < free) {
		t.Errorf("distance to the stage-1 estimate: guidance 0 %g, 0.5 %g", free, half)
	}
	s.Guidance = 1.5
	if _, _, err := s.Restore(lq, rand.New(rand.NewPCG(9, 9))); err == nil {
		t.Error("guidance 1.5 accepted")
	}
}

func abs(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// ReFL's image is the user's image: descending to the last step and
// predicting x0_hat there on the tape, guided by GuideVar, gives what
// Restore returns (before its clamp to [0,1]) from the same noise.
func TestDescendThenGuideIsRestore(t *testing.T) {
	m := newTiny(t, 16, 3)
	s, err := NewSampler(m, SampleOptions{Steps: 6, Strength: 0.5, Guidance: 0.45, Eta: 0.7})
	if err != nil {
		t.Fatal(err)
	}
	lq := randImage(rand.New(rand.NewPCG(1, 2)), 2, 16)
	cond := m.Condition(lq)
	want, err := s.Descend(cond, rand.New(rand.NewPCG(3, 3)), 0)
	if err != nil {
		t.Fatal(err)
	}
	x0 := tapeX0(t, s, cond, rand.New(rand.NewPCG(3, 3)))
	var worst float64
	for i, v := range x0.Data {
		worst = max(worst, math.Abs(float64(v-want.Data[i])))
	}
	if worst > 1e-5 {
		t.Errorf("x0_hat at the last step differs from the sampler's output by up to %g", worst)
	}
	if _, err := s.Descend(cond, rand.New(rand.NewPCG(3, 3)), 1); err == nil || !strings.Contains(err.Error(), "before the start step") {
		t.Errorf("stopping before the start: %v", err)
	}
}

// tapeX0 is ReFL's image: the descent to the sampler's last step with the
// noise of rng, then x0_hat predicted there on the tape, guided and with
// its low band swapped as Restore's last step does.
func tapeX0(t *testing.T, s *Sampler, cond *tensor.Tensor, rng *rand.Rand) *tensor.Tensor {
	t.Helper()
	last := s.Steps - 1
	xt, err := s.Descend(cond, rng, last)
	if err != nil {
		t.Fatal(err)
	}
	m, g := s.Model, nn.NewGraph()
	ts := make([]int, cond.Shape[0])
	for i := range ts {
		ts[i] = s.DDIM().Timesteps()[last]
	}
	xv, cv := nn.Constant(xt), nn.Constant(cond)
	pred, _ := m.Predict(g, xv, ts, cv)
	return s.LowBandVar(g, s.GuideVar(g, m.Schedule.X0FromPredVar(g, m.Config.UNet.Prediction, xv, pred, ts), cv), cv).Value
}

func rawBytes(t *tensor.Tensor) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, t.Data)
	return b.Bytes()
}

// ReFL's early stop returns exactly the state the full run had before step
// m, and carrying on from there with the rng as it was ends where the
// straight run ends.
func TestSampleStopAndResume(t *testing.T) {
	m := newTiny(t, 16, 3)
	perturbZeros(m, rand.New(rand.NewPCG(4, 4)))
	s, err := NewSampler(m, SampleOptions{Steps: 8, Strength: 1, Guidance: 0.3, Eta: 0.7})
	if err != nil {
		t.Fatal(err)
	}
	cond := m.Condition(randImage(rand.New(rand.NewPCG(1, 2)), 2, 16))
	full, err := s.Descend(cond, rand.New(rand.NewPCG(9, 9)), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, stop := range []int{1, 5, 7} {
		rng := rand.New(rand.NewPCG(9, 9))
		x, err := s.Descend(cond, rng, stop)
		if err != nil {
			t.Fatal(err)
		}
		// The state at stop is the full run's state at stop.
		ref := rand.New(rand.NewPCG(9, 9))
		y, start, err := s.DDIM().StartFrom(cond, 1, diffusion.RNGNoise(ref))
		if err != nil || start != 0 {
			t.Fatal(start, err)
		}
		for i := 0; i < stop; i++ {
			if err := s.Sample(y, cond, i, i+1, ref); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(rawBytes(x), rawBytes(y)) {
			t.Errorf("stop at %d: x_t differs from step-by-step sampling", stop)
		}
		if err := s.Sample(x, cond, stop, s.Steps, rng); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rawBytes(x), rawBytes(full)) {
			t.Errorf("stop at %d and resume: differs from the straight run", stop)
		}
	}
}

// A long run reuses the same buffers at every step: the bytes a run
// allocates do not grow with its number of steps by anything like a
// feature map per step.
func TestSampleMemoryFlat(t *testing.T) {
	m := newTiny(t, 16, 3)
	cond := randImage(rand.New(rand.NewPCG(15, 0)), 2, 16)
	bufBytes := uint64(cond.Len() * 4)
	allocated := func(steps int) uint64 {
		s, err := NewSampler(m, SampleOptions{Steps: steps, Strength: 1, Guidance: 0.5, Eta: 1})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(16, 0))
		x := diffusion.Normal(rng, cond.Shape...)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := s.Sample(x, cond, 0, steps, rng); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	allocated(40) // warm up
	short, long := allocated(10), allocated(40)
	perStep := float64(long-min(short, long)) / 30
	// Guidance allocates its x0 and prediction (two images) per step; the
	// networks' activations, many times that, must come from the pool.
	t.Logf("10 steps %d B, 40 steps %d B: %.0f B per extra step; one image is %d B", short, long, perStep, bufBytes)
	if perStep > 40*float64(bufBytes) {
		t.Errorf("each step allocates %.0f B, an image is %d B: the graph's pool is not reused", perStep, bufBytes)
	}
}

func TestSampleErrors(t *testing.T) {
	m := newTiny(t, 16, 3)
	x := randImage(rand.New(rand.NewPCG(1, 1)), 1, 16)
	rng := rand.New(rand.NewPCG(17, 0))
	for name, c := range map[string]struct {
		o        SampleOptions
		from, to int
		cond     *tensor.Tensor
	}{
		"zero steps":        {SampleOptions{Steps: 0}, 0, 0, x},
		"too many steps":    {SampleOptions{Steps: 1001}, 0, 1, x},
		"eta":               {SampleOptions{Steps: 4, Eta: -1}, 0, 4, x},
		"eta NaN":           {SampleOptions{Steps: 4, Eta: math.NaN()}, 0, 4, x},
		"guidance":          {SampleOptions{Steps: 4, Guidance: 1.5}, 0, 4, x},
		"guidance NaN":      {SampleOptions{Steps: 4, Guidance: math.NaN()}, 0, 4, x},
		"strength":          {SampleOptions{Steps: 4, Strength: 2}, 0, 4, x},
		"range":             {SampleOptions{Steps: 4}, 3, 2, x},
		"past the end":      {SampleOptions{Steps: 4}, 0, 5, x},
		"guided, no cond":   {SampleOptions{Steps: 4, Guidance: 0.5}, 0, 4, nil},
		"input not a batch": {SampleOptions{Steps: 4}, 0, 4, x},
	} {
		in := x.Clone()
		if name == "input not a batch" {
			in = tensor.New(0, 16, 16, 3)
		}
		badOptions := c.from == 0 && c.to <= 4 && c.cond != nil && in.Shape[0] == 1
		if _, err := NewSampler(m, c.o); badOptions && err == nil {
			t.Errorf("%s: NewSampler accepted the options", name)
		}
		s := &Sampler{Model: m, SampleOptions: c.o}
		if err := s.Sample(in, c.cond, c.from, c.to, rng); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	m.Config.UNet.Prediction = "x0"
	s := &Sampler{Model: m, SampleOptions: SampleOptions{Steps: 4}}
	if err := s.Sample(x.Clone(), x, 0, 4, rng); err == nil {
		t.Error("unknown prediction accepted")
	}
}

// Every setting out of its range is refused before any work, naming it.
func TestSampleOptionsValidate(t *testing.T) {
	if err := DefaultSampleOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(*SampleOptions)
		want string
	}{
		{func(o *SampleOptions) { o.Steps = 0 }, "steps"},
		{func(o *SampleOptions) { o.Strength = 1.5 }, "strength"},
		{func(o *SampleOptions) { o.Guidance = 3 }, "guidance"},
		{func(o *SampleOptions) { o.MildGuidance = 1.2 }, "mild guidance"},
		{func(o *SampleOptions) { o.MildGuidance = -0.1 }, "mild guidance"},
		{func(o *SampleOptions) { o.Eta = 7 }, "eta"},
		{func(o *SampleOptions) { o.Eta = -0.1 }, "eta"},
		{func(o *SampleOptions) { o.LowBand = -1 }, "low band"},
		{func(o *SampleOptions) { o.LowBand = MaxLowBand + 1 }, "low band"},
	} {
		o := DefaultSampleOptions()
		c.edit(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error about %s", o, err, c.want)
		}
	}
}

// lowpassRef is the à-trous wavelet lowpass written out per pixel: levels
// blurs by [1/4, 1/2, 1/4] along each axis at dilation 2^i, coordinates
// clamped at the edges; x is [N,H,W,C].
func lowpassRef(x *tensor.Tensor, levels int) *tensor.Tensor {
	n, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	clamp := func(v, hi int) int { return min(max(v, 0), hi-1) }
	cur := x.Clone()
	for l := 0; l < levels; l++ {
		d := 1 << l
		next := tensor.New(x.Shape...)
		for b := 0; b < n; b++ {
			for i := 0; i < h; i++ {
				for j := 0; j < w; j++ {
					for ch := 0; ch < c; ch++ {
						var sum float64
						for di, wi := range []float64{0.25, 0.5, 0.25} {
							for dj, wj := range []float64{0.25, 0.5, 0.25} {
								ii, jj := clamp(i+(di-1)*d, h), clamp(j+(dj-1)*d, w)
								sum += wi * wj * float64(cur.Data[((b*h+ii)*w+jj)*c+ch])
							}
						}
						next.Data[((b*h+i)*w+j)*c+ch] = float32(sum)
					}
				}
			}
		}
		cur = next
	}
	return cur
}

// With LowBand, Restore returns the sample with its low band swapped for
// the stage-1 estimate's, x − L(x) + L(cond) (checked against a per-pixel
// lowpass), and LowBandVar on the tape, after GuideVar at the last step,
// gives the same image: ReFL scores what restore returns.
func TestLowBand(t *testing.T) {
	m := newTiny(t, 16, 3)
	perturbZeros(m, rand.New(rand.NewPCG(4, 4)))
	s, err := NewSampler(m, SampleOptions{Steps: 6, Strength: 0.5, Guidance: 0.3, Eta: 0.7, LowBand: 2})
	if err != nil {
		t.Fatal(err)
	}
	lq := randImage(rand.New(rand.NewPCG(1, 2)), 2, 16)
	for i := range lq.Data {
		lq.Data[i] = 0.5 + 0.5*lq.Data[i]/(1+abs(lq.Data[i]))
	}
	cond := m.Condition(lq)
	x, err := s.Descend(cond, rand.New(rand.NewPCG(3, 3)), 0)
	if err != nil {
		t.Fatal(err)
	}
	lx, lc := lowpassRef(x, 2), lowpassRef(cond, 2)
	want := tensor.New(x.Shape...)
	for i := range want.Data {
		want.Data[i] = x.Data[i] - lx.Data[i] + lc.Data[i]
	}
	want = ToUnit(want)
	_, got, err := s.Restore(lq, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	_, plain, err := (&Sampler{Model: m, SampleOptions: SampleOptions{Steps: 6, Strength: 0.5, Guidance: 0.3, Eta: 0.7}}).Restore(lq, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	var worst, moved float64
	for i := range got.Data {
		worst = max(worst, math.Abs(float64(got.Data[i]-want.Data[i])))
		moved = max(moved, math.Abs(float64(got.Data[i]-plain.Data[i])))
	}
	if worst > 1e-5 {
		t.Errorf("low band 2: restoration differs from x − L(x) + L(cond) by up to %g", worst)
	}
	if moved < 1e-3 {
		t.Errorf("low band 2 changed the restoration by only %g", moved)
	}

	tape := ToUnit(tapeX0(t, s, cond, rand.New(rand.NewPCG(3, 3))))
	worst = 0
	for i, v := range tape.Data {
		worst = max(worst, math.Abs(float64(v-got.Data[i])))
	}
	if worst > 1e-5 {
		t.Errorf("LowBandVar on the tape differs from Restore by up to %g", worst)
	}
}

// Faces restored together with one random stream each come out byte for
// byte as each restored alone with its stream: batching changes speed,
// never an output.
func TestRestoreEachIsRestoreAlone(t *testing.T) {
	m := newTiny(t, 16, 3)
	perturbZeros(m, rand.New(rand.NewPCG(4, 4)))
	s, err := NewSampler(m, SampleOptions{Steps: 6, Strength: 0.5, Guidance: 0.3, Eta: 0.7, LowBand: 2})
	if err != nil {
		t.Fatal(err)
	}
	const n, size = 3, 16
	lq := randImage(rand.New(rand.NewPCG(1, 2)), n, size)
	for i := range lq.Data {
		lq.Data[i] = 0.5 + 0.5*lq.Data[i]/(1+abs(lq.Data[i]))
	}
	rngs := func() []*rand.Rand {
		var r []*rand.Rand
		for i := range n {
			r = append(r, rand.New(rand.NewPCG(7, uint64(i))))
		}
		return r
	}
	est, out, err := s.RestoreEach(lq, rngs())
	if err != nil {
		t.Fatal(err)
	}
	per := size * size * 3
	for i, rng := range rngs() {
		e1, o1, err := s.Restore(tensor.FromSlice(lq.Data[i*per:(i+1)*per], 1, size, size, 3), rng)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rawBytes(o1), rawBytes(tensor.FromSlice(out.Data[i*per:(i+1)*per], 1, size, size, 3))) ||
			!bytes.Equal(rawBytes(e1), rawBytes(tensor.FromSlice(est.Data[i*per:(i+1)*per], 1, size, size, 3))) {
			t.Errorf("face %d restored in a batch of %d differs from it restored alone", i, n)
		}
	}
	if _, _, err := s.RestoreEach(lq, rngs()[:2]); err == nil || !strings.Contains(err.Error(), "random streams") {
		t.Errorf("3 faces with 2 streams: %v", err)
	}
}

// Draws counts exactly what Restore draws, whatever the strength and eta,
// and faces restored together from recorded draws (each face's share of
// one stream, drawn first) come out as restored one after another from
// that stream.
func TestDrawsCountsRestore(t *testing.T) {
	m := newTiny(t, 16, 3)
	perturbZeros(m, rand.New(rand.NewPCG(4, 4)))
	const n, size = 2, 16
	per := size * size * 3
	lq := randImage(rand.New(rand.NewPCG(1, 2)), n, size)
	for i := range lq.Data {
		lq.Data[i] = 0.5 + 0.5*lq.Data[i]/(1+abs(lq.Data[i]))
	}
	for _, o := range []SampleOptions{
		{Steps: 6, Strength: 0.5, Guidance: 0.3, Eta: 0.7, LowBand: 2},
		{Steps: 5, Strength: 1, Eta: 0},
		{Steps: 4, Strength: 0, Eta: 1},
		{Steps: 7, Strength: 0.3, Eta: 1},
	} {
		s, err := NewSampler(m, o)
		if err != nil {
			t.Fatal(err)
		}
		counted := 0
		rng := rand.New(rand.NewPCG(5, 5))
		_, _, err = s.restore(tensor.FromSlice(lq.Data[:per], 1, size, size, 3), func(dst []float32) {
			counted += len(dst)
			diffusion.FillNormal(rng, dst)
		})
		if err != nil {
			t.Fatal(err)
		}
		if counted != s.Draws()*per {
			t.Errorf("%+v: Restore drew %d normals, Draws says %d per value (%d)", o, counted, s.Draws(), s.Draws()*per)
		}
		// One after another from one stream, then together from records.
		shared := rand.New(rand.NewPCG(9, 9))
		var alone []*tensor.Tensor
		for i := range n {
			_, out, err := s.Restore(tensor.FromSlice(lq.Data[i*per:(i+1)*per], 1, size, size, 3), shared)
			if err != nil {
				t.Fatal(err)
			}
			alone = append(alone, out)
		}
		shared = rand.New(rand.NewPCG(9, 9))
		draws := make([][]float32, n)
		for i := range draws {
			draws[i] = make([]float32, s.Draws()*per)
			diffusion.FillNormal(shared, draws[i])
		}
		_, out, err := s.RestoreRecorded(lq, draws)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if !bytes.Equal(rawBytes(alone[i]), rawBytes(tensor.FromSlice(out.Data[i*per:(i+1)*per], 1, size, size, 3))) {
				t.Errorf("%+v: face %d from recorded draws differs from it restored in turn", o, i)
			}
		}
		if s.Draws() > 0 {
			if _, _, err := s.RestoreRecorded(lq, [][]float32{draws[0], draws[1][1:]}); err == nil {
				t.Errorf("%+v: a face with too few recorded draws was accepted", o)
			}
		}
	}
}
