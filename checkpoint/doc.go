// Package checkpoint saves and restores training runs as single safetensors
// files: the parameters under their own names, and the state of the
// optimiser (and anything else Stateful, such as an EMA) under "PART/…"
// prefixes, always in F32 so that a resumed run takes exactly the step the
// interrupted one would have.
//
// Loading is strict by default: every parameter must be present with its
// shape, and a tensor the model does not know is an error too, since both
// usually mean the file belongs to a different model version.
package checkpoint
