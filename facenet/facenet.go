package facenet

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"sync"

	"facereward/nn"
	"facereward/safetensors"
	"facereward/tensor"
)

//go:embed weights/landmark68.safetensors
var landmarkFile []byte

//go:embed weights/recognition.safetensors
var recognitionFile []byte

//go:embed weights/ssd_mobilenetv1.safetensors
var ssdFile []byte

// The sha256 of the embedded weights, as tools/faceapi/convert printed
// them. Checking at load catches a weight file replaced or damaged in the
// repository before it silently changes every LMD/IDS figure.
const (
	landmarkSHA256    = "b95c54e692226761cebca556869be25fd928af3ef1eae2100f3d9fb7e9b19b5a"
	recognitionSHA256 = "683241d0e257c6042c772358553d4879de3f9698d32a46a6f506ff9bc0d91d1f"
	ssdSHA256         = "d43722f840d510d8c4f84dc989ff128bd3a90ea5ce5d187629b929c5893624d1"
)

// meanRGB is face-api's per-channel mean, in 0–255 units, subtracted from
// both nets' inputs.
var meanRGB = [3]float32{122.782, 117.001, 104.298}

// Load builds both nets from the embedded weights.
func Load() (*Landmarks68, *Recognition, error) {
	lm, err := newLandmarks68(landmarkFile)
	if err != nil {
		return nil, nil, err
	}
	rec, err := newRecognition(recognitionFile)
	if err != nil {
		return nil, nil, err
	}
	return lm, rec, nil
}

// LoadSSD builds the face detector from the embedded weights.
func LoadSSD() (*SSD, error) { return newSSD(ssdFile) }

// openWeights checks data against its expected sha256 and decodes it.
func openWeights(name string, data []byte, want string) (*weightSet, error) {
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return nil, fmt.Errorf("facenet: weights %s: sha256 %s, want %s (file modified or damaged; regenerate with go run ./tools/faceapi/convert)", name, got, want)
	}
	f, err := safetensors.ReadBytes(data, name)
	if err != nil {
		return nil, fmt.Errorf("facenet: %w", err)
	}
	return &weightSet{name: name, ts: f.Tensors}, nil
}

// weightSet hands out tensors by name, remembering the first problem so that
// a net's constructor can ask for all its weights and check once.
type weightSet struct {
	name string
	ts   map[string]*tensor.Tensor
	err  error
}

// get returns the named tensor, which must have the given shape.
func (w *weightSet) get(name string, shape ...int) *tensor.Tensor {
	t, ok := w.ts[name]
	switch {
	case w.err != nil:
		return nil
	case !ok:
		w.err = fmt.Errorf("facenet: weights %s: no tensor %q", w.name, name)
	case !tensor.SameShape(t.Shape, shape):
		w.err = fmt.Errorf("facenet: weights %s: %q has shape %s, want %s", w.name, name, tensor.ShapeString(t.Shape), tensor.ShapeString(shape))
	default:
		return t
	}
	return nil
}

// graphs recycles inference graphs: a graph keeps the buffers of its last
// pass, so the next face of the same batch size allocates nothing.
var graphs = sync.Pool{New: func() any {
	g := nn.NewGraph()
	g.NoGrad = true
	return g
}}

// normalize writes (255·x − mean)/div for a batch of [0,1] RGB images of
// size×size, checking the shape.
func normalize(op string, imgs *tensor.Tensor, size int, div float32) *tensor.Tensor {
	s := imgs.Shape
	if len(s) == 3 {
		s = append([]int{1}, s...)
	}
	if len(s) != 4 || s[1] != size || s[2] != size || s[3] != 3 {
		panic(fmt.Sprintf("facenet.%s: image shape %s, want [%d %d 3] or [N %d %d 3] (use the Crop form for other sizes)",
			op, tensor.ShapeString(imgs.Shape), size, size, size, size))
	}
	out := tensor.New(s...)
	for i, v := range imgs.Data {
		out.Data[i] = (v*255 - meanRGB[i%3]) / div
	}
	return out
}
