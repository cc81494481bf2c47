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

	"facereward/server/restoreapi"
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
		if got := pageURL(a, "/annotate"); got != want {
			t.Errorf("pageURL(%s) = %s, want %s", addr, got, want)
		}
	}
}

// Only loopback addresses, unless public is set.
func TestCheckBind(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true, "127.0.0.2:80": true, "localhost:0": true, "[::1]:9000": true,
		":8080": false, "0.0.0.0:8080": false, "192.0.2.7:80": false, "example.org:80": false,
	} {
		err := checkBind(addr, false)
		if (err == nil) != ok {
			t.Errorf("checkBind(%q, false): %v", addr, err)
		}
		if err != nil && !strings.Contains(err.Error(), "--public") {
			t.Errorf("checkBind(%q, false) does not say how to allow it: %v", addr, err)
		}
		if err := checkBind(addr, true); err != nil {
			t.Errorf("checkBind(%q, true): %v", addr, err)
		}
	}
	for _, addr := range []string{"8080", "127.0.0.1:http", "127.0.0.1:70000"} {
		if err := checkBind(addr, true); err == nil {
			t.Errorf("checkBind(%q): no error", addr)
		}
	}
}

// testOptions serves on a free loopback port with fake engines.
func testOptions(engine func() (restoreapi.Engine, error)) Options {
	return Options{Addr: "127.0.0.1:0", Restore: restoreapi.DefaultConfig(), Workers: 1, NewEngine: engine}
}

// startServe runs Serve until the returned cancel, and returns the
// address it printed for page.
func startServe(t *testing.T, o Options, page string) (base string, out *syncBuffer, cancel func(), done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, o, out) }()
	var url string
	for deadline := time.Now().Add(30 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, line := range strings.Split(out.String(), "\n") {
			if i := strings.Index(line, "http://"); i >= 0 {
				if u, _, _ := strings.Cut(line[i:], " "); strings.HasSuffix(u, page) {
					url = strings.TrimSuffix(u, page)
				}
			}
		}
		select {
		case err := <-errc:
			cancel()
			t.Fatalf("Serve returned %v before printing %s: %q", err, page, out.String())
		default:
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("no address of %s printed: %q", page, out.String())
	}
	return url, out, cancel, errc
}

// Serve answers on the address it prints until its context is done, then
// stops cleanly; with --db and --store it serves the annotation page
// beside the restore page, without them the restore page alone; a missing
// store is an error that leaves no database behind.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "prefs.db")
	fake := func() (restoreapi.Engine, error) { return nil, errors.New("no engine in this test") }
	o := testOptions(fake)
	o.DB, o.Store = dbPath, filepath.Join(dir, "missing")
	if err := Serve(context.Background(), o, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing store: %v", err)
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a serve that could not run left %s behind: %v", dbPath, err)
	}
	o.Store = dir
	if err := Serve(context.Background(), o, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "no engine in this test") {
		t.Errorf("an engine that cannot load: %v", err)
	}

	o.NewEngine = func() (restoreapi.Engine, error) { return restoreapi.Engine(nil), nil }
	for _, annotate := range []bool{true, false} {
		o := o
		if !annotate {
			o.DB, o.Store = "", ""
		}
		base, out, cancel, done := startServe(t, o, "/restore")
		want := map[string]int{"/restore": 200, "/api/health": 200, "/metrics": 200, "/annotate": 404, "/api/next?judge=a": 404}
		if annotate {
			want["/annotate"], want["/api/next?judge=a"] = 200, 200
		}
		for path, status := range want {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != status {
				t.Errorf("annotation %v: GET %s: %s, want %d", annotate, path, resp.Status, status)
			}
		}
		// "/" leads to the annotation page when there is one.
		resp, err := http.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if wantPath := map[bool]string{true: "/annotate", false: "/restore"}[annotate]; resp.Request.URL.Path != wantPath {
			t.Errorf("annotation %v: / leads to %s, want %s", annotate, resp.Request.URL.Path, wantPath)
		}
		cancel()
		if err := <-done; err != nil || !strings.Contains(out.String(), "serve: stopped") {
			t.Errorf("stop: %v, output %q", err, out.String())
		}
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
