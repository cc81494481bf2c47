package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"facereward/prefs"
	"facereward/server"
)

func runServe(args []string, stdout io.Writer) error {
	fs := newFlags("serve", "serve --db DSN --store DIR [--addr HOST:PORT]", `
Serves the annotation page, /annotate, where people judge pairs of
restorations: the degraded face on top, its two candidates side by side in
random order, ←/A or →/L for the better one, T for a tie, S to skip. Each
verdict is stored the moment it is given, so a closed tab loses nothing,
and the page offers the judgements as JSONL. The page is built into the
binary and needs no network beyond this server. Stops on Ctrl-C.`, stdout)
	dsn := fs.String("db", "", "the preference database: a SQLite file, or a postgres:// URL")
	storeDir := fs.String("store", "", "the image store that holds the pairs' images")
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q (see --help)", fs.Arg(0))
	}
	if *dsn == "" || *storeDir == "" {
		return errors.New("serve: --db and --store are required (see --help)")
	}
	// Checked before opening the database, which would create a SQLite
	// file for a command that cannot run.
	if st, err := os.Stat(*storeDir); err != nil {
		return fmt.Errorf("serve: image store: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("serve: image store %s is not a directory", *storeDir)
	}
	db, err := prefs.Open(*dsn)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer db.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{
		Handler:           server.New(db, prefs.Store{Dir: *storeDir}, server.Config{}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Fprintf(stdout, "serve: open %s (Ctrl-C to stop)\n", pageURL(ln.Addr().(*net.TCPAddr)))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
