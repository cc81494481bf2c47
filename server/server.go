package server

import (
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"facereward/prefs"
	"facereward/server/httpjson"
)

// Prefs is what the server needs of the preference database; *prefs.DB
// has it.
type Prefs interface {
	// Next returns a pair judge has not judged yet; ok is false when none
	// is left.
	Next(judge string) (p prefs.Pair, ok bool, err error)
	// Progress counts the pairs judge has judged, and all pairs.
	Progress(judge string) (done, total int, err error)
	// JudgeOnce returns only once the verdict is committed, with the
	// verdict stored: the first one sent with its key, when the key is
	// already stored. Its errors wrap prefs.ErrNoPair for a pair that is
	// not there, prefs.ErrKeyInUse for a key of another pair or judge.
	JudgeOnce(prefs.Judgement) (prefs.Judgement, error)
	Records() ([]prefs.Record, error)
}

// Config tunes the server; the zero Config is ready to use.
type Config struct {
	// Seed decides on which side each judge sees each pair's candidates.
	// The sides are a function of (Seed, judge, pair), so a reload or a
	// restart with the same seed shows the same sides again.
	Seed uint64
	// Now stamps verdicts; nil means time.Now.
	Now func() time.Time
	// Log receives what went wrong inside (the database's and the image
	// store's errors, which name files and hosts); clients get only a
	// generic message with the status. Nil means standard error.
	Log *log.Logger
}

// unavailable is the whole message a client gets when the database fails:
// the error itself, with the database's path or host, goes to the log.
const unavailable = "the preference database is unavailable: try again later"

// maxVerdictBody bounds POST /api/verdict's body: a verdict is a few
// short strings.
const maxVerdictBody = 64 << 10

//go:embed static
var staticFiles embed.FS

type server struct {
	db    Prefs
	store prefs.Store
	cfg   Config
}

// New returns the handler serving the annotation page and its API from db
// and the images in store.
func New(db Prefs, store prefs.Store, cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = log.New(os.Stderr, "serve: ", log.LstdFlags)
	}
	s := &server{db: db, store: store, cfg: cfg}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", http.RedirectHandler("/annotate", http.StatusFound))
	mux.HandleFunc("GET /annotate", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, static, "annotate.html")
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /images/{ref}", s.image)
	mux.HandleFunc("GET /api/next", s.next)
	mux.HandleFunc("POST /api/verdict", s.verdict)
	mux.HandleFunc("GET /api/export.jsonl", s.export)
	return mux
}

// Choices a page can send: what the annotator saw, not the stored sides.
const (
	ShownLeft  = "shown-left"
	ShownRight = "shown-right"
	ChoiceTie  = "tie"
	ChoiceSkip = "skip"
)

// nextResponse is GET /api/next's answer. Shown holds the two candidates'
// image URLs in display order; Swapped says the stored Right is shown on
// the left, and the page sends it back with the verdict.
type nextResponse struct {
	Done    bool      `json:"done"`
	Pair    string    `json:"pair,omitempty"`
	LQ      string    `json:"lq,omitempty"`
	Shown   [2]string `json:"shown,omitzero"`
	Swapped bool      `json:"swapped"`
	Judged  int       `json:"judged"`
	Total   int       `json:"total"`
}

// verdictRequest is POST /api/verdict's body; Swapped is a pointer so a
// page that forgets it is refused rather than read as "not swapped". ID,
// optional, is the verdict's idempotency key (prefs.Judgement.Key): the
// page draws one per pair shown and sends it again on every retry, so a
// verdict whose answer was lost is stored once however often it is sent.
type verdictRequest struct {
	ID      string `json:"id"`
	Pair    string `json:"pair"`
	Judge   string `json:"judge"`
	Choice  string `json:"choice"`
	Swapped *bool  `json:"swapped"`
}

