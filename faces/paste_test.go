package faces

import (
	"math"
	"testing"

	"facereward/tensor"
)

// psnrIn is the PSNR of b against a over the box [x0,x1)×[y0,y1), 0–1 scale.
func psnrIn(a, b *tensor.Tensor, x0, y0, x1, y1 int) float64 {
	w := a.Shape[1]
	var se float64
	var n int
	for y := max(0, y0); y < min(a.Shape[0], y1); y++ {
		for x := max(0, x0); x < min(w, x1); x++ {
			for c := range 3 {
				d := float64(a.Data[(y*w+x)*3+c] - b.Data[(y*w+x)*3+c])
				se += d * d
				n++
			}
		}
	}
	return 10 * math.Log10(1/(se/float64(n)))
}

func TestPasteBackUnmodifiedCrop(t *testing.T) {
	photo := readPhoto(t, "grace_hopper_512x512.jpg")
	faces, err := Detect(photo)
	if err != nil {
		t.Fatal(err)
	}
	f := faces[0]
	for _, size := range []int{256, 512} {
		crop, m, err := Align(photo, f.Points, size)
		if err != nil {
			t.Fatal(err)
		}
		out, err := PasteBack(photo, crop, m)
		if err != nil {
			t.Fatal(err)
		}
		x0, y0 := int(f.X), int(f.Y)
		x1, y1 := x0+int(f.Size), y0+int(f.Size)
		p := psnrIn(photo, out, x0, y0, x1, y1)
		whole := psnrIn(photo, out, 0, 0, 512, 512)
		t.Logf("crop %d: PSNR %.1f dB in the face box, %.1f dB over the photo", size, p, whole)
		// At 256 the crop holds fewer pixels than the face had, so the
		// round trip loses detail; only the 512 crop (an enlargement, as
		// for the restorer) must be transparent.
		if size == 512 && p < 35 {
			t.Fatalf("crop %d: paste-back of the unmodified crop changed the face: PSNR %.1f dB", size, p)
		}
	}
}

func TestPasteBackFeathers(t *testing.T) {
	// Paste a flat white face onto a black photo: the centre turns white,
	// far pixels stay black, and the edge ramps instead of stepping.
	photo := tensor.New(300, 300, 3)
	crop := tensor.New(128, 128, 3)
	for i := range crop.Data {
		crop.Data[i] = 1
	}
	m := Affine{{1, 0, -86}, {0, 1, -86}} // the crop covers photo [86, 214)
	out, err := PasteBack(photo, crop, m)
	if err != nil {
		t.Fatal(err)
	}
	at := func(x, y int) float32 { return out.Data[(y*300+x)*3] }
	if v := at(150, 150); v < 0.999 {
		t.Fatalf("centre %v, want white", v)
	}
	if v := at(20, 20); v != 0 {
		t.Fatalf("far pixel %v, want untouched", v)
	}
	var biggest float32
	for x := 80; x < 150; x++ {
		biggest = max(biggest, at(x+1, 150)-at(x, 150))
	}
	if biggest > 0.25 {
		t.Fatalf("seam steps by %.2f between neighbours; want a ramp", biggest)
	}
	if photo.Data[150*300*3+150*3] != 0 {
		t.Fatal("PasteBack modified its input")
	}
}

func TestPasteBackAtPhotoEdge(t *testing.T) {
	photo := tensor.New(100, 120, 3)
	crop := tensor.New(64, 64, 3)
	for i := range crop.Data {
		crop.Data[i] = 1
	}
	for _, shift := range [][2]float64{{30, 30}, {-80, 10}, {10, -70}, {-500, -500}, {1e8, 1e8}} {
		m := Affine{{0.8, 0.1, shift[0]}, {-0.1, 0.8, shift[1]}}
		out, err := PasteBack(photo, crop, m)
		if err != nil {
			t.Fatalf("shift %v: %v", shift, err)
		}
		if !tensorEqualShape(out, photo) {
			t.Fatalf("shift %v: shape %v", shift, out.Shape)
		}
	}
	// A face whose crop spills over the photo edge keeps full strength up to
	// that edge: OpenCV's erosion ignores outside pixels, and so does this.
	m := Affine{{1, 0, 20}, {0, 1, 20}} // crop covers photo [-20, 44)
	out, err := PasteBack(photo, crop, m)
	if err != nil {
		t.Fatal(err)
	}
	if v := out.Data[(10*120+10)*3]; v < 0.99 {
		t.Fatalf("pixel at the photo corner %v, want the face", v)
	}
}

func tensorEqualShape(a, b *tensor.Tensor) bool {
	return len(a.Shape) == len(b.Shape) && a.Shape[0] == b.Shape[0] && a.Shape[1] == b.Shape[1] && a.Shape[2] == b.Shape[2]
}

// A zero change leaves the photo exactly as it was, and a constant change
// adds itself inside the face, fading out over the seam.
func TestPasteDelta(t *testing.T) {
	photo := readPhoto(t, "grace_hopper_512x512.jpg")
	faces, err := Detect(photo)
	if err != nil {
		t.Fatal(err)
	}
	f := faces[0]
	_, m, err := Align(photo, f.Points, 256)
	if err != nil {
		t.Fatal(err)
	}
	out, err := PasteDelta(photo, tensor.New(256, 256, 3), m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range out.Data {
		if out.Data[i] != photo.Data[i] {
			t.Fatalf("a zero change moved value %d: %v → %v", i, photo.Data[i], out.Data[i])
		}
	}
	d := tensor.New(256, 256, 3)
	for i := range d.Data {
		d.Data[i] = 0.1
	}
	out, err = PasteDelta(photo, d, m)
	if err != nil {
		t.Fatal(err)
	}
	cx, cy := int(f.X+f.Size/2), int(f.Y+f.Size/2)
	i := (cy*512 + cx) * 3
	if got := out.Data[i] - photo.Data[i]; math.Abs(float64(got)-0.1) > 1e-4 {
		t.Errorf("face centre moved by %v, want 0.1", got)
	}
	if out.Data[0] != photo.Data[0] {
		t.Error("the photo's corner moved")
	}
}
