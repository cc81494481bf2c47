package restoreapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"facereward/imageio"
	"facereward/photo"
	"facereward/tensor"
)

// answer is a response made off the handler's goroutine, written by it.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body) // the status is sent: nothing left to report to
}

func errorAnswer(status int, msg string) answer {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return answer{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: append(b, '\n')}
}

// Response is POST /api/restore's JSON answer (format=json). Everything
// comes in this one answer, images as data: URLs, because the API keeps
// nothing between requests: there is no later request that could fetch a
// result by URL from whichever instance made it.
type Response struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Image  string `json:"image"` // data:image/png;base64,…
	// Faces are the photo pipeline's report (report.json's fields), each
	// with its aligned input crop and its restoration at the model's size.
	Faces    []FaceReport    `json:"faces"`
	Skipped  []SkippedReport `json:"skipped,omitempty"`
	Settings Settings        `json:"settings"`
	Seconds  float64         `json:"seconds"` // the restore alone
}

// FaceReport is one face of a restored photo.
type FaceReport struct {
	photo.Face
	Crop        string `json:"crop"`        // data:image/png;base64,…
	Restoration string `json:"restoration"` // data:image/png;base64,…
}

// SkippedReport is a detection that was not restored, and why.
type SkippedReport struct {
	Box    [3]float32 `json:"box"` // x, y, side in input pixels
	Score  float32    `json:"detection_score"`
	Reason string     `json:"reason"`
}

// work decodes and restores one photo with engine e, gives e back, and
// makes the answer in format.
func (h *Handler) work(ctx context.Context, e Engine, lim imageio.Limits, data []byte, s Settings, format string) answer {
	img, err := lim.Decode(bytes.NewReader(data), "the upload")
	if err != nil {
		h.q.done(e, 0)
		return errorAnswer(imageStatus(err), imageMessage(err))
	}
	start := time.Now()
	res, err := e.Restore(ctx, img, s)
	took := time.Since(start)
	h.q.done(e, took)
	h.m.restore.Observe(took.Seconds())
	img = nil // the input is not needed for the answer: let it go early
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return errorAnswer(http.StatusGatewayTimeout, fmt.Sprintf("timed out after %v (this server's --timeout)", h.cfg.Timeout))
	case errors.Is(err, ErrNoFace), errors.Is(err, ErrTooManyFaces):
		return errorAnswer(http.StatusUnprocessableEntity, err.Error())
	case err != nil:
		h.cfg.Log.Printf("restoring a photo: %v", err)
		return errorAnswer(http.StatusInternalServerError, "restoring the photo failed: the error is in the server's log")
	}
	restored := 0
	for _, f := range res.Faces {
		if f.Restored {
			restored++
		}
	}
	h.m.faces.WithLabelValues("restored").Add(float64(restored))
	h.m.faces.WithLabelValues("kept").Add(float64(len(res.Faces) - restored))

	hdr := http.Header{
		"X-Faces-Found":    {strconv.Itoa(len(res.Faces))},
		"X-Faces-Restored": {strconv.Itoa(restored)},
		"Cache-Control":    {"no-store"},
	}
	var buf bytes.Buffer
	switch format {
	case FormatPNG:
		err = imageio.EncodePNG(&buf, res.Image)
		hdr.Set("Content-Type", "image/png")
	case FormatJPEG:
		err = imageio.EncodeJPEG(&buf, res.Image, 95)
		hdr.Set("Content-Type", "image/jpeg")
	case FormatJSON:
		err = jsonAnswer(&buf, res, s, took)
		hdr.Set("Content-Type", "application/json")
	}
	if err != nil {
		h.cfg.Log.Printf("encoding the answer: %v", err)
		return errorAnswer(http.StatusInternalServerError, "encoding the answer failed: the error is in the server's log")
	}
	return answer{status: http.StatusOK, header: hdr, body: buf.Bytes()}
}

// jsonAnswer writes res as a Response.
func jsonAnswer(w *bytes.Buffer, res *photo.PhotoResult, s Settings, took time.Duration) error {
	resp := Response{Height: res.Image.Shape[0], Width: res.Image.Shape[1], Settings: s, Seconds: took.Seconds(), Faces: []FaceReport{}}
	var err error
	if resp.Image, err = pngDataURL(res.Image); err != nil {
		return err
	}
	for i, f := range res.Faces {
		fr := FaceReport{Face: f}
		if fr.Crop, err = pngDataURL(res.Crops[i]); err != nil {
			return err
		}
		if fr.Restoration, err = pngDataURL(res.Restored[i]); err != nil {
			return err
		}
		resp.Faces = append(resp.Faces, fr)
	}
	for _, sk := range res.Skipped {
		resp.Skipped = append(resp.Skipped, SkippedReport{Box: [3]float32{sk.X, sk.Y, sk.Size}, Score: sk.Score, Reason: sk.Reason})
	}
	return json.NewEncoder(w).Encode(resp)
}

func pngDataURL(img *tensor.Tensor) (string, error) {
	var buf bytes.Buffer
	if err := imageio.EncodePNG(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
