package degrade

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/imageio"
	"facereward/tensor"
)

// writeFaces makes n smooth synthetic 32×32 images named 04800.png… and one
// broken file.
func writeFaces(t *testing.T, dir string, n int) {
	t.Helper()
	for i := range n {
		img := tensor.New(32, 32, 3)
		for j := range img.Data {
			img.Data[j] = float32((j*7+i*13)%251) / 250
		}
		if err := imageio.WritePNG(filepath.Join(dir, "0480"+string(rune('0'+i))+".png"), img); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "04809.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMakeSetIsReproducible(t *testing.T) {
	in := t.TempDir()
	writeFaces(t, in, 3)
	run1, run2 := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	for i, out := range []string{run1, run2} {
		var stdout bytes.Buffer
		o := SetOptions{In: in, Out: out, Preset: "diffbir", Size: 32, Seed: 3, Workers: i + 1}
		if err := MakeSet(o, &stdout, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout.String(), "3 pairs") || !strings.Contains(stdout.String(), "1 unreadable") {
			t.Errorf("summary %q", stdout.String())
		}
	}
	for _, name := range []string{"lq/04800.png", "lq/04802.png", "gt/04801.png", "manifest.jsonl"} {
		a, err := os.ReadFile(filepath.Join(run1, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(run2, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed (1 and 2 workers)", name)
		}
	}
	f, err := os.Open(filepath.Join(run1, "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []ManifestLine
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var l ManifestLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 3 || lines[0].File != "04800.png" || lines[0].Params.Config != "diffbir" || lines[0].Seed != 3 {
		t.Fatalf("manifest %+v", lines)
	}
}

// Errors name what was set: the value given to --set, not its rescaled
// one, and --size itself when it is out of bounds. A value valid as given
// that rescaling pushes out of bounds says it was rescaled.
func TestMakeSetErrorsNameWhatWasSet(t *testing.T) {
	for _, c := range []struct {
		size      int
		overrides []string
		want      string
	}{
		{128, []string{"kernel_size=1000001"}, "degrade: kernel_size 1000001 must be odd, in [1, 255]"},
		{100000, nil, "degrade: --size 100000 outside [16, 2048]"},
		{8, nil, "degrade: --size 8 outside [16, 2048]"},
		{1024, []string{"kernel_size=255"}, "degrade: kernel_size 509 must be odd, in [1, 255] (the settings rescaled from size 512 to --size 1024)"},
	} {
		o := SetOptions{In: t.TempDir(), Out: t.TempDir(), Preset: "diffbir", Overrides: c.overrides, Size: c.size, Workers: 1}
		if err := MakeSet(o, io.Discard, io.Discard); err == nil || err.Error() != c.want {
			t.Errorf("--size %d --set %q: %v, want %q", c.size, c.overrides, err, c.want)
		}
	}
	o := SetOptions{In: t.TempDir(), Out: t.TempDir(), Preset: "diffbir", Size: MaxSize, Workers: 1}
	if err := MakeSet(o, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "no .png") {
		t.Errorf("--size %d: %v, want the preset valid there (and no faces found)", MaxSize, err)
	}
}
