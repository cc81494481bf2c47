package checkpoint

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/nn"
	"facereward/optim"
	"facereward/safetensors"
	"facereward/tensor"
)

// model makes a small parameter set; seed varies the initial values so a
// fresh model really differs from a trained one until loaded.
func model(seed float64) []*nn.Param {
	ps := []*nn.Param{
		nn.NewParam("down.0.conv.weight", tensor.New(3, 3, 2, 4), false),
		nn.NewParam("down.0.conv.bias", tensor.New(4), true),
		nn.NewParam("norm.gain", tensor.New(4), true),
		nn.NewParam("head.weight", tensor.New(4, 1), false),
	}
	for k, p := range ps {
		for i := range p.Value.Data {
			p.Value.Data[i] = float32(math.Sin(seed + float64(7*i+k)))
		}
	}
	return ps
}

// setGrads gives every parameter a gradient that depends on the step and
// the current weights, as a real loss would.
func setGrads(ps []*nn.Param, step int) {
	for k, p := range ps {
		p.Grad = tensor.New(p.Value.Shape...)
		for i := range p.Grad.Data {
			p.Grad.Data[i] = float32(math.Cos(float64(step*13+i+k)))*0.1 + 0.01*p.Value.Data[i]
		}
	}
}

func newOpt(t *testing.T, ps []*nn.Param) *optim.Adam {
	t.Helper()
	cfg := optim.DefaultAdam(1e-2)
	cfg.WeightDecay = 0.05
	opt, err := optim.NewAdamW(ps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

func sameBits(t *testing.T, label string, a, b *tensor.Tensor) {
	t.Helper()
	for i := range a.Data {
		if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
			t.Fatalf("%s[%d]: %.9g vs %.9g", label, i, a.Data[i], b.Data[i])
		}
	}
}

// TestResumeIsExact: 3 steps, save, load into a fresh model and optimiser,
// then both take the same steps and must agree bit for bit.
func TestResumeIsExact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.safetensors")
	ps := model(0)
	opt := newOpt(t, ps)
	ema, _ := optim.NewEMA(ps, 0.99, true)
	for step := 0; step < 3; step++ {
		setGrads(ps, step)
		opt.Step()
		ema.Update()
	}
	parts := map[string]optim.Stateful{"optim": opt, "ema": ema}
	if err := SaveParts(path, ps, parts, map[string]string{"run": "test"}, safetensors.F32); err != nil {
		t.Fatal(err)
	}

	ps2 := model(1)
	opt2 := newOpt(t, ps2)
	ema2, _ := optim.NewEMA(ps2, 0.99, true)
	meta, err := LoadParts(path, ps2, map[string]optim.Stateful{"optim": opt2, "ema": ema2}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if meta["run"] != "test" || meta[KeyStep] != "3" || meta[KeyParts] != "ema,optim" {
		t.Fatalf("metadata %v", meta)
	}
	if opt2.StepCount() != 3 || ema2.Updates() != 3 {
		t.Fatalf("restored counts: step %d, ema %d", opt2.StepCount(), ema2.Updates())
	}
	for step := 3; step < 5; step++ {
		setGrads(ps, step)
		setGrads(ps2, step)
		opt.Step()
		opt2.Step()
		ema.Update()
		ema2.Update()
		for i := range ps {
			sameBits(t, ps[i].Name, ps[i].Value, ps2[i].Value)
		}
	}
	for key, s := range ema.State() {
		sameBits(t, "ema "+key, s, ema2.State()[key])
	}
}

func TestSaveLoadSimple(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	ps := model(0)
	opt := newOpt(t, ps)
	setGrads(ps, 0)
	opt.Step()
	if err := Save(path, ps, opt, nil, safetensors.F16); err != nil {
		t.Fatal(err)
	}

	// F16 weights, F32 optimiser state.
	f, err := safetensors.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.DTypes["head.weight"] != safetensors.F16 || f.DTypes["optim/exp_avg_sq/head.weight"] != safetensors.F32 {
		t.Fatalf("dtypes %v", f.DTypes)
	}
	checkOnlyFile(t, dir, "m.safetensors")

	// Weights only, for evaluation: the optimiser state is skipped.
	ps2 := model(1)
	ps2[2].NeedGrad = false // frozen params load too
	meta, err := Load(path, ps2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if meta[KeyStep] != "1" {
		t.Fatalf("metadata %v", meta)
	}
	for i := range ps {
		for j, v := range ps[i].Value.Data {
			if got := ps2[i].Value.Data[j]; math.Abs(float64(got-v)) > 1e-3*math.Max(1, math.Abs(float64(v))) {
				t.Fatalf("%s[%d] = %g after F16 round trip of %g", ps[i].Name, j, got, v)
			}
		}
	}

	// A checkpoint without an optimiser cannot restore one.
	bare := filepath.Join(dir, "bare.safetensors")
	if err := Save(bare, ps, nil, map[string]string{"k": "v"}, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bare, model(1), newOpt(t, model(1)))
	wantErr(t, err, `checkpoint `+bare+`: no "optim" state in the file (it has none)`)
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.safetensors")
	ps := model(0)
	if err := Save(path, ps, nil, nil, safetensors.F32); err != nil {
		t.Fatal(err)
	}

	// Wrong shape and missing tensors are all reported, in model order.
	other := model(0)
	other[0] = nn.NewParam("down.0.conv.weight", tensor.New(3, 3, 1, 4), false)
	other = append(other, nn.NewParam("up.0.weight", tensor.New(2), false))
	before := other[1].Value.Clone()
	_, err := Load(path, other, nil)
	wantErr(t, err, `checkpoint `+path+`: tensor "down.0.conv.weight" has shape [3 3 2 4], model wants [3 3 1 4]; missing tensor "up.0.weight"`)
	sameBits(t, "params after failed load", before, other[1].Value)

	// Extra tensors are an error unless allowed.
	small := model(0)[:2]
	_, err = Load(path, small, nil)
	wantErr(t, err, `unexpected tensors not in the model: "head.weight", "norm.gain"`)
	if _, err := LoadParts(path, small, nil, Options{AllowUnexpected: true}); err != nil {
		t.Fatal(err)
	}

	// A corrupt file names the file.
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, []byte("garbage!garbage"), 0o644)
	_, err = Load(bad, ps, nil)
	wantErr(t, err, "bad.safetensors")

	// Optimiser state of the wrong shape is caught by SetState, and the
	// parameters are left alone.
	ps3 := model(0)
	opt3 := newOpt(t, ps3)
	setGrads(ps3, 0)
	opt3.Step()
	withOpt := filepath.Join(dir, "opt.safetensors")
	if err := Save(withOpt, ps3, opt3, nil, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	f, _ := safetensors.Read(withOpt)
	f.Tensors["optim/exp_avg/norm.gain"] = tensor.New(5)
	if err := safetensors.Write(withOpt, f.Tensors, f.Meta, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	fresh := model(2)
	before = fresh[0].Value.Clone()
	_, err = Load(withOpt, fresh, newOpt(t, fresh))
	wantErr(t, err, `restoring "optim": optim: Adam state: parameter "norm.gain": moment has shape [5], parameter has [4]`)
	sameBits(t, "params after failed optimiser restore", before, fresh[0].Value)
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.safetensors")
	ps := model(0)
	err := Save(path, ps, nil, map[string]string{"checkpoint.step": "7"}, safetensors.F32)
	wantErr(t, err, `metadata key "checkpoint.step" uses the reserved prefix`)

	dup := append(model(0), nn.NewParam("norm.gain", tensor.New(4), true))
	wantErr(t, Save(path, dup, nil, nil, safetensors.F32), `parameter name "norm.gain" appears twice`)

	clash := append(model(0), nn.NewParam("optim/step", tensor.New(1), false))
	wantErr(t, Save(path, clash, newOpt(t, model(0)), nil, safetensors.F32), `clashes with state part "optim"`)

	ema, _ := optim.NewEMA(ps, 0.9, false)
	wantErr(t, SaveParts(path, ps, map[string]optim.Stateful{"a/b": ema}, nil, safetensors.F32), `bad state part name "a/b"`)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a failed save left a file")
	}
	checkOnlyFile(t, dir, "")
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v\nwant it to contain %q", err, want)
	}
}

func checkOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != name {
			t.Errorf("unexpected file %s in %s", e.Name(), dir)
		}
	}
}
