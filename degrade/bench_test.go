package degrade

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"facereward/imageio"
)

// BenchmarkDegrade measures training-pair throughput at 128×128 on one
// core: decode a PNG from memory, degrade it with diffbir at 128. Run with
//
//	go test -run '^$' -bench BenchmarkDegrade -cpu 1 ./degrade/
func BenchmarkDegrade(b *testing.B) {
	png, err := os.ReadFile(filepath.Join(cvrefDir, "degrade_jpeg_src_04801.png"))
	if err != nil {
		b.Fatal(err)
	}
	c, _ := Preset("diffbir")
	d, err := New(c.AtSize(128))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		hq, err := imageio.Decode(bytes.NewReader(png), "face.png")
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := d.Degrade(rng, hq); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}
