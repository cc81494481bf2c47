package dataset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"facereward/imageio"
	"facereward/tensor"
)

// face writes a small PNG whose pixels encode its id, so a test can tell
// from a batch's data which file (and which mirror image) it holds.
func face(t *testing.T, path string, id, h, w int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := imageio.WritePNG(path, faceTensor(id, h, w)); err != nil {
		t.Fatal(err)
	}
}

func faceTensor(id, h, w int) *tensor.Tensor {
	img := tensor.New(h, w, 3)
	for y := range h {
		for x := range w {
			i := (y*w + x) * 3
			img.Data[i] = float32(id%251) / 255
			img.Data[i+1] = float32(x*20) / 255
			img.Data[i+2] = float32(y*30) / 255
		}
	}
	return img
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rels(f *Folder) []string {
	var out []string
	for _, file := range f.Files {
		out = append(out, file.Rel)
	}
	return out
}

func TestOpenOrderAndSplits(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{
		"04999.jpeg", "01001.png", "05000.png", "04800.WEBP", "01002.JPG",
		"sub/04801.png", "04799.png", "00999.png", "abc.png",
		// Not images, or litter:
		"notes.txt", ".hidden.png", "._04802.png", ".git/04803.png", "04804.png.bak",
	} {
		touch(t, filepath.Join(root, name))
	}
	f, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"00999.png", "01001.png", "01002.JPG", "04799.png", "04800.WEBP", "04999.jpeg", "05000.png", "abc.png", "sub/04801.png"}
	if got := rels(f); !slices.Equal(got, want) {
		t.Fatalf("listed %v\nwant %v", got, want)
	}
	if f.Files[8].Path != filepath.Join(root, "sub", "04801.png") || f.Files[8].ID != 4801 || f.Files[7].ID != -1 {
		t.Errorf("file records: %+v, %+v", f.Files[7], f.Files[8])
	}

	train, err := f.Split("train")
	if err != nil {
		t.Fatal(err)
	}
	if got := rels(train); !slices.Equal(got, []string{"01001.png", "01002.JPG", "04799.png"}) {
		t.Errorf("train: %v", got)
	}
	dev, _ := f.Split("devval")
	if got := rels(dev); !slices.Equal(got, []string{"04800.WEBP", "04999.jpeg", "sub/04801.png"}) {
		t.Errorf("devval: %v", got)
	}
	if got := rels(f.InRange(IDRange{From: 999, To: 1001})); !slices.Equal(got, []string{"00999.png", "01001.png"}) {
		t.Errorf("ids 999–1001: %v", got)
	}
	if _, err := f.Split("test"); err == nil || !strings.Contains(err.Error(), `"test"`) {
		t.Errorf("unknown split: %v", err)
	}
	if train.Len()+dev.Len() != 6 || f.Len() != 9 {
		t.Errorf("lengths %d + %d of %d", train.Len(), dev.Len(), f.Len())
	}
}

func TestOpenErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := Open(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing root: %v", err)
	}
	empty := t.TempDir()
	touch(t, filepath.Join(empty, "readme.txt"))
	if _, err := Open(empty); err == nil || !strings.Contains(err.Error(), empty) || !strings.Contains(err.Error(), "no .png") {
		t.Errorf("root without images: %v", err)
	}
}

