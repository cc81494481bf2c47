package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	"golang.org/x/image/webp"

	"facereward/tensor"
)

// Errors that Read and Decode wrap, for errors.Is; the message always also
// names the file.
var (
	ErrEmpty       = errors.New("empty image")
	ErrTruncated   = errors.New("truncated file")
	ErrUnsupported = errors.New("unsupported format")
	ErrTooLarge    = errors.New("image too large")
)

// Default limits: 64 megapixels is far beyond any face crop yet small enough
// (768 MiB as float32 RGB) that one hostile file cannot exhaust memory.
const (
	DefaultMaxPixels    = 64 << 20
	DefaultMaxFileBytes = 1 << 30
)

// Limits bound what Read and Decode accept; a zero field means its default.
type Limits struct {
	MaxPixels    int64 // width·height from the header
	MaxFileBytes int64 // size of the encoded file
}

func (l Limits) maxPixels() int64 {
	if l.MaxPixels > 0 {
		return l.MaxPixels
	}
	return DefaultMaxPixels
}

func (l Limits) maxFileBytes() int64 {
	if l.MaxFileBytes > 0 {
		return l.MaxFileBytes
	}
	return DefaultMaxFileBytes
}

// Config is what an image's header says, read without decoding pixels.
type Config struct {
	Format        string // "png", "jpeg" or "webp"
	Width, Height int    // as stored, before any EXIF rotation
}

// Read decodes the image file at path with the default Limits.
func Read(path string) (*tensor.Tensor, error) { return Limits{}.Read(path) }

// Decode decodes an image from r with the default Limits; name is used in
// errors.
func Decode(r io.Reader, name string) (*tensor.Tensor, error) { return Limits{}.Decode(r, name) }

// ReadConfig reads the header of the image file at path with the default
// Limits.
func ReadConfig(path string) (Config, error) { return Limits{}.ReadConfig(path) }

// DecodeConfig reads an image header from r with the default Limits.
func DecodeConfig(r io.Reader, name string) (Config, error) { return Limits{}.DecodeConfig(r, name) }

// Read decodes the image file at path.
func (l Limits) Read(path string) (*tensor.Tensor, error) {
	data, err := l.readFile(path)
	if err != nil {
		return nil, err
	}
	return l.decodeBytes(data, path)
}

// Decode decodes an image from r; name is used in errors.
func (l Limits) Decode(r io.Reader, name string) (*tensor.Tensor, error) {
	data, err := l.readAll(r, name)
	if err != nil {
		return nil, err
	}
	return l.decodeBytes(data, name)
}

// ReadConfig reads the header of the image file at path and checks it
// against the limits, without decoding pixels.
func (l Limits) ReadConfig(path string) (Config, error) {
	data, err := l.readFile(path)
	if err != nil {
		return Config{}, err
	}
	return l.checkConfig(data, path)
}

// DecodeConfig reads an image header from r and checks it against the limits.
func (l Limits) DecodeConfig(r io.Reader, name string) (Config, error) {
	data, err := l.readAll(r, name)
	if err != nil {
		return Config{}, err
	}
	return l.checkConfig(data, name)
}

// readFile reads the whole file: faces are small, and holding the bytes lets
// the header be checked before the pixels are decoded from the same buffer.
func (l Limits) readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("imageio: %w", err) // *PathError already names the file
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("imageio: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("imageio: %s: is a directory", path)
	}
	if st.Size() > l.maxFileBytes() {
		return nil, fmt.Errorf("imageio: %s: %w: file is %d bytes, limit %d", path, ErrTooLarge, st.Size(), l.maxFileBytes())
	}
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("imageio: read %s: %w", path, err)
	}
	return data, nil
}

func (l Limits) readAll(r io.Reader, name string) ([]byte, error) {
	limit := l.maxFileBytes()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("imageio: read %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("imageio: %s: %w: more than %d bytes", name, ErrTooLarge, limit)
	}
	return data, nil
}

