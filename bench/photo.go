package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"

	"facereward/imageio"
	"facereward/nn"
	"facereward/photo"
	"facereward/restorer"
	"facereward/tensor"
	"facereward/upscale"
)

// PhotoOptions tunes Photo.
type PhotoOptions struct {
	Options
	Photos []string // whole photos restored with restore's defaults
	// ESRGAN is the side of a centre crop of the first photo timed through
	// the ESRGAN background upsampler (×2); 0 skips it.
	ESRGAN int
}

// DefaultPhotos are the committed photos Photo times by default: one face
// at 512 px, four at 640 px, five at 1920 px.
var DefaultPhotos = []string{
	"testdata/faces/grace_hopper_512x512.jpg",
	"testdata/faces/faceapi_sample6_640.jpg",
	"testdata/detect/faceapi_sample5.jpg",
}

// photoTime is one photo's medians in seconds.
type photoTime struct {
	Name   string  `json:"name"`
	Size   string  `json:"size"`
	Faces  int     `json:"faces"`
	Detect float64 `json:"detect_s"`
	Total  float64 `json:"total_s"`
}

// photoTimes are the Go side's figures.
type photoTimes struct {
	Photos  []photoTime `json:"photos"`
	PerFace float64     `json:"per_face_s"` // all photos' time over all their faces
	// Pipelined is all photos through photo.Restorer.Photos in one run
	// (restore's path: the next photo detected while this one's faces are
	// restored, faces of several photos in one batch), against the sum
	// of their one-by-one times.
	Pipelined float64 `json:"pipelined_s"`
	Restore   float64 `json:"restore_s"` // the network alone, as bench restorer's row
	ESRGANMP  float64 `json:"esrgan_s_per_output_mp,omitempty"`
}

// peerFigures are CPU times the peers' users have published; they are
// quoted, not measured here (other CPUs, other photos).
const peerFigures = `Published CPU figures of peers (quoted, not measured here; other CPUs and photos):
  CodeFormer   about 12 s per image on a CPU, as reported by its users
  GFPGAN       no CPU figure in its README; its inference script turns the
               Real-ESRGAN background upsampler off on a CPU as too slow`