func TestParseID(t *testing.T) {
	for name, want := range map[string]int{
		"04800.png": 4800, "sub/01001.JPG": 1001, "04800_lq.jpg": 4800, "img_0042.png": 42,
		"face12_v2.png": 12, "abc.png": -1, "0.png": 0, "12345678901.png": -1, "dir9/abc.png": -1,
	} {
		if got := ParseID(name); got != want {
			t.Errorf("ParseID(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestListFile(t *testing.T) {
	text := `# dev faces worth a look
04800
4801          # no leading zero is the same id
04802.png
sub/04803.png

nope.png      # matches nothing
5000
x             # matches x.jpg by its name without extension
`
	p := filepath.Join(t.TempDir(), "list.txt")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := ReadList(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"04800", "4801", "04802.png", "sub/04803.png", "nope.png", "5000", "x"}
	if !slices.Equal(l.Entries, want) {
		t.Fatalf("entries %q, want %q", l.Entries, want)
	}
	root := t.TempDir()
	for _, n := range []string{"04800.png", "04801.png", "04802.png", "04803.png", "sub/04803.png", "04804.png", "x.jpg"} {
		touch(t, filepath.Join(root, n))
	}
	f, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	kept, missing := f.InList(l)
	// 04800 and 4801 match by id; sub/04803.png by path, so the top-level
	// 04803.png (same id, but its id is not listed) stays out.
	wantKept := []string{"04800.png", "04801.png", "04802.png", "sub/04803.png", "x.jpg"}
	if got := rels(kept); !slices.Equal(got, wantKept) {
		t.Errorf("kept %v, want %v", got, wantKept)
	}
	if !slices.Equal(missing, []string{"nope.png", "5000"}) {
		t.Errorf("missing %q", missing)
	}
	if _, err := ReadList(filepath.Join(root, "none.txt")); err == nil || !strings.Contains(err.Error(), "none.txt") {
		t.Errorf("missing list file: %v", err)
	}
}

func TestPaired(t *testing.T) {
	root := t.TempDir()
	for _, n := range []string{"lq/a.jpg", "lq/b.png", "lq/sub/c.webp", "gt/a.png", "gt/b.png", "gt/sub/c.png"} {
		touch(t, filepath.Join(root, n))
	}
	pairs, err := OpenPaired(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 3 || pairs[0].Name != "a" || pairs[0].LQ.Rel != "a.jpg" || pairs[0].GT.Rel != "a.png" ||
		pairs[2].Name != "sub/c" || pairs[2].GT.Path != filepath.Join(root, "gt", "sub", "c.png") {
		t.Errorf("pairs %+v", pairs)
	}
}

func TestPairedMismatch(t *testing.T) {
	root := t.TempDir()
	for _, n := range []string{"lq/a.jpg", "lq/b.png", "gt/a.png", "gt/b.png", "gt/d.png"} {
		touch(t, filepath.Join(root, n))
	}
	for i := range 25 {
		touch(t, filepath.Join(root, "lq", fmt.Sprintf("c%02d.png", i)))
	}
	_, err := OpenPaired(root)
	if err == nil {
		t.Fatal("mismatched folders paired")
	}
	msg := err.Error()
	for _, s := range []string{root, "25 in lq/ without a gt/ partner: c00.png, c01.png", "c19.png, … and 5 more",
		"1 in gt/ without an lq/ partner: d.png"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not say %q", msg, s)
		}
	}
	if strings.Contains(msg, "c20.png") {
		t.Errorf("error lists more than 20 names: %q", msg)
	}

	dup := t.TempDir()
	for _, n := range []string{"lq/a.jpg", "lq/a.png", "gt/a.png"} {
		touch(t, filepath.Join(dup, n))
	}
	if _, err := OpenPaired(dup); err == nil || !strings.Contains(err.Error(), "a.jpg and a.png") {
		t.Errorf("ambiguous names: %v", err)
	}
}

// The real faces, when this machine has them: the counts the split rests on.
func TestRealDataSplits(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "data", "ffhq128")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("real data not present (%v); this test needs /work/shared/data/ffhq128", err)
	}
	f, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	train, _ := f.Split("train")
	dev, _ := f.Split("devval")
	// 01001–04999 are all present: 3,999 files, 3,799 train, 200 dev-val.
	if f.Len() != 3999 || train.Len() != 3799 || dev.Len() != 200 {
		t.Errorf("%d files, %d train, %d devval; want 3999, 3799, 200", f.Len(), train.Len(), dev.Len())
	}
	if f.Files[0].Rel != "01001.png" || f.Files[f.Len()-1].Rel != "04999.png" || dev.Files[0].ID != 4800 {
		t.Errorf("first %s, last %s, first devval id %d", f.Files[0].Rel, f.Files[f.Len()-1].Rel, dev.Files[0].ID)
	}
	// Every dev-val face decodes through the loader, at 128×128.
	l, err := NewLoader(dev.Files, Options{BatchSize: 64, Epochs: 1, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n := 0
	for {
		b, err := l.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		if s := b.Tensors[0].Shape; s[1] != 128 || s[2] != 128 || s[3] != 3 {
			t.Fatalf("batch shape %v", s)
		}
		n += len(b.Files)
	}
	if n != 200 || l.Skipped() != 0 {
		t.Errorf("loaded %d dev-val faces, skipped %d", n, l.Skipped())
	}
}
