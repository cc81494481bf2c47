// Package restoreapi is facereward's restore service: a page where a
// person drops a photo and compares it with its restoration, and the
// HTTP API behind it. It keeps nothing between requests, so instances
// scale out behind any load balancer.
//
// Routes:
//
//	GET  /restore            the restore page (embedded; ?token= when the server has one)
//	GET  /restore/static/…   its script and style sheet
//	POST /api/restore        a photo in (the body, or the multipart field "image"),
//	                         the restored photo out: PNG, JPEG, or JSON with every
//	                         face's report and crops (?format=png|jpeg|json, or Accept)
//	GET  /api/health         "ok" (200) or "draining" (503), workers and queue
//	GET  /api/version        the build, the limits and the default settings
//	GET  /metrics            Prometheus text format: requests, latencies, queue, faces
//	GET  /debug/runtime      with Config.Debug only: goroutines and heap after a GC
//	GET  /debug/pprof/heap   with Config.Debug only: the heap profile
//
// Settings (steps, strength, guidance, mild_guidance, eta, low_band, seed,
// upscale) come as query parameters or form fields; restore's defaults
// stand for those missing.
//
// Limits (Config): a body above MaxBody or an image whose header says more
// than MaxPixels gets 413 before anything is decoded; a photo with no face
// or more than MaxFaces 422; at most one request per engine is restored at
// once and Queue more wait, the rest get 429 with Retry-After (503 while
// draining); a request unanswered after Timeout gets 504, a body slower
// than ReadTimeout 408; with a Token, a request without it 401. Errors are
// JSON {"error": "…"}. A failed restore or encoding is 500 with a generic
// message; the error itself, which may name model files, goes to
// Config.Log only.
//
// Served by `facereward serve`, the routes also sit behind server's Host
// allow-list and Origin check, and its connection time limits (derived
// from Timeout and ReadTimeout). The restore API reads no JSON body: its
// settings are query parameters or form fields, unknown ones refused.
package restoreapi
