package reward

import (
	"path/filepath"
	"strings"
	"testing"

	"facereward/checkpoint"
	"facereward/models"
	"facereward/nn"
	"facereward/safetensors"
	"facereward/tensor"
)

// TestNumParams keeps the count Validate bounds in step with New.
func TestNumParams(t *testing.T) {
	for _, c := range []Config{DefaultConfig(), {ImageSize: 16, Widths: []int{4, 6, 8}}} {
		m, err := New(c, nn.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		n := int64(0)
		for _, p := range m.Params() {
			n += int64(len(p.Value.Data))
		}
		if got := c.numParams(); got != n {
			t.Errorf("%v: counted %d parameters, New allocates %d", c, got, n)
		}
	}
}

// writeModel saves params with config as the FRM config metadata, the
// way a crafted model file would be made.
func writeModel(t *testing.T, params []*nn.Param, config string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := checkpoint.Save(path, params, nil, map[string]string{configKey: config}, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadRejectsHugeConfig is the reproducer of a ~100-byte model file
// whose config asks for widths [100000, 100000]: Load allocated 360 GB
// from it and the process died of "out of memory". Each case must now be a
// plain error naming the file and the field.
func TestLoadRejectsHugeConfig(t *testing.T) {
	one := []*nn.Param{nn.NewParam("x", tensor.New(1), false)}
	for _, tc := range []struct {
		config, want string
	}{
		{`{"image_size":128,"widths":[100000,100000]}`, "frm_config: widths[0] = 100000, want 1..4096"},
		{`{"image_size":128,"widths":[8,-3]}`, "frm_config: widths[1] = -3, want 1..4096"},
		{`{"image_size":1048576,"widths":[8,8]}`, "frm_config: image_size = 1048576, want 1..1024"},
		{`{"image_size":128,"widths":[8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8]}`,
			"frm_config: 68 widths, too many halvings for image size 128"},
		{`{"image_size":128,"widths":[4096,4096,4096]}`, "frm_config: 604114945 parameters, want at most 200000000"},
		// Within every bound, but more than the file holds: refused before
		// the network is allocated.
		{`{"image_size":128,"widths":[1024,1024]}`, "frm_config needs 18906113 parameters, the file holds 1 values"},
	} {
		path := writeModel(t, one, tc.config)
		_, err := Load(path)
		if err == nil {
			t.Errorf("%s: loaded", tc.config)
			continue
		}
		for _, want := range []string{path, tc.want} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
		}
	}
}

// TestLoadShapeMismatch: a sane config that is not the one the weights
// were trained with names the file, a tensor and both shapes.
func TestLoadShapeMismatch(t *testing.T) {
	path := writeModel(t, tiny(t, 1).Params(), `{"image_size":16,"widths":[4,6,7]}`)
	_, err := Load(path)
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{path, `"frm.level.1.down.weight" has shape [3 3 6 8], model wants [3 3 6 7]`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// TestBuiltinValidates: the bounds must leave the shipped FRM loadable.
func TestBuiltinValidates(t *testing.T) {
	if _, err := LoadOrBuiltin(""); err != nil {
		t.Fatalf("%s: %v", models.RewardFile, err)
	}
}
