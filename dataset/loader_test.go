package dataset

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"facereward/tensor"
)

// faceFolder writes n faces (ids 1001…) of h×w and lists them.
func faceFolder(t *testing.T, n, h, w int) []File {
	t.Helper()
	root := t.TempDir()
	for i := range n {
		face(t, filepath.Join(root, fmt.Sprintf("%05d.png", 1001+i)), 1001+i, h, w)
	}
	f, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return f.Files
}

// drain reads every batch up to io.EOF.
func drain(t *testing.T, l *Loader) []*Batch {
	t.Helper()
	var out []*Batch
	for {
		b, err := l.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}

func run(t *testing.T, files []File, opt Options) []*Batch {
	t.Helper()
	l, err := NewLoader(files, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return drain(t, l)
}

// noisy is a Transform that uses its RNG, so any dependence of the RNG on
// scheduling shows up in the data. It returns {noisy image, clean image}.
func noisy(img *tensor.Tensor, rng *rand.Rand) ([]*tensor.Tensor, error) {
	clean := img.Clone()
	for i := range img.Data {
		img.Data[i] += 0.1 * rng.Float32() // in place: the loader gave us our own copy
	}
	return []*tensor.Tensor{img, clean}, nil
}

func sameBatches(t *testing.T, what string, a, b []*Batch) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d batches vs %d", what, len(a), len(b))
	}
	for i := range a {
		if !slices.Equal(a[i].Files, b[i].Files) || !slices.Equal(a[i].Flipped, b[i].Flipped) ||
			a[i].Epoch != b[i].Epoch || a[i].Index != b[i].Index || len(a[i].Tensors) != len(b[i].Tensors) {
			t.Fatalf("%s: batch %d differs: %v %v vs %v %v", what, i, a[i].Files, a[i].Flipped, b[i].Files, b[i].Flipped)
		}
		for k := range a[i].Tensors {
			if !tensor.SameShape(a[i].Tensors[k].Shape, b[i].Tensors[k].Shape) || !slices.Equal(a[i].Tensors[k].Data, b[i].Tensors[k].Data) {
				t.Fatalf("%s: batch %d tensor %d differs", what, i, k)
			}
		}
	}
}

func TestLoaderDeterministic(t *testing.T) {
	files := faceFolder(t, 23, 4, 6)
	opt := Options{BatchSize: 4, Seed: 7, Shuffle: true, Flip: true, Epochs: 3, Transform: noisy}
	opt.Workers = 1
	one := run(t, files, opt)
	opt.Workers, opt.Prefetch = 4, 3
	four := run(t, files, opt)
	sameBatches(t, "1 vs 4 workers", one, four)
	sameBatches(t, "second run", one, run(t, files, opt))
	opt.Cache = true
	sameBatches(t, "with cache", one, run(t, files, opt))

	// 23 files in batches of 4: six per epoch, the last of 3.
	if len(one) != 18 || one[5].Tensors[0].Shape[0] != 3 || one[6].Epoch != 1 || one[6].Index != 0 {
		t.Fatalf("%d batches; batch 5 has %d items", len(one), one[5].Tensors[0].Shape[0])
	}
	var orders [3][]string
	flips := 0
	for _, b := range one {
		for i, f := range b.Files {
			orders[b.Epoch] = append(orders[b.Epoch], f.Rel)
			if b.Flipped[i] {
				flips++
			}
			// The clean slot is the file's pixels, mirrored when flipped.
			want := faceTensor(f.ID, 4, 6)
			if b.Flipped[i] {
				want = flipH(want)
			}
			got := b.Tensors[1].Data[i*72 : (i+1)*72]
			if !slices.Equal(got, want.Data) {
				t.Fatalf("epoch %d %s (flipped %v): data is not the file's", b.Epoch, f.Rel, b.Flipped[i])
			}
		}
	}
	for e, o := range orders {
		distinct := slices.Compact(slices.Sorted(slices.Values(o)))
		if len(o) != 23 || len(distinct) != 23 {
			t.Errorf("epoch %d does not hold each file once: %v", e, o)
		}
	}
	if slices.Equal(orders[0], orders[1]) || slices.Equal(orders[1], orders[2]) {
		t.Error("two epochs share an order: the shuffle does not change per epoch")
	}
	if flips < 69/4 || flips > 3*69/4 {
		t.Errorf("%d of 69 items flipped, want about half", flips)
	}

	// A resumed run starting at batch slot 8 (epoch 1, index 2) sees what the
	// uninterrupted run saw from there on.
	opt.Start = 8
	sameBatches(t, "started at batch 8", one[8:], run(t, files, opt))
	opt.Start = 0

	opt.Seed = 8
	other := run(t, files, opt)
	if slices.Equal(other[0].Files, one[0].Files) && slices.Equal(other[1].Files, one[1].Files) {
		t.Error("seeds 7 and 8 give the same order")
	}
}

