package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"facereward/prefs"
)

// keyedBody is a verdict body with the idempotency key id.
func keyedBody(id, pair, judge, choice string, swapped bool) string {
	b, _ := json.Marshal(map[string]any{"id": id, "pair": pair, "judge": judge, "choice": choice, "swapped": swapped})
	return string(b)
}

// A verdict re-sent with its id, as the page does when the answer to the
// first send was lost, is answered saved again, as stored the first time,
// and stored once; another id, or none (scripts, older pages), stores
// another verdict. An id of another judge's verdict is a conflict.
func TestVerdictResentWithID(t *testing.T) {
	eachDB(t, func(t *testing.T, db *prefs.DB, _ string) {
		store, pairs := addPairs(t, db, 1)
		h := New(db, store, Config{Now: func() time.Time { return testNow }})
		id := pairs[0].ID
		const key = "00112233445566778899aabbccddeeff"
		first := doJSON[verdictResponse](t, h, "POST", "/api/verdict", keyedBody(key, id, "dup", ShownLeft, false), 200)
		want := verdictResponse{Saved: true, Pair: id, Verdict: prefs.Left, Judged: 1, Total: 1}
		if first != want {
			t.Fatalf("first send: %+v, want %+v", first, want)
		}
		// The retry may come with another key pressed: the first verdict
		// is the one stored, and the answer says so.
		for _, choice := range []string{ShownLeft, ShownRight} {
			if got := doJSON[verdictResponse](t, h, "POST", "/api/verdict", keyedBody(key, id, "dup", choice, false), 200); got != want {
				t.Errorf("re-sent as %s: %+v, want %+v", choice, got, want)
			}
		}
		checkExported(t, h, 1)

		doJSON[verdictResponse](t, h, "POST", "/api/verdict", keyedBody("ffeeddccbbaa99887766554433221100", id, "dup", ChoiceTie, false), 200)
		checkExported(t, h, 2)
		for range 2 {
			doJSON[verdictResponse](t, h, "POST", "/api/verdict", verdictBody(id, "dup", ChoiceTie, false), 200)
		}
		checkExported(t, h, 4)

		e := doJSON[map[string]string](t, h, "POST", "/api/verdict", keyedBody(key, id, "eve", ShownRight, false), http.StatusConflict)
		if !strings.Contains(e["error"], key) {
			t.Errorf("another judge's id: %q, want it to name the id", e["error"])
		}
		e = doJSON[map[string]string](t, h, "POST", "/api/verdict", keyedBody("not a key", id, "dup", ShownLeft, false), 400)
		if !strings.Contains(e["error"], "id: byte 0x20") {
			t.Errorf("a malformed id: %q", e["error"])
		}
		checkExported(t, h, 4)
	})
}

// checkExported fails the test unless h's export holds n records.
func checkExported(t *testing.T, h http.Handler, n int) {
	t.Helper()
	res, b := do(t, h, "GET", "/api/export.jsonl", "")
	if got := bytes.Count(b, []byte("\n")); res.StatusCode != 200 || got != n {
		t.Fatalf("export: %d with %d records, want %d", res.StatusCode, got, n)
	}
}

// A body above the limit is 413, as on the restore API, saying the limit.
func TestVerdictBodyTooLarge(t *testing.T) {
	db, _ := openSQLite(t)
	store, pairs := addPairs(t, db, 1)
	h := New(db, store, Config{})
	body := strings.Replace(verdictBody(pairs[0].ID, "ann", ShownLeft, false), `"ann"`, `"ann","pad":"`+strings.Repeat("x", maxVerdictBody)+`"`, 1)
	e := doJSON[map[string]string](t, h, "POST", "/api/verdict", body, http.StatusRequestEntityTooLarge)
	if !strings.Contains(e["error"], "limit of 65536 bytes") {
		t.Errorf("error %q, want it to say the limit", e["error"])
	}
}
