// Command disccheck measures how fast a discriminator learns to tell a
// restorer's clean-image estimates from the ground truth when the
// restorer stands still: for train faces degraded on the fly it draws
// x0_hat at timesteps in [t-min, t-max), then trains each discriminator
// variant on the first faces and prints its mean logit margin (ground
// truth minus x0_hat) on the last ones. It separates "the discriminator
// cannot see the difference" from "the restorer follows it as fast as it
// learns" when an adversarial run's hinge loss stays at 2.
//
//	go run ./tools/disccheck -model builtin:base -data ../shared/data/ffhq128
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"facereward/dataset"
	"facereward/degrade"
	"facereward/diffusion"
	"facereward/imageio"
	"facereward/nn"
	"facereward/optim"
	"facereward/restorer"
	"facereward/tensor"
)

func main() {
	model := flag.String("model", "builtin:base", "restorer whose estimates are the fakes")
	data := flag.String("data", "../shared/data/ffhq128", "FFHQ faces (the train split is read)")
	faces := flag.Int("faces", 160, "faces drawn; the last fifth are held out")
	tmin := flag.Int("t-min", 200, "smallest timestep of the estimates")
	tmax := flag.Int("t-max", 550, "timesteps below this")
	steps := flag.Int("steps", 120, "discriminator steps per variant (batch 8)")
	lr := flag.Float64("lr", 4e-4, "discriminator learning rate (Adam, β2 0.99)")
	highPass := flag.String("high-pass", "0,1,2", "the variants: wavelet lowpass levels removed from the input (0: the whole face)")
	gain := flag.Float64("gain", 4, "the detail bands' gain")
	flag.Parse()
	if err := run(*model, *data, *faces, *tmin, *tmax, *steps, *lr, *highPass, *gain); err != nil {
		fmt.Fprintln(os.Stderr, "disccheck:", err)
		os.Exit(1)
	}
}

func run(model, data string, n, tmin, tmax, steps int, lr float64, highPass string, gain float64) error {
	m, err := restorer.Load(model)
	if err != nil {
		return err
	}
	ds, err := dataset.Open(data)
	if err != nil {
		return err
	}
	split, err := ds.Split("train")
	if err != nil {
		return err
	}
	train := split.Files
	if len(train) < n {
		return fmt.Errorf("%s: %d train faces, want %d", data, len(train), n)
	}
	cfg, err := degrade.Preset("diffbir")
	if err != nil {
		return err
	}
	cfg = cfg.AtSize(m.Config.UNet.ImageSize)
	rng := rand.New(rand.NewPCG(1, 2))
	g := nn.NewGraph()
	g.NoGrad = true
	var real, fake []*tensor.Tensor
	for i := range n {
		gt, err := imageio.Read(train[i*len(train)/n].Path)
		if err != nil {
			return err
		}
		lq, _, err := degrade.Degrade(rng, gt, cfg)
		if err != nil {
			return err
		}
		hq := restorer.ToSigned(tensor.Stack([]*tensor.Tensor{gt}))
		t := []int{tmin + rng.IntN(tmax-tmin)}
		xt := m.Schedule.Noise(hq, diffusion.Normal(rng, hq.Shape...), t)
		pred, _ := m.Predict(g, nn.Constant(xt), t, nn.Constant(m.Condition(tensor.Stack([]*tensor.Tensor{lq}))))
		x0 := m.Schedule.X0FromPred(m.Config.UNet.Prediction, xt, pred.Value, t)
		real, fake = append(real, tensor.Unstack(hq)[0]), append(fake, tensor.Unstack(x0.Clone())[0])
		g.Reset()
	}
	held := n - n/5
	fmt.Println("| input | step | train hinge loss | held-out margin |")
	fmt.Println("| --- | --- | --- | --- |")
	for _, f := range strings.Split(highPass, ",") {
		hp, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("-high-pass %q: %w", highPass, err)
		}
		c := restorer.DefaultDisc()
		c.HighPass, c.HighPassGain = hp, gain
		d, err := restorer.NewDiscriminator(c, m.Config.UNet.ImageSize, nn.NewRNG(1))
		if err != nil {
			return err
		}
		ac := optim.DefaultAdam(lr)
		ac.Beta2 = 0.99
		opt, err := optim.NewAdamW(d.Params(), ac)
		if err != nil {
			return err
		}
		dg := nn.NewGraph()
		for step := range steps {
			i := (step * 8) % (held - 8)
			loss := restorer.HingeD(dg, d.Forward(dg, nn.Constant(tensor.Stack(real[i:i+8]))), d.Forward(dg, nn.Constant(tensor.Stack(fake[i:i+8]))), nil)
			lv := loss.Value.Data[0]
			dg.Backward(loss)
			dg.Reset()
			optim.ClipGradNorm(d.Params(), 1)
			opt.Step()
			nn.ZeroGrad(d.Params())
			if (step+1)%(steps/4) == 0 {
				fmt.Printf("| high-pass %d | %d | %.3f | %.3f |\n", hp, step+1, lv, margin(d, real[held:], fake[held:]))
			}
		}
	}
	return nil
}

// margin is the mean logit of the real faces minus that of the fakes.
func margin(d *restorer.Discriminator, real, fake []*tensor.Tensor) float64 {
	g := nn.NewGraph()
	g.NoGrad = true
	r, f := d.Forward(g, nn.Constant(tensor.Stack(real))), d.Forward(g, nn.Constant(tensor.Stack(fake)))
	var s float64
	for i := range r.Value.Data {
		s += float64(r.Value.Data[i] - f.Value.Data[i])
	}
	return s / float64(len(r.Value.Data))
}
