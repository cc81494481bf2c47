package tensor

import (
	"slices"
	"testing"
)

// Stacking two [2,3] tensors gives [2,2,3] with each one's data in turn;
// unstacking gives copies equal to the originals.
func TestStackUnstack(t *testing.T) {
	a := FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b := FromSlice([]float32{7, 8, 9, 10, 11, 12}, 2, 3)
	s := Stack([]*Tensor{a, b})
	if !SameShape(s.Shape, []int{2, 2, 3}) || !slices.Equal(s.Data, append(slices.Clone(a.Data), b.Data...)) {
		t.Fatalf("stacked %v %v", s.Shape, s.Data)
	}
	u := Unstack(s)
	if len(u) != 2 || !SameShape(u[1].Shape, b.Shape) || !slices.Equal(u[0].Data, a.Data) || !slices.Equal(u[1].Data, b.Data) {
		t.Fatalf("unstacked %v", u)
	}
	u[0].Data[0] = 99
	if s.Data[0] != 1 {
		t.Error("Unstack shares the batch's data")
	}
}
