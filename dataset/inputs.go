package dataset

import (
	"os"
	"path/filepath"
)

// Inputs expands the files and folders a command is given into image
// files, in the order given: a folder into its images (as Open lists
// them), a file into itself, named by its base name.
func Inputs(paths []string) ([]File, error) {
	var files []File
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, File{Path: p, Rel: filepath.Base(p), ID: ParseID(filepath.Base(p))})
			continue
		}
		f, err := Open(p)
		if err != nil {
			return nil, err
		}
		files = append(files, f.Files...)
	}
	return files, nil
}
