package checkpoint

import (
	"os"
	"path/filepath"
	"testing"

	"facereward/optim"
	"facereward/safetensors"
)

// FuzzLoadFile checks that no file makes loading panic or allocate beyond
// the file itself: the parameters and the optimiser are fixed and small,
// so whatever the file claims, only its own bytes are decoded, and a file
// that loads has put every parameter's shape in place.
func FuzzLoadFile(f *testing.F) {
	dir := f.TempDir()
	for i, withOpt := range []bool{false, true} {
		ps := model(float64(i))
		var opt optim.Optimizer
		if withOpt {
			a, err := optim.NewAdam(ps, optim.DefaultAdam(1e-3))
			if err != nil {
				f.Fatal(err)
			}
			setGrads(ps, 1)
			a.Step()
			opt = a
		}
		path := filepath.Join(dir, "seed.safetensors")
		if err := Save(path, ps, opt, map[string]string{"note": "seed"}, safetensors.F16); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := safetensors.ReadBytes(data, "fuzz")
		if err != nil {
			return
		}
		ps := model(0)
		opt, err := optim.NewAdam(ps, optim.DefaultAdam(1e-3))
		if err != nil {
			t.Fatal(err)
		}
		parts := map[string]optim.Stateful{OptimPart: opt}
		if _, err := LoadFile(file, "fuzz", ps, parts, Options{}); err != nil {
			return
		}
		for _, p := range model(0) {
			if got := file.Tensors[p.Name]; got == nil || len(got.Data) != len(p.Value.Data) {
				t.Fatalf("loaded a file whose %q does not fit", p.Name)
			}
		}
	})
}
