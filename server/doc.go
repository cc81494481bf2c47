// Package server is `facereward serve`: the restore service
// (server/restoreapi: the /restore page and its API) and, given a
// preference database, the annotation page where people judge pairs of
// restorations (/annotate) with the JSON API behind it. Serve puts them on
// one listener, refuses non-loopback addresses unless asked, and on
// shutdown finishes the restores and verdicts it accepted.
//
// Routes:
//
//	GET  /                   redirects to /annotate (with a database) or /restore
//	GET  /restore            the restore page; POST /api/restore, GET /api/health,
//	                         GET /api/version, GET /metrics: see server/restoreapi
//
// With a database (--db and --store) only:
//
//	GET  /annotate           the annotation page
//	GET  /static/…           its script and style sheet (embedded)
//	GET  /images/{ref}       a stored PNG, by its "sha256:…" reference
//	GET  /api/next?judge=J   the next pair J has not judged, with the counts
//	POST /api/verdict        store a verdict; 200 only once it is committed
//	GET  /api/export.jsonl   every judgement as JSONL (prefs.WriteJSONL)
//
// Errors are JSON {"error": "…"}: on the annotation API 400 for a bad
// request, 404 for an unknown pair or image, 503 when the database fails;
// the restore API's are in server/restoreapi.
package server
