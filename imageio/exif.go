package imageio

import (
	"bytes"
	"encoding/binary"

	"facereward/tensor"
)

// exifOrientation returns the EXIF orientation tag (1–8) of a JPEG, or 1
// when there is none or it cannot be read: a damaged Exif block should not
// make an otherwise good photo unreadable. Only IFD0 of the first Exif APP1
// segment is consulted, which is where cameras and phones put the tag.
func exifOrientation(jpg []byte) int {
	i := 2 // past SOI
	for i+4 <= len(jpg) {
		if jpg[i] != 0xff {
			return 1
		}
		marker := jpg[i+1]
		switch {
		case marker == 0xff: // fill byte before a marker
			i++
			continue
		case marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8): // markers without a length
			i += 2
			continue
		case marker == 0xda || marker == 0xd9: // Exif always precedes the scan
			return 1
		}
		n := int(jpg[i+2])<<8 | int(jpg[i+3])
		if n < 2 || i+2+n > len(jpg) {
			return 1
		}
		seg := jpg[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			if o := tiffOrientation(seg[6:]); o != 0 {
				return o
			}
			return 1
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF block; 0 if absent
// or malformed.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	off := uint64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > uint64(len(t)) {
		return 0
	}
	ifd := int(off)
	n := int(bo.Uint16(t[ifd:]))
	for k := range n {
		e := ifd + 2 + 12*k
		if e+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		var v uint32
		switch typ, count := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:]); {
		case typ == 3 && count == 1: // SHORT, as the standard says
			v = uint32(bo.Uint16(t[e+8:]))
		case typ == 4 && count == 1: // LONG, which some writers use
			v = bo.Uint32(t[e+8:])
		default:
			return 0
		}
		if v < 1 || v > 8 {
			return 0
		}
		return int(v)
	}
	return 0
}

// orient returns t as it should be displayed for EXIF orientation o:
// 2 mirror, 3 rotate 180°, 4 flip vertically, 5 transpose, 6 rotate 90°
// clockwise, 7 transverse, 8 rotate 90° anticlockwise. For each output pixel
// (x', y') it computes the stored pixel (x, y) it shows.
func orient(t *tensor.Tensor, o int) *tensor.Tensor {
	if o < 2 || o > 8 {
		return t
	}
	h, w, c := t.Shape[0], t.Shape[1], t.Shape[2]
	oh, ow := h, w
	if o >= 5 {
		oh, ow = w, h
	}
	out := tensor.New(oh, ow, c)
	for yo := range oh {
		for xo := range ow {
			var x, y int
			switch o {
			case 2:
				x, y = w-1-xo, yo
			case 3:
				x, y = w-1-xo, h-1-yo
			case 4:
				x, y = xo, h-1-yo
			case 5:
				x, y = yo, xo
			case 6:
				x, y = yo, h-1-xo
			case 7:
				x, y = w-1-yo, h-1-xo
			case 8:
				x, y = w-1-yo, xo
			}
			copy(out.Data[(yo*ow+xo)*c:(yo*ow+xo+1)*c], t.Data[(y*w+x)*c:(y*w+x+1)*c])
		}
	}
	return out
}
