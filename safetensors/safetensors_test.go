package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/atomicfile"
	"facereward/tensor"
)

// rawFile assembles a safetensors file from a header string and data bytes,
// with no padding and no validation, for hand-made and broken files.
func rawFile(header string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

func le32(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func TestRoundTripF32(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	in := map[string]*tensor.Tensor{
		"conv.weight": tensor.FromSlice([]float32{1, -2, 3.5, float32(math.Inf(-1)), 1e-40, math.MaxFloat32}, 1, 2, 3),
		"bias":        tensor.FromSlice([]float32{0.1, 0.2}, 2),
		"scalar":      tensor.FromSlice([]float32{7}),
		"empty":       tensor.New(0, 4),
		"nan":         tensor.FromSlice([]float32{float32(math.NaN())}, 1),
	}
	meta := map[string]string{"step": "12", "note": `quotes " and \ and ünïcode`}
	if err := Write(path, in, meta, F32); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(f.Names(), ","), "bias,conv.weight,empty,nan,scalar"; got != want {
		t.Fatalf("names %s, want %s", got, want)
	}
	for name, want := range in {
		got := f.Tensors[name]
		if !tensor.SameShape(got.Shape, want.Shape) {
			t.Fatalf("%s: shape %v, want %v", name, got.Shape, want.Shape)
		}
		for i := range want.Data {
			if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
				t.Fatalf("%s[%d] = %g, want %g (bits differ)", name, i, got.Data[i], want.Data[i])
			}
		}
		if f.DTypes[name] != F32 {
			t.Errorf("%s: dtype %s", name, f.DTypes[name])
		}
	}
	if len(f.Meta) != 2 || f.Meta["step"] != "12" || f.Meta["note"] != meta["note"] {
		t.Fatalf("meta %v, want %v", f.Meta, meta)
	}

	// Writing the same input twice gives identical bytes.
	path2 := filepath.Join(dir, "w2.safetensors")
	if err := Write(path2, in, meta, F32); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(path)
	b, _ := os.ReadFile(path2)
	if !bytes.Equal(a, b) {
		t.Fatal("two writes of the same tensors differ")
	}
	if n := binary.LittleEndian.Uint64(a); n%8 != 0 {
		t.Fatalf("header length %d is not a multiple of 8", n)
	}
}

func TestRoundTripF16(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.safetensors")
	in := []float32{1, 0.5, 65504, 6.1e-5, 5.96e-8, float32(math.Copysign(0, -1)),
		float32(math.Inf(1)), float32(math.NaN()), 1.0 / 3.0}
	want := []float32{1, 0.5, 65504, 6.0975552e-5, 5.9604645e-8, float32(math.Copysign(0, -1)),
		float32(math.Inf(1)), float32(math.NaN()), 0.33325195}
	if err := Write(path, map[string]*tensor.Tensor{"x": tensor.FromSlice(in, 3, 3)}, nil, F16); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.DTypes["x"] != F16 || len(f.Meta) != 0 {
		t.Fatalf("dtype %s meta %v", f.DTypes["x"], f.Meta)
	}
	got := f.Tensors["x"].Data
	for i := range want {
		if math.IsNaN(float64(want[i])) {
			if !math.IsNaN(float64(got[i])) {
				t.Errorf("[%d] = %g, want NaN", i, got[i])
			}
			continue
		}
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}

// TestGolden pins the exact bytes of small files, built by hand from the
// format description rather than from the writer.
func TestGolden(t *testing.T) {
	dir := t.TempDir()

	// F32 with metadata: the 79-byte header gets one space of padding.
	header := `{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} `
	if len(header) != 80 {
		t.Fatalf("test bug: header is %d bytes", len(header))
	}
	want := []byte{80, 0, 0, 0, 0, 0, 0, 0}
	want = append(want, header...)
	want = append(want, 0x00, 0x00, 0x80, 0x3f) // 1.0
	want = append(want, 0x00, 0x00, 0x00, 0xc0) // -2.0
	path := filepath.Join(dir, "a.safetensors")
	err := Write(path, map[string]*tensor.Tensor{"a": tensor.FromSlice([]float32{1, -2}, 2)}, map[string]string{"k": "v"}, F32)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
		t.Fatalf("F32 bytes\n got %q\nwant %q", got, want)
	}

	// F16, no metadata, two tensors in name order: 106 bytes + 6 spaces.
	header = `{"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"s":{"dtype":"F16","shape":[],"data_offsets":[6,8]}}      `
	if len(header) != 112 {
		t.Fatalf("test bug: header is %d bytes", len(header))
	}
	want = []byte{112, 0, 0, 0, 0, 0, 0, 0}
	want = append(want, header...)
	want = append(want, 0x00, 0x3c, 0x00, 0xb8, 0xff, 0x7b) // 1, -0.5, 65504
	want = append(want, 0x55, 0x35)                         // 1/3 -> 0x3555
	path = filepath.Join(dir, "h.safetensors")
	err = Write(path, map[string]*tensor.Tensor{
		"s": tensor.FromSlice([]float32{1.0 / 3}),
		"h": tensor.FromSlice([]float32{1, -0.5, 65504}, 3),
	}, nil, F16)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
		t.Fatalf("F16 bytes\n got %q\nwant %q", got, want)
	}
}

