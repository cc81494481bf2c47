package dataset

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// Pair is a degraded image and its clean original.
type Pair struct {
	Name   string // relative path without extension, the same on both sides
	ID     int    // ParseID of Name
	LQ, GT File
}

// maxListed caps how many names an error lists, so a wrong folder does not
// print thousands of lines.
const maxListed = 20

// OpenPaired pairs the images under root/lq with those under root/gt by
// relative path without extension, so lq/x.jpg pairs with gt/x.png. Every
// image must have a partner; otherwise the error lists the unmatched names
// on each side.
func OpenPaired(root string) ([]Pair, error) {
	lq, err := Open(filepath.Join(root, "lq"))
	if err != nil {
		return nil, fmt.Errorf("dataset: paired %s: %w", root, err)
	}
	gt, err := Open(filepath.Join(root, "gt"))
	if err != nil {
		return nil, fmt.Errorf("dataset: paired %s: %w", root, err)
	}
	lqByName, err := byStem(lq, "lq")
	if err != nil {
		return nil, fmt.Errorf("dataset: paired %s: %w", root, err)
	}
	gtByName, err := byStem(gt, "gt")
	if err != nil {
		return nil, fmt.Errorf("dataset: paired %s: %w", root, err)
	}
	var pairs []Pair
	var lqOnly, gtOnly []string
	for _, f := range lq.Files { // lq order is sorted by Rel, so pairs are too
		name := stemOf(f.Rel)
		g, ok := gtByName[name]
		if !ok {
			lqOnly = append(lqOnly, f.Rel)
			continue
		}
		pairs = append(pairs, Pair{Name: name, ID: ParseID(name), LQ: f, GT: g})
	}
	for _, f := range gt.Files {
		if _, ok := lqByName[stemOf(f.Rel)]; !ok {
			gtOnly = append(gtOnly, f.Rel)
		}
	}
	if len(lqOnly) > 0 || len(gtOnly) > 0 {
		var parts []string
		if len(lqOnly) > 0 {
			parts = append(parts, fmt.Sprintf("%d in lq/ without a gt/ partner: %s", len(lqOnly), listNames(lqOnly)))
		}
		if len(gtOnly) > 0 {
			parts = append(parts, fmt.Sprintf("%d in gt/ without an lq/ partner: %s", len(gtOnly), listNames(gtOnly)))
		}
		return nil, fmt.Errorf("dataset: paired %s: %s", root, strings.Join(parts, "; "))
	}
	return pairs, nil
}

func stemOf(rel string) string { return strings.TrimSuffix(rel, path.Ext(rel)) }

// byStem indexes a side by name without extension; two files that differ
// only by extension (x.png and x.jpg) would make the pairing ambiguous.
func byStem(f *Folder, side string) (map[string]File, error) {
	m := make(map[string]File, len(f.Files))
	var dups []string
	for _, file := range f.Files {
		name := stemOf(file.Rel)
		if prev, ok := m[name]; ok {
			dups = append(dups, prev.Rel+" and "+file.Rel)
			continue
		}
		m[name] = file
	}
	if len(dups) > 0 {
		return nil, fmt.Errorf("%d names in %s/ differ only by extension: %s", len(dups), side, listNames(dups))
	}
	return m, nil
}

// listNames joins names, stopping at maxListed with a count of the rest.
func listNames(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, … and %d more", strings.Join(names[:maxListed], ", "), len(names)-maxListed)
}
