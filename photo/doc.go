// Package photo restores the faces in image files: an aligned face crop
// whole (at the model's size, resized back), or a whole photo face by face:
// detected (faces.Options: the SSD by default), placed with the 68-point
// landmark net, aligned as FFHQ is, restored, blended with the photo's own
// detail above the model's resolution, colour-matched, gated (kept only
// when better than the input and still the same person) and pasted back
// with a feathered seam into the photo upscaled by Options.Upscale.
// tools/photogain measures it on degraded photos with a ground truth,
// `facereward bench photo` times it.
//
// Each input's noise comes from the seed and its name alone, so the same
// seed gives the same bytes whatever else is restored with it.
package photo
