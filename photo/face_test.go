package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"facereward/facenet"
	"facereward/faces"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/nn"
	"facereward/tensor"
	"facereward/upscale"
)

func texture(n int, seed uint64) *tensor.Tensor {
	img := tensor.New(n, n, 3)
	rng := nn.NewRNG(seed)
	for y := range n {
		for x := range n {
			v := 0.5 + 0.3*math.Sin(float64(x)/3)*math.Cos(float64(y)/5)
			for c := range 3 {
				img.Data[(y*n+x)*3+c] = float32(v + 0.02*rng.NormFloat64()*float64(c+1)/3)
			}
		}
	}
	return img
}

// The blend keeps the input's detail above the model's resolution: a
// restoration that is exactly the input at the model's size gives back
// the input itself at weight 1, and the restoration upsampled at weight 0.
func TestBlend(t *testing.T) {
	crop := texture(256, 1)
	res := imgproc.Resize(crop, 128, 128, imgproc.Area)
	got := blend(crop, res, 1)
	for i := range got.Data {
		if math.Abs(float64(got.Data[i]-crop.Data[i])) > 1e-5 {
			t.Fatalf("value %d: %v, want the input's %v", i, got.Data[i], crop.Data[i])
		}
	}
	up := imgproc.Resize(res, 256, 256, imgproc.Cubic)
	got = blend(crop, res, 0)
	for i := range got.Data {
		if got.Data[i] != up.Data[i] {
			t.Fatal("weight 0 is not the upsampled restoration")
		}
	}
	if small := blend(imgproc.Resize(crop, 100, 100, imgproc.Area), res, 1); small.Shape[0] != 100 {
		t.Errorf("a face smaller than the model: %v", small.Shape)
	}
}

// The noise estimate finds added Gaussian noise on a smooth image, and
// the detail weight falls from 1 (clean) to 0 (noisy).
func TestNoiseSigma(t *testing.T) {
	clean := tensor.New(128, 128, 3)
	for y := range 128 {
		for x := range 128 {
			for c := range 3 {
				clean.Data[(y*128+x)*3+c] = float32(0.5 + 0.3*math.Sin(float64(x+y)/20))
			}
		}
	}
	if s := noiseSigma(clean); s > 0.002 {
		t.Errorf("smooth image: sigma %v", s)
	}
	if w := detailWeight(clean); w != 1 {
		t.Errorf("smooth image: detail weight %v, want 1", w)
	}
	noisy := clean.Clone()
	rng := nn.NewRNG(2)
	for i := 0; i < len(noisy.Data); i += 3 {
		n := float32(0.05 * rng.NormFloat64()) // grey noise: the luma sees it whole
		for c := range 3 {
			noisy.Data[i+c] += n
		}
	}
	if s := noiseSigma(noisy); math.Abs(s-0.05) > 0.008 {
		t.Errorf("sigma 0.05 noise: estimated %v", s)
	}
	if w := detailWeight(noisy); w != 0 {
		t.Errorf("noisy image: detail weight %v, want 0", w)
	}
}

func TestColourAndGrey(t *testing.T) {
	crop, res := texture(64, 3), texture(64, 3)
	for i := range res.Data {
		res.Data[i] += float32(0.1 * float64(i%3))
	}
	matchColour(res, crop)
	for i := range res.Data {
		if math.Abs(float64(res.Data[i]-crop.Data[i])) > 1e-5 {
			t.Fatalf("value %d: %v after matching, want %v", i, res.Data[i], crop.Data[i])
		}
	}
	if isGrey(crop) {
		t.Error("a colour image taken for grey")
	}
	toGrey(crop)
	if !isGrey(crop) {
		t.Error("toGrey left colour")
	}
}

