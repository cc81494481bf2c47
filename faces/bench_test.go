package faces

import (
	"fmt"
	"testing"
)

// go test ./faces/ -run '^$' -bench . -benchtime 20x
func BenchmarkDetect512(b *testing.B) {
	photo := readPhoto(b, "grace_hopper_512x512.jpg")
	for _, c := range []struct {
		det string
		pad float64
	}{{DetectorSSD, 0}, {DetectorPigo, 0}, {DetectorPigo, 0.1}} {
		b.Run(fmt.Sprintf("%s/pad=%.1f", c.det, c.pad), func(b *testing.B) {
			o := DefaultOptions()
			o.Detector = c.det
			o.Pad = c.pad
			for b.Loop() {
				if r, err := o.Detect(photo); err != nil || len(r.Faces) != 1 {
					b.Fatalf("%d faces, err %v", len(r.Faces), err)
				}
			}
		})
	}
}

func BenchmarkAlign128(b *testing.B) {
	photo := readPhoto(b, "grace_hopper_512x512.jpg")
	faces, err := Detect(photo)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := Align(photo, faces[0].Points, 128); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPasteBack512(b *testing.B) {
	photo := readPhoto(b, "grace_hopper_512x512.jpg")
	faces, err := Detect(photo)
	if err != nil {
		b.Fatal(err)
	}
	crop, m, err := Align(photo, faces[0].Points, 512)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := PasteBack(photo, crop, m); err != nil {
			b.Fatal(err)
		}
	}
}
