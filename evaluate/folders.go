package evaluate

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"facereward/dataset"
)

// Index maps each image under dir by its relative path without extension
// to its file; an empty dir gives a nil index.
func Index(dir string) (map[string]string, error) {
	if dir == "" {
		return nil, nil
	}
	f, err := dataset.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	idx := make(map[string]string, f.Len())
	for _, file := range f.Files {
		idx[strings.TrimSuffix(filepath.ToSlash(file.Rel), filepath.Ext(file.Rel))] = file.Path
	}
	return idx, nil
}

// Match pairs every restoration of the folder dir (indexed as pred) with
// a reference image and returns their names, sorted; anything unmatched
// on either side is an error that lists it.
func Match(dir string, pred, ref map[string]string) ([]string, error) {
	var keys, onlyPred, onlyRef []string
	for k := range pred {
		if _, ok := ref[k]; ok {
			keys = append(keys, k)
		} else {
			onlyPred = append(onlyPred, k)
		}
	}
	for k := range ref {
		if _, ok := pred[k]; !ok {
			onlyRef = append(onlyRef, k)
		}
	}
	sort.Strings(keys)
	if len(onlyPred)+len(onlyRef) > 0 {
		return nil, fmt.Errorf("eval: %s does not pair up with the references: %s", dir, unmatched(onlyPred, onlyRef))
	}
	return keys, nil
}

func unmatched(onlyPred, onlyRef []string) string {
	list := func(s []string) string {
		sort.Strings(s)
		if len(s) > 10 {
			return strings.Join(s[:10], ", ") + fmt.Sprintf(" … and %d more", len(s)-10)
		}
		return strings.Join(s, ", ")
	}
	var parts []string
	if len(onlyPred) > 0 {
		parts = append(parts, fmt.Sprintf("%d restorations without a reference (%s)", len(onlyPred), list(onlyPred)))
	}
	if len(onlyRef) > 0 {
		parts = append(parts, fmt.Sprintf("%d references without a restoration (%s)", len(onlyRef), list(onlyRef)))
	}
	return strings.Join(parts, "; ")
}
