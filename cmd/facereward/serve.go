package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"facereward/server"
	"facereward/server/restoreapi"
)

// serveHelp is what serve --help says above the flags.
const serveHelp = `
Serves the restore page, /restore: drop a photo, watch it wait and
restore, then compare it with the result (a slider between them), see each
face's crop, scores and identity check, and download the result. Its API:
POST /api/restore (a photo in; PNG, JPEG, or JSON with every face's report),
GET /api/health, GET /api/version, and GET /metrics (Prometheus). The page is
built into the binary and needs no network beyond this server.

With --db and --store, also the annotation page, /annotate, where people
judge pairs of restorations: the degraded face on top, its two candidates
side by side in random order, ←/A or →/L for the better one, T for a tie,
S to skip. Each verdict is stored the moment it is given, and the page
offers the judgements as JSONL. Without them, there is no /annotate.

Limits keep the server alive: a body over --max-body or an image over
--max-pixels is refused (413) before it is decoded, a photo with no face or
more than --max-faces gets 422, --workers photos are restored at once and
--queue more wait (the rest get 429 with Retry-After), a request
unanswered after --timeout gets 504. The server keeps nothing between
requests: run several behind a load balancer to scale out. It listens on
this machine only unless --public; --token (or $FACEREWARD_TOKEN) then
guards /restore and /api/restore (not the annotation page). On Ctrl-C or
SIGTERM it stops listening and finishes the work it accepted.

Against DNS rebinding and other web pages: it answers only requests for
localhost or a loopback IP (with --public, also the --addr host and each
--allow-host); others get 421. A POST, PUT or DELETE whose Origin header
names another host gets 403; requests without Origin (curl, scripts) pass.
Every connection is bounded in time (headers, body: --read-timeout,
answer, idle). Errors tell clients the status and a plain message; the
database's and the store's paths go to standard error only.`

func runServe(args []string, stdout io.Writer) error {
	fs := newFlags("serve", "serve [--addr HOST:PORT] [--db DSN --store DIR] [flags]", serveHelp, stdout)
	c := restoreapi.DefaultConfig()
	o := server.Options{Workers: 1}
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "`host:port` to listen on; a host other than a loopback address needs --public")
	fs.BoolVar(&o.Public, "public", false, "allow --addr beyond this machine (such as :8080 or 0.0.0.0:8080)")
	fs.Func("allow-host", "with --public: a `host` name (or IP) clients may use to reach the server, besides\nlocalhost and the --addr host; repeat for several", func(h string) error {
		o.AllowHosts = append(o.AllowHosts, h)
		return nil
	})
	fs.StringVar(&c.Token, "token", os.Getenv("FACEREWARD_TOKEN"), "bearer token that /api/restore and /restore require (default $FACEREWARD_TOKEN; none: open)")
	fs.StringVar(&o.DB, "db", "", "with --store: the preference database of the annotation page, a SQLite file or a\npostgres:// URL")
	fs.StringVar(&o.Store, "store", "", "with --db: the image store that holds the pairs' images")
	fs.StringVar(&o.Model, "model", "", "restorer: model directory, or builtin:refl (the default) or builtin:base")
	fs.IntVar(&o.Workers, "workers", o.Workers, fmt.Sprintf("photos restored at once, in [1, %d]; each worker loads its own model", server.MaxWorkers))
	fs.IntVar(&c.Queue, "queue", c.Queue, "requests that may wait for a worker, in [0, 1000]; more get 429")
	fs.Int64Var(&c.MaxBody, "max-body", c.MaxBody, "largest request body in bytes, in [1024, 1073741824]")
	fs.Int64Var(&c.MaxPixels, "max-pixels", c.MaxPixels, fmt.Sprintf("largest input image, width×height, in [4096, 67108864]; the output may have %d times\nas many (upscale is refused beyond)", restoreapi.OutputPixelFactor))
	fs.IntVar(&c.MaxFaces, "max-faces", c.MaxFaces, "most faces restored in one photo, in [1, 100]")
	fs.IntVar(&c.MaxSteps, "max-steps", c.MaxSteps, "most sampler steps a request may ask for, in [1, 1000] (a restore cannot be\ninterrupted, so its cost is bounded here)")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "time from a request's body to its answer, waiting included, in [1s, 1h]")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", c.ReadTimeout, "time a client has to send its photo (> 0); also bounds every other request")
	fs.BoolVar(&c.Debug, "debug", false, "serve GET /debug/runtime: goroutines and heap after a garbage collection (the\nload test's growth check)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q (see --help)", fs.Arg(0))
	}
	c.Version = version
	o.Restore = c
	if err := o.Validate(); err != nil {
		return fmt.Errorf("serve: %w (see --help)", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return server.Serve(ctx, o, stdout)
}
