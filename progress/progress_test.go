package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestBarReportsCountsRateAndETA(t *testing.T) {
	var out bytes.Buffer
	clock := time.Unix(0, 0)
	b := New(&out, "degrade", 100)
	b.now = func() time.Time { return clock }
	b.start = clock
	clock = clock.Add(10 * time.Second)
	b.Add(50)
	line := out.String()
	for _, want := range []string{"degrade", "50/100", "5.0/s", "ETA 10s"} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
	// Not a terminal: nothing more until `every` has passed.
	clock = clock.Add(time.Second)
	b.Add(1)
	if strings.Count(out.String(), "\n") != 1 {
		t.Errorf("redrew too soon:\n%s", out.String())
	}
	b.SetExtra("loss 0.12")
	b.Finish()
	if !strings.Contains(out.String(), "51/100") || !strings.Contains(out.String(), "loss 0.12") {
		t.Errorf("final line missing counts or status:\n%s", out.String())
	}
}

func TestResumedItemsDoNotCountTowardsRate(t *testing.T) {
	var out bytes.Buffer
	clock := time.Unix(0, 0)
	b := New(&out, "train", 100)
	b.now = func() time.Time { return clock }
	b.start = clock
	b.Resume(80)
	clock = clock.Add(10 * time.Second)
	b.Add(10)
	if line := out.String(); !strings.Contains(line, "90/100") || !strings.Contains(line, "1.0/s") || !strings.Contains(line, "ETA 10s") {
		t.Errorf("line %q", line)
	}
}
