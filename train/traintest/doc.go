// Package traintest is for tests of training loops (train's and refl's): a
// context that stops a Loop at a known step, a checkpoint's tensors, and
// exact float bytes, so that weights compare bit for bit (NaN included).
package traintest
