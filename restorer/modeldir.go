package restorer

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"facereward/atomicfile"
	"facereward/checkpoint"
	"facereward/diffusion"
	"facereward/models"
	"facereward/nn"
	"facereward/safetensors"
)

// A model directory holds config.json (DirConfig) and one weight file per
// network, each the model.safetensors of its training run: stage1.safetensors,
// unet.safetensors and control.safetensors.
var dirFiles = [3]string{"stage1.safetensors", "unet.safetensors", "control.safetensors"}

// dirConfig is a model directory's config.json: the networks' sizes and,
// beside them, the β schedule (Config.Schedule, which is not part of the
// networks' JSON).
type dirConfig struct {
	Restorer Config                 `json:"restorer"`
	Schedule diffusion.BetaSchedule `json:"schedule"`
}

// LoadDir reads a model directory.
func LoadDir(dir string) (*Model, error) { return LoadFS(os.DirFS(dir), dir) }

// LoadFS reads a model directory from fsys (the built-in weights are an
// embedded one); name says which in errors and becomes the model's Name.
func LoadFS(fsys fs.FS, name string) (*Model, error) {
	fail := func(err error) (*Model, error) { return nil, fmt.Errorf("restorer: model %s: %w", name, err) }
	configPath := filepath.Join(name, "config.json")
	b, err := readBounded(fsys, "config.json", configPath, maxConfigBytes)
	if err != nil {
		return fail(err)
	}
	var dc dirConfig
	if err := json.Unmarshal(b, &dc); err != nil {
		return fail(fmt.Errorf("%s: %w", configPath, err))
	}
	if dc.Schedule == "" {
		return fail(fmt.Errorf("%s names no schedule", configPath))
	}
	c := dc.Restorer
	c.Schedule = dc.Schedule
	// Everything below is sized from c (file limits, then the networks),
	// so c must be known to be of a sane size first: a width of 100000
	// would be a 360 GB allocation.
	if err := c.Validate(); err != nil {
		return fail(fmt.Errorf("%s: %w", configPath, err))
	}
	// A weight file can hold no more than its network's parameters, at
	// most 8 bytes each (F64) after a bounded header; reading a larger one
	// whole would cost memory for nothing but an error afterwards.
	wants := [3]int64{c.Stage1.numParams(), c.UNet.numParams(), c.UNet.controlParams()}
	var files [3]*safetensors.File
	for i, file := range dirFiles {
		path := filepath.Join(name, file)
		b, err := readBounded(fsys, file, path, 8+safetensors.MaxHeaderBytes+8*wants[i])
		if err != nil {
			return fail(err)
		}
		if files[i], err = safetensors.ReadBytes(b, path); err != nil {
			return fail(err)
		}
		// Nor may a file hold fewer values than its network has
		// parameters: a few bytes must not make us allocate a large
		// network only to report the mismatch afterwards.
		if held := numValues(files[i]); held < wants[i] {
			return fail(fmt.Errorf("%s holds %d values, the network in %s has %d parameters", path, held, configPath, wants[i]))
		}
	}
	m, err := NewModel(c, 0)
	if err != nil {
		return fail(err)
	}
	m.Name = name
	for i, mod := range []nn.Module{m.Stage1, m.UNet, m.Control} {
		// LoadFile names the file, the tensor and both shapes when the
		// file does not match the network c describes.
		if _, err := checkpoint.LoadFile(files[i], filepath.Join(name, dirFiles[i]), mod.Params(), nil, checkpoint.Options{}); err != nil {
			return fail(err)
		}
	}
	return m, nil
}

// numValues counts the values of every tensor in f.
func numValues(f *safetensors.File) int64 {
	n := int64(0)
	for _, t := range f.Tensors {
		n += int64(len(t.Data))
	}
	return n
}

// maxConfigBytes bounds config.json, whose real size is under 1 kB: a
// larger file is not a config and should not be read into memory.
const maxConfigBytes = 1 << 20

// readBounded reads file from fsys, refusing one larger than limit bytes
// before reading it; path names it in errors.
func readBounded(fsys fs.FS, file, path string, limit int64) ([]byte, error) {
	st, err := fs.Stat(fsys, file)
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, over its %d-byte limit", path, st.Size(), limit)
	}
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Load reads the restorer spec names: a model directory, or
// builtin:NAME for a built-in one (models.Restorer: refl, the default, or
// base); "" is the default. The model's Name is what errors and reports
// should call it.
func Load(spec string) (*Model, error) {
	if spec == "" {
		spec = models.BuiltinPrefix + models.ReFL
	}
	if name, ok := strings.CutPrefix(spec, models.BuiltinPrefix); ok {
		fsys, ok := models.Restorer(name)
		if !ok {
			return nil, fmt.Errorf("restorer: no built-in model %q (want %s%s or %s%s)", name, models.BuiltinPrefix, models.ReFL, models.BuiltinPrefix, models.Base)
		}
		return LoadFS(fsys, spec)
	}
	m, err := LoadDir(spec)
	if err != nil {
		return nil, err
	}
	m.Name = filepath.Clean(spec)
	return m, nil
}

// SaveDir writes m as a model directory with its weights stored as dtype
// (F16 halves the size of shipped weights; inference does not notice).
func SaveDir(dir string, m *Model, dtype safetensors.DType) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(dirConfig{Restorer: m.Config, Schedule: m.Config.Schedule}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "config.json"), func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
		return err
	}
	for i, mod := range []nn.Module{m.Stage1, m.UNet, m.Control} {
		if err := checkpoint.Save(filepath.Join(dir, dirFiles[i]), mod.Params(), nil, nil, dtype); err != nil {
			return fmt.Errorf("restorer: saving %s: %w", dir, err)
		}
	}
	return nil
}
