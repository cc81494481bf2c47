package restorer

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// FuzzLoadConfig feeds config.json bytes to LoadFS beside the tiny model's
// weight files. No config may make loading panic or allocate beyond the
// small weight files (a network needing more parameters than they hold is
// refused before it is built); whatever loads has a valid config.
func FuzzLoadConfig(f *testing.F) {
	dir := tinyDir(f)
	fsys := fstest.MapFS{}
	for _, name := range append([]string{"config.json"}, dirFiles[:]...) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	f.Add(fsys["config.json"].Data)
	f.Add([]byte(`{"restorer":{"stage1":{"image_size":16,"unshuffle":2,"width":100000,"blocks":1}},"schedule":"cosine"}`))
	f.Add([]byte(`{"restorer":{"unet":{"image_size":16,"widths":[48192],"blocks_per_level":1,"heads":1,"groups":1}},"schedule":"cosine"}`))

	f.Fuzz(func(t *testing.T, config []byte) {
		files := fstest.MapFS{"config.json": {Data: config}}
		for _, name := range dirFiles {
			files[name] = fsys[name]
		}
		m, err := LoadFS(files, "fuzz")
		if err != nil {
			return
		}
		if err := m.Config.Validate(); err != nil {
			t.Fatalf("loaded an invalid config: %v", err)
		}
	})
}
