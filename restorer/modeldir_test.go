package restorer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/diffusion"
	"facereward/nn"
	"facereward/safetensors"
)

// countParams sums the elements NewModel actually allocated.
func countParams(ps []*nn.Param) int64 {
	n := int64(0)
	for _, p := range ps {
		n += int64(len(p.Value.Data))
	}
	return n
}

// TestNumParams keeps the counts Validate bounds in step with what the
// constructors allocate.
func TestNumParams(t *testing.T) {
	withUnshuffle := tinyConfig(16)
	withUnshuffle.UNet.Unshuffle = 2
	for name, c := range map[string]Config{"default": DefaultConfig(), "tiny": tinyConfig(16), "tiny unshuffled": withUnshuffle} {
		m, err := NewModel(c, 1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, n := range []struct {
			net       string
			got, want int64
		}{
			{"stage1", c.Stage1.numParams(), countParams(m.Stage1.Params())},
			{"unet", c.UNet.numParams(), countParams(m.UNet.Params())},
			{"control", c.UNet.controlParams(), countParams(m.Control.Params())},
		} {
			if n.got != n.want {
				t.Errorf("%s %s: counted %d parameters, the network has %d", name, n.net, n.got, n.want)
			}
		}
	}
}

// tinyDir saves the tiny model as a model directory and returns it.
func tinyDir(t testing.TB) string {
	t.Helper()
	c := tinyConfig(16)
	c.Schedule = diffusion.Cosine
	m, err := NewModel(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "model")
	if err := SaveDir(dir, m, safetensors.F16); err != nil {
		t.Fatal(err)
	}
	return dir
}

// editConfig rewrites dir's config.json through edit.
func editConfig(t *testing.T, dir string, edit func(*Config)) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dc dirConfig
	if err := json.Unmarshal(b, &dc); err != nil {
		t.Fatal(err)
	}
	edit(&dc.Restorer)
	if b, err = json.Marshal(dc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadDirRejectsHugeConfig is the reproducer of a config.json that made
// LoadDir allocate hundreds of gigabytes (and the process die of "out of
// memory") before any weight was read: it must now be a plain error naming
// the file and the field. The last cases are sizes each within bounds that
// add up to too many parameters.
func TestLoadDirRejectsHugeConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"stage1 width", func(c *Config) { c.Stage1.Width = 100000 }, "stage1: width = 100000, want 1..4096"},
		{"stage1 blocks", func(c *Config) { c.Stage1.Blocks = 1 << 30 }, "stage1: blocks = 1073741824, want 0..64"},
		{"unet widths", func(c *Config) { c.UNet.Widths = []int{48192} }, "unet: widths[0] = 48192, want 1..4096"},
		{"unet second width", func(c *Config) { c.UNet.Widths = []int{8, 1 << 40} }, "unet: widths[1] = 1099511627776, want 1..4096"},
		{"image size", func(c *Config) { c.Stage1.ImageSize, c.UNet.ImageSize = 1<<20, 1<<20 }, "stage1: image_size = 1048576, want 16..1024"},
		{"unshuffle", func(c *Config) { c.UNet.Unshuffle = 16 }, "unet: unshuffle = 16, want 0..8"},
		{"levels", func(c *Config) { c.UNet.Widths = make([]int, 100) }, "unet: len(widths) = 100, want 1..64"},
		{"blocks per level", func(c *Config) { c.UNet.BlocksPerLevel = 1000 }, "unet: blocks_per_level = 1000, want 1..64"},
		{"time dim", func(c *Config) { c.UNet.TimeDim = 1 << 20 }, "unet: time_dim = 1048576, want 1..4096"},
		{"hint width", func(c *Config) { c.UNet.HintWidth = -1 }, "unet: hint_width = -1, want 1..4096"},
		{"heads", func(c *Config) { c.UNet.Heads = 1 << 20 }, "unet: heads = 1048576, want 1..4096"},
		{"groups", func(c *Config) { c.UNet.Groups = 0 }, "unet: groups = 0, want 1..4096"},
		{"stage1 parameters", func(c *Config) { c.Stage1.Width, c.Stage1.Blocks = 4096, 64 }, "stage1: 19328765964 parameters, want at most 200000000"},
		{"unet parameters", func(c *Config) { c.UNet.Widths, c.UNet.BlocksPerLevel = []int{2048, 2048}, 8 }, "parameters with the control branch, want at most 200000000"},
		{"total parameters", func(c *Config) { c.Stage1.Width, c.Stage1.Blocks, c.UNet.Widths = 1024, 10, []int{256, 256} }, "parameters in all, want at most 200000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tinyDir(t)
			editConfig(t, dir, tc.edit)
			_, err := LoadDir(dir)
			if err == nil {
				t.Fatal("loaded")
			}
			for _, want := range []string{filepath.Join(dir, "config.json"), tc.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}

// TestLoadDirShapeMismatch: a config that is sane but is not the one the
// weights were trained with must name the file, a tensor and both shapes.
func TestLoadDirShapeMismatch(t *testing.T) {
	dir := tinyDir(t)
	editConfig(t, dir, func(c *Config) { c.Stage1.Width = 4 })
	_, err := LoadDir(dir)
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{filepath.Join(dir, "stage1.safetensors"), `"stage1.head.weight" has shape [3 3 12 8], model wants [3 3 12 4]`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// TestLoadDirRejectsTooFewValues: a config that needs more parameters than
// the files hold is refused before the networks are allocated.
func TestLoadDirRejectsTooFewValues(t *testing.T) {
	dir := tinyDir(t)
	editConfig(t, dir, func(c *Config) { c.Stage1.Width = 512 })
	_, err := LoadDir(dir)
	want := filepath.Join(dir, "stage1.safetensors") + " holds 6420 values, the network in " + filepath.Join(dir, "config.json") + " has 18989580 parameters"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v does not name %q", err, want)
	}
}

// TestLoadDirRejectsOversizedFiles: files larger than their config allows
// are refused before they are read.
func TestLoadDirRejectsOversizedFiles(t *testing.T) {
	dir := tinyDir(t)
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, make([]byte, maxConfigBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), path+" is 1048577 bytes, over its 1048576-byte limit") {
		t.Errorf("oversized config.json: %v", err)
	}

	dir = tinyDir(t)
	path = filepath.Join(dir, "unet.safetensors")
	limit := 8 + safetensors.MaxHeaderBytes + 8*tinyConfig(16).UNet.numParams()
	if err := os.Truncate(path, limit+1); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "byte limit") {
		t.Errorf("oversized unet.safetensors: %v", err)
	}
}

// TestShippedModelsValidate: the bounds must leave every shipped model
// loadable.
func TestShippedModelsValidate(t *testing.T) {
	for _, spec := range []string{"", "builtin:base", "../models/default"} {
		if _, err := Load(spec); err != nil {
			t.Errorf("%q: %v", spec, err)
		}
	}
}
