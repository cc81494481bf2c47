package restoreapi

import (
	"errors"
	"fmt"
	"log"
	"net/url"
	"strconv"
	"time"

	"facereward/photo"
	"facereward/restorer"
)

// Config holds the limits that keep one server alive under any input and
// any load; DefaultConfig gives serve's defaults.
type Config struct {
	// MaxBody is the largest request body accepted, in bytes (413 above).
	MaxBody int64
	// MaxPixels is the largest input, width·height as the image's header
	// says (413 above, refused before decoding); the output, the input
	// upscaled, may have OutputPixelFactor times as many.
	MaxPixels int64
	// MaxFaces is the most faces one photo may have (422 above): every
	// face costs a full diffusion restore.
	MaxFaces int
	// MaxSteps caps the sampler's steps a request may ask for: a restore
	// cannot be stopped once started (Engine), so its cost must be bounded
	// up front.
	MaxSteps int
	// Timeout bounds a request from its body being read to its answer,
	// waiting in the queue included (504 after).
	Timeout time.Duration
	// ReadTimeout bounds reading the request body, so a slow client holds
	// its place in the queue for at most this long (408 after).
	ReadTimeout time.Duration
	// Queue is how many admitted requests may wait for a worker beyond
	// those being restored; more get 429 with Retry-After. The number of
	// workers is the number of engines given to New.
	Queue int
	// Token, when set, must come as "Authorization: Bearer TOKEN" with
	// POST /api/restore and as ?token= (or that header) with GET /restore.
	Token string
	// Debug adds GET /debug/runtime (garbage collection, then the
	// goroutine count and heap), for the load test's growth check, and
	// GET /debug/pprof/heap, to find what holds the heap when it grows.
	Debug bool
	// Log receives the errors a client is not shown (a failed restore or
	// encoding, whose messages may name model files); the client gets a
	// generic message with the status. Nil means standard error.
	Log *log.Logger
	// Version is what GET /api/version reports.
	Version string
	// Defaults are the sampler settings a request that names none gets:
	// the restore command's.
	Defaults Settings
}

// OutputPixelFactor bounds the restored photo: at most this many times
// Config.MaxPixels (the ×2 upscale of a photo at the limit).
const OutputPixelFactor = 4

// MaxUpscale is the largest upscale a request may ask for.
const MaxUpscale = 4

// DefaultConfig returns serve's limits: 20 MiB bodies, 4-megapixel inputs
// (16 MP out at ×2, about 200 MB as float32 RGB: a few of those fit in
// any machine that runs the model), 8 faces, 50 steps, two minutes per
// request, 30 s to send the body, 4 waiting; the restore command's sampler
// defaults.
func DefaultConfig() Config {
	return Config{
		MaxBody:     20 << 20,
		MaxPixels:   4 << 20,
		MaxFaces:    8,
		MaxSteps:    50,
		Timeout:     2 * time.Minute,
		ReadTimeout: 30 * time.Second,
		Queue:       4,
		Defaults:    DefaultSettings(),
	}
}

// Validate checks every limit; serve calls it before listening.
func (c Config) Validate() error {
	switch {
	case c.MaxBody < 1<<10 || c.MaxBody > 1<<30:
		return fmt.Errorf("--max-body %d outside [1 KiB, 1 GiB]", c.MaxBody)
	case c.MaxPixels < 64*64 || c.MaxPixels > 64<<20:
		return fmt.Errorf("--max-pixels %d outside [4096, 67108864]", c.MaxPixels)
	case c.MaxFaces < 1 || c.MaxFaces > 100:
		return fmt.Errorf("--max-faces %d outside [1, 100]", c.MaxFaces)
	case c.MaxSteps < 1 || c.MaxSteps > 1000:
		return fmt.Errorf("--max-steps %d outside [1, 1000]", c.MaxSteps)
	case c.Timeout < time.Second || c.Timeout > time.Hour:
		return fmt.Errorf("--timeout %v outside [1s, 1h]", c.Timeout)
	case c.ReadTimeout <= 0:
		return fmt.Errorf("read timeout %v is not positive", c.ReadTimeout)
	case c.Queue < 0 || c.Queue > 1000:
		return fmt.Errorf("--queue %d outside [0, 1000]", c.Queue)
	}
	if err := c.Defaults.check(c.MaxSteps); err != nil {
		return fmt.Errorf("default settings: %w", err)
	}
	return nil
}

// Settings are one request's sampler settings (restore's flags of the
// same names).
type Settings struct {
	Steps    int     `json:"steps"`
	Strength float64 `json:"strength"` // realism: how much noise the sampler starts from
	Guidance float64 `json:"guidance"` // fidelity: the pull toward the stage-1 estimate
	// MildGuidance is the pull for mild inputs (restore --mild-guidance).
	MildGuidance float64 `json:"mild_guidance"`
	Eta          float64 `json:"eta"`
	LowBand      int     `json:"low_band"` // fidelity: wavelet levels of the low band taken from the stage-1 estimate
	Seed         uint64  `json:"seed"`
	Upscale      int     `json:"upscale"`
}

// DefaultSettings are the restore command's defaults.
func DefaultSettings() Settings {
	p := photo.DefaultOptions()
	s := p.Sampler
	return Settings{Steps: s.Steps, Strength: s.Strength, Guidance: s.Guidance, MildGuidance: s.MildGuidance, Eta: s.Eta, LowBand: s.LowBand, Seed: p.Seed, Upscale: p.Upscale}
}

// Sampler is the settings as the sampler takes them.
func (s Settings) Sampler() restorer.SampleOptions {
	return restorer.SampleOptions{Steps: s.Steps, Strength: s.Strength, Guidance: s.Guidance, MildGuidance: s.MildGuidance, Eta: s.Eta, LowBand: s.LowBand}
}

func (s Settings) check(maxSteps int) error {
	if s.Steps > maxSteps {
		return fmt.Errorf("steps %d above this server's limit %d", s.Steps, maxSteps)
	}
	if s.Upscale < 1 || s.Upscale > MaxUpscale {
		return fmt.Errorf("upscale %d outside [1, %d]", s.Upscale, MaxUpscale)
	}
	return s.Sampler().Validate()
}

// settingNames are the fields a request may set, as query parameters or
// multipart form fields.
var settingNames = []string{"steps", "strength", "guidance", "mild_guidance", "eta", "low_band", "seed", "upscale"}

// parseSettings reads the settings a request gives in form (query and
// form fields together) over c.Defaults, and checks them.
func (c Config) parseSettings(form url.Values) (Settings, error) {
	s := c.Defaults
	for _, name := range settingNames {
		v := form.Get(name)
		if v == "" {
			continue
		}
		var err error
		switch name {
		case "steps":
			s.Steps, err = strconv.Atoi(v)
		case "upscale":
			s.Upscale, err = strconv.Atoi(v)
		case "low_band":
			s.LowBand, err = strconv.Atoi(v)
		case "seed":
			s.Seed, err = strconv.ParseUint(v, 10, 64)
		case "strength":
			s.Strength, err = strconv.ParseFloat(v, 64)
		case "guidance":
			s.Guidance, err = strconv.ParseFloat(v, 64)
		case "mild_guidance":
			s.MildGuidance, err = strconv.ParseFloat(v, 64)
		case "eta":
			s.Eta, err = strconv.ParseFloat(v, 64)
		}
		if err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) {
				err = ne.Err
			}
			return s, fmt.Errorf("%s=%q: %v", name, v, err)
		}
	}
	return s, s.check(c.MaxSteps)
}
