package restoreapi

import (
	"bytes"
	"io"
	"log"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// fuzzBoundary is the multipart boundary the fuzz target's forms use: a
// fixed one, so every exec is deterministic.
const fuzzBoundary = "fuzzboundary0123456789"

// FuzzSettings sends POST /api/restore a small photo with arbitrary
// settings (steps, strength, guidance, eta, seed, upscale, format), as
// query parameters or as multipart form fields, to a handler whose engine
// is a fake. The settings come from any client, so no value may panic the
// handler, and a bad one must be the client's error: the answer is 200
// when the settings parse and are in range (parseSettings and
// responseFormat accept them), 400 otherwise, never a 5xx; and the engine
// must be given exactly the settings parseSettings read.
func FuzzSettings(f *testing.F) {
	f.Add(false, "", "", "", "", "", "", "")
	f.Add(false, "7", "0.8", "0.2", "0", "42", "3", "json")
	f.Add(true, "7", "0.8", "0.2", "0", "42", "3", "json")
	f.Add(false, "1000", "", "", "", "", "", "")
	f.Add(false, "-1", "2", "NaN", "Inf", "-5", "0", "gif")
	f.Add(true, " 3 ", "1e-300", "0x1p-2", "1", "18446744073709551616", "4", "JPG")
	f.Add(false, "99999999999999999999", "0.5", "0.5", "0.5", "1", "5", "png")

	cfg := testConfig()
	cfg.Log = log.New(io.Discard, "", 0)
	fake := &fakeEngine{}
	h, err := New(cfg, []Engine{fake})
	if err != nil {
		f.Fatal(err)
	}
	photo := photoPNG(f, 8, 6)

	f.Fuzz(func(t *testing.T, form bool, steps, strength, guidance, eta, seed, upscale, format string) {
		values := url.Values{}
		for name, v := range map[string]string{"steps": steps, "strength": strength, "guidance": guidance,
			"eta": eta, "seed": seed, "upscale": upscale, "format": format} {
			if len(v) > 256 {
				return
			}
			values.Set(name, v)
		}
		calls := len(fake.Calls())
		var req *httptest.ResponseRecorder
		var seen url.Values // the form as the handler reads it
		if form {
			body, ok := multipartBody(photo, values)
			if !ok {
				return
			}
			r := httptest.NewRequest("POST", "/api/restore", bytes.NewReader(body))
			r.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
			seen = url.Values{}
			for name := range values { // readMultipart keeps 64 bytes, trimmed
				v := values.Get(name)
				seen.Set(name, strings.TrimSpace(v[:min(len(v), 64)]))
			}
			req = httptest.NewRecorder()
			h.ServeHTTP(req, r)
		} else {
			r := httptest.NewRequest("POST", "/api/restore?"+values.Encode(), bytes.NewReader(photo))
			seen = values
			req = httptest.NewRecorder()
			h.ServeHTTP(req, r)
		}

		_, formatErr := responseFormat(seen.Get("format"), "")
		want, settingsErr := cfg.parseSettings(seen)
		wantStatus := 200
		if formatErr != nil || settingsErr != nil {
			wantStatus = 400
		}
		if req.Code != wantStatus {
			t.Fatalf("status %d, want %d (format: %v, settings: %v); form %v:\n%s",
				req.Code, wantStatus, formatErr, settingsErr, seen, req.Body.Bytes())
		}
		got := fake.Calls()
		if wantStatus != 200 {
			if len(got) != calls {
				t.Fatalf("a refused request reached the engine")
			}
			return
		}
		if len(got) != calls+1 || got[calls] != want {
			t.Fatalf("engine got %v, want %+v", got[calls:], want)
		}
	})
}

// multipartBody is the photo and values as a multipart form with the
// fixed boundary; ok is false if a value holds the boundary, which would
// end its part early.
func multipartBody(photo []byte, values url.Values) (body []byte, ok bool) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.SetBoundary(fuzzBoundary); err != nil {
		panic(err)
	}
	for _, name := range append(append([]string(nil), settingNames...), "format") {
		v := values.Get(name)
		if strings.Contains(v, fuzzBoundary) || strings.ContainsAny(v, "\r\n") {
			return nil, false
		}
		if err := mw.WriteField(name, v); err != nil {
			panic(err)
		}
	}
	fw, err := mw.CreateFormFile("image", "photo.png")
	if err != nil {
		panic(err)
	}
	fw.Write(photo)
	mw.Close()
	return buf.Bytes(), true
}
