package restoreapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"facereward/photo"
	"facereward/tensor"
)

// Engine restores the faces of one photo. The handler gives an engine one
// request at a time, so it need not be safe for concurrent use; it gets a
// context but may only be able to check it before it starts (a diffusion
// restore cannot be interrupted), which is why the handler bounds a
// request's cost up front (Config.MaxSteps, MaxPixels, MaxFaces).
type Engine interface {
	Restore(ctx context.Context, img *tensor.Tensor, s Settings) (*photo.PhotoResult, error)
}

// Errors an Engine wraps for a photo it will not restore: the client's
// photo is the problem (422), not the server.
var (
	ErrNoFace       = errors.New("no face found")
	ErrTooManyFaces = errors.New("too many faces")
)

// PhotoEngine restores with the photo pipeline of `facereward restore`,
// one photo.Restorer per engine: a Restorer is not safe for concurrent
// use, so each worker loads its own (about 60 MB of weights).
type PhotoEngine struct {
	r        *photo.Restorer
	maxFaces int
}

// NewPhotoEngine loads the model of o (photo.NewRestorer); photos with
// more than maxFaces faces are refused.
func NewPhotoEngine(o photo.Options, maxFaces int) (*PhotoEngine, error) {
	r, err := photo.NewRestorer(o)
	if err != nil {
		return nil, err
	}
	return &PhotoEngine{r: r, maxFaces: maxFaces}, nil
}

// Restore detects the faces first to refuse a photo with none or too many
// before any diffusion step, then restores those faces.
func (e *PhotoEngine) Restore(ctx context.Context, img *tensor.Tensor, s Settings) (*photo.PhotoResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	found, err := e.r.Detect.Detect(img)
	if err != nil {
		return nil, fmt.Errorf("detecting faces: %w", err)
	}
	switch n := len(found.Faces); {
	case n == 0:
		why := ""
		if len(found.Skipped) > 0 {
			why = fmt.Sprintf(" (%d detection(s) skipped: %s)", len(found.Skipped), found.Skipped[0].Reason)
		}
		return nil, fmt.Errorf("%w%s", ErrNoFace, why)
	case n > e.maxFaces:
		return nil, fmt.Errorf("%w: %d found, this server restores at most %d per photo", ErrTooManyFaces, n, e.maxFaces)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.r.Sampler.SampleOptions = s.Sampler()
	e.r.Upscale = s.Upscale
	// The noise comes from the seed alone: the same photo and settings
	// give the same bytes on any instance.
	rng := rand.New(rand.NewPCG(s.Seed, 0))
	res, err := e.r.PhotoFaces(img, found, rng)
	if err != nil {
		return nil, fmt.Errorf("restoring: %w", err)
	}
	return res, nil
}