func TestReadBF16AndF64(t *testing.T) {
	data := []byte{0x80, 0x3f, 0x00, 0xc0, 0x49, 0x40} // BF16 1, -2, 3.140625
	data = binary.LittleEndian.AppendUint64(data, math.Float64bits(0.1))
	header := `{"b":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},` +
		`"d":{"dtype":"F64","shape":[1,1],"data_offsets":[6,14]}}`
	f, err := ReadBytes(rawFile(header, data), "mem")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Tensors["b"].Data; got[0] != 1 || got[1] != -2 || got[2] != 3.140625 {
		t.Fatalf("BF16 read %v", got)
	}
	if got := f.Tensors["d"]; got.Data[0] != float32(0.1) || !tensor.SameShape(got.Shape, []int{1, 1}) {
		t.Fatalf("F64 read %v %v", got.Shape, got.Data)
	}
	if f.DTypes["b"] != BF16 || f.DTypes["d"] != F64 {
		t.Fatalf("dtypes %v", f.DTypes)
	}
}

// TestTorchFixture reads a file written by the Python fixture generator, as
// a check against an independent writer.
func TestTorchFixture(t *testing.T) {
	f, err := Read("../testdata/torchref/adam.safetensors")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("fixture not generated")
	}
	if err != nil {
		t.Fatal(err)
	}
	if f.Meta["lr"] != "0.01" || !tensor.SameShape(f.Tensors["p0"].Shape, []int{5, 4}) {
		t.Fatalf("meta %v shape %v", f.Meta, f.Tensors["p0"].Shape)
	}
}

