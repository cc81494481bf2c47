// Package server is facereward's HTTP server: the annotation page where
// people judge pairs of restorations (/annotate), and the JSON API behind it.
//
// Routes:
//
//	GET  /                   redirects to /annotate
//	GET  /annotate           the annotation page
//	GET  /static/…           its script and style sheet (embedded)
//	GET  /images/{ref}       a stored PNG, by its "sha256:…" reference
//	GET  /api/next?judge=J   the next pair J has not judged, with the counts
//	POST /api/verdict        store a verdict; 200 only once it is committed
//	GET  /api/export.jsonl   every judgement as JSONL (prefs.WriteJSONL)
//
// Errors are JSON {"error": "…"}: 400 for a bad request, 404 for an unknown
// pair or image, 503 when the database fails.
package server