// The background network upscales by its factor as often as it fits, and
// cubic interpolation does the rest.
func TestUpscaleBackground(t *testing.T) {
	net, err := upscale.Load(upscale.Default)
	if err != nil {
		t.Fatal(err)
	}
	img := texture(12, 5)
	r := &Restorer{Background: net}
	want, err := net.Upscale(img, upscale.DefaultTile, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.upscale(img, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Data {
		if got.Data[i] != want.Data[i] {
			t.Fatal("×2 is not the network's output")
		}
	}
	for _, up := range []int{3, 4} {
		out, err := r.upscale(img, up)
		if err != nil || out.Shape[0] != 12*up || out.Shape[1] != 12*up {
			t.Errorf("×%d: %v, %v", up, err, out.Shape)
		}
	}
	cubic, _ := (&Restorer{}).upscale(img, 2)
	if cubic.Data[40] == got.Data[40] && cubic.Data[41] == got.Data[41] {
		t.Error("the network's ×2 equals cubic interpolation")
	}
	// With Progress set, the network's passes draw a bar there: ×4 is two
	// passes of one tile each.
	var bars strings.Builder
	r.Progress = &bars
	if _, err := r.upscale(img, 4); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(bars.String(), "background ×2 [========================] 1/1"); n != 2 {
		t.Errorf("want two finished one-tile bars, got %d in %q", n, bars.String())
	}
}

// A photo without a face is ErrNoFace, with the first skipped detection's
// reason when there is one; nothing is restored.
func TestPhotoFacesNoFace(t *testing.T) {
	r := &Restorer{} // no sampler: restoring anything would panic
	img := texture(16, 1)
	if _, err := r.PhotoFaces(img, faces.Result{}, nil); !errors.Is(err, ErrNoFace) || err.Error() != "no face found" {
		t.Errorf("no detections: %v", err)
	}
	found := faces.Result{Skipped: []faces.Skipped{{Reason: "smaller than 40 px"}}}
	if _, err := r.PhotoFaces(img, found, nil); !errors.Is(err, ErrNoFace) || err.Error() != "no face found (smaller than 40 px)" {
		t.Errorf("a skipped detection: %v", err)
	}
}

// A photo's faces restored together, r.Batch at a time, give the bytes
// they give restored one after another: each face's noise is its share of
// the photo's one stream, drawn in face order.
func TestPhotoBatchSameBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: detects and aligns the faces of a real photo (several seconds)")
	}
	img, err := imageio.Read("../testdata/detect/faceapi_sample6.jpg")
	if err != nil {
		t.Fatal(err)
	}
	found, err := faces.DefaultOptions().Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Faces) < 3 {
		t.Fatalf("%d faces found, want at least 3 for batches of 2 to split", len(found.Faces))
	}
	lm, _, err := facenet.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := tinyRestorer(t)
	r.Landmarks, r.Upscale = lm, 1
	var images [][]byte
	for _, batch := range []int{1, 2, len(found.Faces)} {
		r.Batch = batch
		pr, err := r.PhotoFaces(img, found, rand.New(rand.NewPCG(3, 3)))
		if err != nil {
			t.Fatal(err)
		}
		if len(pr.Faces) != len(found.Faces) {
			t.Fatalf("batch %d: %d faces restored of %d", batch, len(pr.Faces), len(found.Faces))
		}
		images = append(images, rawBytes(pr.Image))
	}
	for i, b := range images[1:] {
		if !bytes.Equal(b, images[0]) {
			t.Errorf("photo restored in batches (case %d) differs from it restored face by face", i+1)
		}
	}
}

func rawBytes(t *tensor.Tensor) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, t.Data)
	return b.Bytes()
}

// Photos run through the pipeline, their faces batched across photos,
// give each photo the bytes it gets restored alone, report in input
// order, and pass a load error through without stopping the run.
func TestPhotosSameBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: detects and aligns the faces of real photos (several seconds)")
	}
	var imgs []*tensor.Tensor
	for _, name := range []string{"faceapi_sample6.jpg", "faceapi_sample1.jpg"} {
		img, err := imageio.Read("../testdata/detect/" + name)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	lm, _, err := facenet.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := tinyRestorer(t)
	r.Landmarks, r.Upscale, r.Detect = lm, 1, faces.DefaultOptions()
	rng := func(i int) *rand.Rand { return rand.New(rand.NewPCG(5, uint64(i))) }
	// Inputs: photo 0, a photo that fails to load, photo 1, photo 0 again.
	order := []int{0, -1, 1, 0}
	var alone [][]byte
	nFaces := 0
	for i, k := range order {
		if k < 0 {
			alone = append(alone, nil)
			continue
		}
		r.Batch = 1
		pr, err := r.Photo(imgs[k], rng(i))
		if err != nil {
			t.Fatal(err)
		}
		alone = append(alone, rawBytes(pr.Image))
		nFaces += len(pr.Faces)
	}
	broken := errors.New("unreadable")
	for _, batch := range []int{1, 4, nFaces} {
		r.Batch = batch
		var got []int
		load := func(i int) (*tensor.Tensor, *rand.Rand, error) {
			if order[i] < 0 {
				return nil, nil, broken
			}
			return imgs[order[i]], rng(i), nil
		}
		r.Photos(len(order), load, func(i int, pr *PhotoResult, err error) {
			got = append(got, i)
			switch {
			case order[i] < 0:
				if !errors.Is(err, broken) {
					t.Errorf("batch %d: photo %d: error %v, want the load's", batch, i, err)
				}
			case err != nil:
				t.Errorf("batch %d: photo %d: %v", batch, i, err)
			case !bytes.Equal(rawBytes(pr.Image), alone[i]):
				t.Errorf("batch %d: photo %d differs from it restored alone", batch, i)
			}
		})
		if !slices.Equal(got, []int{0, 1, 2, 3}) {
			t.Errorf("batch %d: photos reported in order %v", batch, got)
		}
	}
}
