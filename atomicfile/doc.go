// Package atomicfile writes files so that a crash or an error never leaves
// a half-written one: checkpoints, images and manifests all go through it.
package atomicfile
