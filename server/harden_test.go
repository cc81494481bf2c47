package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"facereward/prefs"
	"facereward/server/httpjson"
	"facereward/server/restoreapi"
)

// send makes one request to the test server at base with the given Host
// and headers, and returns the status and the decoded JSON error (if any).
func send(t *testing.T, base, method, host, path, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct{ Error string }
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, e.Error
}

// DNS rebinding: a request for a host that is not this server's gets 421,
// a write from a page of another origin 403; loopback hosts, and writes
// without an Origin (curl), pass.
func TestGuardHostAndOrigin(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { httpjson.Write(w, http.StatusOK, "ok") })
	local := httptest.NewServer(guard(allowedHosts("127.0.0.1:8080", false, nil), ok))
	defer local.Close()
	public := httptest.NewServer(guard(allowedHosts("10.0.0.5:8080", true, []string{"Faces.Example.org"}), ok))
	defer public.Close()
	for _, c := range []struct {
		base, method, host, origin string
		want                       int
	}{
		{local.URL, "GET", "", "", 200},
		{local.URL, "GET", "localhost:8080", "", 200},
		{local.URL, "GET", "LOCALHOST.", "", 200},
		{local.URL, "GET", "[::1]:8080", "", 200},
		{local.URL, "GET", "127.0.0.2", "", 200},
		{local.URL, "GET", "rebind.evil.example:8080", "", 421},
		{local.URL, "GET", "localhost.evil.example", "", 421},
		{local.URL, "GET", "10.0.0.5:8080", "", 421},
		{local.URL, "POST", "", "", 200},
		{local.URL, "POST", "", "http://localhost:8080", 200},
		{local.URL, "POST", "", "http://evil.example", 403},
		{local.URL, "DELETE", "", "https://evil.example", 403},
		{local.URL, "POST", "", "null", 403},
		{local.URL, "GET", "", "http://evil.example", 200}, // reads: the Host check is what matters
		{public.URL, "GET", "10.0.0.5:8080", "", 200},
		{public.URL, "GET", "faces.example.org", "", 200},
		{public.URL, "GET", "localhost", "", 200},
		{public.URL, "GET", "other.example.org", "", 421},
		{public.URL, "POST", "faces.example.org", "https://faces.example.org", 200},
		{public.URL, "PUT", "faces.example.org", "https://other.example.org", 403},
	} {
		h := map[string]string{}
		if c.origin != "" {
			h["Origin"] = c.origin
		}
		status, msg := send(t, c.base, c.method, c.host, "/", "", h)
		if status != c.want || (status != 200 && msg == "") {
			t.Errorf("%s Host %q Origin %q: %d %q, want %d with a JSON error", c.method, c.host, c.origin, status, msg, c.want)
		}
	}
	// On every interface, the listen host adds nothing: --allow-host names them.
	if got := allowedHosts(":8080", true, nil); len(got) != 3 {
		t.Errorf("allowed on :8080: %v", got)
	}
}

// --allow-host goes with --public and takes host names, not addresses.
func TestValidateAllowHost(t *testing.T) {
	o := testOptions(nil)
	o.AllowHosts = []string{"faces.example.org"}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "needs --public") {
		t.Errorf("without --public: %v", err)
	}
	o.Public = true
	for _, h := range []string{"faces.example.org", "10.0.0.5", "::1"} {
		o.AllowHosts = []string{h}
		if err := o.Validate(); err != nil {
			t.Errorf("%q: %v", h, err)
		}
	}
	for _, h := range []string{"", "faces.example.org:8080", "http://faces.example.org"} {
		o.AllowHosts = []string{h}
		if err := o.Validate(); err == nil {
			t.Errorf("%q accepted", h)
		}
	}
}

