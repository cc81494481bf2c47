package restoreapi

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image/jpeg"
	"image/png"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A photo in, the restored photo out in each format: PNG by default, JPEG
// by Accept, JSON with every face's report and crops by ?format=; the
// settings come from the form over restore's defaults.
func TestRestoreFormats(t *testing.T) {
	fake := &fakeEngine{Faces: 2}
	_, srv := serve(t, testConfig(), fake)
	in := photoPNG(t, 40, 30)

	r := post(t, srv.URL+"/api/restore", in)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("PNG: %s", r)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(r.Body)); err != nil || cfg.Width != 80 || cfg.Height != 60 {
		t.Errorf("PNG answer: %+v, %v; want 80×60 (×2, restore's default upscale)", cfg, err)
	}
	if r.Header.Get("X-Faces-Found") != "2" || r.Header.Get("X-Faces-Restored") != "1" {
		t.Errorf("face headers: found %q restored %q, want 2 and 1", r.Header.Get("X-Faces-Found"), r.Header.Get("X-Faces-Restored"))
	}
	if got := fake.Calls()[0]; got != DefaultSettings() {
		t.Errorf("settings without any given: %+v, want restore's defaults %+v", got, DefaultSettings())
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/restore?upscale=1", bytes.NewReader(in))
	req.Header.Set("Accept", "image/jpeg")
	r = send(t, req)
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(r.Body)); r.Status != http.StatusOK || err != nil || cfg.Width != 40 {
		t.Errorf("JPEG by Accept, upscale 1: %s, %+v, %v", r, cfg, err)
	}

	r = postForm(t, srv.URL+"/api/restore", in, "format", "json", "steps", "7", "guidance", "0.2", "strength", "0.8", "eta", "0", "seed", "42", "upscale", "3")
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON: %s", r)
	}
	// low_band and mild_guidance are not in the form: they take restore's defaults.
	d := DefaultSettings()
	want := Settings{Steps: 7, Guidance: 0.2, MildGuidance: d.MildGuidance, Strength: 0.8, Eta: 0, LowBand: d.LowBand, Seed: 42, Upscale: 3}
	if got := fake.Calls()[2]; got != want {
		t.Errorf("settings from the form: %+v, want %+v", got, want)
	}
	var resp Response
	if err := json.Unmarshal(r.Body, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Width != 120 || resp.Height != 90 || resp.Settings != want || len(resp.Faces) != 2 {
		t.Fatalf("JSON answer: %d×%d, settings %+v, %d faces", resp.Width, resp.Height, resp.Settings, len(resp.Faces))
	}
	if w, h := dataURLSize(t, resp.Image); w != 120 || h != 90 {
		t.Errorf("the JSON's image is %d×%d, want 120×90", w, h)
	}
	f := resp.Faces[1]
	if f.Score != 0.9 || f.Identity != 0.97 || f.RewardAfter != 1.5 || f.Restored || f.Reason == "" {
		t.Errorf("face 2's report: %+v", f.Face)
	}
	for _, u := range []string{f.Crop, f.Restoration} {
		if w, h := dataURLSize(t, u); w != 128 || h != 128 {
			t.Errorf("a face image is %d×%d, want 128×128", w, h)
		}
	}
	// The report's field names are report.json's.
	for _, key := range []string{`"box"`, `"detection_score"`, `"reward_before"`, `"reward_after"`, `"identity"`, `"restored"`, `"crop"`, `"restoration"`} {
		if !bytes.Contains(r.Body, []byte(key)) {
			t.Errorf("the JSON has no %s", key)
		}
	}
}

