// Command convert turns an UpscalerJS ESRGAN model (idealo's RRDN, a Keras
// model saved as a TF.js layers model: model.json and .bin shards inside
// the npm tarball) into a safetensors file for package upscale:
//
//	npm pack @upscalerjs/esrgan-thick@1.0.0
//	go run ./tools/esrgan/convert -tgz upscalerjs-esrgan-thick-1.0.0.tgz -scale 2 -out upscale/weights
//
// It reads package/models/x<scale>/model.json and its shards straight from
// the tarball (whose sha256 it checks), checks that the layer list uses only
// the layers package upscale implements, in the configurations it
// implements them, and writes every weight under its Keras name
// ("F_1_1_1/kernel", "SR/bias"): the layouts (conv kernels
// [kh,kw,Cin,Cout], biases [Cout]) are already ours. The sizes of the
// architecture go into the file's metadata. Weights are stored as F16 by
// default: half the size, and the output moves by at most 4e-4 (0–1 units)
// from TF.js's (-dtype f32: 1e-6). It also copies the package's MIT LICENSE
// and prints the output's sha256 for upscale/upscale.go.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"facereward/safetensors"
	"facereward/tensor"
)

// The tarball this converter was written against; another version may lay
// out or train its model differently.
const (
	pkg       = "@upscalerjs/esrgan-thick@1.0.0"
	tgzSHA256 = "3d38971084d8281bf68da443085c7eb65355fb28aa81b33b54f950cca6328a15"
)

// model is the part of a TF.js layers model.json that convert reads.
type model struct {
	Format   string `json:"format"`
	Topology struct {
		Config struct {
			Config struct {
				Layers []layer `json:"layers"`
			} `json:"config"`
		} `json:"model_config"`
	} `json:"modelTopology"`
	Manifest []struct {
		Paths   []string `json:"paths"`
		Weights []struct {
			Name         string          `json:"name"`
			Shape        []int           `json:"shape"`
			DType        string          `json:"dtype"`
			Quantization json.RawMessage `json:"quantization"`
		} `json:"weights"`
	} `json:"weightsManifest"`
}

type layer struct {
	Class  string `json:"class_name"`
	Name   string `json:"name"`
	Config struct {
		Filters    int     `json:"filters"`
		Kernel     []int   `json:"kernel_size"`
		Strides    []int   `json:"strides"`
		Dilation   []int   `json:"dilation_rate"`
		Padding    string  `json:"padding"`
		Activation string  `json:"activation"`
		UseBias    bool    `json:"use_bias"`
		Axis       int     `json:"axis"`
		Beta       float64 `json:"beta"`
	} `json:"config"`
}

func main() {
	tgz := flag.String("tgz", "upscalerjs-esrgan-thick-1.0.0.tgz", "tarball from `npm pack "+pkg+"`")
	scale := flag.Int("scale", 2, "which of the package's models: 2, 3, 4 or 8")
	dtype := flag.String("dtype", "f16", "f16 or f32")
	out := flag.String("out", "upscale/weights", "output directory")
	flag.Parse()
	dt, ok := map[string]safetensors.DType{"f16": safetensors.F16, "f32": safetensors.F32}[*dtype]
	if !ok {
		log.Fatalf("-dtype %q: want f16 or f32", *dtype)
	}
	if err := run(*tgz, *scale, dt, *out); err != nil {
		log.Fatal(err)
	}
}

func run(tgz string, scale int, dtype safetensors.DType, outDir string) error {
	raw, err := os.ReadFile(tgz)
	if err != nil {
		return err
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != tgzSHA256 {
		return fmt.Errorf("%s: sha256 %x, want %s (not %s?)", tgz, sum, tgzSHA256, pkg)
	}
	dir := fmt.Sprintf("models/x%d/", scale)
	files, err := readTarball(tgz, raw, dir)
	if err != nil {
		return err
	}
	mj, ok := files[dir+"model.json"]
	if !ok {
		return fmt.Errorf("%s: no %smodel.json (scale %d not in the package?)", tgz, dir, scale)
	}
	var m model
	if err := json.Unmarshal(mj, &m); err != nil {
		return fmt.Errorf("%s: %smodel.json: %w", tgz, dir, err)
	}
	meta, err := checkLayers(m.Topology.Config.Config.Layers, scale)
	if err != nil {
		return fmt.Errorf("%s: %smodel.json: %w", tgz, dir, err)
	}
	ts, err := weights(m, files, dir)
	if err != nil {
		return fmt.Errorf("%s: %w", tgz, err)
	}
	if err := sizes(meta, ts); err != nil {
		return fmt.Errorf("%s: %w", tgz, err)
	}
	meta["source"] = fmt.Sprintf("%s %smodel.json (MIT), converted by tools/esrgan/convert", pkg, dir)
	meta["license"] = "MIT, see LICENSE beside this file"
	meta["scale"] = strconv.Itoa(scale)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(outDir, fmt.Sprintf("esrgan-thick-x%d.safetensors", scale))
	if err := safetensors.Write(path, ts, meta, dtype); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	h := sha256.Sum256(data)
	fmt.Printf("%s  %d bytes  %d tensors  sha256 %x\n", path, len(data), len(ts), h)
	lic, ok := files["LICENSE"]
	if !ok {
		return fmt.Errorf("%s: no package/LICENSE", tgz)
	}
	return os.WriteFile(filepath.Join(outDir, "LICENSE"), lic, 0o644)
}

// readTarball returns LICENSE and the files under dir of the npm tarball.
func readTarball(path string, raw []byte, dir string) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		name := strings.TrimPrefix(hd.Name, "package/")
		if name != "LICENSE" && !strings.HasPrefix(name, dir) {
			continue
		}
		if files[name], err = io.ReadAll(tr); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, name, err)
		}
	}
}

