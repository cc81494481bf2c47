package restorer

import "facereward/tensor"

// ToSigned maps images in [0,1] to the networks' [-1,1].
func ToSigned(t *tensor.Tensor) *tensor.Tensor {
	out := tensor.New(t.Shape...)
	for i, v := range t.Data {
		out.Data[i] = 2*v - 1
	}
	return out
}

// ToUnit maps network outputs in [-1,1] back to images in [0,1], clamped.
func ToUnit(t *tensor.Tensor) *tensor.Tensor {
	out := tensor.New(t.Shape...)
	for i, v := range t.Data {
		out.Data[i] = min(max(0.5*(v+1), 0), 1)
	}
	return out
}
