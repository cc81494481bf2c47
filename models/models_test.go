package models_test

import (
	"io/fs"
	"testing"

	"facereward/models"
	"facereward/restorer"
)

// The built-in weights load into the architecture their config names,
// every tensor present with its shape (LoadFS checks both), and are not
// the untrained initialisation: the zero-initialised output layer has
// learnt something.
func TestDefaultLoads(t *testing.T) {
	m, dc, err := restorer.LoadFS(models.Default(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	if dc.Schedule == "" {
		t.Error("no β schedule in config.json")
	}
	nonzero := 0
	for _, v := range m.UNet.Out.W.Value.Data {
		if v != 0 {
			nonzero++
		}
	}
	if nonzero == 0 {
		t.Error("the UNet's output layer is still zero: untrained weights")
	}
	if _, err := fs.Stat(models.Default(), "config.json"); err != nil {
		t.Error(err)
	}
}
