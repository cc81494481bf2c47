// Package httpjson writes the JSON answers of the project's HTTP handlers.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// Write writes v as the JSON body of a response with status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the status is sent: nothing left to report to
}

// Error writes {"error": msg} with status.
func Error(w http.ResponseWriter, status int, msg string) {
	Write(w, status, map[string]string{"error": msg})
}