// dataURLSize decodes a data:image/png;base64 URL and returns its size.
func dataURLSize(t *testing.T, u string) (w, h int) {
	t.Helper()
	b64, ok := strings.CutPrefix(u, "data:image/png;base64,")
	if !ok {
		t.Fatalf("not a PNG data URL: %.40s", u)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

// pixelBomb is a valid PNG header that claims w×h pixels, with one tiny
// IDAT: what decoding would allocate, the header alone says.
func pixelBomb(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		b = append(b, typ...)
		b = append(b, data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, chunk("IHDR", ihdr)...)
	b = append(b, chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(b, chunk("IEND", nil)...)
}

// Bad input over HTTP: each gets its status and a message that says what
// was wrong, those refused before a worker never reach the engine, and
// the server answers normally afterwards.
func TestBadInput(t *testing.T) {
	fake := &fakeEngine{Faces: 1}
	cfg := testConfig()
	var logged lockedBuffer
	cfg.Log = log.New(&logged, "", 0)
	_, srv := serve(t, cfg, fake)
	good := photoPNG(t, 40, 30)
	huge := bytes.Repeat([]byte{0}, int(cfg.MaxBody)+1)
	for _, c := range []struct {
		name   string
		send   func() reply
		status int
		says   string
	}{
		{"not an image", func() reply { return post(t, srv.URL+"/api/restore", []byte("hello, this is text")) }, 400, "unsupported format"},
		{"a GIF", func() reply { return post(t, srv.URL+"/api/restore", []byte("GIF89a\x01\x00\x01\x00")) }, 400, "GIF"},
		{"an empty body", func() reply { return post(t, srv.URL+"/api/restore", nil) }, 400, "no image"},
		{"a pixel bomb", func() reply { return post(t, srv.URL+"/api/restore", pixelBomb(50000, 50000)) }, 413, "2500000000 pixels"},
		{"above --max-pixels", func() reply { return post(t, srv.URL+"/api/restore", pixelBomb(300, 300)) }, 413, "90000 pixels, limit 65536"},
		{"a huge body, with its length", func() reply { return post(t, srv.URL+"/api/restore", huge) }, 413, "above this server's limit"},
		{"a huge body, chunked", func() reply {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/restore", bufio.NewReader(bytes.NewReader(huge)))
			req.ContentLength = -1 // no length: only reading finds it too large
			return send(t, req)
		}, 413, "above this server's limit"},
		{"a huge form", func() reply { return postForm(t, srv.URL+"/api/restore", huge) }, 413, "above this server's limit"},
		{"too large once upscaled", func() reply { return post(t, srv.URL+"/api/restore?upscale=4", photoPNG(t, 256, 256)) }, 413, "output limit"},
		{"steps above the limit", func() reply { return post(t, srv.URL+"/api/restore?steps=1000", good) }, 400, "limit 50"},
		{"a malformed setting", func() reply { return post(t, srv.URL+"/api/restore?guidance=lots", good) }, 400, `guidance="lots"`},
		{"a setting out of range", func() reply { return post(t, srv.URL+"/api/restore?strength=2", good) }, 400, "strength 2 outside"},
		{"an unknown format", func() reply { return post(t, srv.URL+"/api/restore?format=gif", good) }, 400, `format "gif"`},
		{"an unknown form field", func() reply { return postForm(t, srv.URL+"/api/restore", good, "stpes", "5") }, 400, `unknown form field "stpes"`},
		{"a GET", func() reply { return get(t, srv.URL+"/api/restore") }, 405, ""},
	} {
		r := c.send()
		if r.Status != c.status || !strings.Contains(r.Error(), c.says) {
			t.Errorf("%s: %s, want %d saying %q", c.name, r, c.status, c.says)
		}
		if c.status != 405 && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: the error is %q, not JSON", c.name, r.Header.Get("Content-Type"))
		}
	}
	if n := len(fake.Calls()); n != 0 {
		t.Errorf("the engine ran %d times on requests refused before it", n)
	}

	// A truncated image passes the header check and fails in the decoder,
	// on the worker: still a 400 that says so.
	r := post(t, srv.URL+"/api/restore", good[:len(good)/2])
	if r.Status != 400 || !strings.Contains(r.Error(), "truncated") {
		t.Errorf("a truncated PNG: %s", r)
	}

	// A photo the engine finds no face in, or too many: 422, its reason.
	fake.Err = fmt.Errorf("%w (1 detection(s) skipped: below the score threshold)", ErrNoFace)
	if r := post(t, srv.URL+"/api/restore", good); r.Status != 422 || !strings.Contains(r.Error(), "no face found") {
		t.Errorf("no face: %s", r)
	}
	fake.Err = fmt.Errorf("%w: 9 found, this server restores at most 8 per photo", ErrTooManyFaces)
	if r := post(t, srv.URL+"/api/restore", good); r.Status != 422 || !strings.Contains(r.Error(), "at most 8") {
		t.Errorf("too many faces: %s", r)
	}
	// An engine failure is 500 with a generic message: its error may name
	// the model's files, which only the log shows.
	fake.Err = fmt.Errorf("loading /srv/models/refl.safetensors: out of memory")
	if r := post(t, srv.URL+"/api/restore", good); r.Status != 500 || !strings.Contains(r.Error(), "restoring the photo failed") || strings.Contains(r.Error(), "/srv/models") {
		t.Errorf("an engine failure: %s", r)
	}
	if !strings.Contains(logged.String(), "/srv/models/refl.safetensors: out of memory") {
		t.Errorf("the engine's error is not in the log: %q", logged.String())
	}

	fake.Err = nil
	if r := post(t, srv.URL+"/api/restore", good); r.Status != 200 {
		t.Errorf("after the bad input, a good photo: %s", r)
	}
	if h := healthOf(t, srv.URL); h.Status != "ok" || h.Restoring != 0 || h.Waiting != 0 {
		t.Errorf("health after the bad input: %+v, want ok and idle", h)
	}
}

// A client that sends its headers and then too little of its body gets 408
// once the read timeout passes, and holds no place in the queue after.
func TestSlowClient(t *testing.T) {
	cfg := testConfig()
	cfg.ReadTimeout = 200 * time.Millisecond
	fake := &fakeEngine{Faces: 1}
	_, srv := serve(t, cfg, fake)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/restore HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 5000\r\n\r\n\x89PNG")
	// The rest never comes: the answer arrives by itself.
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(body.Error, "longer than 200ms") {
		t.Errorf("a slow body: %d %q, want 408 saying it was too slow", resp.StatusCode, body.Error)
	}
	waitFor(t, "the slow client's ticket to be given back", func() bool {
		h := healthOf(t, srv.URL)
		return h.Waiting == 0 && h.Restoring == 0
	})
	if r := post(t, srv.URL+"/api/restore", photoPNG(t, 8, 8)); r.Status != 200 {
		t.Errorf("after a slow client: %s", r)
	}
}

// With one worker and a queue of one, a third request at once is refused
// with 429 and Retry-After, and the two accepted ones are restored; the
// metrics show the queue while it is full.
func TestQueueLimit(t *testing.T) {
	g := newGate()
	fake := &fakeEngine{Faces: 1, gate: g}
	_, srv := serve(t, testConfig(), fake)
	in := photoPNG(t, 16, 16)

	answers := make(chan reply, 2)
	go func() { answers <- post(t, srv.URL+"/api/restore", in) }()
	<-g.started // the first is restoring
	go func() { answers <- post(t, srv.URL+"/api/restore", in) }()
	waitFor(t, "the second request to wait", func() bool { return healthOf(t, srv.URL).Waiting == 1 })

	r := post(t, srv.URL+"/api/restore", in)
	if r.Status != http.StatusTooManyRequests || !strings.Contains(r.Error(), "queue is full") {
		t.Errorf("a third request: %s, want 429", r)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want whole seconds ≥ 1", r.Header.Get("Retry-After"))
	}
	for prefix, want := range map[string]string{
		"facereward_restore_in_flight ":                          "1",
		"facereward_restore_queue_length ":                       "1",
		`facereward_restore_rejected_total{reason="queue_full"}`: "1",
	} {
		if line := metricLine(t, srv.URL, prefix); !strings.HasSuffix(line, " "+want) {
			t.Errorf("metrics: %q, want %s%s", line, prefix, want)
		}
	}

	g.release <- struct{}{}
	<-g.started // the second one's turn
	g.release <- struct{}{}
	for range 2 {
		if r := <-answers; r.Status != http.StatusOK {
			t.Errorf("an accepted request: %s", r)
		}
	}
	if n := len(fake.Calls()); n != 2 {
		t.Errorf("the engine ran %d times, want 2", n)
	}
}

// A request whose restore outlives --timeout gets 504, and so does one
// still waiting for the busy worker; the engine's slot stays taken until
// its restore ends, so the cap holds, and Drain waits for it.
func TestTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.Timeout = time.Second // the shortest Validate allows
	g := newGate()
	fake := &fakeEngine{Faces: 1, gate: g}
	h, srv := serve(t, cfg, fake)
	in := photoPNG(t, 16, 16)

	answers := make(chan reply, 2)
	go func() { answers <- post(t, srv.URL+"/api/restore", in) }()
	<-g.started
	go func() { answers <- post(t, srv.URL+"/api/restore", in) }()
	for range 2 {
		r := <-answers
		if r.Status != http.StatusGatewayTimeout || !strings.Contains(r.Error(), "timed out after 1s") {
			t.Errorf("a request past its timeout: %s, want 504", r)
		}
	}
	if hr := healthOf(t, srv.URL); hr.Restoring != 1 {
		t.Errorf("after the 504s: %+v, want the first restore still holding its worker", hr)
	}
	drained := h.Drain()
	select {
	case <-drained:
		t.Fatal("drained while a restore was running")
	default:
	}
	g.release <- struct{}{}
	<-drained
	if n := len(fake.Calls()); n != 1 {
		t.Errorf("the engine ran %d times, want 1 (the queued request timed out before its turn)", n)
	}
}

// With a token: the API and the page want it, health and metrics do not.
func TestToken(t *testing.T) {
	cfg := testConfig()
	cfg.Token = "s3cret"
	_, srv := serve(t, cfg, &fakeEngine{Faces: 1})
	in := photoPNG(t, 16, 16)
	withToken := func(tok string) reply {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/restore", bytes.NewReader(in))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		return send(t, req)
	}
	if r := withToken(""); r.Status != 401 || r.Header.Get("WWW-Authenticate") == "" || !strings.Contains(r.Error(), "token") {
		t.Errorf("no token: %s", r)
	}
	if r := withToken("s3creT"); r.Status != 401 {
		t.Errorf("a wrong token: %s", r)
	}
	if r := withToken("s3cret"); r.Status != 200 {
		t.Errorf("the token: %s", r)
	}
	if r := post(t, srv.URL+"/api/restore?token=s3cret", in); r.Status != 401 {
		t.Errorf("the API takes the token only as a header (a query ends up in logs): %s", r)
	}
	if r := get(t, srv.URL+"/restore"); r.Status != 401 {
		t.Errorf("the page without the token: %s", r)
	}
	if r := get(t, srv.URL+"/restore?token=s3cret"); r.Status != 200 || !strings.Contains(string(r.Body), "restore.js") {
		t.Errorf("the page with ?token=: %s", r)
	}
	for _, path := range []string{"/api/health", "/api/version", "/metrics", "/restore/static/restore.js"} {
		if r := get(t, srv.URL+path); r.Status != 200 {
			t.Errorf("%s without the token: %s", path, r)
		}
	}
}

// Drain: new requests get 503 with Retry-After and health says
// "draining", while the request already restoring finishes and is answered.
func TestDrain(t *testing.T) {
	g := newGate()
	h, srv := serve(t, testConfig(), &fakeEngine{Faces: 1, gate: g})
	in := photoPNG(t, 16, 16)
	answer := make(chan reply, 1)
	go func() { answer <- post(t, srv.URL+"/api/restore", in) }()
	<-g.started
	drained := h.Drain()
	if r := post(t, srv.URL+"/api/restore", in); r.Status != 503 || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Error(), "shutting down") {
		t.Errorf("a request while draining: %s", r)
	}
	if r := get(t, srv.URL+"/api/health"); r.Status != 503 || !strings.Contains(string(r.Body), `"draining"`) {
		t.Errorf("health while draining: %s", r)
	}
	g.release <- struct{}{}
	if r := <-answer; r.Status != 200 {
		t.Errorf("the request accepted before draining: %s", r)
	}
	<-drained
}

