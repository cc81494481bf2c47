// Package models holds the built-in restorer: the model directory that
// `facereward restore` uses without --model, embedded in the binary so
// that it restores faces out of the box. models/README.md says how the
// weights were trained and under which licence they stand.
package models

import (
	"embed"
	"io/fs"
)

//go:embed default/config.json default/*.safetensors
var files embed.FS

// Default returns the built-in model directory (config.json and the
// stage1/unet/control .safetensors), for restorer.LoadFS.
func Default() fs.FS {
	sub, err := fs.Sub(files, "default")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	return sub
}
