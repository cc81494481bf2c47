package server

import (
	"bytes"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"facereward/prefs"
)

// fuzzPrefs is an in-memory Prefs that never fails: with it, any 5xx from
// the handler is the handler's own fault, not the database's. It knows one
// pair, fuzzPairID, and keeps the judgements it is given.
type fuzzPrefs struct {
	judged []prefs.Judgement
}

const fuzzPairID = "pair-00"

func (p *fuzzPrefs) Next(string) (prefs.Pair, bool, error) { return prefs.Pair{}, false, nil }
func (p *fuzzPrefs) Progress(string) (int, int, error)     { return len(p.judged), 1, nil }
func (p *fuzzPrefs) Records() ([]prefs.Record, error)      { return nil, nil }

func (p *fuzzPrefs) JudgeOnce(j prefs.Judgement) (prefs.Judgement, error) {
	if j.Pair != fuzzPairID {
		return prefs.Judgement{}, prefs.ErrNoPair
	}
	p.judged = append(p.judged, j)
	return j, nil
}

// FuzzVerdict posts arbitrary bodies, with an arbitrary Content-Type, to
// POST /api/verdict. The body comes from a browser anyone can script, so
// no body may panic the handler or earn a 5xx while the database works
// (a 5xx tells the page to retry, and is logged as the server's fault):
// the answer is 200 or a 4xx. And whatever reaches the database must be a
// judgement that passes prefs' own validation, with a judge name that is
// neither padded nor an automatic labeller's.
func FuzzVerdict(f *testing.F) {
	const json = "application/json"
	f.Add(json, verdictBody(fuzzPairID, "ann", ShownLeft, false))
	f.Add(json+"; charset=utf-8", verdictBody(fuzzPairID, " bob ", ShownRight, true))
	f.Add(json, verdictBody(fuzzPairID, "ann", ChoiceSkip, true))
	f.Add(json, verdictBody("pair-99", "ann", ChoiceTie, false))
	f.Add(json, verdictBody(fuzzPairID, "auto:x", ChoiceTie, false))
	f.Add(json, verdictBody(fuzzPairID, "a\x00b", ChoiceTie, false))
	f.Add(json, `{"id":"00112233445566778899aabbccddeeff","pair":"pair-00","judge":"ann","choice":"tie","swapped":true}`)
	f.Add(json, `{"id":"a b","pair":"pair-00","judge":"ann","choice":"tie","swapped":true}`)
	f.Add(json, `{"pair":"pair-00","judge":"ann","choice":"tie"}`)
	f.Add(json, `{"pair":"pair-00","judge":"ann","choice":"tie","swapped":false,"extra":1}`)
	f.Add(json, `{"pair":"pair-00","judge":"ann","choice":"tie","swapped":false} {}`)
	f.Add(json, `[`)
	f.Add("text/plain", verdictBody(fuzzPairID, "ann", ChoiceTie, false))
	f.Add("", "")

	db := &fuzzPrefs{}
	h := New(db, prefs.Store{Dir: f.TempDir()}, Config{Now: func() time.Time { return testNow }, Log: log.New(io.Discard, "", 0)})
	f.Fuzz(func(t *testing.T, contentType, body string) {
		if len(body) > 2*maxVerdictBody {
			return
		}
		db.judged = nil
		req := httptest.NewRequest("POST", "/api/verdict", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		status := rec.Code
		if status != 200 && (status < 400 || status > 499) {
			t.Fatalf("status %d for Content-Type %q, body %q:\n%s", status, contentType, body, rec.Body.Bytes())
		}
		if !bytes.HasPrefix(rec.Body.Bytes(), []byte("{")) {
			t.Fatalf("status %d with a body that is not a JSON object: %q", status, rec.Body.Bytes())
		}
		if status == 200 && len(db.judged) != 1 {
			t.Fatalf("200 with %d judgements stored", len(db.judged))
		}
		for _, j := range db.judged {
			if err := j.Validate(); err != nil {
				t.Fatalf("stored an invalid judgement %+v: %v", j, err)
			}
			if j.Judge != strings.TrimSpace(j.Judge) || strings.HasPrefix(j.Judge, prefs.AutoPrefix) {
				t.Fatalf("stored judge %q", j.Judge)
			}
		}
	})
}
