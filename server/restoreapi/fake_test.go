package restoreapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"facereward/photo"
	"facereward/tensor"
)

// fakeEngine stands in for the model: it returns the photo upscaled by
// nearest neighbour with Faces fake faces, or Err; with a gate, each call
// says it started and waits until the test lets it go on.
type fakeEngine struct {
	Faces int
	Err   error
	gate  *gate

	mu    sync.Mutex
	calls []Settings
}

// gate holds each Restore until the test releases one.
type gate struct {
	started chan Settings
	release chan struct{}
}

func newGate() *gate { return &gate{started: make(chan Settings, 16), release: make(chan struct{})} }

func (f *fakeEngine) Restore(ctx context.Context, img *tensor.Tensor, s Settings) (*photo.PhotoResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
	if f.gate != nil {
		f.gate.started <- s
		<-f.gate.release
	}
	if f.Err != nil {
		return nil, f.Err
	}
	h, w := img.Shape[0], img.Shape[1]
	out := tensor.New(h*s.Upscale, w*s.Upscale, 3)
	for y := range h * s.Upscale {
		for x := range w * s.Upscale {
			copy(out.Data[(y*w*s.Upscale+x)*3:][:3], img.Data[((y/s.Upscale)*w+x/s.Upscale)*3:])
		}
	}
	res := &photo.PhotoResult{Image: out}
	for i := range f.Faces {
		crop, restored := tensor.New(128, 128, 3), tensor.New(128, 128, 3)
		for j := range restored.Data {
			crop.Data[j], restored.Data[j] = 0.3, 0.6
		}
		res.Faces = append(res.Faces, photo.Face{Box: [3]float32{float32(10 * i), 20, 64}, Score: 0.9, Side: 128 * s.Upscale,
			RewardBefore: -1, RewardAfter: 1.5, Identity: 0.97, Scored: true, Restored: i%2 == 0, Reason: map[bool]string{true: "", false: "the reward model prefers the input face"}[i%2 == 0]})
		res.Crops, res.Restored = append(res.Crops, crop), append(res.Restored, restored)
	}
	return res, nil
}

func (f *fakeEngine) Calls() []Settings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Settings(nil), f.calls...)
}

// testConfig is DefaultConfig with limits small enough to reach in a test.
func testConfig() Config {
	c := DefaultConfig()
	c.MaxBody = 64 << 10
	c.MaxPixels = 256 * 256
	c.Timeout = time.Minute
	c.ReadTimeout = 10 * time.Second
	c.Queue = 1
	c.Version = "test"
	return c
}

// serve starts a server of cfg with engines, closed at the test's end.
func serve(t *testing.T, cfg Config, engines ...Engine) (*Handler, *httptest.Server) {
	t.Helper()
	h, err := New(cfg, engines)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

// photoPNG is a w×h PNG of a gradient.
func photoPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// reply is a response read whole.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Error is the body's "error", or "" when there is none.
func (r reply) Error() string {
	var e struct{ Error string }
	_ = json.Unmarshal(r.Body, &e)
	return e.Error
}

func (r reply) String() string {
	body := string(r.Body)
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	return fmt.Sprintf("%d %s", r.Status, body)
}

func send(t testing.TB, req *http.Request) reply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL, err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

// post posts body to url as it is.
func post(t testing.TB, url string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "image/png")
	return send(t, req)
}

// postForm posts a multipart form: the photo as "image", then fields.
func postForm(t testing.TB, url string, photo []byte, fields ...string) reply {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("image", "photo.png")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(photo)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, url, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return send(t, req)
}

func get(t testing.TB, url string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, req)
}

// waitFor polls cond until it holds; the deadline only stops a test that
// would hang, it is not a timing assertion.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
	}
}

// healthOf reads GET /api/health.
func healthOf(t testing.TB, base string) healthResponse {
	t.Helper()
	r := get(t, base+"/api/health")
	var h healthResponse
	if err := json.Unmarshal(r.Body, &h); err != nil {
		t.Fatalf("health: %v: %s", err, r)
	}
	return h
}

// metricLine returns the /metrics line that starts with prefix.
func metricLine(t testing.TB, base, prefix string) string {
	t.Helper()
	for _, line := range strings.Split(string(get(t, base+"/metrics").Body), "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}
