package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return server.Serve(ctx, *dsn, *storeDir, *addr, stdout)
}
