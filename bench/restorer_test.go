package bench

import (
	"strings"
	"testing"

	"facereward/safetensors"
)

// A PyTorch side that models other networks stops the restorer benchmark
// before the Go side is timed: another control branch, or no component
// discriminator (a script from before the component critic reports none).
func TestRestorerRefusesOtherNets(t *testing.T) {
	const goNets = "stage 1 457036, UNet 6041276, control 2666352, discriminator 373121, component discriminator 373121, face net 5607488"
	for _, c := range []struct{ line, torchNets string }{
		{`{"torch":"9.9","stage1_params":457036,"unet_params":6041276,"control_params":1,"disc_params":373121,"comp_disc_params":373121,"face_net_params":5607488}`,
			"control 1, discriminator 373121, component discriminator 373121, face net 5607488"},
		{`{"torch":"9.9","stage1_params":457036,"unet_params":6041276,"control_params":2666352,"disc_params":373121,"face_net_params":5607488}`,
			"discriminator 373121, component discriminator 0, face net 5607488"},
	} {
		o := fakeTorch(t, c.line)
		var out strings.Builder
		err := Restorer(o, &out)
		if err == nil || !strings.Contains(err.Error(), c.torchNets+" parameters, Go "+goNets+": not the same networks") {
			t.Fatalf("%s: error %v", c.line, err)
		}
		if !strings.Contains(out.String(), "parameters: "+goNets+"\n") || strings.Contains(out.String(), "| step |") {
			t.Errorf("%s: output\n%s", c.line, out.String())
		}
	}
}

// faceNetParams counts what the embedded recognition weights hold: each
// convolution's filters and bias (its scale layer folds into them) and
// the linear map.
func TestFaceNetParams(t *testing.T) {
	f, err := safetensors.Read("../facenet/weights/recognition.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, w := range f.Tensors {
		if strings.HasSuffix(name, "/conv/filters") || strings.HasSuffix(name, "/conv/bias") || name == "fc" {
			n += w.Len()
		}
	}
	if got := faceNetParams(); got != n || n == 0 {
		t.Errorf("faceNetParams() = %d, the embedded weights hold %d", got, n)
	}
}
