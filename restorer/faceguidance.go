package restorer

import (
	"math"

	"facereward/imgproc"
	"facereward/tensor"
)

// One guidance does not suit every input, and the stage-1 estimate, which
// the sampler has at no cost, tells the kinds apart by the fine detail it
// keeps (LogDetail). Two ramps over that detail raise a face's guidance
// from SampleOptions.Guidance:
//
//   - A mild input is one stage 1 already restores nearly right: its
//     estimate keeps fine detail. The diffusion stage redraws such a face
//     anyway, at a cost in fidelity (PSNR), with grain in place of detail
//     the face had. MildGuidance is the guidance at the ramp's top.
//   - A heavy input is one whose estimate keeps almost none: heavy blur.
//     The diffusion stage cannot draw back what the blur took, and lays
//     grain in its place, more than a real face has (BRISQUE below the
//     ground truth's), again at a cost in PSNR. HeavyGuidance is the
//     guidance at the ramp's bottom.
//
// Both ramps were fitted on 144 training-split faces per degradation
// preset by bench/mild.sh and tools/mildtune
// (models/runs/stage2-detail/README.md). They do not overlap.
const (
	MildFrom, MildSpan   = -2.5, 0.4
	HeavyFrom, HeavySpan = -3.6, -0.2
)

// Ramp is 0 at detail From and on the far side of it, 1 at From+Span and
// beyond, linear between: it rises with detail when Span > 0, as detail
// falls when Span < 0.
type Ramp struct{ From, Span float64 }

// At is the ramp at detail d (a LogDetail value).
func (r Ramp) At(d float64) float64 {
	return min(max((d-r.From)/r.Span, 0), 1)
}

// DefaultMildGuidance and DefaultHeavyGuidance are the restore command's
// --mild-guidance and --heavy-guidance, fitted with the ramps.
const (
	DefaultMildGuidance  = 0.75
	DefaultHeavyGuidance = 0.45
)

// LogDetail is each face's detail: the log10 high-frequency energy
// (imgproc.CentralHFEnergy) of face i of cond [N,S,S,3], a stage-1
// estimate in [-1,1], measured in [0,1] as the face is saved.
func LogDetail(cond *tensor.Tensor) []float64 {
	n := cond.Shape[0]
	size := cond.Len() / n
	d := make([]float64, n)
	face := tensor.New(cond.Shape[1:]...)
	for i := range n {
		for j, v := range cond.Data[i*size : (i+1)*size] {
			face.Data[j] = min(max(0.5*(v+1), 0), 1)
		}
		d[i] = math.Log10(max(imgproc.CentralHFEnergy(face), 1e-12))
	}
	return d
}

// FaceGuidance is the guidance of a face whose stage-1 estimate has detail
// d: o.Guidance, raised toward o.MildGuidance by the mild ramp and toward
// o.HeavyGuidance by the heavy one. A ramp whose guidance is at or below
// o.Guidance is off.
func (o SampleOptions) FaceGuidance(d float64) float64 {
	g := o.Guidance
	if o.MildGuidance > o.Guidance {
		g += Ramp{MildFrom, MildSpan}.At(d) * (o.MildGuidance - o.Guidance)
	}
	if o.HeavyGuidance > o.Guidance {
		g += Ramp{HeavyFrom, HeavySpan}.At(d) * (o.HeavyGuidance - o.Guidance)
	}
	return g
}

// guidances is each face's guidance (FaceGuidance of its LogDetail).
func (s *Sampler) guidances(cond *tensor.Tensor) []float32 {
	w := s.uniformGuidance(cond.Shape[0])
	if s.MildGuidance <= s.Guidance && s.HeavyGuidance <= s.Guidance {
		return w
	}
	for i, d := range LogDetail(cond) {
		w[i] = float32(s.FaceGuidance(d))
	}
	return w
}

// uniformGuidance is s.Guidance for each of n faces.
func (s *Sampler) uniformGuidance(n int) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(s.Guidance)
	}
	return w
}
