package restoreapi

import (
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"strings"

	"facereward/server/httpjson"
)

//go:embed static
var staticFiles embed.FS

// Handler serves the restore page and API. Its work is bounded by its
// Config and the engines it was given; Drain stops it taking new work.
type Handler struct {
	cfg Config
	q   *queue
	m   *metrics
	mux *http.ServeMux
}

// New returns the handler of cfg's limits that restores with engines, one
// request per engine at a time: len(engines) is the number of workers.
func New(cfg Config, engines []Engine) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("restoreapi: %w", err)
	}
	if len(engines) == 0 {
		return nil, errors.New("restoreapi: no engines: at least one worker is needed")
	}
	if cfg.Log == nil {
		cfg.Log = log.New(os.Stderr, "restoreapi: ", log.LstdFlags)
	}
	q := newQueue(engines, cfg.Queue)
	h := &Handler{cfg: cfg, q: q, m: newMetrics(q), mux: http.NewServeMux()}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	route := func(pattern, name string, f http.HandlerFunc) {
		h.mux.Handle(pattern, h.m.instrument(name, f))
	}
	route("GET /restore", "page", func(w http.ResponseWriter, r *http.Request) {
		if !h.authorized(r, true) {
			httpjson.Error(w, http.StatusUnauthorized, "this server needs its token: open /restore?token=TOKEN")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFileFS(w, r, static, "restore.html")
	})
	h.mux.Handle("GET /restore/static/", http.StripPrefix("/restore/static/", http.FileServerFS(static)))
	route("POST /api/restore", "restore", h.restore)
	route("GET /api/health", "health", h.health)
	route("GET /api/version", "version", h.version)
	h.mux.Handle("GET /metrics", h.m.handler())
	if cfg.Debug {
		h.mux.HandleFunc("GET /debug/runtime", debugRuntime)
		h.mux.Handle("GET /debug/pprof/heap", pprof.Handler("heap"))
	}
	return h, nil
}

// ServeHTTP serves the routes of the package documentation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Register adds the handler's routes to mux, for a server that serves
// other pages too.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, p := range []string{"/restore", "/restore/", "/api/restore", "/api/health", "/api/version", "/metrics", "/debug/"} {
		mux.Handle(p, h)
	}
}

// Admitted is how many restore requests the handler holds: being read,
// waiting for a worker or being restored.
func (h *Handler) Admitted() int {
	admitted, _ := h.q.stats()
	return admitted
}

// Drain refuses new restore requests (503 with Retry-After; /api/health
// says "draining", so a load balancer sends no more) and returns a
// channel closed once every admitted request is answered and its engine
// idle: a restore that outlived its request's timeout included.
func (h *Handler) Drain() <-chan struct{} { return h.q.drain() }

// authorized checks the bearer token, when the server has one; the page
// may also carry it as ?token=, since a browser cannot add a header to a
// link it follows.
func (h *Handler) authorized(r *http.Request, allowQuery bool) bool {
	if h.cfg.Token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok && allowQuery {
		got, ok = r.URL.Query().Get("token"), true
	}
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(h.cfg.Token)) == 1
}

// healthResponse is GET /api/health's answer; the page shows Waiting as
// the queue ahead of a request it sent.
type healthResponse struct {
	Status    string `json:"status"` // "ok", or "draining" (with 503)
	Workers   int    `json:"workers"`
	Queue     int    `json:"queue"`
	Restoring int    `json:"restoring"`
	Waiting   int    `json:"waiting"`
}

func (h *Handler) health(w http.ResponseWriter, r *http.Request) {
	admitted, busy := h.q.stats()
	resp := healthResponse{Status: "ok", Workers: h.q.workers, Queue: h.q.waiting, Restoring: busy, Waiting: admitted - busy}
	status := http.StatusOK
	if h.q.isDraining() {
		resp.Status, status = "draining", http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, status, resp)
}

// versionResponse is GET /api/version's answer: what a client needs to
// know which build answered, and the limits it will meet.
type versionResponse struct {
	Version   string   `json:"version"`
	Go        string   `json:"go"`
	Limits    limits   `json:"limits"`
	Defaults  Settings `json:"defaults"`
	TokenUsed bool     `json:"token_required"`
}

type limits struct {
	MaxBody        int64   `json:"max_body_bytes"`
	MaxPixels      int64   `json:"max_pixels"`
	MaxOutput      int64   `json:"max_output_pixels"`
	MaxFaces       int     `json:"max_faces"`
	MaxSteps       int     `json:"max_steps"`
	MaxUpscale     int     `json:"max_upscale"`
	TimeoutSeconds float64 `json:"timeout_seconds"`
	Workers        int     `json:"workers"`
	Queue          int     `json:"queue"`
}

func (h *Handler) version(w http.ResponseWriter, r *http.Request) {
	c := h.cfg
	httpjson.Write(w, http.StatusOK, versionResponse{
		Version: c.Version, Go: runtime.Version(), Defaults: c.Defaults, TokenUsed: c.Token != "",
		Limits: limits{MaxBody: c.MaxBody, MaxPixels: c.MaxPixels, MaxOutput: OutputPixelFactor * c.MaxPixels, MaxFaces: c.MaxFaces,
			MaxSteps: c.MaxSteps, MaxUpscale: MaxUpscale, TimeoutSeconds: c.Timeout.Seconds(), Workers: h.q.workers, Queue: c.Queue},
	})
}

// RuntimeStats is GET /debug/runtime's answer, measured after garbage
// collection so that two readings compare what is live.
type RuntimeStats struct {
	Goroutines  int    `json:"goroutines"`
	HeapAlloc   uint64 `json:"heap_alloc_bytes"`
	HeapInuse   uint64 `json:"heap_inuse_bytes"`
	HeapObjects uint64 `json:"heap_objects"`
}

func debugRuntime(w http.ResponseWriter, r *http.Request) {
	// Twice: the engine's sync.Pools (convolution and GEMM scratch) keep
	// what one collection frees in their victim caches until the next.
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	httpjson.Write(w, http.StatusOK, RuntimeStats{Goroutines: runtime.NumGoroutine(), HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, HeapObjects: ms.HeapObjects})
}

// refuse answers a request the queue did not admit: 429 when it is full,
// 503 while draining, both with Retry-After.
func (h *Handler) refuse(w http.ResponseWriter, err error) {
	status, reason := http.StatusTooManyRequests, "queue_full"
	msg := fmt.Sprintf("%v (%d restoring, %d waiting): try again later", err, h.q.workers, h.q.waiting)
	if errors.Is(err, errDraining) {
		status, reason, msg = http.StatusServiceUnavailable, "shutting_down", "the server is shutting down: try another instance or later"
	}
	h.m.rejected.WithLabelValues(reason).Inc()
	w.Header().Set("Retry-After", strconv.Itoa(h.q.retryAfter()))
	httpjson.Error(w, status, msg)
}
