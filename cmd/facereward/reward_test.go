package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"facereward/prefs"
	"facereward/reward"
)

// generate makes pairs from two faces with the tiny restorer and returns
// the output folder.
func generate(t *testing.T, data, model string, extra ...string) (string, string) {
	t.Helper()
	out := t.TempDir()
	args := append([]string{"prefs", "generate", "--data", data, "--model", model, "--out", out, "--n", "2", "--split", "",
		"--samples", "2", "--gt"}, extra...)
	stdout, _, err := runCLI(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out, stdout
}

// train reward learns from generated pairs labelled "gt wins", writes a
// model that reward score reads, and resumes exactly.
func TestTrainRewardAndScore(t *testing.T) {
	model, data := tinyModel(t), t.TempDir()
	copyFaces(t, data, 1, "04801", "04850")
	out, _ := generate(t, data, model)
	db, err := prefs.Open(filepath.Join(out, "prefs.db"))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := db.Pairs()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		v := prefs.Tie
		switch {
		case p.Left.Provenance.Method == "gt":
			v = prefs.Left
		case p.Right.Provenance.Method == "gt":
			v = prefs.Right
		}
		if err := db.Judge(prefs.Judgement{Pair: p.ID, Verdict: v, Judge: "tester", At: testTime(i)}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	run := filepath.Join(t.TempDir(), "frm")
	args := func(run string, more ...string) []string {
		return append([]string{"train", "reward", "--prefs", filepath.Join(out, "prefs.db"), "--run", run, "--steps", "6",
			"--batch", "2", "--size", "16", "--hold-out", "0", "--save-every", "3", "--eval-every", "3"}, more...)
	}
	stdout, _, err := runCLI(args(run, "--until", "3")...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "8 training pairs, 0 held out") || !strings.Contains(stdout, "12 ties and skips dropped") {
		t.Errorf("summary %q", stdout)
	}
	if _, _, err := runCLI(args(run, "--resume")...); err != nil {
		t.Fatal(err)
	}
	resumed, err := os.ReadFile(filepath.Join(run, reward.FileName))
	if err != nil {
		t.Fatal(err)
	}
	straight := filepath.Join(t.TempDir(), "frm")
	if _, _, err := runCLI(args(straight)...); err != nil {
		t.Fatal(err)
	}
	once, err := os.ReadFile(filepath.Join(straight, reward.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if string(once) != string(resumed) {
		t.Error("stopping at 3 and resuming gave other weights than a straight run")
	}

	// The same verdicts from a JSONL export, in reverse order, train the
	// same model: the run depends on the verdicts, not on their order.
	jsonl := filepath.Join(out, "prefs.jsonl")
	if _, _, err := runCLI("prefs", "export", "--db", filepath.Join(out, "prefs.db"), "--out", jsonl); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	recs := strings.SplitAfter(string(b), "\n")
	slices.Reverse(recs)
	if err := os.WriteFile(jsonl, []byte(strings.Join(recs, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	fromJSONL := filepath.Join(t.TempDir(), "frm")
	a := args(fromJSONL)
	a[3] = jsonl // --prefs
	if _, _, err := runCLI(a...); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(fromJSONL, reward.FileName)); err != nil || string(got) != string(once) {
		t.Errorf("the reversed JSONL export trained another model (%v)", err)
	}

	// reward score prints one line per image; the FRM from the run folder
	// is the one trained.
	stdout, _, err = runCLI("reward", "score", "--model", run, filepath.Join(data, "04801.png"), filepath.Join(data, "04850.png"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[1], "04850.png") {
		t.Fatalf("reward score printed %q", stdout)
	}
	if _, err := strconv.ParseFloat(strings.Split(lines[0], "\t")[0], 64); err != nil {
		t.Errorf("score line %q: %v", lines[0], err)
	}
	// reward eval reads the same verdicts: 8 of them, and both faces have
	// a gt, an lq and a default stage-2 candidate.
	stdout, _, err = runCLI("reward", "eval", "--model", run, "--prefs", filepath.Join(out, "prefs.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"of 8 verdicts", "12 ties and skips left out", "gt vs lq", "gt vs stage2", "of 2 faces"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("reward eval printed no %q:\n%s", want, stdout)
		}
	}
	// Without --model the built-in FRM scores (at 128×128: the tiny test
	// faces are resized to it).
	stdout, _, err = runCLI("reward", "score", filepath.Join("..", "..", "examples", "gt", "hopper.png"))
	if err != nil || !strings.HasSuffix(strings.TrimSpace(stdout), "hopper.png") {
		t.Errorf("reward score with the built-in model: %q, %v", stdout, err)
	}
	if _, _, err := runCLI("reward", "score", "--model", data, filepath.Join(data, "04801.png")); err == nil || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("a folder without a model: %v", err)
	}
}

func testTime(i int) time.Time { return time.Date(2026, 11, 26, 12, 0, i, 0, time.UTC) }
