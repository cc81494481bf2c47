package models

import (
	"embed"
	"io/fs"
)

//go:embed default/config.json default/*.safetensors base/control.safetensors reward/frm.safetensors
var files embed.FS

// The built-in restorers by name, for --model builtin:NAME. Both share
// stage 1 and the UNet; they differ in the control branch, which is all
// ReFL tunes.
const (
	// ReFL is the default: the base restorer fine-tuned with ReFL.
	ReFL = "refl"
	// Base is the restorer before ReFL (stage 1 and stage 2 training
	// only), which ReFL starts from.
	Base = "base"
	// BuiltinPrefix marks a built-in restorer where a model directory
	// is expected: builtin:refl, builtin:base.
	BuiltinPrefix = "builtin:"
)

// Restorer returns the named built-in model directory (ReFL or Base), for
// restorer.LoadFS; ok is false for other names.
func Restorer(name string) (fsys fs.FS, ok bool) {
	switch name {
	case ReFL:
		return Default(), true
	case Base:
		return overlay{Default(), "control.safetensors", mustSub("base")}, true
	}
	return nil, false
}

// overlay is base with one file taken from top.
type overlay struct {
	base fs.FS
	name string
	top  fs.FS
}

func (o overlay) Open(name string) (fs.File, error) {
	if name == o.name {
		return o.top.Open(name)
	}
	return o.base.Open(name)
}

func mustSub(dir string) fs.FS {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	return sub
}

// RewardFile is the built-in Face Reward Model's file in Reward().
const RewardFile = "frm.safetensors"

// Reward returns the folder of the built-in Face Reward Model, for
// reward.LoadFS(Reward(), RewardFile).
func Reward() fs.FS { return mustSub("reward") }

// Default returns the default built-in model directory (config.json and
// the stage1/unet/control .safetensors: the ReFL-tuned restorer), for
// restorer.LoadFS.
func Default() fs.FS { return mustSub("default") }
