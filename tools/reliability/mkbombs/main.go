// Command mkbombs writes small files built to exhaust the memory of
// whatever trusts their headers, for bombs.sh to feed to facereward:
//
//	png-100000x100000.png     a 1×1 PNG whose IHDR (CRC fixed) claims 100000×100000
//	png-zeros-20000x20000.png a genuine 20000×20000 greyscale PNG of zeros (~400 KB)
//	jpeg-65000x65000.jpg      a 16×16 baseline JPEG whose SOF0 claims 65000×65000
//	st-header-2e60.safetensors  a safetensors file whose 8-byte header length is 2^60
//	st-100gb-tensor.safetensors a valid header naming one F32 tensor of 100 GB
//	frm-widths-100000.safetensors a one-tensor reward model whose frm_config asks widths [100000, 100000]
//
//	go run ./tools/reliability/mkbombs DIR
package main

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkbombs DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "mkbombs:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	files := map[string][]byte{}

	// PNG: IHDR is the first chunk, at offset 8: length(4) "IHDR" w(4) h(4) … crc(4).
	var b bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.RGBA{128, 128, 128, 255})
	if err := png.Encode(&b, img); err != nil {
		return err
	}
	p := b.Bytes()
	binary.BigEndian.PutUint32(p[16:], 100000)
	binary.BigEndian.PutUint32(p[20:], 100000)
	binary.BigEndian.PutUint32(p[29:], crc32.ChecksumIEEE(p[12:29]))
	files["png-100000x100000.png"] = p

	// A genuine PNG: 20000 rows of filter byte 0 + 20000 zero bytes, deflated.
	files["png-zeros-20000x20000.png"] = zerosPNG(20000)

	// JPEG: patch the SOF0 segment (FF C0, length, precision, height, width).
	b.Reset()
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 16, 16)), nil); err != nil {
		return err
	}
	j := b.Bytes()
	i := bytes.Index(j, []byte{0xFF, 0xC0})
	if i < 0 {
		return fmt.Errorf("no SOF0 in the encoded JPEG")
	}
	binary.BigEndian.PutUint16(j[i+5:], 65000)
	binary.BigEndian.PutUint16(j[i+7:], 65000)
	files["jpeg-65000x65000.jpg"] = j

	// safetensors: u64 little-endian header length, JSON header, data.
	files["st-header-2e60.safetensors"] = append(binary.LittleEndian.AppendUint64(nil, 1<<60), "{}"...)
	files["st-100gb-tensor.safetensors"] = safetensors(map[string]any{
		"x": map[string]any{"dtype": "F32", "shape": []int64{25_000_000_000}, "data_offsets": []int64{0, 100_000_000_000}},
	}, 4)
	files["frm-widths-100000.safetensors"] = safetensors(map[string]any{
		"__metadata__": map[string]string{"frm_config": `{"image_size":128,"widths":[100000,100000]}`},
		"x":            map[string]any{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{0, 4}},
	}, 4)

	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func safetensors(header map[string]any, dataBytes int) []byte {
	h, _ := json.Marshal(header)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(out, h...)
	return append(out, make([]byte, dataBytes)...)
}

// zerosPNG is a valid n×n 8-bit greyscale PNG, all black.
func zerosPNG(n int) []byte {
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	row := make([]byte, n+1)
	for range n {
		zw.Write(row)
	}
	zw.Close()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		out.Write(c)
		binary.Write(&out, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(n))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(n))
	ihdr = append(ihdr, 8, 0, 0, 0, 0) // depth 8, greyscale, deflate, no filter, no interlace
	chunk("IHDR", ihdr)
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}
