package server

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"facereward/photo"
	"facereward/server/restoreapi"
	"facereward/tensor"
)

// heldEngine returns its input as the restored photo, once the test lets
// each call go on.
type heldEngine struct {
	started chan struct{}
	release chan struct{}
}

func (e heldEngine) Restore(ctx context.Context, img *tensor.Tensor, s restoreapi.Settings) (*photo.PhotoResult, error) {
	e.started <- struct{}{}
	<-e.release
	return &photo.PhotoResult{Image: img}, nil
}

// Graceful shutdown: once Serve's context is done, new connections are
// refused, while the request being restored and the one queued behind it
// are both finished and answered; then Serve returns.
func TestServeShutdownFinishesAcceptedWork(t *testing.T) {
	e := heldEngine{started: make(chan struct{}, 2), release: make(chan struct{})}
	o := testOptions(func() (restoreapi.Engine, error) { return e, nil })
	o.Restore.Queue = 1
	base, out, cancel, done := startServe(t, o, "/restore")
	defer cancel()

	img := image.NewGray(image.Rect(0, 0, 8, 8))
	var photoPNG bytes.Buffer
	png.Encode(&photoPNG, img)
	type result struct {
		status int
		body   []byte
		err    error
	}
	post := func() result {
		resp, err := http.Post(base+"/api/restore", "image/png", bytes.NewReader(photoPNG.Bytes()))
		if err != nil {
			return result{err: err}
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return result{resp.StatusCode, b, err}
	}
	health := func() string {
		resp, err := http.Get(base + "/api/health")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}

	answers := make(chan result, 2)
	go func() { answers <- post() }()
	<-e.started // the first is restoring
	go func() { answers <- post() }()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(health(), `"waiting":1`); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the second request never queued: %s", health())
		}
	}

	cancel() // shutdown begins with both requests accepted
	// Shutdown starts on Serve's goroutine: until the queue drains, a
	// request finds it full (429), which is right. Once health says
	// "draining" (or nothing listens), a new client gets no restore: a
	// 503 while the listener is still closing, then no connection at all.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		if h := health(); strings.Contains(h, `"draining"`) || !strings.HasPrefix(h, "{") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not draining 30 s after shutdown began: %s", health())
		}
	}
	noKeepAlive := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still listening 30 s after shutdown began")
		}
		resp, err := noKeepAlive.Post(base+"/api/restore", "image/png", bytes.NewReader(photoPNG.Bytes()))
		if err != nil {
			// Reset or EOF: a connection in the backlog as the listener
			// closed, dropped with no answer (which one the client sees
			// depends on how far its request got); no restore either way.
			if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				continue
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("a request during shutdown: %v, want connection refused", err)
			}
			break
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("a request during shutdown: %s, want 503 or no connection", resp.Status)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) with accepted work unfinished", err)
	default:
	}

	e.release <- struct{}{}
	<-e.started // the queued one gets its turn after shutdown began
	e.release <- struct{}{}
	for range 2 {
		r := <-answers
		if r.err != nil || r.status != http.StatusOK {
			t.Errorf("accepted before shutdown: %d %s %v, want 200", r.status, r.body, r.err)
		} else if _, err := png.Decode(bytes.NewReader(r.body)); err != nil {
			t.Errorf("accepted before shutdown: the answer is not a PNG: %v", err)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if s := out.String(); !strings.Contains(s, "finishing 2 accepted restore requests") || !strings.Contains(s, "serve: stopped") {
		t.Errorf("Serve's output: %q", s)
	}
}
