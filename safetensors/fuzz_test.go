package safetensors

import (
	"os"
	"path/filepath"
	"testing"

	"facereward/tensor"
)

// FuzzRead checks that no input makes the reader panic, and that whatever it
// accepts is self-consistent: shapes match data and the file re-encodes.
func FuzzRead(f *testing.F) {
	f.Add([]byte{})
	f.Add(rawFile(`{}`, nil))
	f.Add(rawFile(`{"__metadata__":{"a":"b"}}`, nil))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, le32(1, 2)))
	f.Add(rawFile(`{"a":{"dtype":"F16","shape":[1,2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[],"data_offsets":[4,6]}}`, make([]byte, 6)))
	f.Add(rawFile(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[0,2147483647],"data_offsets":[0,0]}}`, nil))
	dir := f.TempDir()
	path := filepath.Join(dir, "seed.safetensors")
	if err := Write(path, map[string]*tensor.Tensor{"w": tensor.New(2, 3), "b": tensor.New(3)}, map[string]string{"k": "v"}, F16); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadBytes(data, "fuzz")
		if err != nil {
			return
		}
		for name, tt := range file.Tensors {
			if tensor.Numel(tt.Shape) != len(tt.Data) {
				t.Fatalf("%s: shape %v with %d values", name, tt.Shape, len(tt.Data))
			}
		}
	})
}
