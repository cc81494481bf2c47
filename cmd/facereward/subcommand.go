package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// subcommand is one verb of a command with several (`train reward`).
type subcommand struct {
	name, summary string
	run           func(args []string, stdout io.Writer) error
}

// dispatch runs the subcommand args[0] of cmd; --help lists them (and
// returns flag.ErrHelp, as every command's --help does), anything else is
// an error that names the choices.
func dispatch(cmd, about string, subs []subcommand, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		for _, s := range subs {
			if s.name == args[0] {
				return s.run(args[1:], stdout)
			}
		}
	}
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	if len(args) == 0 || (args[0] != "-h" && args[0] != "--help" && args[0] != "-help") {
		what := "want a subcommand"
		if len(args) > 0 {
			what = fmt.Sprintf("unknown subcommand %q", args[0])
		}
		return fmt.Errorf("%s: %s: %s (see `facereward %s --help`)", cmd, what, strings.Join(names, ", "), cmd)
	}
	fmt.Fprintf(stdout, "Usage: facereward %s %s [flags]\n\n%s\n\n", cmd, strings.Join(names, "|"), strings.TrimSpace(about))
	for _, s := range subs {
		fmt.Fprintf(stdout, "  %-10s %s\n", s.name, s.summary)
	}
	fmt.Fprintf(stdout, "\nRun `facereward %s SUBCOMMAND --help` for its flags.\n", cmd)
	return flag.ErrHelp
}
