package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"facereward/prefs"
)

// Serve serves the annotation page of the database dsn, whose pairs'
// images are in the folder store, on addr until ctx is done, then lets the
// verdicts in flight finish. It prints the page's address on stdout.
func Serve(ctx context.Context, dsn, store, addr string, stdout io.Writer) error {
	// Checked before opening the database, which would create a SQLite
	// file for a command that cannot run.
	if st, err := os.Stat(store); err != nil {
		return fmt.Errorf("serve: image store: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("serve: image store %s is not a directory", store)
	}
	db, err := prefs.Open(dsn)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer db.Close()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{
		Handler:           New(db, prefs.Store{Dir: store}, Config{}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Fprintf(stdout, "serve: open %s (Ctrl-C to stop)\n", pageURL(ln.Addr().(*net.TCPAddr)))

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Let verdicts in flight finish: each is a commit an annotator waits on.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("serve: stopping: %w", err)
	}
	fmt.Fprintln(stdout, "serve: stopped")
	return nil
}

// pageURL is the annotation page's address for a browser: a listener on
// every interface (":8080") is reached as localhost.
func pageURL(a *net.TCPAddr) string {
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(a.Port)) + "/annotate"
}
