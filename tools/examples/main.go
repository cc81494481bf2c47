// Command examples makes the bundled example faces in examples/: each face
// in the public-domain photos of testdata/faces is detected, aligned to
// 128×128 as FFHQ (examples/gt) and degraded with the diffbir preset at
// that size (examples/lq), seed 1. Run from the repository root:
//
//	go run ./tools/examples
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"facereward/degrade"
	"facereward/facenet"
	"facereward/faces"
	"facereward/imageio"
	"facereward/tensor"
)

// photos are the public-domain photos (testdata/faces/README.md names
// their sources) and the names their faces get.
var photos = []struct{ file, name string }{
	{"testdata/faces/astronaut_256.png", "collins"},
	{"testdata/faces/grace_hopper_512x512.jpg", "hopper"},
}

const size, seed = 128, 1

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "examples:", err)
		os.Exit(1)
	}
}

func run() error {
	lm, _, err := facenet.Load()
	if err != nil {
		return err
	}
	cfg, err := degrade.Preset("diffbir")
	if err != nil {
		return err
	}
	d, err := degrade.New(cfg.AtSize(size))
	if err != nil {
		return err
	}
	for _, p := range photos {
		img, err := imageio.Read(p.file)
		if err != nil {
			return err
		}
		found, err := faces.DefaultOptions().Detect(img)
		if err != nil {
			return fmt.Errorf("%s: %w", p.file, err)
		}
		if len(found.Faces) != 1 {
			return fmt.Errorf("%s: %d faces, want 1", p.file, len(found.Faces))
		}
		f := found.Faces[0]
		if err := faces.RefinePoints(img, &f, lm); err != nil {
			return fmt.Errorf("%s: %w", p.file, err)
		}
		gt, _, err := faces.Align(img, f.Points, size)
		if err != nil {
			return fmt.Errorf("%s: %w", p.file, err)
		}
		name := p.name + ".png"
		lq, _, err := d.Degrade(rand.New(rand.NewPCG(seed, degrade.Stream(name))), gt)
		if err != nil {
			return err
		}
		if err := write(filepath.Join("examples", "gt", name), gt); err != nil {
			return err
		}
		if err := write(filepath.Join("examples", "lq", name), lq); err != nil {
			return err
		}
		fmt.Println("wrote", name)
	}
	return nil
}

func write(path string, img *tensor.Tensor) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return imageio.WritePNG(path, img)
}
