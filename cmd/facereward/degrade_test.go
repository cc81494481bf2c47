package main

import (
	"strings"
	"testing"
)

func TestDegradeCommandErrors(t *testing.T) {
	if _, _, err := runCLI("degrade", "--out", t.TempDir()); err == nil || !strings.Contains(err.Error(), "--in") {
		t.Errorf("missing --in: %v", err)
	}
	if _, _, err := runCLI("degrade", "--in", t.TempDir(), "--out", t.TempDir(), "--preset", "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("bad preset: %v", err)
	}
	if _, _, err := runCLI("degrade", "--in", t.TempDir(), "--out", t.TempDir(), "--set", "no_such_key=1"); err == nil || !strings.Contains(err.Error(), "no_such_key") {
		t.Errorf("bad --set: %v", err)
	}
	// The errors name the value and flag given, not a rescaled setting.
	if _, _, err := runCLI("degrade", "--in", t.TempDir(), "--out", t.TempDir(), "--set", "kernel_size=1000001"); err == nil || !strings.Contains(err.Error(), "kernel_size 1000001") {
		t.Errorf("--set kernel_size=1000001: %v", err)
	}
	if _, _, err := runCLI("degrade", "--in", t.TempDir(), "--out", t.TempDir(), "--size", "100000"); err == nil || !strings.Contains(err.Error(), "--size 100000 outside [16, 2048]") {
		t.Errorf("--size 100000: %v", err)
	}
}

// The flags reach the set: its summary names the preset, size and seed
// given, and --set help lists the keys.
func TestDegradeCommandFlags(t *testing.T) {
	in := t.TempDir()
	copyFaces(t, in, 1, "04801")
	stdout, _, err := runCLI("degrade", "--in", in, "--out", t.TempDir(), "--preset", "gfpgan", "--size", "32", "--seed", "3", "--workers", "2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "1 pairs written") || !strings.Contains(stdout, "(preset gfpgan at 32×32, seed 3)") {
		t.Errorf("summary %q", stdout)
	}
	if stdout, _, err := runCLI("degrade", "--set", "help"); err != nil || !strings.Contains(stdout, "degrade --set keys:") {
		t.Errorf("--set help: %q, %v", stdout, err)
	}
}
