package tensor

// Stack copies equally shaped tensors into one batch with a new leading
// axis: n tensors of shape S make one of shape [n, S...].
func Stack(ts []*Tensor) *Tensor {
	out := New(append([]int{len(ts)}, ts[0].Shape...)...)
	n := ts[0].Len()
	for i, t := range ts {
		copy(out.Data[i*n:(i+1)*n], t.Data)
	}
	return out
}

// Unstack copies a batch [n, S...] out into n tensors of shape S.
func Unstack(b *Tensor) []*Tensor {
	n := b.Len() / b.Shape[0]
	out := make([]*Tensor, b.Shape[0])
	for i := range out {
		out[i] = FromSlice(append([]float32(nil), b.Data[i*n:(i+1)*n]...), b.Shape[1:]...)
	}
	return out
}
