package degrade

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The parsers below write into dst only when the whole value parses, so a
// failed Set leaves the Config as it was.

func parseInt(v string, dst *int) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("not an integer")
	}
	*dst = n
	return nil
}

func parseBool(v string, dst *bool) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("not a boolean (true/false/1/0)")
	}
	*dst = b
	return nil
}

func parseFloat(v string, dst *float64) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("not a finite number")
	}
	*dst = f
	return nil
}

func parseFloats(v string, dst *[]float64) error {
	parts := strings.Split(v, ",")
	out := make([]float64, len(parts))
	for i, p := range parts {
		if err := parseFloat(strings.TrimSpace(p), &out[i]); err != nil {
			return fmt.Errorf("item %d %q: %w", i+1, p, err)
		}
	}
	*dst = out
	return nil
}

func parseRange(v string, dst *[2]float64) error {
	var fs []float64
	if err := parseFloats(v, &fs); err != nil {
		return err
	}
	if len(fs) != 2 {
		return fmt.Errorf("need exactly two numbers lo,hi, got %d", len(fs))
	}
	if fs[1] < fs[0] {
		return fmt.Errorf("lo %g is above hi %g", fs[0], fs[1])
	}
	*dst = [2]float64{fs[0], fs[1]}
	return nil
}

func parseIntRange(v string, dst *[2]int) error {
	parts := strings.Split(v, ",")
	if len(parts) != 2 {
		return fmt.Errorf("need exactly two integers lo,hi, got %d", len(parts))
	}
	var r [2]int
	for i, p := range parts {
		if err := parseInt(strings.TrimSpace(p), &r[i]); err != nil {
			return fmt.Errorf("item %d %q: %w", i+1, p, err)
		}
	}
	if r[1] < r[0] {
		return fmt.Errorf("lo %d is above hi %d", r[0], r[1])
	}
	*dst = r
	return nil
}

func parseTypes(v string, dst *[]KernelType) error {
	parts := strings.Split(v, ",")
	out := make([]KernelType, len(parts))
	for i, p := range parts {
		t := KernelType(strings.TrimSpace(p))
		if !t.valid() {
			return fmt.Errorf("unknown kernel type %q", t)
		}
		out[i] = t
	}
	*dst = out
	return nil
}

func typeList() string {
	types := AllKernelTypes()
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = string(t)
	}
	return strings.Join(names, "|")
}
