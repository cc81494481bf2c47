package httpjson

import (
	"net/http/httptest"
	"testing"
)

func TestError(t *testing.T) {
	w := httptest.NewRecorder()
	Error(w, 418, `no "tea"`)
	if w.Code != 418 || w.Header().Get("Content-Type") != "application/json" || w.Body.String() != `{"error":"no \"tea\""}`+"\n" {
		t.Errorf("status %d, type %q, body %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
}
