package imageio

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"testing"

	"facereward/tensor"
)

// withExif inserts an APP1 Exif segment (IFD0 holding only the orientation
// tag, of TIFF type typ) right after the JPEG's SOI marker, after an
// unrelated APP2 segment that the scanner has to step over.
func withExif(jpg []byte, bo binary.AppendByteOrder, typ uint16, orientation uint32) []byte {
	tiff := []byte("II*\x00")
	if bo == binary.AppendByteOrder(binary.BigEndian) {
		tiff = []byte("MM\x00*")
	}
	tiff = bo.AppendUint32(tiff, 8) // IFD0 right after the header
	tiff = bo.AppendUint16(tiff, 1) // one entry
	tiff = bo.AppendUint16(tiff, 0x0112)
	tiff = bo.AppendUint16(tiff, typ)
	tiff = bo.AppendUint32(tiff, 1)
	if typ == 3 {
		tiff = bo.AppendUint16(tiff, uint16(orientation))
		tiff = append(tiff, 0, 0)
	} else {
		tiff = bo.AppendUint32(tiff, orientation)
	}
	tiff = bo.AppendUint32(tiff, 0) // no next IFD
	seg := func(marker byte, body []byte) []byte {
		s := []byte{0xff, marker}
		s = binary.BigEndian.AppendUint16(s, uint16(len(body)+2))
		return append(s, body...)
	}
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg(0xe2, []byte("ICC_PROFILE\x00not really"))...)
	out = append(out, seg(0xe1, append([]byte("Exif\x00\x00"), tiff...))...)
	return append(out, jpg[2:]...)
}

// quadrants is 64×32 with a flat colour in each 32×16 quarter; the quarters
// align with JPEG's 16×16 blocks so the colours survive compression.
func quadrants() (*image.RGBA, [4]color.RGBA) {
	cols := [4]color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 255, 255}}
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for y := range 32 {
		for x := range 64 {
			img.SetRGBA(x, y, cols[(y/16)*2+x/32])
		}
	}
	return img, cols
}

func TestExifOrientation(t *testing.T) {
	src, cols := quadrants()
	const TL, TR, BL, BR = 0, 1, 2, 3
	plain := encodeJPEG(t, src, 95)
	upright, err := Decode(bytes.NewReader(plain), "plain.jpg")
	if err != nil {
		t.Fatal(err)
	}
	// For each tag, which stored corner the viewer sees at its top-left,
	// top-right, bottom-left and bottom-right (EXIF 2.3, tag 0x0112).
	cases := []struct {
		o       uint32
		corners [4]int
		swapped bool
	}{
		{1, [4]int{TL, TR, BL, BR}, false},
		{2, [4]int{TR, TL, BR, BL}, false},
		{3, [4]int{BR, BL, TR, TL}, false},
		{4, [4]int{BL, BR, TL, TR}, false},
		{5, [4]int{TL, BL, TR, BR}, true},
		{6, [4]int{BL, TL, BR, TR}, true}, // rotate 90° clockwise
		{7, [4]int{BR, TR, BL, TL}, true},
		{8, [4]int{TR, BR, TL, BL}, true}, // rotate 90° anticlockwise
	}
	for _, c := range cases {
		for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			for _, typ := range []uint16{3, 4} {
				got, err := Decode(bytes.NewReader(withExif(plain, bo, typ, c.o)), "exif.jpg")
				if err != nil {
					t.Fatal(err)
				}
				h, w := 32, 64
				if c.swapped {
					h, w = 64, 32
				}
				if !tensor.SameShape(got.Shape, []int{h, w, 3}) {
					t.Fatalf("orientation %d: shape %v, want [%d %d 3]", c.o, got.Shape, h, w)
				}
				at := [4][2]int{{2, 2}, {w - 3, 2}, {2, h - 3}, {w - 3, h - 3}}
				for k, p := range at {
					want := cols[c.corners[k]]
					i := (p[1]*w + p[0]) * 3
					for ch, v := range []uint8{want.R, want.G, want.B} {
						if d := got.Data[i+ch] - float32(v)/255; d > 0.05 || d < -0.05 {
							t.Errorf("orientation %d (%v, type %d): corner %d channel %d = %.3f, want %.3f",
								c.o, bo, typ, k, ch, got.Data[i+ch], float32(v)/255)
						}
					}
				}
				// Same JPEG data, so the pixels must be exactly a permutation.
				if d := maxAbsDiff(t, got, orient(upright, int(c.o))); d != 0 {
					t.Errorf("orientation %d: differs from the rotated plain decode by %g", c.o, d)
				}
			}
		}
	}
}

// Nonsense in the Exif block must leave the image as stored, not fail it.
func TestExifMalformedIgnored(t *testing.T) {
	src, _ := quadrants()
	plain := encodeJPEG(t, src, 90)
	bad := map[string][]byte{
		"orientation 9":  withExif(plain, binary.LittleEndian, 3, 9),
		"orientation 0":  withExif(plain, binary.BigEndian, 3, 0),
		"wrong type":     withExif(plain, binary.BigEndian, 7, 6),
		"no exif at all": plain,
	}
	cut := withExif(plain, binary.LittleEndian, 3, 6)
	i := bytes.Index(cut, []byte("Exif"))
	copy(cut[i+6:], "XX") // byte order mark destroyed
	bad["bad byte order"] = cut
	for name, data := range bad {
		if o := exifOrientation(data); o != 1 {
			t.Errorf("%s: orientation %d, want 1", name, o)
		}
		got, err := Decode(bytes.NewReader(data), name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if got.Shape[0] != 32 || got.Shape[1] != 64 {
			t.Errorf("%s: shape %v, want the stored [32 64 3]", name, got.Shape)
		}
	}
	if o := exifOrientation([]byte{0xff, 0xd8}); o != 1 {
		t.Errorf("bare SOI: orientation %d", o)
	}
}