// checkLayers checks that every layer is one package upscale implements, as
// it implements it, and that the net is idealo's RRDN (whose first layer is
// Pre_blocks_conv; its RDN starts with F_m1 and upsamples differently).
func checkLayers(layers []layer, scale int) (map[string]string, error) {
	meta := map[string]string{}
	for _, l := range layers {
		c := l.Config
		switch l.Class {
		case "InputLayer", "Add":
		case "Conv2D":
			k := c.Kernel
			// Keras "same" padding of an odd square kernel at stride 1 is
			// symmetric, (k−1)/2 on each side: nn.Conv2D's pad.
			ok := len(k) == 2 && k[0] == k[1] && k[0]%2 == 1 && same(c.Strides, 1) && same(c.Dilation, 1) &&
				(c.Padding == "same" || k[0] == 1) && c.Activation == "linear" && c.UseBias
			if !ok {
				return nil, fmt.Errorf("layer %s: conv %+v not handled", l.Name, c)
			}
		case "Activation":
			if c.Activation != "relu" {
				return nil, fmt.Errorf("layer %s: activation %s", l.Name, c.Activation)
			}
		case "Concatenate":
			if c.Axis != 3 && c.Axis != -1 {
				return nil, fmt.Errorf("layer %s: concatenation on axis %d", l.Name, c.Axis)
			}
		case fmt.Sprintf("PixelShuffle%dx", scale):
			meta["upsample"] = "depth_to_space"
		case "MultiplyBeta":
			// UpscalerJS's custom layer multiplies by a constant 0.2.
			if c.Beta != 0.2 {
				return nil, fmt.Errorf("layer %s: beta %v", l.Name, c.Beta)
			}
		default:
			return nil, fmt.Errorf("layer %s: class %s not handled", l.Name, l.Class)
		}
		if l.Name == "Pre_blocks_conv" {
			meta["architecture"] = "rrdn"
		}
	}
	if meta["architecture"] == "" || meta["upsample"] == "" {
		return nil, errors.New("not idealo's RRDN with a pixel shuffle")
	}
	return meta, nil
}

func same(v []int, want int) bool {
	for _, x := range v {
		if x != want {
			return false
		}
	}
	return len(v) == 2
}

// denseConv names the dense blocks' convolutions F_t_d_c.
var denseConv = regexp.MustCompile(`^F_(\d+)_(\d+)_(\d+)/kernel$`)

// sizes finds the architecture's sizes from its weight names and shapes, in
// idealo's letters: T residual-in-residual blocks of D dense blocks, each of
// C convolutions adding G channels to G0. Package upscale checks every
// weight's shape against them.
func sizes(meta map[string]string, ts map[string]*tensor.Tensor) error {
	n := map[string]int{}
	for name, t := range ts {
		m := denseConv.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		for i, k := range []string{"T", "D", "C"} {
			v, _ := strconv.Atoi(m[i+1])
			n[k] = max(n[k], v)
		}
		n["G"] = t.Shape[3]
	}
	pre, ok := ts["Pre_blocks_conv/kernel"]
	if !ok || n["C"] == 0 || len(pre.Shape) != 4 {
		return errors.New("no Pre_blocks_conv or no dense-block convolutions")
	}
	n["G0"] = pre.Shape[3]
	for k, v := range n {
		meta[k] = strconv.Itoa(v)
	}
	return nil
}

// weights decodes the manifest's float32 weights from the shards.
func weights(m model, files map[string][]byte, dir string) (map[string]*tensor.Tensor, error) {
	ts := map[string]*tensor.Tensor{}
	for _, group := range m.Manifest {
		// A group's shards are one byte stream cut into files.
		var data []byte
		for _, p := range group.Paths {
			b, ok := files[dir+p]
			if !ok {
				return nil, fmt.Errorf("shard %s%s missing", dir, p)
			}
			data = append(data, b...)
		}
		off := 0
		for _, w := range group.Weights {
			if w.DType != "float32" || len(w.Quantization) > 0 {
				return nil, fmt.Errorf("%s: dtype %s, quantisation %s not handled", w.Name, w.DType, w.Quantization)
			}
			n := tensor.Numel(w.Shape)
			if off+4*n > len(data) {
				return nil, fmt.Errorf("%s: shards too short", w.Name)
			}
			vals := make([]float32, n)
			for i := range vals {
				vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[off+4*i:]))
			}
			off += 4 * n
			if _, dup := ts[w.Name]; dup {
				return nil, fmt.Errorf("%s: named twice", w.Name)
			}
			ts[w.Name] = tensor.FromSlice(vals, w.Shape...)
		}
		if off != len(data) {
			return nil, fmt.Errorf("shards hold %d bytes, manifest uses %d", len(data), off)
		}
	}
	return ts, nil
}
