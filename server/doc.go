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
// the restore API's are in server/restoreapi. A 503 or 404 says nothing of
// the database's file or host or of the store's folder: those go to the
// log (Config.Log) only.
//
// Hardening, for a server on a person's machine that any web page they
// open could try to reach:
//
//   - Host allow-list: localhost and loopback IPs, plus with --public the
//     --addr host and each --allow-host; any other Host gets 421 (DNS
//     rebinding makes a page's requests carry its own host name).
//   - Origin check: a POST, PUT, PATCH or DELETE whose Origin names a host
//     not on the list gets 403; one without Origin (curl, API clients)
//     passes.
//   - Time limits on every connection: headers, the whole request (a
//     restore body gets --read-timeout from its handler), the answer
//     (derived from the restore timeout) and idle keep-alive.
//   - Bodies: a verdict is at most 64 KiB of exactly one JSON value, with
//     no unknown fields and nothing after it (400 otherwise); judge names
//     are printable UTF-8 of at most prefs.MaxNameRunes runes, pair ids
//     printable and bounded (400 naming the field).
package server
