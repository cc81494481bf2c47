package server

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPageURL(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080/annotate",
		"0.0.0.0:80":     "http://localhost:80/annotate",
		"[::]:9000":      "http://localhost:9000/annotate",
		"[::1]:9000":     "http://[::1]:9000/annotate",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := pageURL(a); got != want {
			t.Errorf("pageURL(%s) = %s, want %s", addr, got, want)
		}
	}
}

// Serve answers on the address it prints until its context is done, then
// stops cleanly; a missing store is an error that leaves no database
// behind.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "prefs.db")
	if err := Serve(context.Background(), dbPath, filepath.Join(dir, "missing"), "127.0.0.1:0", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing store: %v", err)
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a serve that could not run left %s behind: %v", dbPath, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, dbPath, dir, "127.0.0.1:0", out) }()
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, rest, ok := strings.Cut(out.String(), "serve: open "); ok {
			url, _, _ = strings.Cut(rest, " ")
		}
	}
	if url == "" {
		t.Fatalf("no address printed: %q", out.String())
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", url, resp.Status)
	}
	cancel()
	if err := <-done; err != nil || !strings.Contains(out.String(), "serve: stopped") {
		t.Errorf("stop: %v, output %q", err, out.String())
	}
}

// syncBuffer is a bytes.Buffer that Serve may write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
