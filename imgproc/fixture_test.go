package imgproc

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"facereward/safetensors"
	"facereward/tensor"
)

// The fixtures are written by tools/cvref/gen_imgproc.py with OpenCV; see
// tools/cvref/README.md. Large outputs are stored on a subset of rows and
// columns, listed in <key>.rows and <key>.cols.

func loadFixture(t *testing.T, name string) *safetensors.File {
	t.Helper()
	f, err := safetensors.Read(filepath.Join("..", "testdata", "cvref", name+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func get(t *testing.T, f *safetensors.File, key string) *tensor.Tensor {
	t.Helper()
	v, ok := f.Tensors[key]
	if !ok {
		t.Fatalf("fixture %s lacks %q", f.Meta["fixture"], key)
	}
	return v
}

// faceU8 returns the fixture face as stored (integers 0..255) and as the
// float32 image float32(v)/255 that the generator fed to OpenCV.
func faceU8(t *testing.T) (u8, f32 *tensor.Tensor) {
	u8 = get(t, loadFixture(t, "imgproc_face"), "face.u8")
	f32 = tensor.New(u8.Shape...)
	for i, v := range u8.Data {
		f32.Data[i] = v / 255
	}
	return u8, f32
}

// indices converts a stored index list (float32 integers) to ints.
func indices(v *tensor.Tensor) []int {
	out := make([]int, len(v.Data))
	for i, x := range v.Data {
		out[i] = int(x)
	}
	return out
}

// sample picks rows × cols of an [H,W,C] image.
func sample(img *tensor.Tensor, rows, cols []int) *tensor.Tensor {
	c := img.Shape[2]
	out := tensor.New(len(rows), len(cols), c)
	for i, r := range rows {
		for j, col := range cols {
			copy(out.Data[(i*len(cols)+j)*c:][:c], img.Data[(r*img.Shape[1]+col)*c:][:c])
		}
	}
	return out
}

// maxDiff is the largest absolute difference; shapes must agree.
func maxDiff(t *testing.T, what string, got, want *tensor.Tensor) float64 {
	t.Helper()
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.Shape)
	}
	var m float64
	for i := range got.Data {
		m = math.Max(m, math.Abs(float64(got.Data[i])-float64(want.Data[i])))
	}
	return m
}

func maxAbs(v *tensor.Tensor) float64 {
	var m float64
	for _, x := range v.Data {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}

// toU8 rounds a [0,1] image to grey levels the way cv2 saturates floats to
// uint8 (round half to even, clamp).
func toU8(img *tensor.Tensor) *tensor.Tensor {
	out := tensor.New(img.Shape...)
	for i, v := range img.Data {
		out.Data[i] = float32(math.Min(255, math.Max(0, math.RoundToEven(float64(v*255)))))
	}
	return out
}

func TestFilter2DFixtures(t *testing.T) {
	f := loadFixture(t, "imgproc_filter2d")
	kernel := func(name string) ([]float32, int, int) {
		k := get(t, f, "kern."+name)
		return k.Data, k.Shape[0], k.Shape[1]
	}
	const tol = 1e-4
	for _, src := range []string{"rand", "gray"} {
		in := get(t, f, src+".src")
		for _, kn := range []string{"iso", "aniso", "rect"} {
			k, kh, kw := kernel(kn)
			d := maxDiff(t, src+"."+kn, Filter2D(in, k, kh, kw), get(t, f, src+"."+kn))
			t.Logf("filter2d %s %v kernel %s %d×%d: max abs diff %.3g", src, in.Shape, kn, kh, kw, d)
			if d > tol {
				t.Errorf("filter2d %s kernel %s: max abs diff %.3g > %g", src, kn, d, tol)
			}
		}
	}
	_, face := faceU8(t)
	for _, kn := range []string{"iso", "aniso"} {
		k, kh, kw := kernel(kn)
		key := "face_" + kn
		got := sample(Filter2D(face, k, kh, kw), indices(get(t, f, key+".rows")), indices(get(t, f, key+".cols")))
		d := maxDiff(t, key, got, get(t, f, key+".out"))
		t.Logf("filter2d face kernel %s %d×%d: max abs diff %.3g", kn, kh, kw, d)
		if d > tol {
			t.Errorf("filter2d face kernel %s: max abs diff %.3g > %g", kn, d, tol)
		}
	}
}

var interpNames = map[string]Interp{"linear": Linear, "cubic": Cubic, "area": Area}

func TestResizeFaceFixtures(t *testing.T) {
	u8, face := faceU8(t)
	for _, name := range []string{"linear", "cubic", "area"} {
		interp := interpNames[name]
		f := loadFixture(t, "imgproc_resize_"+name)
		tags := strings.Split(f.Meta["scales"], ",")
		if len(tags) < 5 {
			t.Fatalf("imgproc_resize_%s: scales metadata %q", name, f.Meta["scales"])
		}
		for _, tag := range tags {
			key := "s" + tag
			size := get(t, f, key+".size").Data
			h, w := int(size[0]), int(size[1])
			rows, cols := indices(get(t, f, key+".rows")), indices(get(t, f, key+".cols"))

			want := get(t, f, key+".f32")
			d := maxDiff(t, key, sample(Resize(face, h, w, interp), rows, cols), want)
			tol := 1e-4 * math.Max(1, maxAbs(want))
			// The uint8 path: Go on v/255, rounded back, against cv2 on the uint8 image.
			fromU8 := tensor.New(u8.Shape...)
			for i, v := range u8.Data {
				fromU8.Data[i] = v / 255
			}
			du := maxDiff(t, key+" u8", toU8(sample(Resize(fromU8, h, w, interp), rows, cols)), get(t, f, key+".u8"))
			t.Logf("resize %-6s ×%-5s 128→%d: float32 max abs diff %.3g, uint8 max diff %v levels", name, tag, h, d, du)
			if d > tol {
				t.Errorf("resize %s ×%s float32: max abs diff %.3g > %.3g", name, tag, d, tol)
			}
			if du > 1 {
				t.Errorf("resize %s ×%s uint8: max diff %v grey levels > 1", name, tag, du)
			}
		}
	}
}

func TestResizeRandFixtures(t *testing.T) {
	f := loadFixture(t, "imgproc_resize_rand")
	var keys []string
	for _, k := range f.Names() {
		if !strings.HasSuffix(k, ".src") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) < 20 {
		t.Fatalf("imgproc_resize_rand: only %d cases", len(keys))
	}
	for _, key := range keys {
		// key is <interp>.<src>.<h>x<w>
		parts := strings.Split(key, ".")
		var h, w int
		if len(parts) != 3 {
			t.Fatalf("unexpected key %q", key)
		}
		if _, err := fmt.Sscanf(parts[2], "%dx%d", &h, &w); err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		src := get(t, f, parts[1]+".src")
		want := get(t, f, key)
		d := maxDiff(t, key, Resize(src, h, w, interpNames[parts[0]]), want)
		tol := 1e-4 * math.Max(1, maxAbs(want))
		t.Logf("resize %-24s %v→%d×%d: max abs diff %.3g", key, src.Shape, h, w, d)
		if d > tol {
			t.Errorf("resize %s: max abs diff %.3g > %.3g", key, d, tol)
		}
	}
}
