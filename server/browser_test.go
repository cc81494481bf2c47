package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"facereward/prefs"
)

// findChromium returns the browser to drive, or skips the test.
func findChromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("no chromium, chromium-browser or google-chrome on PATH: install Debian's chromium to run the annotation page in a browser")
	return ""
}

// shownPair is what the page has on screen.
type shownPair struct {
	Pair      string `json:"pair"`
	ShownLeft string `json:"shownLeft"`
	Counter   string `json:"counter"`
	Status    string `json:"status"`
}

// readShown waits until the page shows a pair other than prev (and the
// counter reads counter), and returns it.
const readShown = `(() => {
	const pair = document.getElementById('pair').dataset.pair;
	const counter = document.getElementById('counter').textContent;
	if (!pair || pair === prev || counter !== want) return null;
	return {pair, counter,
		shownLeft: document.getElementById('shown-left').getAttribute('src'),
		status: document.getElementById('status').textContent};
})()`

func waitShown(ctx context.Context, prev, counter string) (shownPair, error) {
	expr := fmt.Sprintf("((prev, want) => %s)(%q, %q)", readShown, prev, counter)
	return chromedp.Run(ctx, chromedp.Poll[shownPair](expr, chromedp.WithPollingTimeout(20*time.Second)))
}

// The page in a real browser: an annotator types their name, judges three
// pairs with the keyboard, and the database holds exactly those verdicts; a
// verdict the database refuses shows "not saved" and keeps the pair on
// screen; a reload remembers the name; a verdict saved whose answer was
// lost, sent again, is stored once.
func TestAnnotatePageInChromium(t *testing.T) {
	chromium := findChromium(t)
	db, path := openSQLite(t)
	store, pairs := addPairs(t, db, 5)
	h := New(db, store, Config{Seed: 3})
	// While loseAnswer is set, a verdict is saved but its answer lost, as
	// when the server dies after the commit.
	var loseAnswer atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if loseAnswer.Load() && r.URL.Path == "/api/verdict" {
			h.ServeHTTP(httptest.NewRecorder(), r)
			http.Error(w, "the answer was lost", http.StatusBadGateway)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	byID := map[string]prefs.Pair{}
	for _, p := range pairs {
		byID[p.ID] = p
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // as root in a container, the sandbox cannot start
		chromedp.DisableGPU,
	) // the defaults add --headless and --disable-dev-shm-usage
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	total := len(pairs)
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/annotate"),
		chromedp.SendKeys(chromedp.ID("name"), "Ann"+kb.Enter),
	)
	if err != nil {
		t.Fatal(err)
	}
	shown, err := waitShown(ctx, "", fmt.Sprintf("done 0 of %d", total))
	if err != nil {
		t.Fatalf("the first pair: %v", err)
	}
	for _, img := range []string{"lq", "shown-left", "shown-right"} {
		w, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf("document.getElementById(%q).naturalWidth", img)))
		if err != nil || w != 128 {
			t.Errorf("image %s: %d pixels wide, %v", img, w, err)
		}
	}

	// Keys typed in the name field edit the name, and judge nothing: were
	// this S a skip, the database would hold four verdicts below.
	err = chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("name"), "s"), chromedp.SetValue(chromedp.ID("name"), "Ann"), chromedp.Blur(chromedp.ID("name")))
	if err != nil {
		t.Fatal(err)
	}

	var want []prefs.Record
	for i, key := range []struct {
		key  string
		side string // which shown side the key picks, "" for a tie
	}{{kb.ArrowLeft, "left"}, {"l", "right"}, {"t", ""}} {
		p := byID[shown.Pair]
		// The verdict the key means, from the image that was on the left.
		var onLeft, onRight prefs.Verdict
		switch shown.ShownLeft {
		case imageURL(p.Left.Image):
			onLeft, onRight = prefs.Left, prefs.Right
		case imageURL(p.Right.Image):
			onLeft, onRight = prefs.Right, prefs.Left
		default:
			t.Fatalf("pair %s: shown on the left %s, neither of its candidates", p.ID, shown.ShownLeft)
		}
		v := map[string]prefs.Verdict{"left": onLeft, "right": onRight, "": prefs.Tie}[key.side]
		want = append(want, prefs.Record{Pair: p, Verdict: v, Judge: "Ann"})
		if err := chromedp.Do(ctx, chromedp.KeyEvent(key.key)); err != nil {
			t.Fatal(err)
		}
		if shown, err = waitShown(ctx, shown.Pair, fmt.Sprintf("done %d of %d", i+1, total)); err != nil {
			t.Fatalf("after key %q: %v", key.key, err)
		}
		if shown.Status != "saved" {
			t.Errorf("after key %q the status says %q", key.key, shown.Status)
		}
	}
	checkRecords(t, db, want)

	// A verdict the database refuses: "not saved", and the pair stays.
	undo := refuseVerdicts(t, path)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("s")); err != nil {
		t.Fatal(err)
	}
	failed, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => {
		const s = document.getElementById('status').textContent;
		return s.startsWith('not saved') && s;
	})()`, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("no 'not saved' after a failed write: %v", err)
	}
	t.Logf("status after a failed write: %s", failed)
	now, err := waitShown(ctx, "", fmt.Sprintf("done 3 of %d", total))
	if err != nil || now.Pair != shown.Pair {
		t.Fatalf("after a failed write the page shows %+v (%v), want pair %s still", now, err, shown.Pair)
	}
	checkRecords(t, db, want)

	// The same key again, with the database back, saves it.
	undo()
	if err := chromedp.Do(ctx, chromedp.KeyEvent("s")); err != nil {
		t.Fatal(err)
	}
	if _, err := waitShown(ctx, shown.Pair, fmt.Sprintf("done 4 of %d", total)); err != nil {
		t.Fatalf("retrying the failed verdict: %v", err)
	}
	want = append(want, prefs.Record{Pair: byID[shown.Pair], Verdict: prefs.Skip, Judge: "Ann"})
	checkRecords(t, db, want)

	// A reload keeps the name and starts where the annotator left off.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	last, err := waitShown(ctx, "", fmt.Sprintf("done 4 of %d", total))
	if err != nil {
		t.Fatalf("after a reload: %v", err)
	}
	if name, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("name"))); err != nil || name != "Ann" {
		t.Errorf("the name after a reload: %q, %v", name, err)
	}

	// The answer to a saved verdict is lost: "not saved", and the same key
	// again re-sends it, with its id, so it is stored once.
	loseAnswer.Store(true)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("t")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('status').textContent.startsWith('not saved')`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("no 'not saved' after a lost answer: %v", err)
	}
	loseAnswer.Store(false)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("t")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`document.getElementById('counter').textContent === 'done %d of %d'`, total, total),
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("re-sending the verdict whose answer was lost: %v", err)
	}
	checkRecords(t, db, append(want, prefs.Record{Pair: byID[last.Pair], Verdict: prefs.Tie, Judge: "Ann"}))
}

// checkRecords checks that db holds exactly want's verdicts, in order.
func checkRecords(t *testing.T, db *prefs.DB, want []prefs.Record) {
	t.Helper()
	recs, err := db.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d: %+v", len(recs), len(want), recs)
	}
	for i, r := range recs {
		if r.ID != want[i].ID || r.Verdict != want[i].Verdict || r.Judge != want[i].Judge {
			t.Errorf("record %d: %s on %s by %s, want %s on %s by %s", i, r.Verdict, r.ID, r.Judge, want[i].Verdict, want[i].ID, want[i].Judge)
		}
	}
}