// Photo times restore's whole-photo pipeline with the built-in weights and
// restore's defaults (SSD detection, landmarks, one restoration per face,
// blend, colour match, gate, ×2 cubic upscale): per photo, per face, and
// detection alone. Beside it, the network's share: one face restored (20
// steps from noise, as Restorer) in Go and in PyTorch, as a ratio.
func Photo(o PhotoOptions, stdout io.Writer) error {
	if len(o.Photos) == 0 {
		o.Photos = DefaultPhotos
	}
	imgs := make([]*tensor.Tensor, len(o.Photos))
	for i, p := range o.Photos {
		var err error
		if imgs[i], err = imageio.Read(p); err != nil {
			return fmt.Errorf("bench photo: %w", err)
		}
	}
	var tr restorerTimes
	t, err := runTorch(o.Options, &tr, "--only", "restore")
	if err != nil {
		return fmt.Errorf("bench photo: %w", err)
	}
	r, err := photo.NewRestorer(photo.DefaultOptions())
	if err != nil {
		return fmt.Errorf("bench photo: %w", err)
	}
	printHeader(stdout, "photo", o.Options)
	var goT photoTimes
	var all float64
	var nFaces int
	fmt.Fprintf(stdout, "%-28s %-10s %5s %9s %9s %9s\n", "photo", "size", "faces", "detect", "photo", "per face")
	for i, img := range imgs {
		pt := photoTime{Name: filepath.Base(o.Photos[i]), Size: fmt.Sprintf("%d×%d", img.Shape[1], img.Shape[0])}
		var derr, perr error
		pt.Detect = median(func() { _, derr = r.Detect.Detect(img) }, o.Warmup, o.Iters)
		pt.Total = median(func() {
			var res *photo.PhotoResult
			// The same stream each time: every iteration does the same work.
			res, perr = r.Photo(img, rand.New(rand.NewPCG(1, uint64(i))))
			if perr == nil {
				pt.Faces = len(res.Faces)
			}
		}, o.Warmup, o.Iters)
		if err := firstErr(derr, perr); err != nil {
			return fmt.Errorf("bench photo: %s: %w", o.Photos[i], err)
		}
		all += pt.Total
		nFaces += pt.Faces
		fmt.Fprintf(stdout, "%-28s %-10s %5d %8.2fs %8.2fs %8.2fs\n", pt.Name, pt.Size, pt.Faces, pt.Detect, pt.Total, pt.Total/float64(max(pt.Faces, 1)))
		goT.Photos = append(goT.Photos, pt)
	}
	goT.PerFace = all / float64(max(nFaces, 1))
	fmt.Fprintf(stdout, "all photos: %.2f s per face (%d faces), %.2f s per photo\n", goT.PerFace, nFaces, all/float64(len(imgs)))
	var plErr error
	goT.Pipelined = median(func() {
		load := func(i int) (*tensor.Tensor, *rand.Rand, error) {
			return imgs[i], rand.New(rand.NewPCG(1, uint64(i))), nil
		}
		r.Photos(len(imgs), load, func(_ int, _ *photo.PhotoResult, err error) { plErr = firstErr(plErr, err) })
	}, o.Warmup, o.Iters)
	if plErr != nil {
		return fmt.Errorf("bench photo: pipelined: %w", plErr)
	}
	fmt.Fprintf(stdout, "all photos in one pipelined run (as restore): %.2f s, against %.2f s one by one (%.2f×)\n", goT.Pipelined, all, goT.Pipelined/all)

	if o.ESRGAN > 0 {
		if goT.ESRGANMP, err = timeESRGAN(imgs[0], o.ESRGAN); err != nil {
			return fmt.Errorf("bench photo: %w", err)
		}
		fmt.Fprintf(stdout, "ESRGAN background ×2 (%d×%d centre crop, once): %.1f s per output megapixel\n", o.ESRGAN, o.ESRGAN, goT.ESRGANMP)
	}
	fmt.Fprintln(stdout, peerFigures)
	fmt.Fprintln(stdout)

	m, err := restorer.NewModel(restorer.DefaultConfig(), 1)
	if err != nil {
		return fmt.Errorf("bench photo: %w", err)
	}
	photosPeak := peakRSSMB() // before timeFace resets it
	var faceMB float64
	if goT.Restore, faceMB, err = timeFace(m, o.Warmup, o.Iters); err != nil {
		return fmt.Errorf("bench photo: %w", err)
	}
	rows := []row{{"restore one face (20 steps)", goT.Restore, tr.Restore, faceMB, tr.RestoreMB}}
	fmt.Fprintf(stdout, "peak memory (RSS) over the photos: %.0f MB\n", photosPeak)
	if err := report(stdout, o.Options, rows, goT, t, nil); err != nil {
		return fmt.Errorf("bench photo: %w", err)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// timeFace is Restorer's "restore one face" measurement alone: all steps
// from pure noise, unguided, the work bench/restorer_torch.py's restore
// part times.
func timeFace(m *restorer.Model, warmup, iters int) (sec, mb float64, err error) {
	s := m.Config.UNet.ImageSize
	face := tensor.New(1, s, s, 3)
	nn.Normal(face, 0.5, nn.NewRNG(3))
	smp, err := restorer.NewSampler(m, restorer.SampleOptions{Steps: restorerSteps, Strength: 1})
	if err != nil {
		return 0, 0, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sec, mb = medianPeak(func() { _, _, err = smp.Restore(face, rng) }, warmup, iters)
	return sec, mb, err
}

// timeESRGAN runs the background upsampler once on a side×side centre
// crop of img and returns seconds per output megapixel.
func timeESRGAN(img *tensor.Tensor, side int) (float64, error) {
	h, w := img.Shape[0], img.Shape[1]
	side = min(side, h, w)
	crop := tensor.New(side, side, 3)
	y0, x0 := (h-side)/2, (w-side)/2
	for y := range side {
		copy(crop.Data[y*side*3:(y+1)*side*3], img.Data[((y0+y)*w+x0)*3:][:side*3])
	}
	net, err := upscale.Load(upscale.Default)
	if err != nil {
		return 0, err
	}
	var uerr error
	var out *tensor.Tensor
	s := median(func() { out, uerr = net.Upscale(crop, upscale.DefaultTile, nil) }, 0, 1)
	if uerr != nil {
		return 0, uerr
	}
	mp := float64(out.Shape[0]*out.Shape[1]) / 1e6
	return s / mp, nil
}
