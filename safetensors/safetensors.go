package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"facereward/tensor"
)

// DType is a safetensors element type, spelled as in the header.
type DType string

const (
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16" // read only
	F64  DType = "F64"  // read only
)

// Size is the number of bytes per element, or 0 for a type this package
// does not handle.
func (d DType) Size() int {
	switch d {
	case F64:
		return 8
	case F32:
		return 4
	case F16, BF16:
		return 2
	}
	return 0
}

// MaxHeaderBytes caps the JSON header. Real headers are a few hundred bytes
// per tensor; the cap stops a corrupt length field from making us allocate
// gigabytes before we have checked anything.
const MaxHeaderBytes = 100 << 20

const metadataKey = "__metadata__"

// File is the decoded contents of a safetensors file.
type File struct {
	Tensors map[string]*tensor.Tensor
	Meta    map[string]string
	// DTypes records each tensor's type in the file, since Tensors has
	// already been widened to float32.
	DTypes map[string]DType
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Tensors))
	for n := range f.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Read loads and validates a whole safetensors file.
func Read(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	f, err := decode(fh, st.Size())
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	return f, nil
}

// ReadBytes decodes a safetensors file held in memory; name is only used in
// error messages.
func ReadBytes(data []byte, name string) (*File, error) {
	f, err := decode(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", name, err)
	}
	return f, nil
}

// entry is one tensor's header record after validation.
type entry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end int64
}

// rawEntry mirrors the JSON; pointers distinguish a missing field from a
// zero one.
type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

func decode(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, fmt.Errorf("file is %d bytes, too short for the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderBytes {
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit", n, MaxHeaderBytes)
	}
	if n > uint64(size-8) {
		return nil, fmt.Errorf("header length %d larger than the file (%d bytes after the length field)", n, size-8)
	}
	header := make([]byte, n)
	if _, err := r.ReadAt(header, 8); err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	dataStart := 8 + int64(n)
	dataLen := size - dataStart

	entries, meta, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	if err := checkLayout(entries, dataLen); err != nil {
		return nil, err
	}

	f := &File{
		Tensors: make(map[string]*tensor.Tensor, len(entries)),
		Meta:    meta,
		DTypes:  make(map[string]DType, len(entries)),
	}
	for _, e := range entries {
		raw := make([]byte, e.end-e.begin)
		// An empty tensor at the end of the file reads zero bytes at its
		// end, which a bytes.Reader answers with io.EOF: skip the read.
		if len(raw) > 0 {
			if _, err := r.ReadAt(raw, dataStart+e.begin); err != nil {
				return nil, fmt.Errorf("reading tensor %q: %w", e.name, err)
			}
		}
		t := tensor.New(e.shape...)
		convert(t.Data, raw, e.dtype)
		f.Tensors[e.name] = t
		f.DTypes[e.name] = e.dtype
	}
	return f, nil
}

// parseHeader decodes the JSON header. It walks the top-level object token by
// token so that a duplicated name is an error instead of one entry silently
// replacing another.
func parseHeader(header []byte) ([]entry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("bad JSON header: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, fmt.Errorf("bad JSON header: want an object, got %v", tok)
	}
	var entries []entry
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("bad JSON header: %w", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("bad JSON header: want a key, got %v", tok)
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("bad JSON header: key %q appears twice", name)
		}
		seen[name] = true
		if name == metadataKey {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("bad %s (want an object of strings): %w", metadataKey, err)
			}
			continue
		}
		var re rawEntry
		if err := dec.Decode(&re); err != nil {
			return nil, nil, fmt.Errorf("bad JSON header: tensor %q: %w", name, err)
		}
		e, err := validateEntry(name, re)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, fmt.Errorf("bad JSON header: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("bad JSON header: trailing data after the object")
	}
	if meta == nil {
		meta = map[string]string{}
	}
	return entries, meta, nil
}

func validateEntry(name string, re rawEntry) (entry, error) {
	if re.DType == nil || re.Shape == nil || re.DataOffsets == nil {
		return entry{}, fmt.Errorf("tensor %q: header entry needs dtype, shape and data_offsets", name)
	}
	dt := DType(*re.DType)
	if dt.Size() == 0 {
		return entry{}, fmt.Errorf("tensor %q: unknown or unsupported dtype %q", name, *re.DType)
	}
	if len(*re.DataOffsets) != 2 {
		return entry{}, fmt.Errorf("tensor %q: data_offsets has %d values, want 2", name, len(*re.DataOffsets))
	}
	begin, end := (*re.DataOffsets)[0], (*re.DataOffsets)[1]
	if begin < 0 || end < begin {
		return entry{}, fmt.Errorf("tensor %q: bad data_offsets [%d, %d]", name, begin, end)
	}
	shape := make([]int, len(*re.Shape))
	// numel is kept in int64 with an explicit overflow check: a crafted shape
	// must not wrap around to a small number that happens to match the bytes.
	numel := int64(1)
	for i, d := range *re.Shape {
		if d < 0 {
			return entry{}, fmt.Errorf("tensor %q: negative dimension %d in shape %v", name, d, *re.Shape)
		}
		if d > math.MaxInt32 {
			return entry{}, fmt.Errorf("tensor %q: dimension %d in shape %v is too large", name, d, *re.Shape)
		}
		if numel != 0 && d > math.MaxInt64/8/numel {
			return entry{}, fmt.Errorf("tensor %q: shape %v has too many elements", name, *re.Shape)
		}
		numel *= d
		shape[i] = int(d)
	}
	if want := numel * int64(dt.Size()); want != end-begin {
		return entry{}, fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, data_offsets [%d, %d] give %d",
			name, *re.Shape, dt, want, begin, end, end-begin)
	}
	return entry{name: name, dtype: dt, shape: shape, begin: begin, end: end}, nil
}

// checkLayout requires the tensors to tile the data section exactly: in
// range, no overlaps, no gaps, nothing left over. Anything else means the
// header and the data disagree, and guessing which one is right would hide
// corruption.
func checkLayout(entries []entry, dataLen int64) error {
	sorted := append([]entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].begin != sorted[j].begin {
			return sorted[i].begin < sorted[j].begin
		}
		return sorted[i].end < sorted[j].end
	})
	pos := int64(0)
	prev := ""
	for _, e := range sorted {
		if e.end > dataLen {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] out of range (data section is %d bytes; file truncated?)",
				e.name, e.begin, e.end, dataLen)
		}
		if e.begin < pos {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d",
				e.name, e.begin, e.end, prev, pos)
		}
		if e.begin > pos {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] leave a gap at bytes [%d, %d]",
				e.name, e.begin, e.end, pos, e.begin)
		}
		pos = e.end
		prev = e.name
	}
	if pos != dataLen {
		return fmt.Errorf("tensors cover %d bytes but the data section has %d", pos, dataLen)
	}
	return nil
}

// convert widens raw little-endian elements of type dt into dst.
func convert(dst []float32, raw []byte, dt DType) {
	le := binary.LittleEndian
	switch dt {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case F16:
		for i := range dst {
			dst[i] = f16ToF32(le.Uint16(raw[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = bf16ToF32(le.Uint16(raw[2*i:]))
		}
	case F64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(le.Uint64(raw[8*i:])))
		}
	default:
		panic("safetensors: convert called with unchecked dtype " + string(dt))
	}
}
