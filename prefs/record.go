package prefs

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Verdict is one judgement of a pair.
type Verdict string

// The verdicts: which candidate looks better, neither, or not judged.
const (
	Left  Verdict = "left"
	Right Verdict = "right"
	Tie   Verdict = "tie"
	Skip  Verdict = "skip"
)

// ParseVerdict accepts exactly the four verdict names.
func ParseVerdict(s string) (Verdict, error) {
	switch v := Verdict(s); v {
	case Left, Right, Tie, Skip:
		return v, nil
	}
	return "", fmt.Errorf("verdict %q: want left, right, tie or skip", s)
}

// AutoPrefix marks a judge that is a program: "auto:<labeller>".
const AutoPrefix = "auto:"

// Provenance says how a candidate was made.
type Provenance struct {
	// Method is what made the image: "stage1", "stage2", "lq" (the
	// degraded input itself, resized back to the working size) or "gt"
	// (the ground truth).
	Method   string  `json:"method"`
	Seed     uint64  `json:"seed,omitempty"`
	Steps    int     `json:"steps,omitempty"`
	Eta      float64 `json:"eta,omitempty"`
	Strength float64 `json:"strength,omitempty"`
	Guidance float64 `json:"guidance,omitempty"`
	LowBand  int     `json:"low_band,omitempty"`
	Preset   string  `json:"preset,omitempty"` // the degradation that made the LQ
	Model    string  `json:"model,omitempty"`  // which weights, for stage1/stage2
}

// Candidate is one image of a pair: its store reference and provenance.
type Candidate struct {
	Image      Ref        `json:"image"`
	Provenance Provenance `json:"provenance"`
}

// Pair is what an annotator judges: two candidates restored from one LQ
// face, shown as Left and Right.
type Pair struct {
	ID    string    `json:"id"`
	Face  string    `json:"face"` // the source face (e.g. its FFHQ id)
	LQ    Ref       `json:"lq"`
	GT    Ref       `json:"gt,omitempty"` // the ground truth, when known
	Left  Candidate `json:"left"`
	Right Candidate `json:"right"`
}

// namedRef is one of a pair's images and its role, for messages.
type namedRef struct {
	what string
	ref  Ref
}

// images lists p's images: the LQ, the ground truth when it has one, and
// the two candidates.
func (p Pair) images() []namedRef {
	refs := []namedRef{{"lq", p.LQ}}
	if p.GT != "" {
		refs = append(refs, namedRef{"gt", p.GT})
	}
	return append(refs, namedRef{"left", p.Left.Image}, namedRef{"right", p.Right.Image})
}

// Judgement is one verdict on a pair.
type Judgement struct {
	Pair    string    `json:"pair"`
	Verdict Verdict   `json:"verdict"`
	Judge   string    `json:"judge"` // an annotator's name, or AutoPrefix + labeller
	At      time.Time `json:"at"`
	// Key, when set, makes storing the judgement idempotent: the page
	// draws one per verdict and sends it again when it retries, so a
	// verdict whose answer was lost is stored once. "" is no key. Exports
	// leave it out: it guards re-sends to the database that answered, and
	// an import is kept idempotent by the judgement's own fields.
	Key string `json:"key,omitempty"`
}

// Record is a pair with one judgement of it: one line of an export.
type Record struct {
	Pair
	Verdict Verdict   `json:"verdict"`
	Judge   string    `json:"judge"`
	At      time.Time `json:"at"`
}

// Validate reports the first problem with p.
func (p Pair) Validate() error {
	if p.ID == "" {
		return errors.New("pair without an id")
	}
	if err := p.checkText(); err != nil {
		return err
	}
	for _, r := range p.images() {
		if err := r.ref.Validate(); err != nil {
			return fmt.Errorf("pair %s: %s image: %w", p.ID, r.what, err)
		}
	}
	if p.Left.Provenance.Method == "" || p.Right.Provenance.Method == "" {
		return fmt.Errorf("pair %s: a candidate without a method", p.ID)
	}
	if p.Left.Image == p.Right.Image {
		return fmt.Errorf("pair %s: both candidates are the same image", p.ID)
	}
	return nil
}

// checkText applies CheckText to p's free text.
func (p Pair) checkText() error {
	fields := []struct{ name, value string }{
		{"pair id", p.ID}, {"face", p.Face},
		{"left provenance method", p.Left.Provenance.Method}, {"left provenance preset", p.Left.Provenance.Preset},
		{"left provenance model", p.Left.Provenance.Model},
		{"right provenance method", p.Right.Provenance.Method}, {"right provenance preset", p.Right.Provenance.Preset},
		{"right provenance model", p.Right.Provenance.Model},
	}
	for _, f := range fields {
		if err := CheckText(f.name, f.value); err != nil {
			return fmt.Errorf("pair %q: %w", p.ID, err)
		}
	}
	return nil
}

// Validate reports the first problem with j.
func (j Judgement) Validate() error {
	if j.Pair == "" {
		return errors.New("judgement without a pair")
	}
	if err := CheckText("pair", j.Pair); err != nil {
		return fmt.Errorf("judgement on pair %q: %w", j.Pair, err)
	}
	if err := CheckName("judge", j.Judge); err != nil {
		return fmt.Errorf("pair %s: %w", j.Pair, err)
	}
	if _, err := ParseVerdict(string(j.Verdict)); err != nil {
		return fmt.Errorf("pair %s: %w", j.Pair, err)
	}
	if strings.TrimSpace(j.Judge) == "" || j.Judge == AutoPrefix {
		return fmt.Errorf("pair %s: judgement without a judge", j.Pair)
	}
	if j.At.IsZero() {
		return fmt.Errorf("pair %s: judgement without a time", j.Pair)
	}
	if j.Key != "" {
		if err := CheckKey("key", j.Key); err != nil {
			return fmt.Errorf("pair %s: %w", j.Pair, err)
		}
	}
	return nil
}

// Validate reports the first problem with r.
func (r Record) Validate() error {
	if err := r.Pair.Validate(); err != nil {
		return err
	}
	return r.Judgement().Validate()
}

// Judgement returns r's judgement.
func (r Record) Judgement() Judgement {
	return Judgement{Pair: r.ID, Verdict: r.Verdict, Judge: r.Judge, At: r.At}
}
