// Package models holds the built-in weights, embedded in the binary so that
// facereward works out of the box: the restorer that `facereward restore`
// uses without --model, and the Face Reward Model that `reward score`,
// `reward eval` and ReFL use without --model. models/README.md says how
// they were trained and under which licence they stand.
package models

import (
	"embed"
	"io/fs"
)

//go:embed default/config.json default/*.safetensors reward/frm.safetensors
var files embed.FS

// RewardFile is the built-in Face Reward Model's file in Reward().
const RewardFile = "frm.safetensors"

// Reward returns the folder of the built-in Face Reward Model, for
// reward.LoadFS(Reward(), RewardFile).
func Reward() fs.FS {
	sub, err := fs.Sub(files, "reward")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	return sub
}

// Default returns the built-in model directory (config.json and the
// stage1/unet/control .safetensors), for restorer.LoadFS.
func Default() fs.FS {
	sub, err := fs.Sub(files, "default")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	return sub
}
