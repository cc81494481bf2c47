// Package atomicfile writes files so that a crash or an error never leaves
// a half-written one: checkpoints, images and manifests all go through it.
//
// The promise: Write returns nil only once the new contents are synced to
// disk, renamed over the target and the directory synced too, so the
// replacement survives a power loss as well as kill -9; until then
// readers see the old file (or none). A write that fails removes its
// temporary file; a process killed mid-write leaves one, named
// TempPrefix(target) + digits, which IsTemp recognises so its folder's
// owner can remove it (rundir.Open does).
package atomicfile
