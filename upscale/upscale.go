package upscale

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"

	"facereward/nn"
	"facereward/safetensors"
	"facereward/tensor"
)

// Default is the embedded ×2 model, restore's background upsampler.
const Default = "esrgan-thick-x2"

//go:embed weights/esrgan-thick-x2.safetensors
var thickX2 []byte

// embedded are the shipped models with the sha256 tools/esrgan/convert
// printed for them: checking at load catches a weight file replaced or
// damaged in the repository before it silently changes every photo.
var embedded = map[string]struct {
	data []byte
	sha  string
}{
	Default: {thickX2, "1645301c9aeb788d548a5c4b38e62f94cd8606deb41d773899009a4ec9d5222b"},
}

// Net is one super-resolution net with its weights.
type Net struct {
	Name  string
	Scale int // output side / input side
	body  *rrdn
}

// Load builds an embedded model by name (only Default so far).
func Load(name string) (*Net, error) {
	e, ok := embedded[name]
	if !ok {
		return nil, fmt.Errorf("upscale: no embedded model %q (have %q)", name, Default)
	}
	sum := sha256.Sum256(e.data)
	if got := hex.EncodeToString(sum[:]); got != e.sha {
		return nil, fmt.Errorf("upscale: weights %s.safetensors: sha256 %s, want %s (file modified or damaged; regenerate with go run ./tools/esrgan/convert)", name, got, e.sha)
	}
	return decode(name, e.data, name+".safetensors")
}

// LoadFile builds a model from a file written by tools/esrgan/convert, for
// the package's ×3, ×4 and ×8 models, which are not embedded.
func LoadFile(path string) (*Net, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("upscale: %w", err)
	}
	return decode(path, data, path)
}

// decode builds the net from the file's weights and the sizes in its
// metadata, which the converter read off the Keras layer list.
func decode(name string, data []byte, file string) (*Net, error) {
	f, err := safetensors.ReadBytes(data, file)
	if err != nil {
		return nil, fmt.Errorf("upscale: %w", err)
	}
	if a, up := f.Meta["architecture"], f.Meta["upsample"]; a != "rrdn" || up != "depth_to_space" {
		return nil, fmt.Errorf("upscale: %s: architecture %q with upsampling %q, want rrdn with depth_to_space", file, a, up)
	}
	ws := &weightSet{file: file, ts: f.Tensors}
	meta := func(k string) int {
		v, err := strconv.Atoi(f.Meta[k])
		if err != nil || v < 1 {
			ws.fail(fmt.Errorf("upscale: %s: metadata %s=%q, want a positive integer", file, k, f.Meta[k]))
			return 1
		}
		return v
	}
	n := &Net{Name: name, Scale: meta("scale")}
	n.body = newRRDN(ws, n.Scale, meta("C"), meta("D"), meta("T"), meta("G"), meta("G0"))
	if ws.err != nil {
		return nil, ws.err
	}
	return n, nil
}

// weightSet hands out tensors by name, remembering the first problem so
// that a constructor can ask for all its weights and check once.
type weightSet struct {
	file string
	ts   map[string]*tensor.Tensor
	err  error
}

func (w *weightSet) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// get returns the named tensor, which must have the given shape.
func (w *weightSet) get(name string, shape ...int) *tensor.Tensor {
	t, ok := w.ts[name]
	switch {
	case w.err != nil:
	case !ok:
		w.fail(fmt.Errorf("upscale: weights %s: no tensor %q", w.file, name))
	case !tensor.SameShape(t.Shape, shape):
		w.fail(fmt.Errorf("upscale: weights %s: %q has shape %s, want %s", w.file, name, tensor.ShapeString(t.Shape), tensor.ShapeString(shape)))
	default:
		return t
	}
	return tensor.New(shape...) // a placeholder; the constructor's caller sees w.err
}

// conv is a Keras Conv2D with bias, stride 1 and "same" padding: for the
// odd square kernels these nets use, (k−1)/2 zeros on every side.
type conv struct {
	w, b *nn.Var
	pad  int
}

func newConv(ws *weightSet, name string, k, cin, cout int) conv {
	w, b := ws.get(name+"/kernel", k, k, cin, cout), ws.get(name+"/bias", cout)
	return conv{nn.Constant(w), nn.Constant(b), (k - 1) / 2}
}

func (c conv) forward(g *nn.Graph, x *nn.Var) *nn.Var { return g.Conv2D(x, c.w, c.b, 1, c.pad) }

// keep copies v's value out of the graph so that it survives g.Reset: the
// net hands its buffers back after every dense block, else a 256-pixel
// tile would hold gigabytes of intermediate values.
func keep(v *nn.Var) *nn.Var { return nn.Constant(v.Value.Clone()) }