// A client that sends headers but never its body, or opens a connection
// and sends nothing, is cut off after the read timeout rather than held
// open for ever; every phase of a connection has a limit.
func TestSlowClientsAreCut(t *testing.T) {
	db, _ := openSQLite(t)
	store, _ := addPairs(t, db, 1)
	c := restoreapi.DefaultConfig()
	c.ReadTimeout = 300 * time.Millisecond
	srv := newHTTPServer(New(db, store, Config{Log: log.New(io.Discard, "", 0)}), c)
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 || srv.WriteTimeout < c.ReadTimeout+c.Timeout {
		t.Errorf("timeouts: header %v, read %v, write %v, idle %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = srv
	ts.Start()
	defer ts.Close()
	for what, send := range map[string]string{
		"slow body":    "POST /api/verdict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"pair\":",
		"no request":   "",
		"slow headers": "GET /api/next?judge=ann HTTP/1.1\r\nHost: localhost\r\n",
	} {
		conn, err := net.Dial("tcp", ts.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, send); err != nil {
			t.Fatal(err)
		}
		// The server must end the connection well before this deadline.
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		_, err = io.Copy(io.Discard, bufio.NewReader(conn))
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("%s: connection still open after %v", what, time.Since(start).Round(time.Millisecond))
		}
		conn.Close()
	}
}

// Bodies are one strict JSON value, text fields printable and bounded:
// anything else is 400 naming what is wrong, and nothing is stored.
func TestVerdictStrictBodyAndText(t *testing.T) {
	db, _ := openSQLite(t)
	store, pairs := addPairs(t, db, 1)
	ts := httptest.NewServer(New(db, store, Config{Log: log.New(io.Discard, "", 0)}))
	defer ts.Close()
	good := verdictBody(pairs[0].ID, "ann", ShownLeft, false)
	json := map[string]string{"Content-Type": "application/json"}
	for body, want := range map[string]string{
		good + `{"pair":"x"}`: "after the JSON value",
		good + "garbage":      "after the JSON value",
		good + "]":            "after the JSON value",
		strings.Replace(good, `"ann"`, `"a\u0000nn"`, 1):                                     "judge: unprintable",
		strings.Replace(good, `"ann"`, `"`+strings.Repeat("n", prefs.MaxNameRunes+1)+`"`, 1): "judge: ",
		strings.Replace(good, `"choice"`, `"extra":1,"choice"`, 1):                           "unknown field",
		strings.Replace(good, `"pair":"`, `"pair":"\u0007`, 1):                               "pair: unprintable",
	} {
		status, msg := send(t, ts.URL, "POST", "", "/api/verdict", body, json)
		if status != http.StatusBadRequest || !strings.Contains(msg, want) {
			t.Errorf("%q: %d %q, want 400 with %q", body, status, msg, want)
		}
	}
	if status, msg := send(t, ts.URL, "GET", "", "/api/next?judge=a%00b", "", nil); status != 400 || !strings.Contains(msg, "judge") {
		t.Errorf("next with a NUL in the judge: %d %q", status, msg)
	}
	if recs, err := db.Records(); err != nil || len(recs) != 0 {
		t.Fatalf("refused verdicts stored: %v, %v", recs, err)
	}
	if status, msg := send(t, ts.URL, "POST", "", "/api/verdict", good+"\n", json); status != 200 {
		t.Errorf("a good verdict with a final newline: %d %q", status, msg)
	}
}

// Errors answer with a status and a generic message: the database's file
// and the image store's folder stay in the server's log.
func TestErrorsHideInternals(t *testing.T) {
	db, dsn := openSQLite(t)
	store, pairs := addPairs(t, db, 1)
	var logged syncBuffer
	ts := httptest.NewServer(New(db, store, Config{Log: log.New(&logged, "", 0)}))
	defer ts.Close()
	missing := "sha256:" + strings.Repeat("ab", 32)
	if status, msg := send(t, ts.URL, "GET", "", "/images/"+missing, "", nil); status != 404 || strings.Contains(msg, store.Dir) {
		t.Errorf("missing image: %d %q", status, msg)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/next?judge=ann", ""},
		{"POST", "/api/verdict", verdictBody(pairs[0].ID, "ann", ShownLeft, false)},
		{"GET", "/api/export.jsonl", ""},
	} {
		status, msg := send(t, ts.URL, c.method, "", c.path, c.body, map[string]string{"Content-Type": "application/json"})
		if status != http.StatusServiceUnavailable || msg != unavailable {
			t.Errorf("%s %s: %d %q, want 503 %q", c.method, c.path, status, msg, unavailable)
		}
	}
	if !strings.Contains(logged.String(), dsn) || !strings.Contains(logged.String(), store.Dir) {
		t.Errorf("the log lacks the database or the store: %q", logged.String())
	}
}
