package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"facereward/degrade"
)

// stringList collects a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runDegrade(args []string, stdout io.Writer) error {
	fs := newFlags("degrade", "degrade --in HQ_DIR --out DIR [flags]", `
Makes a synthetic test set of (LQ, GT) pairs from a folder of high-quality
faces with the blind-face degradation model (blur, downsample, noise, JPEG,
resize back; basicsr/GFPGAN/DiffBIR). Writes DIR/lq/NAME.png, DIR/gt/NAME.png
(the face at --size) and DIR/manifest.jsonl with every drawn parameter.

Presets are defined at 512×512 as in the field; at another --size their
spatial parameters are rescaled (degrade.Config.AtSize explains the rule).
Each image's randomness comes from --seed and its file name alone, so the
same seed gives the same bytes whatever the subset or worker count.
Unreadable images are reported, counted and skipped.`, stdout)
	in := fs.String("in", "", "folder of high-quality faces (searched recursively)")
	out := fs.String("out", "", "output folder")
	preset := fs.String("preset", "diffbir", "degradation preset: "+strings.Join(degrade.PresetNames(), ", "))
	seed := fs.Uint64("seed", 7, "random seed")
	size := fs.Int("size", 128, fmt.Sprintf("working size, in [%d, %d]: faces are resized (INTER_AREA) to size×size first", degrade.MinSize, degrade.MaxSize))
	split := fs.String("split", "", "keep only a split of the FFHQ ids: train (01001–04799) or devval (04800–04999)")
	list := fs.String("list", "", "keep only the ids or file names listed in this file (one per line)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "parallel workers")
	var sets stringList
	fs.Var(&sets, "set", "override a preset parameter, key=value (repeatable); see --set help")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(sets) == 1 && sets[0] == "help" {
		fmt.Fprintf(stdout, "degrade --set keys: %s\n", strings.Join(degrade.Keys(), ", "))
		return nil
	}
	if *in == "" || *out == "" {
		return fmt.Errorf("degrade: --in and --out are required (see --help)")
	}
	if *workers < 1 {
		return fmt.Errorf("degrade: --workers %d must be ≥ 1", *workers)
	}
	return degrade.MakeSet(degrade.SetOptions{In: *in, Out: *out, Preset: *preset, Overrides: sets, Size: *size, Seed: *seed,
		Split: *split, List: *list, Workers: *workers}, stdout, os.Stderr)
}
