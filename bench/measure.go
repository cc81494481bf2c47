package bench

import (
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"facereward/tensor"
)

// median times fn after warm-up calls and returns the median in seconds.
func median(fn func(), warmup, iters int) float64 {
	for range warmup {
		fn()
	}
	ts := make([]float64, iters)
	for i := range ts {
		start := time.Now()
		fn()
		ts[i] = time.Since(start).Seconds()
	}
	slices.Sort(ts)
	return ts[len(ts)/2]
}

// medianPeak is median, and the peak resident memory while the timed
// calls ran back to back, in MB, as a training loop runs its steps: after
// the warm-up (which fills the graphs' buffer pools) the heap's free pages
// go back to the system and the kernel's high-water mark is reset, so the
// peak is this step's steady state on top of what the process holds
// anyway (the networks' weights), the garbage its calls leave for the
// collector included. bench/engine_torch.py's median_peak measures
// PyTorch the same way. 0 where the kernel cannot reset the mark (not
// Linux).
func medianPeak(fn func(), warmup, iters int) (sec, mb float64) {
	for range warmup {
		fn()
	}
	// sync.Pools (the convolutions' column buffers) drop their objects
	// only at the second collection after their last use.
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).
	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	sec = median(fn, 0, iters)
	if reset != nil {
		return sec, 0
	}
	return sec, peakRSSMB()
}

// gemmGFLOPS is the GEMM's throughput on an m×k by k×n product, the median
// of iters runs.
func gemmGFLOPS(m, k, n, iters int) float64 {
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%13) * 0.1
	}
	for i := range b {
		b[i] = float32(i%7) * 0.1
	}
	s := median(func() { tensor.Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) }, 2, iters)
	return 2 * float64(m) * float64(k) * float64(n) / s / 1e9
}

// peakRSSMB reads the process's peak resident set size (Linux); 0 elsewhere.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
