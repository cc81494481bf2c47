package photo

import (
	"math/rand/v2"

	"facereward/faces"
	"facereward/tensor"
)

// maxGroupPixels bounds the input pixels of the photos whose faces go
// through the networks together (about 200 MB as float32 RGB), so that
// many large one-face photos are not all held at once.
const maxGroupPixels = 1 << 24

// LoadFunc returns photo i of a Photos run and its random stream.
type LoadFunc func(i int) (*tensor.Tensor, *rand.Rand, error)

// DoneFunc receives photo i's result, or why it failed.
type DoneFunc func(i int, pr *PhotoResult, err error)

// prepared is one photo of a Photos run after detection and alignment:
// job is nil when err is set.
type prepared struct {
	i   int
	job *photoJob
	err error
}

func (p prepared) faces() int {
	if p.job == nil {
		return 0
	}
	return len(p.job.fs)
}

func (p prepared) pixels() int {
	if p.job == nil {
		return 0
	}
	return p.job.img.Shape[0] * p.job.img.Shape[1]
}

// Photos restores photos 0..n-1 as Photo does, with the networks kept
// busy: one goroutine loads, detects and aligns the photos in order, at
// most two ahead, while the caller's goroutine restores the faces of
// consecutive photos as one batch (up to r.Batch faces, and
// maxGroupPixels of photo) and finishes each photo. done is called once
// per photo, in order, on the caller's goroutine. Photo i's result is
// byte for byte what Photo gives it alone with load's stream: each face
// draws its noise from its own photo's stream, and a face's restoration
// does not depend on the others in its batch.
func (r *Restorer) Photos(n int, load LoadFunc, done DoneFunc) {
	ch := make(chan prepared, 1)
	go func() {
		defer close(ch)
		for i := range n {
			ch <- r.load(i, load)
		}
	}()
	var held *prepared // taken from ch but left for the next group
	for {
		var first prepared
		if held != nil {
			first, held = *held, nil
		} else if p, ok := <-ch; ok {
			first = p
		} else {
			return
		}
		group := []prepared{first}
		nFaces, pixels := first.faces(), first.pixels()
		for nFaces < max(1, r.Batch) {
			p, ok := <-ch
			if !ok {
				break
			}
			if nFaces+p.faces() > max(1, r.Batch) || pixels+p.pixels() > maxGroupPixels {
				held = &p
				break
			}
			group = append(group, p)
			nFaces, pixels = nFaces+p.faces(), pixels+p.pixels()
		}
		r.restoreGroup(group, done)
	}
}

// load is Photos' first half for photo i: read, detect, align, draw noise.
func (r *Restorer) load(i int, load LoadFunc) prepared {
	img, rng, err := load(i)
	if err != nil {
		return prepared{i: i, err: err}
	}
	var found faces.Result
	if found, err = r.Detect.Detect(img); err != nil {
		return prepared{i: i, err: err}
	}
	j, err := r.prepare(img, found, rng)
	return prepared{i: i, job: j, err: err}
}

// restoreGroup restores the faces of a group's photos together, then
// finishes each photo and hands it to done; a failed batch fails every
// photo in it.
func (r *Restorer) restoreGroup(group []prepared, done DoneFunc) {
	var crops []*tensor.Tensor
	var noise [][]float32
	for _, p := range group {
		if p.job != nil {
			crops, noise = append(crops, p.job.crops...), append(noise, p.job.noise...)
		}
	}
	restored, err := r.restoreCrops(crops, noise)
	for _, p := range group {
		if p.job == nil {
			done(p.i, nil, p.err)
			continue
		}
		if err != nil {
			done(p.i, nil, err)
			continue
		}
		mine := restored[:len(p.job.fs)]
		restored = restored[len(p.job.fs):]
		pr, ferr := r.finish(p.job, mine)
		done(p.i, pr, ferr)
	}
}
