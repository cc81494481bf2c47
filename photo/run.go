package photo

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"facereward/atomicfile"
	"facereward/dataset"
	"facereward/degrade"
	"facereward/facenet"
	"facereward/faces"
	"facereward/imageio"
	"facereward/progress"
	"facereward/restorer"
	"facereward/reward"
	"facereward/tensor"
	"facereward/upscale"
)

// Options are a restore run's model, sampler settings and outputs.
type Options struct {
	Model string // model directory or builtin:NAME; "" for the default
	// RewardStrength, when set, scales the reward's effect (see
	// restorer.LoadReward) against RewardBase ("" for the built-in base).
	RewardStrength *float64
	RewardBase     string
	Sampler        restorer.SampleOptions // the sampler's settings
	Seed           uint64
	Aligned        bool   // inputs are aligned face crops: no detection
	Out            string // folder of the restorations
	Stage1         string // with Aligned, also write the stage-1 estimates here; "" for none
	// Batch is how many aligned crops, or faces of a photo, go through the
	// networks together: wider matrix products, the same bytes out.
	Batch int

	// Whole photos: Upscale multiplies the photo's size (faces are
	// restored at the output's resolution); MinFace is the smallest face
	// side restored (pixels); OnlyCenter restores only the face nearest
	// the centre; NoGate pastes every restoration (else a face whose
	// restoration the reward model does not prefer, or that loses the
	// person, MinIdentity, keeps its input).
	Upscale int
	// Background is how the photo is upscaled around the faces: "cubic",
	// or "esrgan" (upscale.Default, a super-resolution network: sharper,
	// and 3.6 TFLOP per output megapixel: slow on a CPU).
	Background  string
	Detector    string  // faces.DetectorSSD or faces.DetectorPigo
	MinFace     int     // pixels
	MinScore    float32 // the SSD's score threshold
	OnlyCenter  bool
	NoGate      bool
	MinIdentity float64
	// Ext is the restored image's format: auto (the input's: PNG or
	// JPEG), png or jpg; Suffix is appended to output names.
	Ext, Suffix string
}

// DefaultBatch and MaxBatch bound Options.Batch. At 128×128 a face in a
// batch costs about 200 MB (a restore's peak was 347 MB at batch 1 and
// 1,775 MB at 8, README), so 32 need about 6.5 GB; batch 8 restored 1.22
// times as many faces per second as batch 1 on two cores.
const (
	DefaultBatch = 8
	MaxBatch     = 32
)

// The background upsamplers of Options.Background.
const (
	BackgroundCubic  = "cubic"
	BackgroundESRGAN = "esrgan"
)

// DefaultOptions are restore's defaults: the sampler's, with mild inputs
// guided toward their stage-1 estimate (restorer.DefaultMildGuidance), the
// peers' ×2 upscale, the detector's defaults (faces.DefaultOptions), the
// gate on at a descriptor cosine of 0.9 (two photos of one person score
// about 0.95 on aligned faces, two people 0.86).
func DefaultOptions() Options {
	d := faces.DefaultOptions()
	s := restorer.DefaultSampleOptions()
	s.MildGuidance = restorer.DefaultMildGuidance
	return Options{Sampler: s, Seed: 1, Batch: DefaultBatch, Upscale: 2, Background: BackgroundCubic, Detector: d.Detector, MinFace: d.MinFace, MinScore: d.MinConfidence, MinIdentity: 0.9, Ext: "auto"}
}

