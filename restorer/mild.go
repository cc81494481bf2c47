package restorer

import (
	"math"

	"facereward/imgproc"
	"facereward/tensor"
)

// A mild input is one stage 1 already restores nearly right: its stage-1
// estimate keeps fine detail. The diffusion stage redraws such a face
// anyway, and on mild inputs that costs fidelity (PSNR) for grain in place
// of detail the face had. So SampleOptions.MildGuidance raises a face's
// guidance linearly across the range [MildFrom, MildFrom+MildSpan] of its
// stage-1 estimate's LogDetail, which the sampler has at no cost; the
// ramp was fitted on 144 training-split faces per preset by bench/mild.sh
// and tools/mildtune (models/runs/stage2-detail/README.md), which compares
// its fits with this one.
const (
	MildFrom = -2.5
	MildSpan = 0.4
)

// DefaultMildGuidance is the restore command's --mild-guidance, the
// guidance of the mildest faces, fitted with the ramp.
const DefaultMildGuidance = 0.75

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

// Mildness is how mild each face of cond (as LogDetail takes it) looks,
// in [0,1]: 0 at or below MildFrom's detail, 1 at or above the ramp's end.
func Mildness(cond *tensor.Tensor) []float64 {
	m := LogDetail(cond)
	for i, d := range m {
		m[i] = min(max((d-MildFrom)/MildSpan, 0), 1)
	}
	return m
}

// guidances is each face's guidance: s.Guidance, raised toward
// s.MildGuidance by the face's mildness when that is higher.
func (s *Sampler) guidances(cond *tensor.Tensor) []float32 {
	w := s.uniformGuidance(cond.Shape[0])
	if s.MildGuidance <= s.Guidance {
		return w
	}
	for i, m := range Mildness(cond) {
		w[i] = float32(s.Guidance + m*(s.MildGuidance-s.Guidance))
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
