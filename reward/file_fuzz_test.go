package reward

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"facereward/checkpoint"
	"facereward/nn"
	"facereward/safetensors"
	"facereward/tensor"
)

// FuzzLoad checks that no model file makes loading panic or allocate more
// than the file holds: a config is only built once it is within bounds and
// needs no more parameters than the file has values, and the inputs are
// small. Whatever loads must be a working FRM of its config.
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	m, err := New(Config{ImageSize: 16, Widths: []int{4, 6, 8}}, nn.NewRNG(1))
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	if err := m.Save(path); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct {
		params []*nn.Param
		meta   map[string]string
	}{
		{nil, nil}, // m itself, saved above
		{[]*nn.Param{nn.NewParam("x", tensor.New(1), false)}, map[string]string{configKey: `{"image_size":128,"widths":[100000,100000]}`}},
		{m.Params(), map[string]string{configKey: `{"image_size":16,"widths":[4,6,7]}`}},
	} {
		if seed.params != nil {
			path = filepath.Join(dir, "seed.safetensors")
			if err := checkpoint.Save(path, seed.params, nil, seed.meta, safetensors.F16); err != nil {
				f.Fatal(err)
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := LoadFS(fstest.MapFS{"m.safetensors": {Data: data}}, "m.safetensors")
		if err != nil {
			return
		}
		if err := m.Config.Validate(); err != nil {
			t.Fatalf("loaded an invalid config: %v", err)
		}
		s := m.Config.ImageSize
		if s <= 32 {
			if got := m.Score(tensor.New(1, s, s, 3), 1); len(got) != 1 {
				t.Fatalf("%d scores for one face", len(got))
			}
		}
	})
}