// Validate checks every setting before any work is done.
func (o Options) Validate() error {
	if err := o.Sampler.Validate(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	switch {
	case o.Out == "":
		return fmt.Errorf("restore: no output folder (--out)")
	case o.Upscale < 1 || o.Upscale > 8:
		return fmt.Errorf("restore: --upscale %d outside [1, 8]", o.Upscale)
	case o.Background != BackgroundCubic && o.Background != BackgroundESRGAN:
		return fmt.Errorf("restore: --bg-upsampler %q (want %s or %s)", o.Background, BackgroundCubic, BackgroundESRGAN)
	case o.Batch < 1 || o.Batch > MaxBatch:
		return fmt.Errorf("restore: --batch %d outside [1, %d]", o.Batch, MaxBatch)
	case o.MinFace < 8:
		return fmt.Errorf("restore: --min-face %d below 8 pixels", o.MinFace)
	case o.Detector != faces.DetectorSSD && o.Detector != faces.DetectorPigo:
		return fmt.Errorf("restore: --detector %q (want %s or %s)", o.Detector, faces.DetectorSSD, faces.DetectorPigo)
	case !(o.MinScore > 0 && o.MinScore < 1):
		return fmt.Errorf("restore: --min-score %v outside (0, 1)", o.MinScore)
	case !(o.MinIdentity >= 0 && o.MinIdentity <= 1):
		return fmt.Errorf("restore: --min-identity %v outside [0, 1]", o.MinIdentity)
	case !slices.Contains(Extensions, o.Ext):
		return fmt.Errorf("restore: --ext %q (want auto, png or jpg)", o.Ext)
	case strings.ContainsAny(o.Suffix, `/\`):
		return fmt.Errorf("restore: --suffix %q holds a path separator", o.Suffix)
	case o.Stage1 != "" && !o.Aligned:
		return fmt.Errorf("restore: --save-stage1 needs --aligned (a photo's stage-1 estimate is of its aligned crop)")
	}
	return nil
}

// Run checks o, plans every output name, loads the model (and, for whole
// photos, the face nets and the reward model of the gate), restores every
// image of paths (files, or folders searched recursively) with RestoreAll,
// writes report.json and prints a summary. It fails when any input did.
func Run(paths []string, o Options, stdout, stderr io.Writer) error {
	if err := o.Validate(); err != nil {
		return err
	}
	inputs, err := dataset.Inputs(paths)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if len(inputs) == 0 {
		return fmt.Errorf("restore: no images in %s", strings.Join(paths, ", "))
	}
	targets, notes, err := planOutputs(paths, inputs, o)
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(stdout, "restore: %s\n", n)
	}
	r, err := NewRestorer(o)
	if err != nil {
		return err
	}
	r.Progress = stderr
	rep := r.RestoreAll(inputs, targets, o, stdout, stderr)
	if err := rep.write(filepath.Join(o.Out, "report.json")); err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep.summary(o.Out))
	if rep.Failed > 0 {
		return fmt.Errorf("restore: %d of %d inputs failed (see above)", rep.Failed, len(inputs))
	}
	return nil
}

// NewRestorer loads what o needs: the model (with o's reward strength),
// its sampler and, for whole photos, the landmark and recognition nets,
// the background upsampler and the gate's reward model.
func NewRestorer(o Options) (*Restorer, error) {
	strength := 1.0
	if o.RewardStrength != nil {
		strength = *o.RewardStrength
	}
	m, err := restorer.LoadReward(o.Model, strength, o.RewardBase)
	if err != nil {
		return nil, err
	}
	s, err := restorer.NewSampler(m, o.Sampler)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	r := &Restorer{Sampler: s, Upscale: o.Upscale, OnlyCenter: o.OnlyCenter, MinIdentity: o.MinIdentity, Detect: faces.DefaultOptions(), Batch: o.Batch}
	r.Detect.Detector, r.Detect.MinFace, r.Detect.MinConfidence = o.Detector, o.MinFace, o.MinScore
	if !o.Aligned {
		if r.Landmarks, r.Rec, err = facenet.Load(); err != nil {
			return nil, err
		}
		if o.Background == BackgroundESRGAN && o.Upscale > 1 {
			if r.Background, err = upscale.Load(upscale.Default); err != nil {
				return nil, err
			}
		}
		if !o.NoGate {
			if r.FRM, err = reward.LoadOrBuiltin(""); err != nil {
				return nil, err
			}
			if r.FRM.Config.ImageSize != r.size() {
				return nil, fmt.Errorf("restore: the reward model reads %d×%d faces and %s restores %d×%d ones; the gate needs both at one size (--no-gate pastes every restoration)",
					r.FRM.Config.ImageSize, r.FRM.Config.ImageSize, m.Name, r.size(), r.size())
			}
		}
	}
	return r, nil
}

// Report is a run's report.json: every input with its faces.
type Report struct {
	Inputs                 []InputReport `json:"inputs"`
	Restored, Kept, Failed int           `json:"-"`
}

// InputReport is one input: its output, faces and any error.
type InputReport struct {
	Input   string          `json:"input"`
	Output  string          `json:"output,omitempty"`
	Faces   []Face          `json:"faces,omitempty"`
	Skipped []faces.Skipped `json:"skipped,omitempty"`
	Error   string          `json:"error,omitempty"`
}

func (rep *Report) write(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

func (rep *Report) summary(out string) string {
	s := fmt.Sprintf("restore: %s written to %s", plural(len(rep.Inputs)-rep.Failed, "image"), out)
	if rep.Restored+rep.Kept > 0 {
		s += fmt.Sprintf("; %s restored, %d kept as they were", plural(rep.Restored, "face"), rep.Kept)
	}
	if rep.Failed > 0 {
		s += fmt.Sprintf("; %d failed", rep.Failed)
	}
	return s + " (report.json)"
}

// RestoreAll restores every input (an aligned crop with o.Aligned, else a
// whole photo) into its target, with a progress bar on stderr and, for
// photos, one line per photo on stdout saying how many faces were found,
// restored, kept and skipped. An input that cannot be read or restored is
// reported and counted as failed. Aligned crops go through the networks
// o.Batch at a time; photos through Photos, the next ones detected while
// these are restored.
func (r *Restorer) RestoreAll(inputs []dataset.File, targets []target, o Options, stdout, stderr io.Writer) *Report {
	rep := &Report{Inputs: make([]InputReport, len(inputs))}
	bar := progress.New(stderr, "restore", len(inputs))
	// account records input i's outcome, in input order.
	account := func(i int, err error) {
		ir := &rep.Inputs[i]
		if err != nil {
			ir.Error = err.Error()
			rep.Failed++
			fmt.Fprintf(stderr, "\nrestore: %s: %v\n", inputs[i].Path, err)
		}
		for _, f := range ir.Faces {
			if f.Restored {
				rep.Restored++
			} else {
				rep.Kept++
			}
		}
		if !o.Aligned && err == nil {
			fmt.Fprintln(stdout, photoLine(*ir))
		}
		bar.Add(1)
	}
	if o.Aligned {
		errs := make([]error, len(inputs))
		for start := 0; start < len(inputs); start += o.Batch {
			end := min(start+o.Batch, len(inputs))
			r.restoreAligned(inputs[start:end], targets[start:end], o, rep.Inputs[start:end], errs[start:end])
			for i := start; i < end; i++ {
				account(i, errs[i])
			}
		}
	} else {
		load := func(i int) (*tensor.Tensor, *rand.Rand, error) {
			img, err := imageio.Read(inputs[i].Path)
			return img, inputRNG(o, inputs[i]), err
		}
		r.Photos(len(inputs), load, func(i int, pr *PhotoResult, err error) {
			rep.Inputs[i] = InputReport{Input: inputs[i].Path}
			if err == nil {
				err = writePhoto(pr, targets[i], o, &rep.Inputs[i])
			}
			account(i, err)
		})
	}
	bar.Finish()
	return rep
}

// inputRNG is an input's random stream, one per input name: results do
// not depend on which other files were given, or on their order.
func inputRNG(o Options, in dataset.File) *rand.Rand {
	return rand.New(rand.NewPCG(o.Seed, degrade.Stream(in.Rel)))
}

// restoreAligned restores aligned crops as one batch and writes their
// files, filling irs and errs (one per input): a crop that cannot be read
// fails alone; one the batch could not restore or write fails with it.
func (r *Restorer) restoreAligned(inputs []dataset.File, targets []target, o Options, irs []InputReport, errs []error) {
	var imgs []*tensor.Tensor
	var rngs []*rand.Rand
	var ok []int
	for i, in := range inputs {
		irs[i] = InputReport{Input: in.Path}
		img, err := imageio.Read(in.Path)
		if err != nil {
			errs[i] = err
			continue
		}
		imgs, rngs, ok = append(imgs, img), append(rngs, inputRNG(o, in)), append(ok, i)
	}
	if len(ok) == 0 {
		return
	}
	est, res, err := r.Aligned(imgs, rngs)
	for k, i := range ok {
		if err != nil {
			errs[i] = err
			continue
		}
		irs[i].Output = o.imagePath(targets[i])
		if errs[i] = writeImage(irs[i].Output, res[k]); errs[i] == nil && o.Stage1 != "" {
			errs[i] = writeImage(filepath.Join(o.Stage1, filepath.FromSlash(targets[i].Stem)+".png"), est[k])
		}
	}
}

// writePhoto writes a restored photo and its faces' files, filling ir.
func writePhoto(pr *PhotoResult, t target, o Options, ir *InputReport) error {
	ir.Output = o.imagePath(t)
	ir.Faces, ir.Skipped = pr.Faces, pr.Skipped
	for i := range pr.Faces {
		restored, cropped, compared := o.facePaths(t, i)
		for _, w := range []struct {
			path string
			img  *tensor.Tensor
		}{{restored, pr.Restored[i]}, {cropped, pr.Crops[i]}, {compared, sideBySide(pr.Crops[i], pr.Restored[i])}} {
			if err := writeImage(w.path, w.img); err != nil {
				return err
			}
		}
	}
	return writeImage(ir.Output, pr.Image)
}

// photoLine is a photo's line on stdout.
func photoLine(ir InputReport) string {
	var restored, kept int
	var why []string
	for _, f := range ir.Faces {
		if f.Restored {
			restored++
		} else {
			kept++
			why = append(why, f.Reason)
		}
	}
	s := fmt.Sprintf("%s: %s, %d restored", ir.Input, plural(len(ir.Faces), "face"), restored)
	if kept > 0 {
		s += fmt.Sprintf(", %d kept as they were (%s)", kept, strings.Join(why, "; "))
	}
	if len(ir.Skipped) > 0 {
		reasons := map[string]int{}
		for _, sk := range ir.Skipped {
			reasons[sk.Reason]++
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(reasons)) {
			parts = append(parts, fmt.Sprintf("%d %s", reasons[k], k))
		}
		s += fmt.Sprintf("; %s skipped (%s)", plural(len(ir.Skipped), "detection"), strings.Join(parts, ", "))
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// sideBySide lays two images of one height next to each other.
func sideBySide(a, b *tensor.Tensor) *tensor.Tensor {
	h, wa, wb := a.Shape[0], a.Shape[1], b.Shape[1]
	out := tensor.New(h, wa+wb, 3)
	for y := range h {
		copy(out.Data[y*(wa+wb)*3:], a.Data[y*wa*3:(y+1)*wa*3])
		copy(out.Data[(y*(wa+wb)+wa)*3:], b.Data[y*wb*3:(y+1)*wb*3])
	}
	return out
}

// writeImage writes img to path as PNG or JPEG (quality 95) by its
// extension, making the folders on the way.
func writeImage(path string, img *tensor.Tensor) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if strings.HasSuffix(path, ".jpg") {
		return imageio.WriteJPEG(path, img, 95)
	}
	return imageio.WritePNG(path, img)
}
