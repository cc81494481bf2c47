// Command convert turns the TF.js weights of @vladmandic/face-api@1.7.15's
// 68-point landmark net, face recognition net and SSD MobileNet v1 face
// detector into safetensors files in facenet's layouts:
//
//	npm pack @vladmandic/face-api@1.7.15
//	go run ./tools/faceapi/convert -tgz vladmandic-face-api-1.7.15.tgz -out facenet/weights
//
// It reads model/face_landmark_68_model*, model/face_recognition_model* and
// model/ssd_mobilenetv1_model* straight from the tarball, dequantises uint8 weights the way tfjs-core's
// decodeWeights does (byte·scale + min, rounded to float32), keeps the
// manifest's names, and drops the trailing channel multiplier of 1 from
// depthwise kernels ([kh,kw,C,1] → [kh,kw,C], nn.DepthwiseConv2D's layout).
// Every other layout (conv [kh,kw,Cin,Cout], fc [in,out]) is already ours.
// The SSD manifest also lists int32 constants of the exported TF graph
// (slice begins, stack sizes, the preprocessor's resize size) that
// face-api never reads; they are skipped.
// Weights are stored as F32: the dequantised values are not F16-exact. It
// also copies the package's LICENSE and prints the outputs' sha256 for
// facenet/weights.go.
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
	"strings"

	"facereward/safetensors"
	"facereward/tensor"
)

// tgzSHA256 is the tarball this converter was written against; another
// version may name or lay out its weights differently.
const tgzSHA256 = "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031"

var nets = []struct{ model, out string }{
	{"face_landmark_68_model", "landmark68.safetensors"},
	{"face_recognition_model", "recognition.safetensors"},
	{"ssd_mobilenetv1_model", "ssd_mobilenetv1.safetensors"},
}

type manifest []struct {
	Paths   []string `json:"paths"`
	Weights []struct {
		Name         string `json:"name"`
		Shape        []int  `json:"shape"`
		DType        string `json:"dtype"`
		Quantization *struct {
			DType string  `json:"dtype"`
			Scale float64 `json:"scale"`
			Min   float64 `json:"min"`
		} `json:"quantization"`
	} `json:"weights"`
}

func main() {
	tgz := flag.String("tgz", "vladmandic-face-api-1.7.15.tgz", "tarball from `npm pack @vladmandic/face-api@1.7.15`")
	out := flag.String("out", "facenet/weights", "output directory")
	flag.Parse()
	if err := run(*tgz, *out); err != nil {
		log.Fatal(err)
	}
}

func run(tgz, outDir string) error {
	files, sum, err := readTarball(tgz)
	if err != nil {
		return err
	}
	if sum != tgzSHA256 {
		return fmt.Errorf("%s: sha256 %s, want %s (not @vladmandic/face-api@1.7.15?)", tgz, sum, tgzSHA256)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	for _, n := range nets {
		ts, err := convert(files, n.model)
		if err != nil {
			return fmt.Errorf("%s: %w", n.model, err)
		}
		path := filepath.Join(outDir, n.out)
		meta := map[string]string{
			"source":  "@vladmandic/face-api@1.7.15 model/" + n.model + " (MIT), converted by tools/faceapi/convert",
			"license": "MIT, see LICENSE beside this file",
		}
		if err := safetensors.Write(path, ts, meta, safetensors.F32); err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h := sha256.Sum256(data)
		fmt.Printf("%s  %d bytes  %d tensors  sha256 %s\n", path, len(data), len(ts), hex.EncodeToString(h[:]))
	}
	lic, ok := files["LICENSE"]
	if !ok {
		return errors.New("tarball has no package/LICENSE")
	}
	return os.WriteFile(filepath.Join(outDir, "LICENSE"), lic, 0o644)
}

// readTarball returns the files of the npm tarball under package/ (only the
// ones convert needs) and the tarball's sha256.
func readTarball(path string) (map[string][]byte, string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	h := sha256.Sum256(raw)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", path, err)
		}
		name := strings.TrimPrefix(hd.Name, "package/")
		if name != "LICENSE" && !wanted(name) {
			continue
		}
		if files[name], err = io.ReadAll(tr); err != nil {
			return nil, "", fmt.Errorf("%s: %s: %w", path, name, err)
		}
	}
	return files, hex.EncodeToString(h[:]), nil
}

// wanted reports whether a tarball file belongs to one of the nets.
func wanted(name string) bool {
	for _, n := range nets {
		if strings.HasPrefix(name, "model/"+n.model) {
			return true
		}
	}
	return false
}

// convert decodes one net's manifest and weight shards into named tensors.
func convert(files map[string][]byte, model string) (map[string]*tensor.Tensor, error) {
	mj, ok := files["model/"+model+"-weights_manifest.json"]
	if !ok {
		return nil, errors.New("no weights manifest in the tarball")
	}
	var m manifest
	if err := json.Unmarshal(mj, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	ts := map[string]*tensor.Tensor{}
	for _, group := range m {
		// A group's shards are one byte stream cut into files.
		var data []byte
		for _, p := range group.Paths {
			b, ok := files["model/"+p]
			if !ok {
				return nil, fmt.Errorf("shard %s missing", p)
			}
			data = append(data, b...)
		}
		off := 0
		for _, w := range group.Weights {
			n := tensor.Numel(w.Shape)
			if w.DType == "int32" {
				// A graph constant face-api never reads: step over its bytes.
				size := 4 * n
				if q := w.Quantization; q != nil && q.DType == "uint8" {
					size = n
				} else if q != nil {
					return nil, fmt.Errorf("%s: quantisation %s not handled", w.Name, q.DType)
				}
				if off+size > len(data) {
					return nil, fmt.Errorf("%s: cannot skip int32 constant", w.Name)
				}
				off += size
				continue
			}
			if w.DType != "float32" {
				return nil, fmt.Errorf("%s: dtype %s", w.Name, w.DType)
			}
			vals := make([]float32, n)
			switch q := w.Quantization; {
			case q == nil:
				if off+4*n > len(data) {
					return nil, fmt.Errorf("%s: shard too short", w.Name)
				}
				for i := range vals {
					vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[off+4*i:]))
				}
				off += 4 * n
			case q.DType == "uint8":
				if off+n > len(data) {
					return nil, fmt.Errorf("%s: shard too short", w.Name)
				}
				for i := range vals {
					vals[i] = float32(float64(data[off+i])*q.Scale + q.Min)
				}
				off += n
			default:
				return nil, fmt.Errorf("%s: quantisation %s not handled", w.Name, q.DType)
			}
			shape := w.Shape
			// The landmark net names its depthwise kernels depthwise_filter,
			// the SSD (a TF object-detection export) depthwise_weights.
			if strings.HasSuffix(w.Name, "/depthwise_filter") || strings.HasSuffix(w.Name, "/depthwise_weights") {
				if len(shape) != 4 || shape[3] != 1 {
					return nil, fmt.Errorf("%s: depthwise shape %v, want [kh,kw,C,1]", w.Name, shape)
				}
				shape = shape[:3]
			}
			if _, dup := ts[w.Name]; dup {
				return nil, fmt.Errorf("%s: named twice", w.Name)
			}
			ts[w.Name] = tensor.FromSlice(vals, shape...)
		}
		if off != len(data) {
			return nil, fmt.Errorf("shards hold %d bytes, manifest uses %d", len(data), off)
		}
	}
	return ts, nil
}
