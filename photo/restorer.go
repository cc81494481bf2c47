package photo

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"

	"facereward/diffusion"
	"facereward/facenet"
	"facereward/faces"
	"facereward/imgproc"
	"facereward/metrics"
	"facereward/progress"
	"facereward/restorer"
	"facereward/reward"
	"facereward/tensor"
	"facereward/upscale"
)

// Restorer restores faces with a sampler at its model's size.
type Restorer struct {
	Sampler *restorer.Sampler
	// Landmarks places the faces of whole photos; Aligned does not need it.
	Landmarks *facenet.Landmarks68
	// Detect, Upscale (≥ 1) and OnlyCenter are the whole-photo settings.
	Detect     faces.Options
	Upscale    int
	OnlyCenter bool
	// Background, when set, upscales the photo around the faces (by 2 per
	// pass, cubic for what is left); nil is cubic interpolation.
	Background *upscale.Net
	// Progress, when set, shows a bar for the background upsampler (about
	// a minute per output megapixel on two cores).
	Progress io.Writer
	// FRM and Rec gate each face of a photo: the restoration is pasted
	// only if it is not softer than a clean input face (minSharpness), the
	// reward model scores it above the input face and its face
	// descriptor's cosine to the input's is at least MinIdentity. A nil
	// FRM pastes every restoration.
	FRM         *reward.FRM
	Rec         *facenet.Recognition
	MinIdentity float64
	// Batch is how many of a photo's faces go through the networks
	// together (0 or 1: one at a time); the bytes out are the same.
	Batch int
}

// size is the side of the faces the model restores.
func (r *Restorer) size() int { return r.Sampler.Model.Config.UNet.ImageSize }

// Aligned restores aligned crops of any size at the model's size, all in
// one batch, crop i with the noise of rngs[i], and returns the stage-1
// estimates and the restorations at the crops' sizes. A crop comes out as
// it would restored alone (restorer.Sampler.RestoreEach).
func (r *Restorer) Aligned(imgs []*tensor.Tensor, rngs []*rand.Rand) (est, res []*tensor.Tensor, err error) {
	size := r.size()
	per := size * size * 3
	batch := tensor.New(len(imgs), size, size, 3)
	for i, img := range imgs {
		x := img
		if img.Shape[0] != size || img.Shape[1] != size {
			x = imgproc.Resize(img, size, size, imgproc.Area)
		}
		copy(batch.Data[i*per:(i+1)*per], x.Data)
	}
	s1, out, err := r.Sampler.RestoreEach(batch, rngs)
	if err != nil {
		return nil, nil, err
	}
	for i, img := range imgs {
		e := tensor.FromSlice(s1.Data[i*per:(i+1)*per], size, size, 3)
		o := tensor.FromSlice(out.Data[i*per:(i+1)*per], size, size, 3)
		if h, w := img.Shape[0], img.Shape[1]; h != size || w != size {
			e, o = imgproc.Resize(e, h, w, imgproc.Cubic), imgproc.Resize(o, h, w, imgproc.Cubic)
		}
		est, res = append(est, e), append(res, o)
	}
	return est, res, nil
}

// PhotoResult is a restored photo with what happened to each face.
type PhotoResult struct {
	Image *tensor.Tensor
	Faces []Face
	// Crops and Restored are each face's aligned crop and its restoration
	// at the model's size, in the order of Faces.
	Crops, Restored []*tensor.Tensor
	Skipped         []faces.Skipped
}

// Photo restores the faces found in img, in detection order (one draw of
// rng after another), and returns the photo upscaled by r.Upscale with
// them pasted back. Each face is restored at the model's size, then
// blended at the output's resolution with the input's own detail above
// that size (blend, detailWeight), matched to the photo's colour, and
// gated (r.FRM). A photo without a usable face is an error that says why.
func (r *Restorer) Photo(img *tensor.Tensor, rng *rand.Rand) (*PhotoResult, error) {
	found, err := r.Detect.Detect(img)
	if err != nil {
		return nil, err
	}
	return r.PhotoFaces(img, found, rng)
}

// ErrNoFace is PhotoFaces' error for a photo without a usable face; the
// error wrapping it says why the detections were skipped, if any were.
var ErrNoFace = errors.New("no face found")

