// Command strip lays the same faces from several folders out as one PNG:
// one row per folder (e.g. LQ, stage 1, stage 2, GT), one column per face,
// the first --n file names in sorted order (not picked by hand). README's
// strip is made by
//
//	go run ./tools/strip --out docs/strip.png --n 12 out/quality/diffbir/{pairs/lq,stage1,stage2,pairs/gt}
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"facereward/atomicfile"
	"facereward/imageio"
	"facereward/tensor"
	"facereward/train"
)

func main() {
	out := flag.String("out", "", "PNG to write")
	n := flag.Int("n", 12, "faces (columns)")
	flag.Parse()
	if err := run(*out, *n, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "strip:", err)
		os.Exit(1)
	}
}

func run(out string, n int, dirs []string) error {
	if out == "" || len(dirs) == 0 || n < 1 {
		return fmt.Errorf("usage: strip --out FILE [--n 12] DIR...")
	}
	names, err := filepath.Glob(filepath.Join(dirs[0], "*.png"))
	if err != nil {
		return err
	}
	slices.Sort(names)
	if len(names) < n {
		return fmt.Errorf("%s has %d PNGs, want %d", dirs[0], len(names), n)
	}
	var rows [][]*tensor.Tensor
	for _, d := range dirs {
		var row []*tensor.Tensor
		for _, name := range names[:n] {
			img, err := imageio.Read(filepath.Join(d, filepath.Base(name)))
			if err != nil {
				return err
			}
			if len(row) > 0 && !tensor.SameShape(img.Shape, row[0].Shape) {
				return fmt.Errorf("%s: size %v differs from the others", name, img.Shape)
			}
			row = append(row, img)
		}
		rows = append(rows, row)
	}
	b, err := train.Grid(rows)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(out, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return err
	}
	fmt.Println("wrote", out, "from", strings.Join(dirs, ", "))
	return nil
}
