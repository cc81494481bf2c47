// Package safetensors reads and writes the Hugging Face safetensors format:
//
//	8 bytes   little-endian uint64 N, the length of the header
//	N bytes   JSON header {name: {"dtype", "shape", "data_offsets": [begin, end]},
//	          "__metadata__": {string: string}}, padded with spaces
//	rest      tensor data; offsets are relative to the start of this section
//
// Tensors are always float32 in memory; files may hold F32, F16, BF16 or F64
// and are converted on reading. Reading validates the whole layout, so a
// corrupt or truncated file gives an error that says what is wrong rather
// than a panic or silently wrong weights.
package safetensors
