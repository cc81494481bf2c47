package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// Missing or out-of-range flags are errors that name them, before any
// database is opened.
func TestPrefsLabelFlags(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "prefs.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--db", dsn}, "--db and --store are required"},
		{[]string{"--store", t.TempDir()}, "--db and --store are required"},
		{[]string{"--db", dsn, "--store", t.TempDir(), "--folds", "1"}, "--folds 1"},
		{[]string{"--db", dsn, "--store", t.TempDir(), "--threshold", "-1"}, "want threshold ≥ 0"},
	} {
		err := prefsLabel(c.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("prefs label %q: %v, want an error saying %q", c.args, err, c.want)
		}
	}
}
