package bench

import (
	"strings"
	"testing"
)

// A PyTorch side that models other networks stops the restorer benchmark
// before the Go side is timed.
func TestRestorerRefusesOtherNets(t *testing.T) {
	o := fakeTorch(t, `{"torch":"9.9","stage1_params":457036,"unet_params":6041276,"control_params":1}`)
	var out strings.Builder
	err := Restorer(o, &out)
	if err == nil || !strings.Contains(err.Error(), "control 1 parameters, Go stage 1 457036, UNet 6041276, control 2666352: not the same networks") {
		t.Fatalf("error %v", err)
	}
	if !strings.Contains(out.String(), "parameters: stage 1 457036, UNet 6041276, control 2666352\n") || strings.Contains(out.String(), "| step |") {
		t.Errorf("output\n%s", out.String())
	}
}
