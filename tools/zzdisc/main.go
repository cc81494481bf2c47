package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"facereward/imageio"
	"facereward/nn"
	"facereward/optim"
	"facereward/restorer"
	"facereward/tensor"
)

func load(dir string, n int) []*tensor.Tensor {
	fs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	sort.Strings(fs)
	var out []*tensor.Tensor
	for _, f := range fs[:n] {
		im, err := imageio.Read(f)
		if err != nil {
			panic(err)
		}
		out = append(out, restorer.ToSigned(im))
	}
	return out
}

func main() {
	sn := flag.Bool("sn", true, "spectral norm")
	gain := flag.Float64("gain", 1, "logit gain")
	lr := flag.Float64("lr", 4e-4, "")
	iters := flag.Int("iters", 8, "")
	flag.Parse()
	real := load("/work/evalset/d48/gt", 48)
	fake := load(os.Args[len(os.Args)-1], 48)
	d, _ := restorer.NewDiscriminator(restorer.DiscConfig{Widths: []int{64, 128, 256}, PowerIters: *iters}, 128, nn.NewRNG(1))
	cfg := optim.DefaultAdam(*lr)
	cfg.Beta2 = 0.99
	opt, _ := optim.NewAdamW(d.Params(), cfg)
	g := nn.NewGraph()
	fwd := func(x *nn.Var) *nn.Var {
		if *sn {
			return g.Scale(d.Forward(g, x), float32(*gain))
		}
		for _, c := range d.Convs {
			x = g.LeakyReLU(c.Forward(g, x), 0.2)
		}
		return d.Head.Forward(g, x)
	}
	for step := range 120 {
		i := (step * 8) % 40
		r := tensor.Stack(real[i : i+8])
		f := tensor.Stack(fake[i : i+8])
		lr_, lf := fwd(nn.Constant(r)), fwd(nn.Constant(f))
		loss := restorer.HingeD(g, lr_, lf)
		if step%10 == 0 {
			var mr, mf float64
			for _, v := range lr_.Value.Data {
				mr += float64(v)
			}
			for _, v := range lf.Value.Data {
				mf += float64(v)
			}
			fmt.Printf("%d loss %.3f real %.3f fake %.3f\n", step, loss.Value.Data[0], mr/float64(len(lr_.Value.Data)), mf/float64(len(lf.Value.Data)))
		}
		g.Backward(loss)
		g.Reset()
		optim.ClipGradNorm(d.Params(), 1)
		opt.Step()
		nn.ZeroGrad(d.Params())
	}
}
