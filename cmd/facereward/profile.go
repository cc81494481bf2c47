package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// profileFlags are the flags that come before the command: profiles of
// the whole run, for `go tool pprof` (docs/profiling.md).
type profileFlags struct{ cpu, mem string }

// parseProfileFlags takes --cpuprofile FILE and --memprofile FILE from the
// front of args and returns the rest (the command and its flags).
func parseProfileFlags(args []string) (profileFlags, []string, error) {
	var p profileFlags
	if len(args) == 0 || isHelp(args[0]) {
		return p, args, nil
	}
	fs := flag.NewFlagSet("facereward", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&p.cpu, "cpuprofile", "", "")
	fs.StringVar(&p.mem, "memprofile", "", "")
	if err := fs.Parse(args); err != nil {
		return p, nil, fmt.Errorf("%v (before the command: --cpuprofile FILE, --memprofile FILE)", err)
	}
	return p, fs.Args(), nil
}

// profiled runs f, with a CPU profile of it in p.cpu and a heap profile
// (allocations since the start, and what is live at the end) in p.mem.
// Neither file may exist: a profile never replaces a user's file.
func profiled(p profileFlags, f func() error) (err error) {
	create := func(path string) (*os.File, error) {
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("profile %s exists: choose another file", path)
		}
		return out, err
	}
	if p.cpu != "" {
		out, err := create(p.cpu)
		if err != nil {
			return err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return fmt.Errorf("cpu profile %s: %w", p.cpu, err)
		}
		defer pprof.StopCPUProfile()
	}
	var mem *os.File
	if p.mem != "" {
		if mem, err = create(p.mem); err != nil {
			return err
		}
		defer mem.Close()
	}
	err = f()
	if mem != nil {
		runtime.GC() // the live heap as of the end, not as of the last GC
		if werr := pprof.Lookup("heap").WriteTo(mem, 0); werr != nil && err == nil {
			err = fmt.Errorf("memory profile %s: %w", p.mem, werr)
		}
	}
	return err
}
