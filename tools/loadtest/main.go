// Command loadtest sends a bounded burst of restore requests to a
// `facereward serve` on this machine and checks that every one gets a
// result or a clean refusal (429 or 503 with Retry-After and a JSON
// error), then that the server's goroutines and heap are back where they
// were (read from /debug/runtime, which serve --debug adds, after a
// garbage collection; else from /metrics). It prints the status counts,
// p50/p95 latencies and those figures, and exits 1 on any unclean answer
// or growth beyond the limits. It only ever talks to a loopback address.
//
//	go run ./tools/loadtest -url http://127.0.0.1:18080 -image testdata/faces/astronaut_256.png -n 200 -c 16
//
// tools/loadtest/run.sh starts the server, runs this, and stops it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// outcome is one request's answer.
type outcome struct {
	status  int
	latency time.Duration
	clean   bool   // a PNG, or a refusal with Retry-After and a JSON error
	problem string // why not clean
}

// runtimeStats are the server's figures before and after.
type runtimeStats struct {
	Goroutines int    `json:"goroutines"`
	HeapAlloc  uint64 `json:"heap_alloc_bytes"`
	source     string
}

func run() error {
	base := flag.String("url", "http://127.0.0.1:18080", "the server, on a loopback address only")
	imagePath := flag.String("image", "testdata/faces/astronaut_256.png", "the photo every request sends")
	n := flag.Int("n", 200, "requests, in [1, 10000]")
	c := flag.Int("c", 16, "concurrent clients, in [1, 256]")
	timeout := flag.Duration("timeout", 5*time.Minute, "one request's limit")
	total := flag.Duration("deadline", 20*time.Minute, "the whole run's limit: requests not sent by then are not sent")
	maxGoroutines := flag.Int("max-goroutine-growth", 2, "goroutines the server may hold after the run beyond before it")
	maxHeap := flag.Int64("max-heap-growth", 64<<20, "bytes of live heap the server may hold after the run beyond before it")
	flag.Parse()
	if *n < 1 || *n > 10000 || *c < 1 || *c > 256 {
		return fmt.Errorf("-n %d or -c %d out of range", *n, *c)
	}
	if err := loopbackOnly(*base); err != nil {
		return err
	}
	photo, err := os.ReadFile(*imagePath)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: *timeout}
	token := os.Getenv("FACEREWARD_TOKEN")

	var health struct{ Status string }
	if err := getJSON(client, *base+"/api/health", &health); err != nil || health.Status != "ok" {
		return fmt.Errorf("the server is not ready: %v (%+v)", err, health)
	}
	// One request first, so that what the first restore allocates for
	// good (the engine's buffers) is in the baseline.
	if o := send(client, *base, token, photo); o.status != http.StatusOK {
		return fmt.Errorf("the warm-up request: %d %s", o.status, o.problem)
	}
	client.CloseIdleConnections()
	before, err := readRuntime(client, *base)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), *total)
	defer cancel()
	outcomes := make([]outcome, 0, *n)
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *c {
		wg.Go(func() {
			for next.Add(1) <= int64(*n) && ctx.Err() == nil {
				o := send(client, *base, token, photo)
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	// The server is idle again once its queue is empty: restores that
	// outlived a client's timeout finish first.
	client.CloseIdleConnections()
	for deadline := time.Now().Add(*timeout); ; time.Sleep(200 * time.Millisecond) {
		var h struct{ Restoring, Waiting int }
		if err := getJSON(client, *base+"/api/health", &h); err == nil && h.Restoring == 0 && h.Waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the server is still busy long after the run")
		}
	}
	client.CloseIdleConnections()
	after, err := readRuntime(client, *base)
	if err != nil {
		return err
	}
	return report(outcomes, *n, *c, elapsed, before, after, *maxGoroutines, *maxHeap)
}

// loopbackOnly refuses any target but a literal loopback address.
func loopbackOnly(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme != "http" || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url %s: this load test only targets http:// on a loopback address such as 127.0.0.1", base)
	}
	return nil
}

// send posts the photo once and judges the answer.
func send(client *http.Client, base, token string, photo []byte) outcome {
	req, err := http.NewRequest(http.MethodPost, base+"/api/restore", bytes.NewReader(photo))
	if err != nil {
		return outcome{problem: err.Error()}
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return outcome{latency: time.Since(start), problem: err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	o := outcome{status: resp.StatusCode, latency: time.Since(start)}
	if err != nil {
		o.problem = "reading the answer: " + err.Error()
		return o
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if _, err := png.DecodeConfig(bytes.NewReader(body)); err != nil {
			o.problem = "a 200 that is not a PNG: " + err.Error()
			return o
		}
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		var e struct{ Error string }
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
			o.problem = fmt.Sprintf("a %d without Retry-After", resp.StatusCode)
			return o
		}
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			o.problem = fmt.Sprintf("a %d without a JSON error", resp.StatusCode)
			return o
		}
	default:
		o.problem = fmt.Sprintf("status %d: %.200s", resp.StatusCode, body)
		return o
	}
	o.clean = true
	return o
}

func getJSON(client *http.Client, u string, v any) error {
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// readRuntime reads /debug/runtime (after a GC on the server) or, when
// the server was started without --debug, /metrics (without one).
func readRuntime(client *http.Client, base string) (runtimeStats, error) {
	var s runtimeStats
	if err := getJSON(client, base+"/debug/runtime", &s); err == nil {
		s.source = "/debug/runtime, after a GC"
		return s, nil
	}
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, _ := strings.Cut(line, " ")
		v, _ := strconv.ParseFloat(value, 64)
		switch name {
		case "go_goroutines":
			s.Goroutines = int(v)
		case "go_memstats_heap_alloc_bytes":
			s.HeapAlloc = uint64(v)
		}
	}
	s.source = "/metrics, no GC (start serve with --debug for steadier figures)"
	return s, nil
}

func report(outcomes []outcome, n, c int, elapsed time.Duration, before, after runtimeStats, maxGoroutines int, maxHeap int64) error {
	counts := map[string]int{}
	var all, ok []time.Duration
	var problems []string
	for _, o := range outcomes {
		key := strconv.Itoa(o.status)
		if o.status == 0 {
			key = "no answer"
		}
		counts[key]++
		all = append(all, o.latency)
		if o.status == http.StatusOK {
			ok = append(ok, o.latency)
		}
		if !o.clean && len(problems) < 5 {
			problems = append(problems, o.problem)
		}
	}
	fmt.Printf("requests: %d sent of %d, %d clients, %.1f s\n", len(outcomes), n, c, elapsed.Seconds())
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Printf("  status %s: %d\n", k, counts[k])
	}
	fmt.Printf("latency, all answers: %s\n", percentiles(all))
	fmt.Printf("latency, 200s:        %s\n", percentiles(ok))
	fmt.Printf("server (%s):\n", after.source)
	fmt.Printf("  goroutines: %d before, %d after\n", before.Goroutines, after.Goroutines)
	fmt.Printf("  heap:       %.1f MiB before, %.1f MiB after\n", mib(before.HeapAlloc), mib(after.HeapAlloc))

	unclean := 0
	for _, o := range outcomes {
		if !o.clean {
			unclean++
		}
	}
	var fails []string
	if len(outcomes) < n {
		fails = append(fails, fmt.Sprintf("only %d of %d requests were sent before -deadline", len(outcomes), n))
	}
	if unclean > 0 {
		fails = append(fails, fmt.Sprintf("%d answers neither a result nor a clean 429/503, e.g. %q", unclean, problems))
	}
	if after.Goroutines > before.Goroutines+maxGoroutines {
		fails = append(fails, fmt.Sprintf("goroutines grew from %d to %d", before.Goroutines, after.Goroutines))
	}
	if int64(after.HeapAlloc)-int64(before.HeapAlloc) > maxHeap {
		fails = append(fails, fmt.Sprintf("the heap grew by %.1f MiB", mib(after.HeapAlloc)-mib(before.HeapAlloc)))
	}
	if len(fails) > 0 {
		return errors.New(strings.Join(fails, "; "))
	}
	fmt.Println("ok: every request got a result or a clean 429/503; no goroutine or heap growth beyond the limits")
	return nil
}

// percentiles is p50, p95 and max of ds, nearest rank.
func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	slices.Sort(ds)
	at := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return ds[max(0, min(len(ds)-1, i))]
	}
	return fmt.Sprintf("p50 %s, p95 %s, max %s (%d)", round(at(0.50)), round(at(0.95)), round(ds[len(ds)-1]), len(ds))
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(10 * time.Millisecond)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
