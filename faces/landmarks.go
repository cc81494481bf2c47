package faces

import (
	"fmt"

	"facereward/facenet"
	"facereward/tensor"
)

// refineSize is the aligned crop the landmark net reads: the size its face
// box was chosen at (facenet.AlignedFaceBox).
const refineSize = 128

// Landmarks finds the 68 face-api landmarks of a detected face, in photo
// pixels: the face is first aligned with the template fitted to its box
// alone, the net reads facenet.AlignedFaceBox of that crop — where it is
// stable — and the points are mapped back through the inverse of the
// alignment. The pupils are left out of that first alignment because
// puploc jitters them with Go's global random numbers, which cannot be
// seeded; the box is deterministic, so the landmarks are too.
func Landmarks(img *tensor.Tensor, f Face, lm *facenet.Landmarks68) ([68]Point, error) {
	var out [68]Point
	f.EyesFound = false
	crop, m, err := Align(img, estimatePoints(f), refineSize)
	if err != nil {
		return out, fmt.Errorf("faces: landmarks: %w", err)
	}
	inv, err := m.Invert()
	if err != nil {
		return out, fmt.Errorf("faces: landmarks: %w", err)
	}
	box, x0, y0 := facenet.AlignedCrop(crop)
	for i, p := range lm.PredictCrop(box) {
		out[i] = inv.Apply(Point{p[0] + float32(x0), p[1] + float32(y0)})
	}
	return out, nil
}

// RefinePoints replaces a detection's rough five points by those of the
// 68-point landmark net (FivePoints), the points facexlib aligns with.
func RefinePoints(img *tensor.Tensor, f *Face, lm *facenet.Landmarks68) error {
	l68, err := Landmarks(img, *f, lm)
	if err != nil {
		return err
	}
	var raw [68][2]float32
	for i, p := range l68 {
		raw[i] = p
	}
	f.Points = FivePoints(raw)
	return nil
}
