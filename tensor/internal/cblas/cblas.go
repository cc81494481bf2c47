//go:build openblas && cgo

// Package cblas calls OpenBLAS's cblas_sgemm. It is separate from package
// tensor only because Go refuses cgo in a package that has assembly files,
// and tensor has its SSE kernel in one.
package cblas

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import "unsafe"

// SetThreads sets the number of OpenBLAS worker threads.
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

// Sgemm is cblas_sgemm for row-major matrices. Shapes must be valid (as
// tensor.Gemm checks them) with m, n, k ≥ 1.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, ac := uint32(C.CblasNoTrans), k
	if transA {
		ta, ac = C.CblasTrans, m
	}
	tb, bc := uint32(C.CblasNoTrans), n
	if transB {
		tb, bc = C.CblasTrans, k
	}
	// tensor.Gemm accepts any stride for a single-row operand; CBLAS rejects
	// one below the row length, and then computes nothing.
	lda, ldb, ldc = max(lda, ac), max(ldb, bc), max(ldc, n)
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}
