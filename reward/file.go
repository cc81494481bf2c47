package reward

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"facereward/checkpoint"
	"facereward/models"
	"facereward/nn"
	"facereward/safetensors"
)

// configKey is the metadata entry that holds the FRM's Config, so one
// safetensors file is a whole model.
const configKey = "frm_config"

// FileName is the model file in a reward run folder.
const FileName = "model.safetensors"

// Meta returns the metadata that makes a checkpoint of m loadable by Load.
func (m *FRM) Meta() map[string]string {
	b, _ := json.Marshal(m.Config) // plain fields: cannot fail
	return map[string]string{configKey: string(b)}
}

// Save writes m's weights (float32) and config to path atomically.
func (m *FRM) Save(path string) error {
	if err := checkpoint.Save(path, m.Params(), nil, m.Meta(), safetensors.F32); err != nil {
		return fmt.Errorf("reward: saving %s: %w", path, err)
	}
	return nil
}

// Load reads an FRM from a model file, a training checkpoint (its
// optimiser state is skipped) or a run folder (its model.safetensors).
func Load(path string) (*FRM, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, FileName)
	}
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, fmt.Errorf("reward: %w", err)
	}
	return fromFile(f, path)
}

// LoadOrBuiltin is Load, or the built-in FRM (models.Reward) when path is
// empty: what every --model/--reward flag of an FRM means.
func LoadOrBuiltin(path string) (*FRM, error) {
	if path == "" {
		return LoadFS(models.Reward(), models.RewardFile)
	}
	return Load(path)
}

// LoadFS reads an FRM model file from a file system (the embedded one).
func LoadFS(fsys fs.FS, name string) (*FRM, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("reward: %w", err)
	}
	f, err := safetensors.ReadBytes(b, name)
	if err != nil {
		return nil, fmt.Errorf("reward: %w", err)
	}
	return fromFile(f, name)
}

func fromFile(f *safetensors.File, path string) (*FRM, error) {
	raw, ok := f.Meta[configKey]
	if !ok {
		return nil, fmt.Errorf("reward: %s is not a reward model (no %s metadata)", path, configKey)
	}
	var c Config
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return nil, fmt.Errorf("reward: %s: %s: %w", path, configKey, err)
	}
	// New allocates from c before any weight is compared with it, so c
	// must be known to be of a sane size first, and to need no more
	// parameters than the file holds: a 100-byte file must not make us
	// allocate hundreds of megabytes only to report a mismatch.
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("reward: %s: %s: %w", path, configKey, err)
	}
	held := int64(0)
	for _, t := range f.Tensors {
		held += int64(len(t.Data))
	}
	if need := c.numParams(); need > held {
		return nil, fmt.Errorf("reward: %s: %s needs %d parameters, the file holds %d values", path, configKey, need, held)
	}
	// LoadFile names the file, the tensor and both shapes where the
	// file's tensors do not match the config.
	m, err := New(c, nn.NewRNG(0))
	if err != nil {
		return nil, fmt.Errorf("reward: %s: %w", path, err)
	}
	if _, err := checkpoint.LoadFile(f, path, m.Params(), nil, checkpoint.Options{}); err != nil {
		return nil, fmt.Errorf("reward: %w", err)
	}
	return m, nil
}
