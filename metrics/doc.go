// Package metrics implements the image- and identity-quality measures that
// the face-restoration papers report, on the project's [H,W,3] float32 RGB
// tensors in [0,1]:
//
//   - PSNR and SSIM on RGB or on BT.601 luma, as basicsr computes them;
//   - IDS (cosine similarity and its angle) and LMD between face descriptors
//     and landmark sets;
//   - FID-ID, the Fréchet distance between two sets of identity descriptors;
//   - BRISQUE with OpenCV's LIVE model, matching cv2.quality.QualityBRISQUE;
//   - NIQE-FFHQ, Mittal et al.'s NIQE with a pristine model fitted on the
//     project's own 128×128 FFHQ training faces (not MATLAB's model, whose
//     scores it does not reproduce).
//
// Golden values come from scikit-image, SciPy and OpenCV via
// tools/metricsref; see tools/metricsref/README.md.
package metrics
