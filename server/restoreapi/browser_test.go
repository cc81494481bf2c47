package restoreapi

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screenshot, when set, makes TestRestorePageInChromium restore the
// astronaut with the real model and save the page there (README's
// picture, then made smaller with Debian's pngquant --quality 65-90):
// go test -run Chromium ./server/restoreapi -args -screenshot $PWD/docs/serve-restore.png
var screenshot = flag.String("screenshot", "", "save the restore page, with a real restoration, as this PNG")

// findChromium returns the browser to drive, or skips the test.
func findChromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("no chromium, chromium-browser or google-chrome on PATH: install Debian's chromium to run the restore page in a browser")
	return ""
}

// pageResult is what the page shows once a photo is restored.
type pageResult struct {
	Summary    string   `json:"summary"`
	Before     int      `json:"before"` // natural widths
	After      int      `json:"after"`
	Rows       []string `json:"rows"`
	Thumbs     []int    `json:"thumbs"`
	Download   string   `json:"download"`
	Filename   string   `json:"filename"`
	Status     string   `json:"status"`
	ProgressOn bool     `json:"progressOn"`
	ShownWidth float64  `json:"shownWidth"` // the compare box on screen
}

// readResult is null until the result is on screen with its images
// loaded, or the page says it failed.
const readResult = `(() => {
	const after = document.getElementById('after'), before = document.getElementById('before');
	const status = document.getElementById('status').textContent;
	if (status.startsWith('not restored')) return {status};
	if (document.getElementById('result').hidden || !after.complete || !after.naturalWidth || !before.naturalWidth) return null;
	const rows = [...document.querySelectorAll('#faces tbody tr')];
	return {
		summary: document.getElementById('summary').textContent,
		before: before.naturalWidth, after: after.naturalWidth,
		rows: rows.map((r) => r.textContent),
		thumbs: [...document.querySelectorAll('#faces tbody img')].map((i) => i.naturalWidth),
		download: document.getElementById('download').href.slice(0, 22),
		filename: document.getElementById('download').download,
		status,
		progressOn: getComputedStyle(document.getElementById('progress')).display !== 'none',
		shownWidth: document.getElementById('compare').getBoundingClientRect().width,
	};
})()`

// The page in a real browser: its controls hold restore's defaults, a
// photo picked is sent with them and comes back beside the photo as sent
// (the slider moves the boundary), with a row per face (crops, scores,
// identity, restored or kept and why) and a download link; a photo the
// server refuses shows its error, and the page stays usable.
func TestRestorePageInChromium(t *testing.T) {
	chromium := findChromium(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "group.png")
	var engine Engine
	fake := &fakeEngine{Faces: 2}
	wantWidth, wantRows := 0, 2
	if *screenshot != "" {
		e, err := photoEngine()
		if err != nil {
			t.Fatal(err)
		}
		engine, input, wantWidth, wantRows = e, astronaut, 512, 1
	} else {
		if err := os.WriteFile(input, photoPNG(t, 64, 48), 0o644); err != nil {
			t.Fatal(err)
		}
		engine, wantWidth = fake, 128
	}
	abs, err := filepath.Abs(input)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	if *screenshot != "" {
		cfg = DefaultConfig()
	}
	_, srv := serve(t, cfg, engine)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // as root in a container, the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.WindowSize(1000, 1100),
	) // the defaults add --headless and --disable-dev-shm-usage
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	// The controls, once the page has read /api/version.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/restore")); err != nil {
		t.Fatal(err)
	}
	controls, err := chromedp.Run(ctx,
		chromedp.Poll[map[string]string](`document.getElementById('server').textContent && Object.fromEntries(
			['guidance', 'strength', 'steps', 'seed', 'upscale'].map((n) => [n, document.getElementById(n).value]))`,
			chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("the page's controls: %v", err)
	}
	d := DefaultSettings()
	for name, want := range map[string]string{"guidance": fmt.Sprint(d.Guidance), "strength": fmt.Sprint(d.Strength),
		"steps": fmt.Sprint(d.Steps), "seed": fmt.Sprint(d.Seed), "upscale": fmt.Sprint(d.Upscale)} {
		if controls[name] != want {
			t.Errorf("control %s starts at %q, want restore's default %s", name, controls[name], want)
		}
	}

	// Picking the photo sends it.
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{abs})); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Poll[pageResult](readResult, chromedp.WithPollingTimeout(4*time.Minute)))
	if err != nil || got.Status != "" {
		t.Fatalf("no result on the page: %v, status %q", err, got.Status)
	}
	t.Logf("the page shows: %+v", got)
	if got.After != wantWidth || got.Before != wantWidth/2 || got.ShownWidth != float64(wantWidth) {
		t.Errorf("before %d px and after %d px wide, shown %g px wide; want %d, %d and %d", got.Before, got.After, got.ShownWidth, wantWidth/2, wantWidth, wantWidth)
	}
	if len(got.Rows) != wantRows || len(got.Thumbs) != 2*wantRows {
		t.Fatalf("%d face rows with %d thumbnails, want %d and %d", len(got.Rows), len(got.Thumbs), wantRows, 2*wantRows)
	}
	for _, w := range got.Thumbs {
		if w != 128 {
			t.Errorf("a face thumbnail is %d px wide, want 128", w)
		}
	}
	if !strings.HasPrefix(got.Download, "data:image/png;base64") || !strings.HasSuffix(got.Filename, "_restored.png") || got.ProgressOn || got.Status != "" {
		t.Errorf("download %q as %q, progress still shown %v, status %q", got.Download, got.Filename, got.ProgressOn, got.Status)
	}
	if *screenshot == "" {
		if got.Summary[:36] != "2 faces found, 1 restored, 1 kept as" {
			t.Errorf("summary %q", got.Summary)
		}
		if !strings.Contains(got.Rows[0], "0.970") || !strings.Contains(got.Rows[0], "-1.00 → 1.50") || !strings.HasSuffix(got.Rows[0], "restored") ||
			!strings.Contains(got.Rows[1], "kept: the reward model prefers the input face") {
			t.Errorf("face rows: %q", got.Rows)
		}
		if calls := fake.Calls(); len(calls) != 1 || calls[0] != d {
			t.Errorf("the page sent %+v, want restore's defaults once", calls)
		}
	}

	// The slider moves the boundary between before and after.
	moveSlider := func(to string) (string, error) {
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("slider"), to)); err != nil {
			return "", err
		}
		return chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('slider').dispatchEvent(new Event('input')),
			document.getElementById('after').style.clipPath`))
	}
	if clip, err := moveSlider("20"); err != nil || !strings.Contains(clip, "20%") {
		t.Errorf("after the slider moved to 20: clip-path %q, %v", clip, err)
	}
	if *screenshot != "" {
		if _, err := moveSlider("50"); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", *screenshot, len(png))
		return
	}

	// A photo the server refuses: its error on the page, the form usable.
	fake.Err = fmt.Errorf("%w (1 detection(s) skipped: below the score threshold)", ErrNoFace)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("go"))); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx,
		chromedp.Poll[string](`(() => {
			const s = document.getElementById('status').textContent;
			return s.startsWith('not restored') && !document.getElementById('go').disabled && s;
		})()`, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil || !strings.Contains(status, "422: no face found") {
		t.Errorf("after a refused photo the status says %q (%v), want the 422 and its reason", status, err)
	}
}
