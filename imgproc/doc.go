// Package imgproc implements the few OpenCV image operations that the
// basicsr/GFPGAN degradation model uses, on float32 images, so that a
// degraded face produced here matches one produced by Python + cv2:
//
//   - Filter2D: cv2.filter2D(src, -1, kernel) with BORDER_REFLECT_101;
//   - Resize: cv2.resize with INTER_LINEAR, INTER_CUBIC or INTER_AREA.
//
// Images are tensors of shape [H, W, C] with interleaved channels. The
// algorithms follow OpenCV 4.6's float32 code paths step by step (the same
// float32 coefficients, the same special cases, the same summation order),
// and testdata/cvref fixtures made by tools/cvref/gen_imgproc.py check them.
//
// Nothing here is parallel: callers process one image per core. The *Into
// methods of Scratch reuse buffers, so a worker that keeps one Scratch
// allocates nothing per image.
package imgproc
