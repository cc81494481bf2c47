// Package photo restores the faces in image files: an aligned face crop
// whole (at the model's size, resized back), or a whole photo face by face:
// detected (pigo), placed with the 68-point landmark net, aligned as FFHQ
// is, restored and pasted back with a feathered seam.
//
// Each input's noise comes from the seed and its name alone, so the same
// seed gives the same bytes whatever else is restored with it.
package photo
