package tensor

import (
	"runtime/debug"
	"strings"
)

// Build says which of the project's builds this binary is: "openblas"
// (OpenBLAS through cgo), "fast" (built with GOEXPERIMENT=simd: the
// simd/archsimd kernels) or "plain".
func Build() string {
	if GemmBackend() == "openblas" {
		return "openblas"
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOEXPERIMENT" && strings.Contains(s.Value, "simd") {
				return "fast"
			}
		}
	}
	return "plain"
}
