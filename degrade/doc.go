// Package degrade makes low-quality (LQ) faces from high-quality (HQ) ones
// with the synthetic degradation model of blind face restoration (basicsr,
// GFPGAN, CodeFormer, DiffBIR):
//
//	blur (random kernel) → downsample by r (bilinear) → Gaussian noise
//	→ JPEG round trip → resize back (bilinear) → colour jitter → grey
//	→ round to 8-bit levels
//
// Every random number comes from the *rand.Rand the caller passes, so the
// same seed, config and image give the same bytes; the Record returned with
// each LQ says exactly what was drawn. Images are imageio's [H, W, 3]
// float32 RGB tensors in [0, 1].
package degrade
