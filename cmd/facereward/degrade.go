package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"facereward/atomicfile"
	"facereward/dataset"
	"facereward/degrade"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/progress"
	"facereward/tensor"
)

// stringList collects a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// manifestLine is one pair's entry in manifest.jsonl.
type manifestLine struct {
	File   string         `json:"file"`
	LQ     string         `json:"lq"`
	GT     string         `json:"gt"`
	Seed   uint64         `json:"seed"`
	Stream uint64         `json:"stream"`
	Params degrade.Record `json:"params"`
}

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
	size := fs.Int("size", 128, "working size: faces are resized (INTER_AREA) to size×size first")
	split := fs.String("split", "", "keep only a split of the FFHQ ids: train (01001–04799) or devval (04800–04999)")
	list := fs.String("list", "", "keep only the ids or file names listed in this file (one per line)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "parallel workers")
	var sets stringList
	fs.Var(&sets, "set", "override a preset parameter, key=value (repeatable); see --set help")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(sets) == 1 && sets[0] == "help" {
		fmt.Fprintf(stdout, "degrade --set keys: %s\n", strings.Join(degrade.Keys(), ", "))
		return nil
	}
	if *in == "" || *out == "" {
		return fmt.Errorf("degrade: --in and --out are required (see --help)")
	}
	if *size < 16 || *workers < 1 {
		return fmt.Errorf("degrade: --size must be ≥ 16 and --workers ≥ 1")
	}
	cfg, err := degrade.Preset(*preset)
	if err != nil {
		return fmt.Errorf("degrade: %w", err)
	}
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("degrade: --set %q: want key=value", kv)
		}
		if err := cfg.Set(k, v); err != nil {
			return fmt.Errorf("degrade: --set %s: %w", kv, err)
		}
	}
	cfg = cfg.AtSize(*size)
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("degrade: %w", err)
	}

	folder, err := dataset.Open(*in)
	if err != nil {
		return fmt.Errorf("degrade: %w", err)
	}
	if *split != "" {
		if folder, err = folder.Split(*split); err != nil {
			return fmt.Errorf("degrade: %w", err)
		}
	}
	if *list != "" {
		l, err := dataset.ReadList(*list)
		if err != nil {
			return fmt.Errorf("degrade: %w", err)
		}
		var missing []string
		folder, missing = folder.InList(l)
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "degrade: %d listed names not found in %s (first: %s)\n", len(missing), *in, missing[0])
		}
	}
	if folder.Len() == 0 {
		return fmt.Errorf("degrade: no images left in %s after filtering", *in)
	}
	for _, d := range []string{"lq", "gt"} {
		if err := os.MkdirAll(filepath.Join(*out, d), 0o755); err != nil {
			return fmt.Errorf("degrade: %w", err)
		}
	}

	lines := make([]*manifestLine, folder.Len())
	var skipped int
	var mu sync.Mutex
	bar := progress.New(os.Stderr, "degrade", folder.Len())
	next := make(chan int)
	var wg sync.WaitGroup
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := degrade.New(cfg)
			if err != nil {
				panic(err) // validated above
			}
			for i := range next {
				f := folder.Files[i]
				line, err := degradeOne(d, f, *out, *seed, *size)
				mu.Lock()
				if err != nil {
					skipped++
					fmt.Fprintf(os.Stderr, "\ndegrade: skipping %s: %v\n", f.Path, err)
				} else {
					lines[i] = line
				}
				mu.Unlock()
				bar.Add(1)
			}
		}()
	}
	for i := range folder.Files {
		next <- i
	}
	close(next)
	wg.Wait()
	bar.Finish()

	if err := writeManifest(filepath.Join(*out, "manifest.jsonl"), lines); err != nil {
		return fmt.Errorf("degrade: %w", err)
	}
	fmt.Fprintf(stdout, "degrade: %d pairs written to %s (preset %s at %d×%d, seed %d)", folder.Len()-skipped, *out, *preset, *size, *size, *seed)
	if skipped > 0 {
		fmt.Fprintf(stdout, "; %d unreadable images skipped", skipped)
	}
	fmt.Fprintln(stdout)
	return nil
}

func degradeOne(d *degrade.Degrader, f dataset.File, out string, seed uint64, size int) (*manifestLine, error) {
	hq, err := imageio.Read(f.Path)
	if err != nil {
		return nil, err
	}
	if hq.Shape[0] != size || hq.Shape[1] != size {
		hq = imgproc.Resize(hq, size, size, imgproc.Area)
	}
	stream := degrade.Stream(f.Rel)
	lq, rec, err := d.Degrade(rand.New(rand.NewPCG(seed, stream)), hq)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.ToSlash(f.Rel), filepath.Ext(f.Rel)) + ".png"
	for _, p := range []struct {
		dir string
		img *tensor.Tensor
	}{{"lq", lq}, {"gt", hq}} {
		path := filepath.Join(out, p.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := imageio.WritePNG(path, p.img); err != nil {
			return nil, err
		}
	}
	return &manifestLine{File: filepath.ToSlash(f.Rel), LQ: "lq/" + name, GT: "gt/" + name, Seed: seed, Stream: stream, Params: rec}, nil
}

// writeManifest writes one JSON line per pair, in file order, atomically.
func writeManifest(path string, lines []*manifestLine) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, l := range lines {
			if l == nil {
				continue
			}
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
		return nil
	})
}
