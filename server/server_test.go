package server

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"facereward/prefs"
	"facereward/prefs/prefstest"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for refuseVerdicts
	_ "modernc.org/sqlite"             // the "sqlite" driver, for refuseVerdicts
)

// testNow stamps every verdict in these tests.
var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// addPairs stores n pairs, each with its own three 128×128 PNGs, in db and
// in a fresh store.
func addPairs(t testing.TB, db *prefs.DB, n int) (prefs.Store, []prefs.Pair) {
	t.Helper()
	store := prefs.Store{Dir: t.TempDir()}
	put := func(shade uint8) prefs.Ref {
		img := image.NewGray(image.Rect(0, 0, 128, 128))
		for i := range img.Pix {
			img.Pix[i] = shade
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		ref, err := store.Put(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	var pairs []prefs.Pair
	for i := range n {
		pairs = append(pairs, prefs.Pair{
			ID:    fmt.Sprintf("pair-%02d", i),
			Face:  fmt.Sprintf("%05d", i),
			LQ:    put(uint8(3 * i)),
			Left:  prefs.Candidate{Image: put(uint8(3*i + 1)), Provenance: prefs.Provenance{Method: "stage1", Seed: uint64(i)}},
			Right: prefs.Candidate{Image: put(uint8(3*i + 2)), Provenance: prefs.Provenance{Method: "stage2", Seed: uint64(i)}},
		})
	}
	if err := db.AddPairs(pairs); err != nil {
		t.Fatal(err)
	}
	return store, pairs
}

// openSQLite opens a database in a fresh file and returns it with its path.
func openSQLite(t testing.TB) (*prefs.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prefs.db")
	db, err := prefs.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// refuseVerdicts makes the database at dsn (a SQLite file or a postgres://
// URL, as prefs.Open takes) fail every new verdict, as a full disk would,
// until the returned func is called. It goes behind prefs's back, through
// a connection of its own, so that prefs meets a real database error.
func refuseVerdicts(t testing.TB, dsn string) (undo func()) {
	t.Helper()
	driver, create, drop := "sqlite", []string{`CREATE TRIGGER refuse_verdicts BEFORE INSERT ON judgements
		BEGIN SELECT RAISE(ABORT, 'the disk is full'); END`}, `DROP TRIGGER refuse_verdicts`
	if strings.HasPrefix(dsn, "postgres") {
		driver, create, drop = "pgx", []string{
			`CREATE FUNCTION refuse_verdicts() RETURNS trigger LANGUAGE plpgsql
				AS $$ BEGIN RAISE EXCEPTION 'the disk is full'; END $$`,
			`CREATE TRIGGER refuse_verdicts BEFORE INSERT ON judgements
				FOR EACH ROW EXECUTE FUNCTION refuse_verdicts()`,
		}, `DROP TRIGGER refuse_verdicts ON judgements`
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	for _, stmt := range create {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		if _, err := raw.Exec(drop); err != nil {
			t.Fatal(err)
		}
	}
}

// do sends a request to h and returns the status and the body.
func do(t *testing.T, h http.Handler, method, target, body string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// doJSON sends a request to h, checks the status, and decodes the body.
func doJSON[T any](t *testing.T, h http.Handler, method, target, body string, want int) T {
	t.Helper()
	res, b := do(t, h, method, target, body)
	if res.StatusCode != want {
		t.Fatalf("%s %s %s: %d %s, want %d", method, target, body, res.StatusCode, b, want)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q", method, target, ct)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s: %v in %s", method, target, err, b)
	}
	return v
}

func verdictBody(pair, judge, choice string, swapped bool) string {
	b, _ := json.Marshal(map[string]any{"pair": pair, "judge": judge, "choice": choice, "swapped": swapped})
	return string(b)
}

// eachDB runs f with a fresh database of every kind available, and the
// DSN it was opened with.
func eachDB(t *testing.T, f func(t *testing.T, db *prefs.DB, dsn string)) {
	for _, kind := range prefstest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			dsn := prefstest.DSN(t, kind)
			db, err := prefs.Open(dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			f(t, db, dsn)
		})
	}
}

// A judge goes through every pair, choosing each way, and the database and
// the export hold exactly those verdicts, mapped from the screen's sides to
// the stored ones by which image was shown where.
func TestAnnotateFlow(t *testing.T) {
	eachDB(t, func(t *testing.T, db *prefs.DB, _ string) {
		store, pairs := addPairs(t, db, 6)
		h := New(db, store, Config{Seed: 1, Now: func() time.Time { return testNow }})

		res, _ := do(t, h, "GET", "/", "")
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/annotate" {
			t.Errorf("GET /: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		res, page := do(t, h, "GET", "/annotate", "")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !bytes.Contains(page, []byte("/static/annotate.js")) {
			t.Errorf("GET /annotate: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), page)
		}
		for _, asset := range []string{"/static/annotate.js", "/static/annotate.css"} {
			if res, b := do(t, h, "GET", asset, ""); res.StatusCode != 200 || len(b) == 0 {
				t.Errorf("GET %s: %d, %d bytes", asset, res.StatusCode, len(b))
			}
		}

		byID := map[string]prefs.Pair{}
		for _, p := range pairs {
			byID[p.ID] = p
		}
		choices := []string{ShownLeft, ShownRight, ChoiceTie, ChoiceSkip, ShownLeft, ShownRight}
		var want []prefs.Verdict
		seen := map[bool]int{}
		for i, choice := range choices {
			next := doJSON[nextResponse](t, h, "GET", "/api/next?judge=ann", "", 200)
			p, ok := byID[next.Pair]
			if next.Done || !ok || next.Judged != i || next.Total != len(pairs) {
				t.Fatalf("next after %d verdicts: %+v", i, next)
			}
			if next.LQ != imageURL(p.LQ) {
				t.Errorf("pair %s: lq %s", p.ID, next.LQ)
			}
			left, right := imageURL(p.Left.Image), imageURL(p.Right.Image)
			if next.Shown != [2]string{left, right} && next.Shown != [2]string{right, left} {
				t.Fatalf("pair %s shown as %q, not its candidates %s and %s", p.ID, next.Shown, left, right)
			}
			if swappedOnScreen := next.Shown[0] == right; swappedOnScreen != next.Swapped {
				t.Fatalf("pair %s: swapped %v but shown %q", p.ID, next.Swapped, next.Shown)
			}
			seen[next.Swapped]++
			for _, url := range append(next.Shown[:], next.LQ) {
				if res, b := do(t, h, "GET", url, ""); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || len(b) == 0 {
					t.Errorf("GET %s: %d %s", url, res.StatusCode, b)
				}
			}

			// What the stored verdict must be: the side of the image that
			// was on screen where the annotator pointed.
			stored := map[string]prefs.Verdict{left: prefs.Left, right: prefs.Right}
			v := map[string]prefs.Verdict{ShownLeft: stored[next.Shown[0]], ShownRight: stored[next.Shown[1]], ChoiceTie: prefs.Tie, ChoiceSkip: prefs.Skip}[choice]
			want = append(want, v)

			got := doJSON[verdictResponse](t, h, "POST", "/api/verdict", verdictBody(p.ID, " ann ", choice, next.Swapped), 200)
			if got != (verdictResponse{Saved: true, Pair: p.ID, Verdict: v, Judged: i + 1, Total: len(pairs)}) {
				t.Errorf("verdict %s on %s: %+v, want %s, %d of %d", choice, p.ID, got, v, i+1, len(pairs))
			}
		}
		if seen[true] == 0 || seen[false] == 0 {
			t.Errorf("of %d pairs, %d shown swapped: want both sides", len(pairs), seen[true])
		}
		if next := doJSON[nextResponse](t, h, "GET", "/api/next?judge=ann", "", 200); !next.Done || next.Pair != "" || next.Judged != len(pairs) || next.Total != len(pairs) {
			t.Errorf("next when all are judged: %+v", next)
		}
		if next := doJSON[nextResponse](t, h, "GET", "/api/next?judge=bob", "", 200); next.Done || next.Judged != 0 {
			t.Errorf("next for another judge: %+v", next)
		}

		recs, err := db.Records()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(want) {
			t.Fatalf("%d records, want %d", len(recs), len(want))
		}
		for i, r := range recs {
			if r.Judge != "ann" || r.Verdict != want[i] || !r.At.Equal(testNow) {
				t.Errorf("record %d: %s by %q at %v, want %s by ann at %v", i, r.Verdict, r.Judge, r.At, want[i], testNow)
			}
		}

		res, b := do(t, h, "GET", "/api/export.jsonl", "")
		if res.StatusCode != 200 || res.Header.Get("Content-Disposition") != `attachment; filename="prefs.jsonl"` {
			t.Errorf("export: %d, Content-Disposition %q", res.StatusCode, res.Header.Get("Content-Disposition"))
		}
		exported, err := prefs.ReadJSONL(bytes.NewReader(b), "export")
		if err != nil {
			t.Fatal(err)
		}
		if len(exported) != len(recs) {
			t.Fatalf("exported %d records, want %d", len(exported), len(recs))
		}
		for i := range recs {
			if exported[i].ID != recs[i].ID || exported[i].Verdict != recs[i].Verdict || exported[i].Judge != recs[i].Judge {
				t.Errorf("exported record %d: %+v, want %+v", i, exported[i], recs[i])
			}
		}
	})
}

// A click on the left of a swapped pair is a vote for its stored Right.
func TestSwappedVerdicts(t *testing.T) {
	eachDB(t, func(t *testing.T, db *prefs.DB, _ string) {
		store, pairs := addPairs(t, db, 2)
		h := New(db, store, Config{})
		for _, c := range []struct {
			pair    string
			choice  string
			swapped bool
			want    prefs.Verdict
		}{
			{pairs[0].ID, ShownLeft, true, prefs.Right},
			{pairs[0].ID, ShownRight, true, prefs.Left},
			{pairs[1].ID, ShownLeft, false, prefs.Left},
			{pairs[1].ID, ShownRight, false, prefs.Right},
			{pairs[1].ID, ChoiceTie, true, prefs.Tie},
		} {
			judge := c.choice + fmt.Sprint(c.swapped) // a judge per case: one verdict per judge and pair
			got := doJSON[verdictResponse](t, h, "POST", "/api/verdict", verdictBody(c.pair, judge, c.choice, c.swapped), 200)
			if got.Verdict != c.want {
				t.Errorf("%s, swapped %v: answered %s, want %s", c.choice, c.swapped, got.Verdict, c.want)
			}
			recs, err := db.Records()
			if err != nil {
				t.Fatal(err)
			}
			if last := recs[len(recs)-1]; last.ID != c.pair || last.Verdict != c.want {
				t.Errorf("%s, swapped %v: stored %s on %s, want %s on %s", c.choice, c.swapped, last.Verdict, last.ID, c.want, c.pair)
			}
		}
	})
}

// Bad requests are refused with a message that names the problem, and
// store nothing.
func TestRequestErrors(t *testing.T) {
	eachDB(t, func(t *testing.T, db *prefs.DB, _ string) {
		store, pairs := addPairs(t, db, 1)
		h := New(db, store, Config{})
		id := pairs[0].ID
		for _, c := range []struct {
			method, target, body string
			status               int
			msg                  string
		}{
			{"POST", "/api/verdict", verdictBody("no-such-pair", "ann", ShownLeft, false), 404, `"no-such-pair" is not in the database`},
			{"POST", "/api/verdict", verdictBody(id, "ann", "left", false), 400, `choice "left"`},
			{"POST", "/api/verdict", verdictBody(id, "", ShownLeft, false), 400, "no judge"},
			{"POST", "/api/verdict", verdictBody(id, "  ", ShownLeft, false), 400, "no judge"},
			{"POST", "/api/verdict", verdictBody(id, "auto:bot", ShownLeft, false), 400, "automatic labellers"},
			{"POST", "/api/verdict", verdictBody("", "ann", ShownLeft, false), 400, "without a pair"},
			{"POST", "/api/verdict", `{"pair":"` + id + `","judge":"ann","choice":"tie"}`, 400, "without swapped"},
			{"POST", "/api/verdict", `{"pair":"` + id + `","judge":"ann","choice":"tie","swapped":false,"extra":1}`, 400, "unknown field"},
			{"POST", "/api/verdict", `{"pair":`, 400, "reading the verdict"},
			{"GET", "/api/next", "", 400, "no judge"},
			{"GET", "/api/next?judge=auto:x", "", 400, "automatic labellers"},
			{"GET", "/images/sha256:nothex", "", 404, "64 hex digits"},
			{"GET", "/images/" + strings.Repeat("0", 64), "", 404, "sha256:"},
			{"GET", "/images/sha256:" + strings.Repeat("0", 64), "", 404, "is not in the store"},
		} {
			e := doJSON[map[string]string](t, h, c.method, c.target, c.body, c.status)
			if !strings.Contains(e["error"], c.msg) {
				t.Errorf("%s %s %s: error %q, want it to say %q", c.method, c.target, c.body, e["error"], c.msg)
			}
		}

		// Form posts from other sites cannot send JSON without asking.
		req := httptest.NewRequest("POST", "/api/verdict", strings.NewReader(verdictBody(id, "ann", ChoiceTie, false)))
		req.Header.Set("Content-Type", "text/plain")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnsupportedMediaType {
			t.Errorf("a text/plain verdict: %d %s", rec.Code, rec.Body)
		}

		recs, err := db.Records()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 0 {
			t.Errorf("refused requests stored %d records: %+v", len(recs), recs)
		}
	})
}

// A stored image is served as is, cacheable for good.
func TestImage(t *testing.T) {
	db, _ := openSQLite(t)
	store, pairs := addPairs(t, db, 1)
	h := New(db, store, Config{})
	res, b := do(t, h, "GET", imageURL(pairs[0].Left.Image), "")
	path, err := store.Path(pairs[0].Left.Image)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !bytes.Equal(b, want) || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("GET image: %d, %d bytes (want %d), Cache-Control %q", res.StatusCode, len(b), len(want), res.Header.Get("Cache-Control"))
	}
}

// A verdict the database does not commit is answered 503 and never
// "saved"; the same verdict goes through once the database recovers.
func TestFailedWriteIsNotSaved(t *testing.T) {
	eachDB(t, func(t *testing.T, db *prefs.DB, dsn string) {
		store, pairs := addPairs(t, db, 2)
		var logged syncBuffer
		h := New(db, store, Config{Log: log.New(&logged, "", 0)})
		body := verdictBody(pairs[0].ID, "ann", ShownLeft, false)

		undo := refuseVerdicts(t, dsn)
		res, b := do(t, h, "POST", "/api/verdict", body)
		if res.StatusCode != http.StatusServiceUnavailable || !bytes.Contains(b, []byte(unavailable)) || bytes.Contains(b, []byte(`"saved"`)) {
			t.Errorf("verdict on a failing database: %d %s", res.StatusCode, b)
		}
		if !strings.Contains(logged.String(), "the disk is full") {
			t.Errorf("the database's error is not in the log: %q", logged.String())
		}
		if recs, err := db.Records(); err != nil || len(recs) != 0 {
			t.Fatalf("records after a failed write: %v, %v", recs, err)
		}
		if next := doJSON[nextResponse](t, h, "GET", "/api/next?judge=ann", "", 200); next.Done || next.Judged != 0 {
			t.Errorf("after a failed write: %+v, want nothing judged", next)
		}

		undo()
		if got := doJSON[verdictResponse](t, h, "POST", "/api/verdict", body, 200); !got.Saved || got.Judged != 1 {
			t.Errorf("retry: %+v", got)
		}
	})
}

// With the database gone, every API call says so with 503.
func TestDatabaseDown(t *testing.T) {
	eachDB(t, func(t *testing.T, db *prefs.DB, _ string) {
		store, pairs := addPairs(t, db, 1)
		h := New(db, store, Config{})
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ method, target, body string }{
			{"POST", "/api/verdict", verdictBody(pairs[0].ID, "ann", ShownRight, true)},
			{"GET", "/api/next?judge=ann", ""},
			{"GET", "/api/export.jsonl", ""},
		} {
			e := doJSON[map[string]string](t, h, c.method, c.target, c.body, http.StatusServiceUnavailable)
			if e["error"] == "" {
				t.Errorf("%s %s: no error message", c.method, c.target)
			}
		}
	})
}

// Each judge sees about half the pairs swapped, the same ones every time,
// and another seed or judge sees other ones.
func TestSwapBalancedAndDeterministic(t *testing.T) {
	const n = 2000
	count := func(seed uint64, judge string) (swaps int, which []bool) {
		for i := range n {
			s := swapped(seed, judge, fmt.Sprintf("pair-%d", i))
			which = append(which, s)
			if s {
				swaps++
			}
		}
		return swaps, which
	}
	differ := func(a, b []bool) int {
		d := 0
		for i := range a {
			if a[i] != b[i] {
				d++
			}
		}
		return d
	}
	swaps, base := count(1, "ann")
	if swaps < n*45/100 || swaps > n*55/100 {
		t.Errorf("%d of %d pairs swapped: want about half", swaps, n)
	}
	if _, again := count(1, "ann"); differ(base, again) != 0 {
		t.Error("the same seed and judge swapped other pairs")
	}
	for _, other := range []struct {
		seed  uint64
		judge string
	}{{2, "ann"}, {1, "bob"}} {
		if _, o := count(other.seed, other.judge); differ(base, o) < n*40/100 {
			t.Errorf("seed %d, judge %s: swaps %d of %d pairs differently from seed 1, ann: want about half", other.seed, other.judge, differ(base, o), n)
		}
	}
}