// PhotoFaces is Photo for faces already found in img by r.Detect, for a
// caller that looks at the detections first (a server refusing photos
// with too many faces) without detecting twice.
func (r *Restorer) PhotoFaces(img *tensor.Tensor, found faces.Result, rng *rand.Rand) (*PhotoResult, error) {
	j, err := r.prepare(img, found, rng)
	if err != nil {
		return nil, err
	}
	restored, err := r.restoreCrops(j.crops, j.noise)
	if err != nil {
		return nil, err
	}
	return r.finish(j, restored)
}

// photoJob is a photo ready for the networks: its faces refined and
// aligned, and the noise each face's restoration will take.
type photoJob struct {
	img   *tensor.Tensor
	found faces.Result
	fs    []faces.Face // the faces restored (one with OnlyCenter)
	crops []*tensor.Tensor
	ms    []faces.Affine
	noise [][]float32 // per face, Sampler.Draws() values per crop value
}

// prepare is PhotoFaces up to the networks: the faces of found refined
// and aligned, and each face's noise drawn from rng in face order, as
// restoring them one after the other would draw it.
func (r *Restorer) prepare(img *tensor.Tensor, found faces.Result, rng *rand.Rand) (*photoJob, error) {
	if len(found.Faces) == 0 {
		if len(found.Skipped) > 0 {
			return nil, fmt.Errorf("%w (%s)", ErrNoFace, found.Skipped[0].Reason)
		}
		return nil, ErrNoFace
	}
	size := r.size()
	fs := slices.Clone(found.Faces) // RefinePoints moves the points: the caller's stay
	if r.OnlyCenter {
		c := centerFace(fs, img.Shape[1], img.Shape[0])
		fs = fs[c : c+1]
	}
	j := &photoJob{img: img, found: found, fs: fs, crops: make([]*tensor.Tensor, len(fs)), ms: make([]faces.Affine, len(fs)), noise: make([][]float32, len(fs))}
	draws := r.Sampler.Draws() * size * size * 3
	for i := range fs {
		if err := faces.RefinePoints(img, &fs[i], r.Landmarks); err != nil {
			return nil, err
		}
		var err error
		if j.crops[i], j.ms[i], err = faces.Align(img, fs[i].Points, size); err != nil {
			return nil, err
		}
		j.noise[i] = make([]float32, draws)
		diffusion.FillNormal(rng, j.noise[i])
	}
	return j, nil
}

// restoreCrops restores aligned crops (at the model's size) r.Batch at a
// time, crop i with the noise noise[i]: a crop's bytes do not depend on
// the batch size or on the other crops.
func (r *Restorer) restoreCrops(crops []*tensor.Tensor, noise [][]float32) ([]*tensor.Tensor, error) {
	size, step := r.size(), max(1, r.Batch)
	per := size * size * 3
	var out []*tensor.Tensor
	for start := 0; start < len(crops); start += step {
		end := min(start+step, len(crops))
		batch := tensor.New(end-start, size, size, 3)
		for i, c := range crops[start:end] {
			copy(batch.Data[i*per:(i+1)*per], c.Data)
		}
		_, res, err := r.Sampler.RestoreRecorded(batch, noise[start:end])
		if err != nil {
			return nil, err
		}
		for i := range end - start {
			out = append(out, tensor.FromSlice(res.Data[i*per:(i+1)*per], size, size, 3))
		}
	}
	return out, nil
}

// finish is PhotoFaces after the networks: the photo upscaled and each
// restored face (restored[i] of j.crops[i]) blended, matched, gated and
// pasted.
func (r *Restorer) finish(j *photoJob, restored []*tensor.Tensor) (*PhotoResult, error) {
	up := max(1, r.Upscale)
	grey := isGrey(j.img)
	base, err := r.upscale(j.img, up)
	if err != nil {
		return nil, err
	}
	res := &PhotoResult{Image: base, Skipped: j.found.Skipped}
	for i, f := range j.fs {
		if grey {
			toGrey(restored[i])
		}
		face, pasted, err := r.face(j.img, base, res.Image, f, j.ms[i], j.crops[i], restored[i], up)
		if err != nil {
			return nil, err
		}
		if face.Restored {
			res.Image = pasted
		}
		res.Faces = append(res.Faces, face)
		res.Crops, res.Restored = append(res.Crops, j.crops[i]), append(res.Restored, restored[i])
	}
	if grey {
		toGrey(res.Image)
	}
	return res, nil
}

