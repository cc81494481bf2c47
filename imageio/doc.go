// Package imageio reads and writes the images facereward works on.
//
// An image is a *tensor.Tensor of shape [H, W, C], float32, with C = 3 in
// RGB order and values in [0, 1]: an 8-bit sample v becomes v/255 and a
// 16-bit sample v/65535. Grey and palette images are expanded to RGB. Alpha
// is dropped, not composited: each pixel keeps its straight (unpremultiplied)
// colour whatever its alpha, so a fully transparent pixel comes out as
// whatever colour the file stored for it.
//
// Writing goes the other way: a value v becomes the 8-bit sample
// round(clamp(v, 0, 1)·255), with NaN written as 0.
//
// Reading detects PNG, JPEG and WebP from the file's first bytes, not its
// extension. JPEGs are turned upright according to their EXIF orientation;
// lossy WebPs are converted from their limited-range Y'CbCr as libwebp does
// (see webp.go).
// Before decoding, the size in the header is checked against Limits, so a
// small file that claims an enormous image fails at once instead of
// allocating it.
package imageio
