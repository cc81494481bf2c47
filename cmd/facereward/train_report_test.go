package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `train report RUN` rebuilds the page of a run folder: the generic one
// for a restorer or reward run, refl's for a ReFL run (told by its
// config), and a clear error for a folder that is no run.
func TestTrainReportCommand(t *testing.T) {
	write := func(dir, name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ config, log, title string }{
		{`{"steps": 20}`, `{"step":10,"loss":0.5}` + "\n" + `{"step":10,"dev_psnr":21}` + "\n", "<h1>Training run"},
		{`{"steps": 20, "watch": {"every": 10}}`, `{"step":0,"dev_frm":0.1,"dev_psnr":20}` + "\n", "<h1>ReFL run"},
	} {
		run := t.TempDir()
		write(run, "config.json", c.config)
		write(run, "log.jsonl", c.log)
		stdout, _, err := runCLI("train", "report", run)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(run, "report.html"))
		if err != nil || !strings.Contains(string(b), c.title) || !strings.Contains(stdout, "report.html") {
			t.Errorf("config %s: report %q... (%v), stdout %q; want %q", c.config, string(b[:min(len(b), 200)]), err, stdout, c.title)
		}
	}

	empty := t.TempDir()
	write(empty, "config.json", `{"steps": 20}`)
	if _, _, err := runCLI("train", "report", empty); err == nil || !strings.Contains(err.Error(), "no log.jsonl") {
		t.Errorf("a folder without log.jsonl: %v", err)
	}
	if _, _, err := runCLI("train", "report"); err == nil || !strings.Contains(err.Error(), "want one run folder") {
		t.Errorf("no folder: %v", err)
	}
	out, _, err := runCLI("train", "report", "--help")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "Usage: facereward train report RUN") {
		t.Errorf("--help: %v %q", err, out)
	}
}
