// Package evaluate scores restored faces with the field's metrics: fidelity
// against the ground truth (PSNR, SSIM, identity, landmark distance) and
// no-reference quality (BRISQUE, NIQE-FFHQ).
//
// Identity and landmarks come from face-api's networks (package facenet)
// run on facenet.AlignedFaceBox of the aligned crop (20, 28, 88 px at
// 128×128); LMD depends strongly on the box, so every figure this package
// produces uses that one.
//
// Sets of faces are scored in parallel by a Pool and averaged by Means, in
// one way for both users: Compare scores folders of restorations (the eval
// command: metrics.json, metrics.csv and report.html), and a DevSet is the
// fixed dev-val set that training runs score themselves on.
package evaluate