func TestLoaderEpochsAndDropLast(t *testing.T) {
	files := faceFolder(t, 10, 2, 2)
	b := run(t, files, Options{BatchSize: 4, Epochs: 2, Workers: 2})
	var sizes []int
	for _, x := range b {
		sizes = append(sizes, len(x.Files))
	}
	if !slices.Equal(sizes, []int{4, 4, 2, 4, 4, 2}) || b[0].Files[0].Rel != "01001.png" || b[2].Files[1].Rel != "01010.png" {
		t.Errorf("batch sizes %v, first %s", sizes, b[0].Files[0].Rel)
	}
	b = run(t, files, Options{BatchSize: 4, Epochs: 2, DropLast: true})
	if len(b) != 4 {
		t.Errorf("DropLast: %d batches, want 4", len(b))
	}
	if _, err := NewLoader(files, Options{BatchSize: 11, DropLast: true}); err == nil {
		t.Error("a batch size larger than the data with DropLast was accepted")
	}
	if _, err := NewLoader(nil, Options{BatchSize: 1}); err == nil {
		t.Error("no files was accepted")
	}
	if _, err := NewLoader(files, Options{}); err == nil {
		t.Error("batch size 0 was accepted")
	}
}

func TestLoaderSkipsBadFiles(t *testing.T) {
	files := faceFolder(t, 10, 4, 4)
	// A truncated PNG and a text file with an image name.
	data, err := os.ReadFile(files[3].Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[3].Path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[7].Path, []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var warnings []string
	l, err := NewLoader(files, Options{BatchSize: 3, Epochs: 2, Workers: 3, Shuffle: true, Seed: 1,
		Warn: func(f File, err error) {
			mu.Lock()
			defer mu.Unlock()
			warnings = append(warnings, f.Rel+": "+err.Error())
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n := 0
	for _, b := range drain(t, l) {
		for _, f := range b.Files {
			if f.Rel == files[3].Rel || f.Rel == files[7].Rel {
				t.Errorf("bad file %s delivered", f.Rel)
			}
		}
		if b.Tensors[0].Shape[0] != len(b.Files) {
			t.Errorf("tensor holds %d items for %d files", b.Tensors[0].Shape[0], len(b.Files))
		}
		n += len(b.Files)
	}
	if n != 16 || l.Skipped() != 4 {
		t.Errorf("delivered %d items and skipped %d; want 16 and 4 (2 bad files × 2 epochs)", n, l.Skipped())
	}
	slices.Sort(warnings)
	if len(warnings) != 2 || !strings.Contains(warnings[0], "01004.png: ") || !strings.Contains(warnings[0], "truncated") ||
		!strings.Contains(warnings[1], "01008.png: ") || !strings.Contains(warnings[1], "unsupported") {
		t.Errorf("warnings (want one per bad file, saying why): %q", warnings)
	}
}

func TestLoaderAllBadFails(t *testing.T) {
	root := t.TempDir()
	var files []File
	for i := range 3 {
		p := filepath.Join(root, fmt.Sprintf("%d.png", i))
		touch(t, p)
		files = append(files, File{Path: p, Rel: filepath.Base(p), ID: i})
	}
	l, err := NewLoader(files, Options{BatchSize: 2, Warn: func(File, error) {}}) // Epochs 0: forever
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = l.Next()
	if err == nil || !strings.Contains(err.Error(), "every one of 3 files was skipped") {
		t.Errorf("all files bad: %v", err)
	}
}

func TestLoaderMixedSizes(t *testing.T) {
	files := faceFolder(t, 4, 4, 4)
	face(t, files[2].Path, files[2].ID, 5, 4) // one face of another size
	l, err := NewLoader(files, Options{BatchSize: 4, Epochs: 1, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = l.Next()
	if err == nil || !strings.Contains(err.Error(), files[2].Path) || !strings.Contains(err.Error(), "[5 4 3]") ||
		!strings.Contains(err.Error(), "[4 4 3]") {
		t.Fatalf("mixed sizes: %v", err)
	}
	if _, again := l.Next(); again != err {
		t.Errorf("second Next: %v, want the same error", again)
	}
}

// Workers must run ahead of the consumer, in parallel, and no further than
// Prefetch batches.
func TestLoaderPrefetches(t *testing.T) {
	files := faceFolder(t, 12, 2, 2)
	var calls, inFlight, peak atomic.Int32
	slow := func(img *tensor.Tensor, _ *rand.Rand) ([]*tensor.Tensor, error) {
		calls.Add(1)
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(60 * time.Millisecond)
		inFlight.Add(-1)
		return []*tensor.Tensor{img}, nil
	}
	l, err := NewLoader(files, Options{BatchSize: 1, Epochs: 1, Workers: 2, Prefetch: 3, Transform: slow})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Without any Next, the workers fill the queue: 3 batches, then stop.
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // time enough to overrun, if it would
	if c := calls.Load(); c != 3 {
		t.Errorf("%d items built before the first Next, want exactly Prefetch = 3", c)
	}
	if p := peak.Load(); p < 2 {
		t.Errorf("at most %d transform ran at once with 2 workers: no overlap", p)
	}
	// The prefetched batches come back without waiting for a transform.
	start := time.Now()
	for range 3 {
		if _, err := l.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 40*time.Millisecond { // a transform takes 60 ms
		t.Errorf("three prefetched batches took %v to hand over", d)
	}
	if n := len(drain(t, l)); n != 9 {
		t.Errorf("%d batches after the first three, want 9", n)
	}
}

// Close must stop every goroutine, whether the workers are busy, blocked on
// a full queue, or the loader was never read.
func TestLoaderCloseLeaksNothing(t *testing.T) {
	files := faceFolder(t, 8, 2, 2)
	before := runtime.NumGoroutine()
	slow := func(img *tensor.Tensor, _ *rand.Rand) ([]*tensor.Tensor, error) {
		time.Sleep(20 * time.Millisecond)
		return []*tensor.Tensor{img}, nil
	}
	for _, opt := range []Options{
		{BatchSize: 2, Workers: 4, Transform: slow},        // busy, forever
		{BatchSize: 1, Workers: 3, Prefetch: 1},            // blocked on a full queue
		{BatchSize: 3, Workers: 2, Shuffle: true, Seed: 3}, // read a little
	} {
		l, err := NewLoader(files, opt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Next(); err != nil {
			t.Fatal(err)
		}
		l.Close()
		l.Close() // twice is fine
		if _, err := l.Next(); !errors.Is(err, ErrClosed) {
			t.Errorf("Next after Close: %v, want ErrClosed", err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestLoaderCacheIsNotModified(t *testing.T) {
	files := faceFolder(t, 3, 2, 3)
	opt := Options{BatchSize: 3, Epochs: 3, Cache: true, Transform: noisy, Seed: 5}
	cached := run(t, files, opt)
	opt.Cache = false
	sameBatches(t, "cache vs none", cached, run(t, files, opt))
}

// BenchmarkLoaderRealFaces reports faces per second for one worker, decode
// and flip included; run with -cpu 1 for the per-core figure.
func BenchmarkLoaderRealFaces(b *testing.B) {
	root := filepath.Join("..", "..", "shared", "data", "ffhq128")
	f, err := Open(root)
	if err != nil {
		b.Skipf("real data not present: %v", err)
	}
	l, err := NewLoader(f.Files, Options{BatchSize: 32, Workers: 1, Prefetch: 2, Shuffle: true, Flip: true})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	faces := 0
	for b.Loop() {
		batch, err := l.Next()
		if err != nil {
			b.Fatal(err)
		}
		faces += len(batch.Files)
	}
	b.ReportMetric(float64(faces)/b.Elapsed().Seconds(), "faces/s")
}
