package restoreapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"facereward/imageio"
	"facereward/server/httpjson"
)

// Response formats of POST /api/restore.
const (
	FormatPNG  = "png"
	FormatJPEG = "jpeg"
	FormatJSON = "json"
)

// upload is a restore request as read: the photo's bytes and the form
// (query parameters, and multipart fields when the photo came as a form).
type upload struct {
	data []byte
	form url.Values
}

// restore is POST /api/restore: admit, read, check the header, wait for a
// worker, restore, answer. Each step that can refuse does so before the
// next costs anything.
func (h *Handler) restore(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r, false) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="facereward"`)
		httpjson.Error(w, http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer TOKEN")
		return
	}
	if err := h.q.admit(); err != nil {
		h.refuse(w, err)
		return
	}
	handedOff := false // the worker goroutine gives the ticket back
	defer func() {
		if !handedOff {
			h.q.leave()
		}
	}()

	up, status, err := h.read(w, r)
	if err != nil {
		httpjson.Error(w, status, err.Error())
		return
	}
	format, err := responseFormat(up.form.Get("format"), r.Header.Get("Accept"))
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	settings, err := h.cfg.parseSettings(up.form)
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	lim := imageio.Limits{MaxPixels: h.cfg.MaxPixels, MaxFileBytes: h.cfg.MaxBody}
	// The header alone: a pixel bomb is refused here, before any decoding.
	cfg, err := lim.DecodeConfig(bytes.NewReader(up.data), "the upload")
	if err != nil {
		httpjson.Error(w, imageStatus(err), imageMessage(err))
		return
	}
	if out := int64(cfg.Width) * int64(cfg.Height) * int64(settings.Upscale*settings.Upscale); out > OutputPixelFactor*h.cfg.MaxPixels {
		httpjson.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("%d×%d upscaled ×%d is %d pixels, above this server's output limit of %d: ask for a smaller upscale",
			cfg.Width, cfg.Height, settings.Upscale, out, OutputPixelFactor*h.cfg.MaxPixels))
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	e, err := h.q.engine(ctx)
	if err != nil {
		h.timedOut(w, r, "waiting for a worker")
		return
	}
	// The work goes on in its own goroutine, which gives the engine and
	// the ticket back when it is done, so a request that times out still
	// counts against the limits until its restore (which cannot be
	// interrupted) ends.
	handedOff = true
	done := make(chan answer, 1)
	go func() {
		defer h.q.leave()
		done <- h.work(ctx, e, lim, up.data, settings, format)
	}()
	select {
	case a := <-done:
		a.write(w)
	case <-ctx.Done():
		h.timedOut(w, r, "restoring")
	}
}

// timedOut answers 504, unless the client has gone, when nobody is left
// to answer.
func (h *Handler) timedOut(w http.ResponseWriter, r *http.Request, what string) {
	if r.Context().Err() != nil {
		return
	}
	httpjson.Error(w, http.StatusGatewayTimeout, fmt.Sprintf("timed out after %v %s (this server's --timeout)", h.cfg.Timeout, what))
}

// read reads the photo and the form within the body limit and the read
// timeout. The photo comes as the whole body, or as the multipart form
// field "image" (what an HTML form or curl -F sends).
func (h *Handler) read(w http.ResponseWriter, r *http.Request) (upload, int, error) {
	up := upload{form: r.URL.Query()}
	if r.ContentLength > h.cfg.MaxBody {
		// Refused unread, and the connection closed rather than read on.
		w.Header().Set("Connection", "close")
		return up, http.StatusRequestEntityTooLarge, fmt.Errorf("the body is %d bytes, above this server's limit of %d", r.ContentLength, h.cfg.MaxBody)
	}
	rc := http.NewResponseController(w)
	// A slow client holds a place in the queue only this long. (An error
	// means the connection cannot take deadlines: an HTTP/2 test server.)
	_ = rc.SetReadDeadline(time.Now().Add(h.cfg.ReadTimeout))
	body := http.MaxBytesReader(w, r.Body, h.cfg.MaxBody)

	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	if ct == "multipart/form-data" {
		err = readMultipart(body, params["boundary"], &up)
	} else {
		up.data, err = io.ReadAll(body)
	}
	if err != nil {
		// The rest of the body is not worth waiting for: without this the
		// server would try to read it to reuse the connection.
		w.Header().Set("Connection", "close")
		return up, h.readStatus(err), fmt.Errorf("reading the request: %w", h.readError(err))
	}
	_ = rc.SetReadDeadline(time.Time{})
	if len(up.data) == 0 {
		return up, http.StatusBadRequest, errors.New("no image: send it as the body or as the form field \"image\"")
	}
	return up, 0, nil
}

// readMultipart reads the form field "image" (the photo) and the settings'
// fields; anything else is an error, so a misspelt setting is not ignored.
func readMultipart(body io.Reader, boundary string, up *upload) error {
	if boundary == "" {
		return errors.New("multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := p.FormName()
		switch {
		case name == "image":
			if up.data != nil {
				return errors.New("two \"image\" fields: send one photo per request")
			}
			if up.data, err = io.ReadAll(p); err != nil {
				return err
			}
		case name == "format" || isSetting(name):
			v, err := io.ReadAll(io.LimitReader(p, 64))
			if err != nil {
				return err
			}
			up.form.Set(name, strings.TrimSpace(string(v)))
		default:
			return fmt.Errorf("unknown form field %q (want image, format, %s)", name, strings.Join(settingNames, ", "))
		}
	}
}

func isSetting(name string) bool {
	for _, s := range settingNames {
		if s == name {
			return true
		}
	}
	return false
}

// readStatus is the status for a body that could not be read: too large,
// too slow, or malformed.
func (h *Handler) readStatus(err error) int {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded):
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}

// readError says what the limit was, where the reader's error does not.
func (h *Handler) readError(err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return fmt.Errorf("the body is above this server's limit of %d bytes", tooBig.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("the body took longer than %v to arrive", h.cfg.ReadTimeout)
	}
	return err
}

// responseFormat picks the answer's format: ?format= (or the form field)
// first, else the Accept header, else PNG.
func responseFormat(param, accept string) (string, error) {
	switch strings.ToLower(param) {
	case "":
	case FormatPNG:
		return FormatPNG, nil
	case FormatJPEG, "jpg":
		return FormatJPEG, nil
	case FormatJSON:
		return FormatJSON, nil
	default:
		return "", fmt.Errorf("format %q: want png, jpeg or json", param)
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		switch mt {
		case "application/json":
			return FormatJSON, nil
		case "image/jpeg":
			return FormatJPEG, nil
		case "image/png":
			return FormatPNG, nil
		}
	}
	return FormatPNG, nil
}

// imageStatus is the status for a photo imageio refuses: 413 for one over
// the limits, 400 for anything that is not a whole PNG, JPEG or WebP.
func imageStatus(err error) int {
	if errors.Is(err, imageio.ErrTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// imageMessage is imageio's message without its package prefix: the
// client did not call imageio.
func imageMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "imageio: ")
}
