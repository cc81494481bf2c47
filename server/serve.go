package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"facereward/photo"
	"facereward/prefs"
	"facereward/server/restoreapi"
)

// Options are what Serve serves and how.
type Options struct {
	// Addr is host:port to listen on. A host other than a loopback address
	// needs Public: binding elsewhere exposes the server to the network.
	Addr   string
	Public bool
	// AllowHosts are host names (--allow-host) the server answers to
	// besides localhost and the loopback IPs, with Public only; the host
	// of Addr is allowed too. Requests for any other Host get 421, and
	// writes from a page of any other Origin 403 (DNS rebinding).
	AllowHosts []string
	// DB (a preference database, as prefs.Open takes) and Store (its image
	// folder), given together, add the annotation page and its API; with
	// neither only the restore service is served.
	DB, Store string
	// Restore holds the restore service's limits; Workers is how many
	// photos it restores at once, each worker with a model of its own.
	Restore restoreapi.Config
	Workers int
	// Model is the restorer of the photo pipeline (photo.Options.Model).
	// NewEngine, when set, makes each worker's engine instead (tests).
	Model     string
	NewEngine func() (restoreapi.Engine, error)
}

// MaxWorkers bounds Options.Workers: each worker holds a model and one
// photo's tensors.
const MaxWorkers = 64

// Validate checks everything that can be checked before loading a model
// or opening a database.
func (o Options) Validate() error {
	if err := o.Restore.Validate(); err != nil {
		return err
	}
	switch {
	case o.Workers < 1 || o.Workers > MaxWorkers:
		return fmt.Errorf("--workers %d outside [1, %d]", o.Workers, MaxWorkers)
	case (o.DB == "") != (o.Store == ""):
		return errors.New("--db and --store go together: both for the annotation page, neither for restore alone")
	}
	if o.Store != "" {
		if st, err := os.Stat(o.Store); err != nil {
			return fmt.Errorf("image store: %w", err)
		} else if !st.IsDir() {
			return fmt.Errorf("image store %s is not a directory", o.Store)
		}
	}
	if len(o.AllowHosts) > 0 && !o.Public {
		return errors.New("--allow-host needs --public: a server on this machine only answers to localhost")
	}
	for _, h := range o.AllowHosts {
		if h == "" || (strings.ContainsAny(h, ":/ ") && net.ParseIP(normalHost(h)) == nil) {
			return fmt.Errorf("--allow-host %q: want a host name or IP address, without a port", h)
		}
	}
	return checkBind(o.Addr, o.Public)
}

// checkBind refuses an address beyond this machine unless public is set.
// A host name other than localhost counts as beyond: it may resolve to
// any interface.
func checkBind(addr string, public bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("--addr %q: port %q is not in [0, 65535]", addr, port)
	}
	if public {
		return nil
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("--addr %q listens beyond this machine: add --public to mean it (and consider --token)", addr)
}

// Serve serves the restore page and API, and the annotation page when
// o.DB and o.Store are given, on o.Addr until ctx is done; then it stops
// listening and finishes the work it accepted (restores and verdicts in
// flight or queued) before it returns. It prints the pages' addresses on
// stdout.
func Serve(ctx context.Context, o Options, stdout io.Writer) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	newEngine := o.NewEngine
	if newEngine == nil {
		newEngine = func() (restoreapi.Engine, error) {
			po := photo.DefaultOptions()
			po.Model = o.Model
			return restoreapi.NewPhotoEngine(po, o.Restore.MaxFaces)
		}
	}
	engines := make([]restoreapi.Engine, o.Workers)
	for i := range engines {
		var err error
		if engines[i], err = newEngine(); err != nil {
			return fmt.Errorf("serve: loading worker %d's model: %w", i+1, err)
		}
	}
	restore, err := restoreapi.New(o.Restore, engines)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	mux := http.NewServeMux()
	restore.Register(mux)
	if o.DB != "" {
		db, err := prefs.Open(o.DB)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer db.Close()
		mux.Handle("/", New(db, prefs.Store{Dir: o.Store}, Config{})) // its own "/" leads to /annotate
	} else {
		mux.Handle("GET /{$}", http.RedirectHandler("/restore", http.StatusFound))
	}

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	c := o.Restore
	srv := newHTTPServer(guard(allowedHosts(o.Addr, o.Public, o.AllowHosts), mux), c)
	a := ln.Addr().(*net.TCPAddr)
	workers := "1 worker"
	if o.Workers != 1 {
		workers = fmt.Sprintf("%d workers", o.Workers)
	}
	fmt.Fprintf(stdout, "serve: restore at %s (%s, %d waiting at most; Ctrl-C to stop)\n", pageURL(a, "/restore"), workers, c.Queue)
	if o.DB != "" {
		fmt.Fprintf(stdout, "serve: open %s\n", pageURL(a, "/annotate"))
	}
	if o.Public && c.Token == "" {
		fmt.Fprintln(stdout, "serve: listening beyond this machine without --token: anyone who reaches it may restore photos")
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Accepted work finishes: refuse new restores, stop listening, let the
	// handlers answer, then wait for restores that outlived their request
	// (a timeout cannot interrupt one). Each is bounded by the timeouts.
	fmt.Fprintf(stdout, "serve: stopping; finishing %d accepted restore requests\n", restore.Admitted())
	drained := restore.Drain()
	grace := c.ReadTimeout + c.Timeout + 10*time.Second
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("serve: stopping: %w", err)
	}
	select {
	case <-drained:
	case <-shutdownCtx.Done():
		return fmt.Errorf("serve: stopping: restores still running after %v", grace)
	}
	fmt.Fprintln(stdout, "serve: stopped")
	return nil
}

// newHTTPServer bounds every phase of a connection, so that no client
// holds one open for long by being slow: the headers, the whole request
// (a restore body gets its own deadline, c.ReadTimeout, from the handler;
// an annotation body is a few bytes), the answer and the idle time
// between requests.
func newHTTPServer(h http.Handler, c restoreapi.Config) *http.Server {
	// Headers get no longer than a body does (and 10 s at most).
	headerTimeout := min(10*time.Second, c.ReadTimeout)
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: headerTimeout,
		ReadTimeout:       headerTimeout + c.ReadTimeout,
		// Long enough for a body, the queue, the restore and the answer;
		// it also ends a client that never reads its answer.
		WriteTimeout: c.ReadTimeout + c.Timeout + time.Minute,
		IdleTimeout:  2 * time.Minute,
	}
}

// pageURL is a page's address for a browser: a listener on every
// interface (":8080") is reached as localhost.
func pageURL(a *net.TCPAddr, path string) string {
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(a.Port)) + path
}
