package dataset

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The split every figure in the project uses (docs/design.md, conventions): train
// on FFHQ ids 01001–04799, validate on 04800–04999, never train on those.
const (
	TrainFirstID  = 1001
	TrainLastID   = 4799
	DevValFirstID = 4800
	DevValLastID  = 4999
)

// File is one image found under a folder.
type File struct {
	Path string // the root joined with Rel, ready to open
	Rel  string // slash-separated path below the root; what listings sort by
	ID   int    // see ParseID; -1 when the name holds no digits
}

// Folder is the sorted list of images under a root.
type Folder struct {
	Root  string
	Files []File
}

// imageExt reports whether a name has an image extension we read.
func imageExt(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".webp":
		return true
	}
	return false
}

// ParseID returns the first run of decimal digits in a file's base name,
// without its extension: 04800.png → 4800, 04800_lq.jpg → 4800,
// img_0042.png → 42. It returns -1 when there is no such run, or when the
// run is too long to be an id.
func ParseID(name string) int {
	base := path.Base(filepath.ToSlash(name))
	stem := strings.TrimSuffix(base, path.Ext(base))
	start := strings.IndexFunc(stem, isDigit)
	if start < 0 {
		return -1
	}
	end := start
	for end < len(stem) && isDigit(rune(stem[end])) {
		end++
	}
	if end-start > 9 {
		return -1
	}
	id, err := strconv.Atoi(stem[start:end])
	if err != nil {
		return -1
	}
	return id
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// Open lists every .png, .jpg, .jpeg and .webp file (any case) under root,
// recursively, sorted by relative path. Names starting with a dot are
// skipped, files and directories alike: they are editor and OS litter such
// as macOS's ._04800.png, not images. A root without images is an error,
// since it is almost always a wrong path.
func Open(root string) (*Folder, error) {
	var files []File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !imageExt(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files = append(files, File{Path: p, Rel: filepath.ToSlash(rel), ID: ParseID(d.Name())})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dataset: list %s: %w", root, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("dataset: %s: no .png, .jpg, .jpeg or .webp files", root)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Rel, b.Rel) })
	return &Folder{Root: root, Files: files}, nil
}

// Len is the number of files.
func (f *Folder) Len() int { return len(f.Files) }

// Filter returns the files for which keep is true, in the same order.
func (f *Folder) Filter(keep func(File) bool) *Folder {
	var out []File
	for _, file := range f.Files {
		if keep(file) {
			out = append(out, file)
		}
	}
	return &Folder{Root: f.Root, Files: out}
}

// IDRange is an inclusive range of ids.
type IDRange struct{ From, To int }

// Contains reports whether id lies in the range.
func (r IDRange) Contains(id int) bool { return id >= r.From && id <= r.To }

// TrainIDs and DevValIDs are the project's split.
func TrainIDs() IDRange  { return IDRange{TrainFirstID, TrainLastID} }
func DevValIDs() IDRange { return IDRange{DevValFirstID, DevValLastID} }

// SplitIDs names a split: "train", or "devval" (also "dev-val").
func SplitIDs(name string) (IDRange, error) {
	switch name {
	case "train":
		return TrainIDs(), nil
	case "devval", "dev-val":
		return DevValIDs(), nil
	}
	return IDRange{}, fmt.Errorf("dataset: unknown split %q (want train or devval)", name)
}

// InRange keeps the files whose id is in r; files without an id are dropped.
func (f *Folder) InRange(r IDRange) *Folder {
	return f.Filter(func(file File) bool { return file.ID >= 0 && r.Contains(file.ID) })
}

// Split keeps the files of a named split (see SplitIDs).
func (f *Folder) Split(name string) (*Folder, error) {
	r, err := SplitIDs(name)
	if err != nil {
		return nil, err
	}
	return f.InRange(r), nil
}

// List is a parsed list file: ids and file names, in the order given.
type List struct {
	Entries []string
}

// ReadList reads a list file: one id (04800) or file name (04800.png,
// sub/x.jpg) per line; blank lines and everything after a # are ignored.
func ReadList(path string) (List, error) {
	f, err := os.Open(path)
	if err != nil {
		return List{}, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	return ParseList(f, path)
}

// ParseList parses list-file text from r; name is used in errors.
func ParseList(r io.Reader, name string) (List, error) {
	var l List
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		text, _, _ := strings.Cut(sc.Text(), "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		l.Entries = append(l.Entries, filepath.ToSlash(text))
	}
	if err := sc.Err(); err != nil {
		return List{}, fmt.Errorf("dataset: read %s: %w", name, err)
	}
	return l, nil
}

// isID reports whether a list entry is an id rather than a name.
func isID(entry string) (int, bool) {
	for _, r := range entry {
		if !isDigit(r) {
			return 0, false
		}
	}
	id, err := strconv.Atoi(entry)
	return id, err == nil
}

// InList keeps the files the list names, in folder order. An all-digit
// entry matches a file's id; any other entry matches a file's relative
// path, its base name, or its base name without extension. missing holds
// the entries that matched nothing, for the caller to report or refuse.
func (f *Folder) InList(l List) (kept *Folder, missing []string) {
	ids := map[int]bool{}
	names := map[string]bool{}
	for _, e := range l.Entries {
		if id, ok := isID(e); ok {
			ids[id] = true
		} else {
			names[e] = true
		}
	}
	matched := map[string]bool{}
	kept = f.Filter(func(file File) bool {
		base := path.Base(file.Rel)
		stem := strings.TrimSuffix(base, path.Ext(base))
		hit := false
		if file.ID >= 0 && ids[file.ID] {
			matched[strconv.Itoa(file.ID)] = true
			hit = true
		}
		for _, n := range []string{file.Rel, base, stem} {
			if names[n] {
				matched[n] = true
				hit = true
			}
		}
		return hit
	})
	for _, e := range l.Entries {
		key := e
		if id, ok := isID(e); ok {
			key = strconv.Itoa(id)
		}
		if !matched[key] {
			missing = append(missing, e)
		}
	}
	return kept, missing
}
