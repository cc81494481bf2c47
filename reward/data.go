package reward

import (
	"fmt"
	"math"
	"os"
	"strings"

	"facereward/imageio"
	"facereward/prefs"
	"facereward/tensor"
)

// ReadRecords reads verdicts from a database (a SQLite file or a
// postgres:// URL) or a JSONL export (a .jsonl file).
func ReadRecords(src string) ([]prefs.Record, error) {
	if strings.HasSuffix(src, ".jsonl") {
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return prefs.ReadJSONL(f, src)
	}
	if !strings.Contains(src, "://") {
		// prefs.Open would create a missing SQLite file: a misspelt path
		// must be an error instead.
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("preference data: %w", err)
		}
	}
	db, err := prefs.Open(src)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Records()
}

// Images holds the pictures of preference pairs, each decoded once from the
// store into 8-bit pixels (a quarter of float32's memory) and indexed.
type Images struct {
	Store  prefs.Store
	Size   int
	pixels [][]uint8 // [Size·Size·3] per image
	index  map[prefs.Ref]int
}

// NewImages reads images of size×size from store.
func NewImages(store prefs.Store, size int) *Images {
	return &Images{Store: store, Size: size, index: map[prefs.Ref]int{}}
}

// Len is the number of images loaded.
func (im *Images) Len() int { return len(im.pixels) }

// Index loads r (once) and returns its index.
func (im *Images) Index(r prefs.Ref) (int, error) {
	if i, ok := im.index[r]; ok {
		return i, nil
	}
	path, err := im.Store.Path(r)
	if err != nil {
		return 0, err
	}
	img, err := imageio.Read(path)
	if err != nil {
		return 0, err
	}
	if img.Shape[0] != im.Size || img.Shape[1] != im.Size {
		return 0, fmt.Errorf("%s is %d×%d, the reward model reads %d×%d", path, img.Shape[1], img.Shape[0], im.Size, im.Size)
	}
	px := make([]uint8, len(img.Data))
	for i, v := range img.Data {
		px[i] = uint8(min(max(v*255+0.5, 0), 255))
	}
	im.index[r] = len(im.pixels)
	im.pixels = append(im.pixels, px)
	return im.index[r], nil
}

// Batch returns images idx as [len(idx),S,S,3] in [0,1]; flip[i], when
// flip is not nil, mirrors image i left to right.
func (im *Images) Batch(idx []int, flip []bool) *tensor.Tensor {
	s := im.Size
	out := tensor.New(len(idx), s, s, 3)
	per := s * s * 3
	for i, k := range idx {
		dst, px := out.Data[i*per:(i+1)*per], im.pixels[k]
		for y := range s {
			for x := range s {
				sx := x
				if flip != nil && flip[i] {
					sx = s - 1 - x
				}
				for c := range 3 {
					dst[(y*s+x)*3+c] = float32(px[(y*s+sx)*3+c]) / 255
				}
			}
		}
	}
	return out
}

// Example is one left/right verdict as a training pair: image indices of
// the preferred and the other candidate.
type Example struct {
	Win, Lose int
	Record    prefs.Record
}

// Examples turns records into examples, loading their images; ties and
// skips are dropped (the BT loss has no term for them) and counted.
func (im *Images) Examples(recs []prefs.Record) (ex []Example, dropped int, err error) {
	for _, r := range recs {
		var win, lose prefs.Ref
		switch r.Verdict {
		case prefs.Left:
			win, lose = r.Left.Image, r.Right.Image
		case prefs.Right:
			win, lose = r.Right.Image, r.Left.Image
		default:
			dropped++
			continue
		}
		e := Example{Record: r}
		if e.Win, err = im.Index(win); err != nil {
			return nil, 0, fmt.Errorf("pair %s: %w", r.ID, err)
		}
		if e.Lose, err = im.Index(lose); err != nil {
			return nil, 0, fmt.Errorf("pair %s: %w", r.ID, err)
		}
		ex = append(ex, e)
	}
	return ex, dropped, nil
}

// Scores scores each image of idx once (an image is in several pairs and
// triplets), in batches, and returns the scores by image index.
func (im *Images) Scores(m *FRM, idx []int) map[int]float64 {
	const chunk = 32
	scores := map[int]float64{}
	var todo []int
	for _, i := range idx {
		if _, ok := scores[i]; !ok {
			scores[i] = 0
			todo = append(todo, i)
		}
	}
	for lo := 0; lo < len(todo); lo += chunk {
		b := todo[lo:min(lo+chunk, len(todo))]
		for k, s := range m.Score(im.Batch(b, nil), chunk) {
			scores[b[k]] = s
		}
	}
	return scores
}

// Indices lists the images the examples name.
func Indices(ex []Example) []int {
	idx := make([]int, 0, 2*len(ex))
	for _, e := range ex {
		idx = append(idx, e.Win, e.Lose)
	}
	return idx
}

// Accuracy is the fraction of examples whose preferred image scores higher
// (equal scores count as wrong), and their mean BT loss, from scores by
// image index (Images.Scores).
func Accuracy(scores map[int]float64, ex []Example) (acc, loss float64) {
	if len(ex) == 0 {
		return 0, 0
	}
	right := 0
	for _, e := range ex {
		sw, sl := scores[e.Win], scores[e.Lose]
		if sw > sl {
			right++
		}
		loss += softplus(sl - sw)
	}
	return float64(right) / float64(len(ex)), loss / float64(len(ex))
}

// softplus is log(1+e^x) without overflow, the float64 twin of nn.Softplus.
func softplus(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }
