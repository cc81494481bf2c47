// Package nn is facereward's automatic differentiation engine: values on a
// tape, the operations with their forward and backward passes, and the
// modules (layers with named parameters) built from them.
//
// A Graph records one step's operations and owns the buffers of its
// intermediate values: build the forward pass with its methods, call
// Backward on the loss, step the optimiser, then Reset, which hands the
// buffers back for the next step. With NoGrad set a graph computes values
// only (sampling, scoring). Freeze stops a module's parameters from
// training while gradients still flow through it; Clone and FrozenCopy copy
// a module through its exported fields (see Clone for the exact rule).
// Parallel reductions merge their partial sums in a fixed order, so results
// do not depend on the number of cores.
package nn
