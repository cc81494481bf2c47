// Command verdictload loads the annotation server (`facereward serve --db
// --store`) with concurrent annotators and records every verdict it
// acknowledged, so that kill_verdicts.sh can kill the server under load
// and then check that nothing acknowledged was lost.
//
// Load mode: -clients annotators, for -duration, each GET /api/next?judge=J
// then POST /api/verdict with a seeded random choice; a judge that has
// judged every pair is replaced by a new one (J-g1, J-g2, …). A verdict
// answered 200 with "saved": true is acknowledged and appended to -acked
// as a JSON line {"judge","pair","verdict"}. Connection errors (the server
// was killed, or is restarting) are counted and retried after a short
// pause, two ways: odd-numbered clients go back to GET /api/next, which
// offers the pair again only if the verdict was not stored; even-numbered
// clients send the same verdict again until it is answered, as the
// annotation page does (its pair stays on screen and the same key
// retries), with the same idempotency id, as the page sends, so a
// re-send whose first answer was lost after the commit is stored once.
// It prints one JSON line of counts.
//
//	go run ./tools/reliability/verdictload -url http://127.0.0.1:18181 -clients 8 -duration 60s -acked acked.jsonl
//
// Check mode: -check EXPORT reads the server's export (GET
// /api/export.jsonl) and -acked, and prints one JSON line: acknowledged,
// stored, lost (acknowledged but not stored, counted with multiplicity),
// duplicates (a judge's second or later verdict on one pair) and stored
// verdicts no client saw acknowledged (committed, then the answer was
// lost to a kill). It exits 1 if anything acknowledged was lost.
//
// It only ever talks to a loopback address.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type ack struct {
	Judge   string `json:"judge"`
	Pair    string `json:"pair"`
	Verdict string `json:"verdict"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "verdictload:", err)
		os.Exit(1)
	}
}

func run() error {
	base := flag.String("url", "", "the server, http://127.0.0.1:PORT")
	clients := flag.Int("clients", 8, "concurrent annotators")
	duration := flag.Duration("duration", 60*time.Second, "how long to load the server")
	ackedPath := flag.String("acked", "", "JSONL file of acknowledged verdicts (appended to in load mode)")
	prefix := flag.String("judge", "load", "prefix of the annotators' names")
	seed := flag.Uint64("seed", 1, "seed of the choices")
	check := flag.String("check", "", "check mode: the server's export (JSONL) to check -acked against")
	flag.Parse()
	if *ackedPath == "" {
		return errors.New("-acked is required")
	}
	if *check != "" {
		return checkExport(*check, *ackedPath)
	}
	u, err := url.Parse(*base)
	if err != nil || u.Scheme != "http" {
		return fmt.Errorf("-url %q: want http://127.0.0.1:PORT", *base)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url %q: only a loopback address", *base)
	}
	if *clients < 1 || *clients > 256 {
		return fmt.Errorf("-clients %d: want 1 to 256", *clients)
	}
	f, err := os.OpenFile(*ackedPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	out := bufio.NewWriter(f)

	var (
		mu                                                    sync.Mutex
		requests, acked, connErrs, statusErrs, judges, resent atomic.Int64
	)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *clients}}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range *clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(*seed, uint64(c)))
			gen := 0
			judge := fmt.Sprintf("%s-c%02d-g%d", *prefix, c, gen)
			judges.Add(1)
			pause := func() {
				select {
				case <-ctx.Done():
				case <-time.After(20 * time.Millisecond):
				}
			}
			for ctx.Err() == nil {
				var next struct {
					Done    bool   `json:"done"`
					Pair    string `json:"pair"`
					Swapped bool   `json:"swapped"`
				}
				requests.Add(1)
				status, err := call(ctx, hc, http.MethodGet, *base+"/api/next?judge="+url.QueryEscape(judge), nil, &next)
				if err != nil || status != http.StatusOK {
					if ctx.Err() == nil { // not the end of the run cutting a request off
						count(err, status, &connErrs, &statusErrs)
					}
					pause()
					continue
				}
				if next.Done {
					gen++
					judge = fmt.Sprintf("%s-c%02d-g%d", *prefix, c, gen)
					judges.Add(1)
					continue
				}
				choice := []string{"shown-left", "shown-right", "tie"}[rng.IntN(3)]
				id := fmt.Sprintf("%s-c%02d-%d", *prefix, c, rng.Uint64())
				body, _ := json.Marshal(map[string]any{"pair": next.Pair, "judge": judge, "choice": choice, "swapped": next.Swapped, "id": id})
				var resp struct {
					Saved   bool   `json:"saved"`
					Pair    string `json:"pair"`
					Verdict string `json:"verdict"`
				}
				// Not ctx: a verdict under way is let finish, so that the
				// end of the run does not cut an acknowledgement off.
				for try := 0; ; try++ {
					requests.Add(1)
					status, err = call(context.Background(), hc, http.MethodPost, *base+"/api/verdict", body, &resp)
					lostAnswer := err != nil || status == http.StatusServiceUnavailable
					if !lostAnswer || c%2 == 1 || try >= 500 {
						break
					}
					// An even-numbered client is the annotation page: the
					// pair stays on screen and the same key sends the
					// same verdict again.
					count(err, status, &connErrs, &statusErrs)
					resent.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
				if err != nil || status != http.StatusOK || !resp.Saved {
					count(err, status, &connErrs, &statusErrs)
					pause()
					continue
				}
				acked.Add(1)
				line, _ := json.Marshal(ack{Judge: judge, Pair: resp.Pair, Verdict: resp.Verdict})
				mu.Lock()
				out.Write(append(line, '\n'))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if err := out.Flush(); err != nil {
		return err
	}
	summary, _ := json.Marshal(map[string]any{
		"seconds": elapsed, "requests": requests.Load(), "requests_per_s": float64(requests.Load()) / elapsed,
		"acked": acked.Load(), "acked_per_s": float64(acked.Load()) / elapsed,
		"conn_errors": connErrs.Load(), "status_errors": statusErrs.Load(), "judges": judges.Load(), "resent": resent.Load(),
		"answered_per_s": float64(requests.Load()-connErrs.Load()) / elapsed,
	})
	fmt.Println(string(summary))
	return nil
}

func count(err error, status int, connErrs, statusErrs *atomic.Int64) {
	if err != nil {
		connErrs.Add(1)
	} else {
		statusErrs.Add(1)
	}
}

// call sends one request and decodes a 200 answer's JSON into v.
func call(ctx context.Context, hc *http.Client, method, u string, body []byte, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, err // the answer was cut off: not acknowledged
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.Unmarshal(b, v)
}

func checkExport(exportPath, ackedPath string) error {
	type key struct{ judge, pair, verdict string }
	acks := map[key]int{}
	nAcked := 0
	if err := eachLine(ackedPath, func(b []byte) error {
		var a ack
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		acks[key{a.Judge, a.Pair, a.Verdict}]++
		nAcked++
		return nil
	}); err != nil {
		return err
	}
	stored := map[key]int{}
	perJudgePair := map[[2]string]int{}
	nStored := 0
	if err := eachLine(exportPath, func(b []byte) error {
		var r struct {
			ID      string `json:"id"`
			Judge   string `json:"judge"`
			Verdict string `json:"verdict"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		stored[key{r.Judge, r.ID, r.Verdict}]++
		perJudgePair[[2]string{r.Judge, r.ID}]++
		nStored++
		return nil
	}); err != nil {
		return err
	}
	lost, unacked, dups := 0, 0, 0
	for k, n := range acks {
		if s := stored[k]; s < n {
			lost += n - s
			fmt.Fprintf(os.Stderr, "lost: %s's verdict %s on pair %s (acknowledged %d×, stored %d×)\n", k.judge, k.verdict, k.pair, n, s)
		}
	}
	for k, s := range stored {
		if n := acks[k]; s > n {
			unacked += s - n
		}
	}
	for _, n := range perJudgePair {
		if n > 1 {
			dups += n - 1
		}
	}
	summary, _ := json.Marshal(map[string]any{"acked": nAcked, "stored": nStored, "lost": lost, "duplicates": dups, "stored_unacked": unacked})
	fmt.Println(string(summary))
	if lost > 0 {
		return fmt.Errorf("%d acknowledged verdict(s) lost", lost)
	}
	if dups > 0 {
		return fmt.Errorf("%d verdict(s) stored twice (a re-send with its idempotency id must be stored once)", dups)
	}
	return nil
}

func eachLine(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := fn(sc.Bytes()); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}
