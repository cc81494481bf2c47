// Command weightdiff prints how far apart two weight files are: the
// largest absolute difference over the tensors both hold, and which one.
// Files in float16 are compared after widening, as they are used.
//
//	go run ./tools/weightdiff A.safetensors B.safetensors
package main

import (
	"fmt"
	"maps"
	"math"
	"os"
	"slices"

	"facereward/safetensors"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: weightdiff A.safetensors B.safetensors")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "weightdiff:", err)
		os.Exit(1)
	}
}

func run(pa, pb string) error {
	a, err := safetensors.Read(pa)
	if err != nil {
		return err
	}
	b, err := safetensors.Read(pb)
	if err != nil {
		return err
	}
	var worst float64
	var where string
	var shared int
	for _, name := range slices.Sorted(maps.Keys(a.Tensors)) {
		tb, ok := b.Tensors[name]
		ta := a.Tensors[name]
		if !ok {
			fmt.Printf("%s: only in %s\n", name, pa)
			continue
		}
		if len(ta.Data) != len(tb.Data) {
			return fmt.Errorf("%s: %d values in %s, %d in %s", name, len(ta.Data), pa, len(tb.Data), pb)
		}
		shared++
		for i := range ta.Data {
			if d := math.Abs(float64(ta.Data[i]) - float64(tb.Data[i])); d > worst || math.IsNaN(d) {
				worst, where = d, name
			}
		}
	}
	fmt.Printf("%d shared tensors, max |a − b| %.3g (in %s)\n", shared, worst, where)
	return nil
}
