package bench

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// median runs the warm-up and timed calls and returns the middle time.
func TestMedian(t *testing.T) {
	calls := 0
	if s := median(func() { calls++ }, 2, 5); calls != 7 || !(s >= 0) {
		t.Errorf("%d calls, median %v", calls, s)
	}
}

// A row with a PyTorch time gets its ratio, and with both peaks theirs;
// one without gets dashes, and a skipped PyTorch side says why.
func TestPrintRatios(t *testing.T) {
	var b bytes.Buffer
	printRatios(&b, []row{{"step", 2, 0.5, 300, 100}, {"update", 1, 0, 0, 0}}, 100, "", 0, errors.New("no torch"))
	for _, want := range []string{"| step | 2.000 | 0.500 | 4.00× | 300 | 100 | 3.00× |", "| update | 1.000 | – | – | – | – | – |", "Go 100 MB\n", "PyTorch side skipped: no torch"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}