// /metrics is Prometheus text: requests by route and code, faces by
// outcome, and the Go runtime's figures (the load test reads them);
// /api/version gives the limits.
func TestMetricsAndVersion(t *testing.T) {
	_, srv := serve(t, testConfig(), &fakeEngine{Faces: 3})
	in := photoPNG(t, 16, 16)
	post(t, srv.URL+"/api/restore", in)
	post(t, srv.URL+"/api/restore", []byte("junk"))
	for prefix, want := range map[string]string{
		`facereward_http_requests_total{code="200",method="post",route="restore"}`: "1",
		`facereward_http_requests_total{code="400",method="post",route="restore"}`: "1",
		`facereward_faces_total{outcome="restored"}`:                               "2",
		`facereward_faces_total{outcome="kept"}`:                                   "1",
		`facereward_restore_duration_seconds_count`:                                "1",
		`facereward_restore_workers`:                                               "1",
	} {
		if line := metricLine(t, srv.URL, prefix); !strings.HasSuffix(line, " "+want) {
			t.Errorf("metrics: %q, want %s %s", line, prefix, want)
		}
	}
	for _, name := range []string{"go_goroutines ", "go_memstats_heap_alloc_bytes ", "facereward_http_request_duration_seconds_bucket"} {
		if metricLine(t, srv.URL, name) == "" {
			t.Errorf("metrics: no %s", name)
		}
	}
	var v versionResponse
	if err := json.Unmarshal(get(t, srv.URL+"/api/version").Body, &v); err != nil {
		t.Fatal(err)
	}
	if v.Version != "test" || v.Limits.MaxPixels != 256*256 || v.Limits.Workers != 1 || v.Defaults != DefaultSettings() {
		t.Errorf("version: %+v", v)
	}
}

// Config.Validate names the flag of each limit out of range.
func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("the defaults: %v", err)
	}
	for _, c := range []struct {
		change func(*Config)
		says   string
	}{
		{func(c *Config) { c.MaxBody = 10 }, "--max-body"},
		{func(c *Config) { c.MaxPixels = 1 << 40 }, "--max-pixels"},
		{func(c *Config) { c.MaxFaces = 0 }, "--max-faces"},
		{func(c *Config) { c.MaxSteps = 0 }, "--max-steps"},
		{func(c *Config) { c.Timeout = time.Millisecond }, "--timeout"},
		{func(c *Config) { c.Queue = -1 }, "--queue"},
		{func(c *Config) { c.MaxSteps = 10 }, "steps 20 above"},
	} {
		cfg := DefaultConfig()
		c.change(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: %v, want an error naming %s", cfg, err, c.says)
		}
	}
	if _, err := New(DefaultConfig(), nil); err == nil {
		t.Error("New without engines: no error")
	}
}

// lockedBuffer is a bytes.Buffer the server's log may write while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
