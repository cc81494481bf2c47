package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/bench"
)

func runCLI(args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	err := run(args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestHelpListsEveryCommand(t *testing.T) {
	out, _, err := runCLI("help")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("help does not list %q:\n%s", c.name, out)
		}
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands() {
		if c.run == nil {
			continue
		}
		out, _, err := runCLI(c.name, "--help")
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "Usage: facereward "+c.name) {
			t.Errorf("%s --help: err %v, output %q", c.name, err, out)
		}
	}
	for _, args := range [][]string{{"help", "help"}, {"--help", "-h"}, {"help", "--help"}} {
		out, _, err := runCLI(args...)
		if err != nil || !strings.Contains(out, "Commands:") {
			t.Errorf("%v: err %v, output %q", args, err, out)
		}
	}
	out, _, _ := runCLI("help", "bench")
	if !strings.Contains(out, "PyTorch") {
		t.Errorf("help bench does not explain the benchmark: %q", out)
	}
}

func TestUnknownCommand(t *testing.T) {
	_, stderr, err := runCLI("restorify")
	if err == nil || !strings.Contains(err.Error(), `"restorify"`) || !strings.Contains(stderr, "Commands:") {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
}

func TestVersionNamesBuildAndKernel(t *testing.T) {
	out, _, err := runCLI("version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "facereward "+version) || !strings.Contains(out, "GEMM ") || !strings.Contains(out, "build ") {
		t.Fatalf("version output %q", out)
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	if _, _, err := runCLI("bench", "engine", "--nets", "C"); err == nil || !strings.Contains(err.Error(), `"C"`) {
		t.Errorf("unknown net: %v", err)
	}
	if _, _, err := runCLI("bench", "engine", "--iters", "0"); err == nil {
		t.Error("--iters 0 accepted")
	}
	if _, _, err := runCLI("bench", "refl", "--warmup", "-1"); err == nil || !strings.Contains(err.Error(), "bench refl: --iters must be") {
		t.Errorf("bench refl --warmup -1: %v", err)
	}
	if _, _, err := runCLI("bench"); err == nil || !strings.Contains(err.Error(), "engine, restorer") {
		t.Errorf("bench without target: %v", err)
	}
	if _, _, err := runCLI("train", "rewards"); err == nil || !strings.Contains(err.Error(), `unknown subcommand "rewards"`) {
		t.Errorf("train with a misspelt target: %v", err)
	}
}

// A real, tiny run of the benchmark (net A, one iteration, no PyTorch)
// writes a JSON report with a positive time.
func TestBenchEngineRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.json")
	out, _, err := runCLI("bench", "engine", "--nets", "A", "--iters", "1", "--warmup", "0", "--no-torch", "--json", path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "| A | train |") {
		t.Errorf("no table row for net A:\n%s", out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.EngineReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Go["A"].Train <= 0 || rep.Go["A"].Forward <= 0 || rep.GemmGFLOPS <= 0 {
		t.Fatalf("report %+v", rep)
	}
}

// --cpuprofile and --memprofile before a command write pprof profiles of
// it, refuse to replace an existing file, and leave help and unknown
// flags to the usual messages.
func TestProfileFlags(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.out"), filepath.Join(dir, "mem.out")
	var out bytes.Buffer
	if err := run([]string{"--cpuprofile", cpu, "--memprofile", mem, "version"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "facereward") {
		t.Errorf("version printed %q", out.String())
	}
	for _, p := range []string{cpu, mem} {
		b, err := os.ReadFile(p)
		// A pprof profile is a gzipped protocol buffer.
		if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s: %v, %d bytes, want a gzipped profile", p, err, len(b))
		}
	}
	if err := run([]string{"--cpuprofile", cpu, "version"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("an existing profile file: %v, want a refusal", err)
	}
	if err := run([]string{"--cpuprofil", cpu, "version"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--cpuprofile FILE") {
		t.Errorf("a misspelt profile flag: %v", err)
	}
	out.Reset()
	if err := run([]string{"--help"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "--cpuprofile FILE") {
		t.Errorf("--help: %v, %q", err, out.String())
	}
}