// sniff names the format from the first bytes. Formats we cannot decode are
// still named, so the error says "GIF" rather than just "unknown".
func sniff(data []byte) (format string, supported bool) {
	has := func(off int, magic string) bool {
		return len(data) >= off+len(magic) && string(data[off:off+len(magic)]) == magic
	}
	switch {
	case has(0, "\x89PNG\r\n\x1a\n"):
		return "png", true
	case has(0, "\xff\xd8\xff"):
		return "jpeg", true
	case has(0, "RIFF") && has(8, "WEBP"):
		return "webp", true
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return "GIF", false
	case has(0, "BM"):
		return "BMP", false
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		return "TIFF", false
	case has(0, "qoif"):
		return "QOI", false
	case has(4, "ftypheic"), has(4, "ftypheix"), has(4, "ftypmif1"):
		return "HEIF", false
	case has(4, "ftypavif"):
		return "AVIF", false
	case has(0, "\x00\x00\x00\x0cjP  "), has(0, "\xff\x4f\xff\x51"):
		return "JPEG 2000", false
	case has(0, "\xff\x0a"), has(0, "\x00\x00\x00\x0cJXL "):
		return "JPEG XL", false
	case has(0, "P1"), has(0, "P2"), has(0, "P3"), has(0, "P4"), has(0, "P5"), has(0, "P6"):
		return "PNM", false
	}
	n := min(len(data), 8)
	return fmt.Sprintf("unknown (first bytes % x)", data[:n]), false
}

// checkConfig sniffs the format, reads the header and applies the limits.
func (l Limits) checkConfig(data []byte, name string) (Config, error) {
	if len(data) == 0 {
		return Config{}, fmt.Errorf("imageio: %s: %w: file is 0 bytes", name, ErrEmpty)
	}
	format, ok := sniff(data)
	if !ok {
		return Config{}, fmt.Errorf("imageio: %s: %w: %s (want PNG, JPEG or WebP)", name, ErrUnsupported, format)
	}
	var cfg image.Config
	var err error
	switch format {
	case "png":
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case "jpeg":
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case "webp":
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return Config{}, decodeError(name, format, "header", err, data)
	}
	c := Config{Format: format, Width: cfg.Width, Height: cfg.Height}
	if c.Width <= 0 || c.Height <= 0 {
		return c, fmt.Errorf("imageio: %s: %w: header says %d×%d", name, ErrEmpty, c.Width, c.Height)
	}
	if px := int64(c.Width) * int64(c.Height); px > l.maxPixels() {
		return c, fmt.Errorf("imageio: %s: %w: header says %d×%d = %d pixels, limit %d",
			name, ErrTooLarge, c.Width, c.Height, px, l.maxPixels())
	}
	return c, nil
}

// decodeError says "truncated" when the decoder ran out of bytes or the
// container shows the file stops short, which is what a half-copied or
// half-downloaded file looks like; decoders often report that only as
// corrupt data ("not enough pixel data", "short Huffman data").
func decodeError(name, format, what string, err error, data []byte) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || incomplete(format, data) {
		return fmt.Errorf("imageio: %s: %w: %s %s ends early (%v)", name, ErrTruncated, format, what, err)
	}
	return fmt.Errorf("imageio: %s: bad %s %s: %w", name, format, what, err)
}

// incomplete reports whether the file's container stops before its end
// marker: PNG before IEND, JPEG's last scan before EOI, WebP before the
// length its RIFF header gives.
func incomplete(format string, data []byte) bool {
	switch format {
	case "png":
		for off := 8; off+8 <= len(data); {
			end := uint64(off) + 12 + uint64(binary.BigEndian.Uint32(data[off:]))
			if end > uint64(len(data)) {
				return true
			}
			if string(data[off+4:off+8]) == "IEND" {
				return false
			}
			off = int(end)
		}
		return true
	case "jpeg":
		// Entropy-coded data never holds FF D9, so an EOI after the last
		// SOS marker is the image's own (not an Exif thumbnail's).
		sos := bytes.LastIndex(data, []byte{0xff, 0xda})
		return sos < 0 || !bytes.Contains(data[sos:], []byte{0xff, 0xd9})
	case "webp":
		return len(data) < 12 || uint64(binary.LittleEndian.Uint32(data[4:]))+8 > uint64(len(data))
	}
	return false
}

func (l Limits) decodeBytes(data []byte, name string) (*tensor.Tensor, error) {
	cfg, err := l.checkConfig(data, name)
	if err != nil {
		return nil, err
	}
	var img image.Image
	switch cfg.Format {
	case "png":
		img, err = png.Decode(bytes.NewReader(data))
	case "jpeg":
		img, err = jpeg.Decode(bytes.NewReader(data))
	case "webp":
		img, err = webp.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, decodeError(name, cfg.Format, "data", err, data)
	}
	switch cfg.Format {
	case "jpeg":
		return orient(FromImage(img), exifOrientation(data)), nil
	case "webp":
		return webpToTensor(img), nil
	}
	return FromImage(img), nil
}
