package photo

import (
	"errors"
	"math/rand/v2"

	"facereward/facenet"
	"facereward/faces"
	"facereward/imgproc"
	"facereward/restorer"
	"facereward/tensor"
)

// Restorer restores faces with a sampler at its model's size.
type Restorer struct {
	Sampler *restorer.Sampler
	// Landmarks places the faces of whole photos; Aligned does not need it.
	Landmarks *facenet.Landmarks68
}

// size is the side of the faces the model restores.
func (r *Restorer) size() int { return r.Sampler.Model.Config.UNet.ImageSize }

// Aligned restores an aligned crop of any size at the model's size and
// returns the stage-1 estimate and the restoration at the crop's size.
func (r *Restorer) Aligned(img *tensor.Tensor, rng *rand.Rand) (est, res *tensor.Tensor, err error) {
	size := r.size()
	h, w := img.Shape[0], img.Shape[1]
	x := img
	if h != size || w != size {
		x = imgproc.Resize(img, size, size, imgproc.Area)
	}
	s1, out, err := r.Sampler.Restore(tensor.FromSlice(x.Data, 1, size, size, 3), rng)
	if err != nil {
		return nil, nil, err
	}
	est, res = tensor.FromSlice(s1.Data, size, size, 3), tensor.FromSlice(out.Data, size, size, 3)
	if h != size || w != size {
		est, res = imgproc.Resize(est, h, w, imgproc.Cubic), imgproc.Resize(res, h, w, imgproc.Cubic)
	}
	return est, res, nil
}

// Photo restores every face found in img, in detection order (one draw
// of rng after another), and returns the photo with them pasted back; a
// photo without a usable face is an error that says why.
func (r *Restorer) Photo(img *tensor.Tensor, rng *rand.Rand) (*tensor.Tensor, error) {
	size := r.size()
	found, err := faces.DefaultOptions().Detect(img)
	if err != nil {
		return nil, err
	}
	if len(found.Faces) == 0 {
		why := "no face found"
		if len(found.Skipped) > 0 {
			why += " (" + found.Skipped[0].Reason + ")"
		}
		return nil, errors.New(why)
	}
	photo := img
	for _, f := range found.Faces {
		if err := faces.RefinePoints(img, &f, r.Landmarks); err != nil {
			return nil, err
		}
		crop, m, err := faces.Align(img, f.Points, size)
		if err != nil {
			return nil, err
		}
		_, out, err := r.Sampler.Restore(tensor.FromSlice(crop.Data, 1, size, size, 3), rng)
		if err != nil {
			return nil, err
		}
		if photo, err = faces.PasteBack(photo, tensor.FromSlice(out.Data, size, size, 3), m); err != nil {
			return nil, err
		}
	}
	return photo, nil
}
