package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"

	"facereward/tensor"
)

// Row is one line of a Go-against-PyTorch table; Torch is 0 when the
// PyTorch side did not run.
type Row struct {
	Name      string
	Go, Torch float64 // seconds
}

// PrintRatios prints a benchmark's table, its peak memory line and why
// PyTorch was skipped, if it was (torchName is "" when it did not run).
func PrintRatios(w io.Writer, rows []Row, goPeak float64, torchName string, torchPeak float64, torchErr error) {
	fmt.Fprintln(w, "\n| step | Go (s) | PyTorch (s) | Go / PyTorch |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	for _, r := range rows {
		if r.Torch > 0 {
			fmt.Fprintf(w, "| %s | %.3f | %.3f | %.2f× |\n", r.Name, r.Go, r.Torch, r.Go/r.Torch)
		} else {
			fmt.Fprintf(w, "| %s | %.3f | – | – |\n", r.Name, r.Go)
		}
	}
	fmt.Fprintf(w, "\npeak memory (RSS): Go %.0f MB", goPeak)
	if torchName != "" {
		fmt.Fprintf(w, ", PyTorch %s %.0f MB\n", torchName, torchPeak)
	} else {
		fmt.Fprintln(w)
	}
	if torchErr != nil {
		fmt.Fprintf(w, "PyTorch side skipped: %v\n(install Debian's python3-torch, or pass --python)\n", torchErr)
	}
}

// WriteJSON writes a benchmark's --json report: the build, the kernel and
// thread count, plus rep.
func WriteJSON(path string, rep map[string]any) error {
	rep["build"], rep["gemm_backend"], rep["threads"] = tensor.Build(), tensor.GemmBackend(), runtime.GOMAXPROCS(0)
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
