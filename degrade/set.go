package degrade

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"facereward/atomicfile"
	"facereward/dataset"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/progress"
	"facereward/tensor"
)

// SetOptions describe a synthetic test set: which faces, how they are
// degraded and where the pairs go.
type SetOptions struct {
	In, Out   string   // folder of high-quality faces; folder of the set
	Preset    string   // degradation preset
	Overrides []string // key=value settings of the preset (Config.Set)
	Size      int      // working size: faces are resized (area) to Size×Size first
	Seed      uint64
	Split     string // keep only this split of the FFHQ ids; "" for every face
	List      string // keep only the ids or names listed in this file; "" for every face
	Workers   int    // parallel workers (the bytes do not depend on them)
}

// ManifestLine is one pair's entry in manifest.jsonl: its files and every
// parameter drawn for it.
type ManifestLine struct {
	File   string `json:"file"`
	LQ     string `json:"lq"`
	GT     string `json:"gt"`
	Seed   uint64 `json:"seed"`
	Stream uint64 `json:"stream"`
	Params Record `json:"params"`
}

// MakeSet writes Out/lq/NAME.png, Out/gt/NAME.png (the face at Size) and
// Out/manifest.jsonl for the faces of In, each degraded with the noise of
// Seed and its name alone, and prints a summary on stdout. Unreadable
// images are reported on stderr (with the progress bar), counted and
// skipped.
func MakeSet(o SetOptions, stdout, stderr io.Writer) error {
	cfg, err := o.config()
	if err != nil {
		return err
	}
	folder, err := o.faces(stderr)
	if err != nil {
		return err
	}
	for _, d := range []string{"lq", "gt"} {
		if err := os.MkdirAll(filepath.Join(o.Out, d), 0o755); err != nil {
			return fmt.Errorf("degrade: %w", err)
		}
	}
	lines, skipped := o.writePairs(cfg, folder, stderr)
	if err := writeManifest(filepath.Join(o.Out, "manifest.jsonl"), lines); err != nil {
		return fmt.Errorf("degrade: %w", err)
	}
	fmt.Fprintf(stdout, "degrade: %d pairs written to %s (preset %s at %d×%d, seed %d)", folder.Len()-skipped, o.Out, o.Preset, o.Size, o.Size, o.Seed)
	if skipped > 0 {
		fmt.Fprintf(stdout, "; %d unreadable images skipped", skipped)
	}
	fmt.Fprintln(stdout)
	return nil
}

// config is the preset with the overrides, at the working size. The
// overrides are checked before the rescaling, so that an error names the
// value given rather than its rescaled one.
func (o SetOptions) config() (Config, error) {
	if o.Size < MinSize || o.Size > MaxSize {
		return Config{}, fmt.Errorf("degrade: --size %d outside [%d, %d]", o.Size, MinSize, MaxSize)
	}
	cfg, err := Preset(o.Preset)
	if err != nil {
		return cfg, fmt.Errorf("degrade: %w", err)
	}
	for _, kv := range o.Overrides {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return cfg, fmt.Errorf("degrade: --set %q: want key=value", kv)
		}
		if err := cfg.Set(k, v); err != nil {
			return cfg, fmt.Errorf("degrade: --set %s: %w", kv, err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	from := cfg.Size
	cfg = cfg.AtSize(o.Size)
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%w (the settings rescaled from size %d to --size %d)", err, from, o.Size)
	}
	return cfg, nil
}

// faces lists the images of In that the split and the list keep; listed
// names that are not there are reported on stderr.
func (o SetOptions) faces(stderr io.Writer) (*dataset.Folder, error) {
	folder, err := dataset.Open(o.In)
	if err != nil {
		return nil, fmt.Errorf("degrade: %w", err)
	}
	if o.Split != "" {
		if folder, err = folder.Split(o.Split); err != nil {
			return nil, fmt.Errorf("degrade: %w", err)
		}
	}
	if o.List != "" {
		l, err := dataset.ReadList(o.List)
		if err != nil {
			return nil, fmt.Errorf("degrade: %w", err)
		}
		var missing []string
		folder, missing = folder.InList(l)
		if len(missing) > 0 {
			fmt.Fprintf(stderr, "degrade: %d listed names not found in %s (first: %s)\n", len(missing), o.In, missing[0])
		}
	}
	if folder.Len() == 0 {
		return nil, fmt.Errorf("degrade: no images left in %s after filtering", o.In)
	}
	return folder, nil
}

// writePairs degrades and writes every face of folder on o.Workers
// workers and returns the manifest lines in file order (nil for a face
// skipped) and how many were skipped.
func (o SetOptions) writePairs(cfg Config, folder *dataset.Folder, stderr io.Writer) ([]*ManifestLine, int) {
	lines := make([]*ManifestLine, folder.Len())
	var skipped int
	var mu sync.Mutex
	bar := progress.New(stderr, "degrade", folder.Len())
	next := make(chan int)
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := New(cfg)
			if err != nil {
				panic(err) // validated by config
			}
			for i := range next {
				f := folder.Files[i]
				line, err := writePair(d, f, o.Out, o.Seed, o.Size)
				mu.Lock()
				if err != nil {
					skipped++
					fmt.Fprintf(stderr, "\ndegrade: skipping %s: %v\n", f.Path, err)
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
	return lines, skipped
}

// writePair degrades one face with its own stream and writes the pair.
func writePair(d *Degrader, f dataset.File, out string, seed uint64, size int) (*ManifestLine, error) {
	hq, err := imageio.Read(f.Path)
	if err != nil {
		return nil, err
	}
	if hq.Shape[0] != size || hq.Shape[1] != size {
		hq = imgproc.Resize(hq, size, size, imgproc.Area)
	}
	stream := Stream(f.Rel)
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
	return &ManifestLine{File: filepath.ToSlash(f.Rel), LQ: "lq/" + name, GT: "gt/" + name, Seed: seed, Stream: stream, Params: rec}, nil
}

// writeManifest writes one JSON line per pair, in file order, atomically.
func writeManifest(path string, lines []*ManifestLine) error {
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