func TestReadErrors(t *testing.T) {
	f32x2 := le32(1, 2)
	entry := `"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"short", []byte{1, 2, 3}, "too short"},
		{"header past end", rawFile(`{}`, nil)[:9], "header length 2 larger than the file"},
		{"header too large", append(huge, make([]byte, 16)...), "exceeds the 104857600-byte limit"},
		{"bad json", rawFile(`{"a":`, nil), "bad JSON header"},
		{"not an object", rawFile(`[1,2]`, nil), "want an object"},
		{"trailing garbage", rawFile(`{}x`, nil), "bad JSON header"},
		{"duplicate key", rawFile(`{`+entry+`,`+entry+`}`, f32x2), `key "a" appears twice`},
		{"unknown dtype", rawFile(`{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}`, f32x2), `unknown or unsupported dtype "Q7"`},
		{"int dtype", rawFile(`{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}`, f32x2), `unsupported dtype "I32"`},
		{"missing field", rawFile(`{"a":{"dtype":"F32","shape":[2]}}`, f32x2), "needs dtype, shape and data_offsets"},
		{"offsets arity", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}`, f32x2), "data_offsets has 1 values"},
		{"offsets reversed", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, f32x2), "bad data_offsets [8, 0]"},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f32x2), "negative dimension -2"},
		{"fractional dim", rawFile(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}`, f32x2), `tensor "a"`},
		{"overflowing shape", rawFile(`{"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}`, f32x2), "too many elements"},
		{"size mismatch", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32x2), "shape [3] of F32 needs 12 bytes"},
		{"f16 size mismatch", rawFile(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}`, f32x2), "needs 4 bytes"},
		{"out of range", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32x2), "out of range"},
		{"truncated", rawFile(`{`+entry+`}`, f32x2[:5]), "out of range"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), `overlap tensor "a"`},
		{"gap", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), "leave a gap at bytes [0, 4]"},
		{"uncovered tail", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32x2), "tensors cover 4 bytes but the data section has 8"},
		{"bad metadata", rawFile(`{"__metadata__":{"k":1}}`, nil), "bad __metadata__"},
	}
	for _, c := range cases {
		_, err := ReadBytes(c.file, "bad.safetensors")
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.safetensors") {
			t.Errorf("%s: error %q, want it to name the file and contain %q", c.name, err, c.want)
		}
	}

	// Read names the path, and a missing file is still an os.ErrNotExist.
	_, err := Read(filepath.Join(t.TempDir(), "nope.safetensors"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope.safetensors") {
		t.Errorf("missing file: %v", err)
	}
}

// TestReadSizeBombs: a header may claim any size, but nothing is allocated
// beyond what the file holds. Each file here is tiny; the header, the
// shapes and the offsets claim terabytes.
func TestReadSizeBombs(t *testing.T) {
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"header length", append(binary.LittleEndian.AppendUint64(nil, math.MaxUint64), '{', '}'), "exceeds the 104857600-byte limit"},
		{"shape", rawFile(`{"a":{"dtype":"F32","shape":[1000000000,1000],"data_offsets":[0,4000000000000]}}`, le32(1)), "out of range"},
		{"offsets", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4000000000000,4000000000004]}}`, le32(1)), "out of range"},
	} {
		if _, err := ReadBytes(c.file, "bomb.safetensors"); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bomb.safetensors") {
			t.Errorf("%s: error %v, want it to name the file and contain %q", c.name, err, c.want)
		}
	}
	// Huge dimensions with no elements cost nothing and are a valid tensor.
	f, err := ReadBytes(rawFile(`{"a":{"dtype":"F32","shape":[0,2147483647,2147483647],"data_offsets":[0,0]}}`, nil), "empty.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Tensors["a"].Data); n != 0 {
		t.Errorf("an empty tensor has %d values", n)
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		tensors map[string]*tensor.Tensor
		dtype   DType
		want    string
	}{
		{"bad length", map[string]*tensor.Tensor{"x": {Shape: []int{2, 2}, Data: make([]float32, 3)}}, F32, `tensor "x" has 3 values but shape [2 2] needs 4`},
		{"nil tensor", map[string]*tensor.Tensor{"x": nil}, F32, `tensor "x" is nil`},
		{"reserved", map[string]*tensor.Tensor{"__metadata__": tensor.New(1)}, F32, "reserved"},
		{"empty name", map[string]*tensor.Tensor{"": tensor.New(1)}, F32, "empty tensor name"},
		{"bf16", map[string]*tensor.Tensor{"x": tensor.New(1)}, BF16, `cannot write dtype "BF16"`},
	}
	for _, c := range cases {
		err := Write(filepath.Join(dir, "x.safetensors"), c.tensors, nil, c.dtype)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if err := Write(filepath.Join(dir, "no", "such", "dir.safetensors"), nil, nil, F32); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

// checkOnlyFile fails if dir holds anything but the named file (a leftover
// temporary file, say).
func checkOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != name {
			t.Errorf("unexpected file %s left in %s", e.Name(), dir)
		}
	}
}

func TestAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	old := map[string]*tensor.Tensor{"w": tensor.FromSlice([]float32{1, 2, 3}, 3)}
	if err := Write(path, old, map[string]string{"v": "old"}, F32); err != nil {
		t.Fatal(err)
	}
	oldBytes, _ := os.ReadFile(path)

	// A tensor whose data disagrees with its shape is caught before the disk
	// is touched.
	bad := map[string]*tensor.Tensor{
		"a": tensor.New(1000),
		"z": {Shape: []int{4}, Data: make([]float32, 3)},
	}
	if err := Write(path, bad, nil, F32); err == nil {
		t.Fatal("bad write succeeded")
	}

	// A failure in the middle of the data (here a writer error after part of
	// the file is out) must also leave the old file and no temporary file.
	err := atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(make([]byte, 3<<20)); err != nil { // past the buffer, so on disk
			return err
		}
		return errors.New("disk full, say")
	})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("atomicfile.Write error %v", err)
	}

	if got, _ := os.ReadFile(path); !bytes.Equal(got, oldBytes) {
		t.Fatal("old file changed by failed writes")
	}
	f, err := Read(path)
	if err != nil || f.Meta["v"] != "old" {
		t.Fatalf("old file unreadable after failed writes: %v", err)
	}
	checkOnlyFile(t, dir, "model.safetensors")

	// A successful overwrite replaces the contents and leaves nothing else.
	if err := Write(path, map[string]*tensor.Tensor{"w": tensor.New(2)}, map[string]string{"v": "new"}, F16); err != nil {
		t.Fatal(err)
	}
	f, err = Read(path)
	if err != nil || f.Meta["v"] != "new" || f.Tensors["w"].Len() != 2 {
		t.Fatalf("overwrite: %v %v", err, f)
	}
	checkOnlyFile(t, dir, "model.safetensors")
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
}
