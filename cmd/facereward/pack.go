package main

import (
	"fmt"
	"io"

	"facereward/restorer"
	"facereward/safetensors"
	"facereward/train"
)

func runPack(args []string, stdout io.Writer) error {
	fs := newFlags("pack", "pack --run STAGE2RUN | --model DIR  --out DIR [--f16]", `
Assembles a model directory (what restore --model reads) from a finished
stage-2 run: config.json, stage1/unet/control .safetensors. The stage-1 net
is the one the run was conditioned on (its --stage1); in control mode the
UNet is the run's --unet. --model instead rewrites a model directory (a
ReFL run's model/ or best/, or builtin:NAME). --checkpoint packs a run
that is still going, or measures it at a step it saved. --f16 stores the weights as
float16, half the size; the built-in weights are stored that way.`, stdout)
	run := fs.String("run", "", "stage-2 run folder (joint or control mode) with its model.safetensors")
	ckpt := fs.String("checkpoint", "", "with --run: take the EMA weights of this checkpoint file instead of the finished run's")
	model := fs.String("model", "", "model directory to rewrite instead of a stage-2 run")
	out := fs.String("out", "", "model directory to write")
	f16 := fs.Bool("f16", false, "store the weights as float16")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*run == "") == (*model == "") || *out == "" {
		return fmt.Errorf("pack: --out and one of --run and --model are required (see --help)")
	}
	var m *restorer.Model
	var err error
	if *run != "" {
		m, err = train.Pack(*run, *ckpt)
	} else {
		m, err = restorer.Load(*model)
	}
	if err != nil {
		return err
	}
	dt := safetensors.F32
	if *f16 {
		dt = safetensors.F16
	}
	if err := restorer.SaveDir(*out, m, dt); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pack: wrote %s\n", *out)
	return nil
}