// upscale enlarges img up times: with r.Background by its factor while
// that fits, then cubic for the rest.
func (r *Restorer) upscale(img *tensor.Tensor, up int) (*tensor.Tensor, error) {
	h, w := img.Shape[0]*up, img.Shape[1]*up
	if r.Background != nil {
		for f := r.Background.Scale; up%f == 0 && up > 1; up /= f {
			var err error
			var bar *progress.Bar
			tick := func(done, total int) {
				if bar == nil {
					bar = progress.New(r.Progress, fmt.Sprintf("background ×%d", r.Background.Scale), total)
				}
				bar.Add(1)
			}
			if r.Progress == nil {
				tick = nil
			}
			if img, err = r.Background.Upscale(img, upscale.DefaultTile, tick); err != nil {
				return nil, err
			}
			if bar != nil {
				bar.Finish()
			}
		}
	}
	if img.Shape[0] == h && img.Shape[1] == w {
		return img, nil
	}
	return imgproc.Resize(img, h, w, imgproc.Cubic), nil
}

// face blends, matches, gates and pastes one restored face (restored, at
// the model's size, of crop, aligned from img by m) into a copy of into,
// the photo so far at upscale up; the face at the output's resolution is
// cut from base (img upscaled, no face pasted yet). It returns the face's
// record and the photo with it pasted (nil when the input face is kept).
func (r *Restorer) face(img, base, into *tensor.Tensor, f faces.Face, m faces.Affine, crop, restored *tensor.Tensor, up int) (Face, *tensor.Tensor, error) {
	size := r.size()
	rec := Face{Box: [3]float32{f.X, f.Y, f.Size}, Score: f.Score}
	// The face's side in input pixels, and at the output's resolution.
	native := max(size/2, int(math.Round(float64(size)/m.Scale())))
	rec.Side = native * up
	inCrop, _, err := faces.Align(img, f.Points, native)
	if err != nil {
		return rec, nil, err
	}
	rec.Detail = detailWeight(inCrop)
	var pts [5]faces.Point
	for i, p := range f.Points {
		pts[i] = faces.Point{p[0] * float32(up), p[1] * float32(up)}
	}
	outCrop, mOut, err := faces.Align(base, pts, rec.Side)
	if err != nil {
		return rec, nil, err
	}
	final := blend(outCrop, restored, rec.Detail)
	matchColour(final, outCrop)
	if r.FRM != nil {
		// A clean photo's face must not come back softer: on a noisy one,
		// the high band lost is the noise.
		if r := hfRatio(final, outCrop); rec.Detail >= 0.5 && r < minSharpness {
			rec.Reason = fmt.Sprintf("the input face is sharper (high-frequency energy ratio %.2f < %.2f)", r, minSharpness)
			return rec, nil, nil
		}
		small := imgproc.Resize(final, size, size, imgproc.Area)
		scores := r.FRM.Score(tensor.Stack([]*tensor.Tensor{crop, small}), 2)
		rec.RewardBefore, rec.RewardAfter = scores[0], scores[1]
		a, _, _ := facenet.AlignedCrop(crop)
		b, _, _ := facenet.AlignedCrop(small)
		da, db := r.Rec.DescriptorCrop(a), r.Rec.DescriptorCrop(b)
		if rec.Identity, _, err = metrics.IDS(da[:], db[:]); err != nil {
			return rec, nil, err
		}
		rec.Scored = true
		switch {
		case rec.RewardAfter <= rec.RewardBefore:
			rec.Reason = fmt.Sprintf("the reward model prefers the input face (%.2f ≥ %.2f)", rec.RewardBefore, rec.RewardAfter)
			return rec, nil, nil
		case rec.Identity < r.MinIdentity:
			rec.Reason = fmt.Sprintf("identity not kept (descriptor cosine %.3f < %.3f)", rec.Identity, r.MinIdentity)
			return rec, nil, nil
		}
	}
	// Paste the change, not the face: the input's own pixels, detail above
	// the model's resolution included, then go through no resampling.
	delta := final.Clone()
	for i := range delta.Data {
		delta.Data[i] -= outCrop.Data[i]
	}
	pasted, err := faces.PasteDelta(into, delta, mOut)
	if err != nil {
		return rec, nil, err
	}
	rec.Restored = true
	return rec, pasted, nil
}
