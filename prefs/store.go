package prefs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"facereward/atomicfile"
)

// Ref names an image by its content: "sha256:" and the hex digest of its
// PNG bytes. The same image stored twice is one file.
type Ref string

const refPrefix = "sha256:"

// Validate checks r's form.
func (r Ref) Validate() error {
	h, ok := strings.CutPrefix(string(r), refPrefix)
	if !ok || len(h) != 64 {
		return fmt.Errorf("image reference %q: want sha256: and 64 hex digits", string(r))
	}
	if _, err := hex.DecodeString(h); err != nil || strings.ToLower(h) != h {
		return fmt.Errorf("image reference %q: want lower-case hex digits", string(r))
	}
	return nil
}

// Store keeps images under Dir as ab/abcdef….png, named by their digest.
type Store struct{ Dir string }

// path is where r lives; r must be valid.
func (s Store) path(r Ref) string {
	h := strings.TrimPrefix(string(r), refPrefix)
	return filepath.Join(s.Dir, h[:2], h+".png")
}

// Put stores PNG bytes and returns their reference; storing an image that
// is already there writes nothing.
func (s Store) Put(png []byte) (Ref, error) {
	sum := sha256.Sum256(png)
	r := Ref(refPrefix + hex.EncodeToString(sum[:]))
	p := s.path(r)
	if _, err := os.Stat(p); err == nil {
		return r, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("prefs: image store: %w", err)
	}
	if err := atomicfile.Write(p, func(w io.Writer) error { _, err := w.Write(png); return err }); err != nil {
		return "", fmt.Errorf("prefs: image store: %w", err)
	}
	return r, nil
}

// Path returns the file of a stored image, or an error naming the
// reference when it is malformed or not in the store.
func (s Store) Path(r Ref) (string, error) {
	if err := r.Validate(); err != nil {
		return "", err
	}
	p := s.path(r)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("image %s is not in the store %s", r, s.Dir)
		}
		return "", err
	}
	return p, nil
}

// CheckImages reports the first of p's images that is not in the store,
// naming the pair, the image's role and its reference.
func (s Store) CheckImages(p Pair) error {
	for _, r := range p.images() {
		if _, err := s.Path(r.ref); err != nil {
			return fmt.Errorf("pair %s: %s image: %w", p.ID, r.what, err)
		}
	}
	return nil
}
