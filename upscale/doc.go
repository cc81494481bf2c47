// Package upscale runs single-image super-resolution in our engine: the
// ESRGAN generator (idealo's RRDN) that UpscalerJS trained on DIV2K and
// publishes on npm as @upscalerjs/esrgan-thick, converted by
// tools/esrgan/convert. Upscale cuts a photo into overlapping tiles, so
// memory stays bounded and a caller can show progress.
package upscale