// verdictResponse confirms a committed verdict, as stored (left/right of
// the pair, not of the screen), with the judge's new counts, which are -1
// when they could not be read.
type verdictResponse struct {
	Saved   bool          `json:"saved"`
	Pair    string        `json:"pair"`
	Verdict prefs.Verdict `json:"verdict"`
	Judged  int           `json:"judged"`
	Total   int           `json:"total"`
}

func (s *server) next(w http.ResponseWriter, r *http.Request) {
	judge, err := judgeName(r.URL.Query().Get("judge"))
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	p, ok, err := s.db.Next(judge)
	if err != nil {
		s.fail(w, fmt.Errorf("finding the next pair for %q: %w", judge, err))
		return
	}
	done, total, err := s.db.Progress(judge)
	if err != nil {
		s.fail(w, fmt.Errorf("counting %q's verdicts: %w", judge, err))
		return
	}
	resp := nextResponse{Done: !ok, Judged: done, Total: total}
	if ok {
		resp.Pair, resp.LQ = p.ID, imageURL(p.LQ)
		resp.Swapped = swapped(s.cfg.Seed, judge, p.ID)
		resp.Shown = [2]string{imageURL(p.Left.Image), imageURL(p.Right.Image)}
		if resp.Swapped {
			resp.Shown[0], resp.Shown[1] = resp.Shown[1], resp.Shown[0]
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, http.StatusOK, resp)
}

func (s *server) verdict(w http.ResponseWriter, r *http.Request) {
	// Only JSON: a cross-site form or a no-preflight fetch can send
	// text/plain but not application/json, so another web page open in
	// the annotator's browser cannot post verdicts to this local server.
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		httpjson.Error(w, http.StatusUnsupportedMediaType, "send the verdict as application/json")
		return
	}
	var req verdictRequest
	if err := decodeStrict(http.MaxBytesReader(w, r.Body, maxVerdictBody), &req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpjson.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("reading the verdict: the body is above the limit of %d bytes", tooBig.Limit))
			return
		}
		httpjson.Error(w, http.StatusBadRequest, fmt.Sprintf("reading the verdict: %v", err))
		return
	}
	judge, err := judgeName(req.Judge)
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Pair == "" {
		httpjson.Error(w, http.StatusBadRequest, "a verdict without a pair")
		return
	}
	if err := prefs.CheckText("pair", req.Pair); err != nil {
		httpjson.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.ID != "" {
		if err := prefs.CheckKey("id", req.ID); err != nil {
			httpjson.Error(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	if req.Swapped == nil {
		httpjson.Error(w, http.StatusBadRequest, "a verdict without swapped: say whether the pair was shown swapped")
		return
	}
	v, err := storedVerdict(req.Choice, *req.Swapped)
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	j := prefs.Judgement{Pair: req.Pair, Verdict: v, Judge: judge, At: s.cfg.Now().UTC(), Key: req.ID}
	stored, err := s.db.JudgeOnce(j)
	if err != nil {
		if errors.Is(err, prefs.ErrNoPair) {
			httpjson.Error(w, http.StatusNotFound, fmt.Sprintf("pair %q is not in the database", req.Pair))
			return
		}
		if errors.Is(err, prefs.ErrKeyInUse) {
			httpjson.Error(w, http.StatusConflict, fmt.Sprintf("id %q is already the id of another verdict: draw a new one for each pair shown", req.ID))
			return
		}
		s.fail(w, fmt.Errorf("saving %q's verdict on pair %q: %w", judge, req.Pair, err))
		return
	}
	// The verdict is committed from here on: a failure to count must not
	// read as a failed save, or the page would offer to save it again.
	resp := verdictResponse{Saved: true, Pair: req.Pair, Verdict: stored.Verdict, Judged: -1, Total: -1}
	if done, total, err := s.db.Progress(judge); err == nil {
		resp.Judged, resp.Total = done, total
	}
	httpjson.Write(w, http.StatusOK, resp)
}

func (s *server) image(w http.ResponseWriter, r *http.Request) {
	// The store's errors name its folder: the client learns only that
	// there is no such image, the log the rest.
	ref := prefs.Ref(r.PathValue("ref"))
	if err := ref.Validate(); err != nil {
		httpjson.Error(w, http.StatusNotFound, err.Error())
		return
	}
	path, err := s.store.Path(ref)
	if err != nil {
		s.cfg.Log.Printf("image %s: %v", ref, err)
		httpjson.Error(w, http.StatusNotFound, fmt.Sprintf("image %s is not in the store", ref))
		return
	}
	f, err := os.Open(path)
	if err != nil {
		s.cfg.Log.Printf("image %s: %v", ref, err)
		httpjson.Error(w, http.StatusNotFound, fmt.Sprintf("image %s is not in the store", ref))
		return
	}
	defer f.Close()
	// The name is the content's digest: what it names never changes.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("Content-Type", "image/png")
	http.ServeContent(w, r, "", time.Time{}, f)
}

func (s *server) export(w http.ResponseWriter, r *http.Request) {
	recs, err := s.db.Records()
	if err != nil {
		s.fail(w, fmt.Errorf("exporting the records: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="prefs.jsonl"`)
	w.Header().Set("Cache-Control", "no-store")
	// Headers are sent: a failure now is the connection's, nothing to report.
	_ = prefs.WriteJSONL(w, recs)
}

// judgeName checks an annotator's name; surrounding spaces are dropped so
// "ann" and "ann " are one judge.
func judgeName(s string) (string, error) {
	name := strings.TrimSpace(s)
	switch {
	case name == "":
		return "", errors.New("no judge: give the annotator's name")
	}
	if err := prefs.CheckName("judge", name); err != nil {
		return "", err
	}
	switch {
	case strings.HasPrefix(name, prefs.AutoPrefix):
		return "", fmt.Errorf("judge %q: names starting with %q are kept for automatic labellers", name, prefs.AutoPrefix)
	}
	return name, nil
}

// storedVerdict maps what the annotator picked on screen back to the
// pair's stored sides.
func storedVerdict(choice string, swapped bool) (prefs.Verdict, error) {
	switch choice {
	case ShownLeft:
		if swapped {
			return prefs.Right, nil
		}
		return prefs.Left, nil
	case ShownRight:
		if swapped {
			return prefs.Left, nil
		}
		return prefs.Right, nil
	case ChoiceTie:
		return prefs.Tie, nil
	case ChoiceSkip:
		return prefs.Skip, nil
	}
	return "", fmt.Errorf("choice %q: want %s, %s, %s or %s", choice, ShownLeft, ShownRight, ChoiceTie, ChoiceSkip)
}

// swapped decides whether judge sees the pair's Right candidate on the left.
// A hash rather than a random source: no state to keep, and the same answer
// after a reload, a restart, or on another server with the same seed.
// (SHA-256 because cheap hashes such as FNV have a poorly mixed low bit.)
func swapped(seed uint64, judge, pair string) bool {
	b := binary.LittleEndian.AppendUint64(nil, seed)
	b = append(b, judge...)
	b = append(b, 0) // so ("ab", "c") and ("a", "bc") differ
	b = append(b, pair...)
	sum := sha256.Sum256(b)
	return sum[0]&1 == 1
}

func imageURL(r prefs.Ref) string { return "/images/" + url.PathEscape(string(r)) }

// fail logs err, which may name the database's file or host, and answers
// 503 with a message that names neither.
func (s *server) fail(w http.ResponseWriter, err error) {
	s.cfg.Log.Print(err)
	httpjson.Error(w, http.StatusServiceUnavailable, unavailable)
}

// decodeStrict decodes the one JSON value of body into v: unknown fields,
// and anything after the value but white space, are errors, so a client's
// mistake is refused rather than half read.
func decodeStrict(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return fmt.Errorf("after the JSON value: %w", err)
		}
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}
