package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"facereward/atomicfile"
	"facereward/tensor"
)

// Write stores tensors as dtype (F32 or F16) with string metadata, replacing
// path atomically. Names are sorted so the same input always gives the same
// bytes.
func Write(path string, tensors map[string]*tensor.Tensor, meta map[string]string, dtype DType) error {
	return WriteWith(path, tensors, meta, func(string) DType { return dtype })
}

// WriteWith is Write with a type chosen per tensor, for files that mix
// half-precision weights with state that must stay exact (optimiser moments).
func WriteWith(path string, tensors map[string]*tensor.Tensor, meta map[string]string, dtypeOf func(name string) DType) error {
	header, order, err := buildHeader(tensors, meta, dtypeOf)
	if err != nil {
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(header); err != nil {
			return err
		}
		for _, name := range order {
			if err := writeData(w, tensors[name].Data, dtypeOf(name)); err != nil {
				return fmt.Errorf("tensor %q: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	return nil
}

// buildHeader validates every tensor before anything touches the disk and
// returns the length-prefixed, space-padded header with the data order.
func buildHeader(tensors map[string]*tensor.Tensor, meta map[string]string, dtypeOf func(string) DType) ([]byte, []string, error) {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	sort.Strings(names)

	// The JSON is assembled by hand so that the key order (metadata first,
	// then tensors in data order) is fixed; json.Marshal is used only for
	// escaping strings.
	var h bytes.Buffer
	h.WriteByte('{')
	if len(meta) > 0 {
		mj, err := json.Marshal(meta) // maps marshal with sorted keys
		if err != nil {
			return nil, nil, fmt.Errorf("encoding metadata: %w", err)
		}
		h.WriteString(`"` + metadataKey + `":`)
		h.Write(mj)
	}
	offset := int64(0)
	for i, name := range names {
		t := tensors[name]
		switch {
		case name == "":
			return nil, nil, errors.New("empty tensor name")
		case name == metadataKey:
			return nil, nil, fmt.Errorf("tensor name %q is reserved", name)
		case t == nil:
			return nil, nil, fmt.Errorf("tensor %q is nil", name)
		case len(t.Data) != tensor.Numel(t.Shape):
			return nil, nil, fmt.Errorf("tensor %q has %d values but shape %s needs %d",
				name, len(t.Data), tensor.ShapeString(t.Shape), tensor.Numel(t.Shape))
		}
		for _, d := range t.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("tensor %q has negative dimension in shape %s", name, tensor.ShapeString(t.Shape))
			}
		}
		dt := dtypeOf(name)
		if dt != F32 && dt != F16 {
			return nil, nil, fmt.Errorf("tensor %q: cannot write dtype %q (F32 or F16 only)", name, dt)
		}
		nj, err := json.Marshal(name)
		if err != nil {
			return nil, nil, fmt.Errorf("encoding name %q: %w", name, err)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{} // a scalar is "shape":[], never null
		}
		sj, _ := json.Marshal(shape)
		end := offset + int64(len(t.Data)*dt.Size())
		if len(meta) > 0 || i > 0 {
			h.WriteByte(',')
		}
		h.Write(nj)
		fmt.Fprintf(&h, `:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, dt, sj, offset, end)
		offset = end
	}
	h.WriteByte('}')
	// Pad with spaces (valid JSON whitespace) so the data starts 8-byte
	// aligned, as the reference implementation does.
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	out := make([]byte, 8, 8+h.Len())
	binary.LittleEndian.PutUint64(out, uint64(h.Len()))
	return append(out, h.Bytes()...), names, nil
}

// writeData encodes one tensor's values, in chunks so a large tensor does
// not need a second full-size buffer.
func writeData(w io.Writer, data []float32, dt DType) error {
	const chunk = 1 << 14
	buf := make([]byte, 0, chunk*4)
	le := binary.LittleEndian
	for start := 0; start < len(data); start += chunk {
		buf = buf[:0]
		for _, v := range data[start:min(start+chunk, len(data))] {
			if dt == F16 {
				buf = le.AppendUint16(buf, f32ToF16(v))
			} else {
				buf = le.AppendUint32(buf, math.Float32bits(v))
			}
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}
