package evaluate

import (
	"math"
	"sync"

	"facereward/tensor"
)

// Pool holds one Scorer per worker, so that a set is scored in parallel;
// the scorers are kept between sets.
type Pool struct {
	scorers chan *Scorer
}

// NewPool loads the face networks once per worker; every scorer ignores
// cropBorder pixels at each edge in PSNR and SSIM.
func NewPool(workers, cropBorder int) (*Pool, error) {
	p := &Pool{scorers: make(chan *Scorer, workers)}
	for range workers {
		s, err := NewScorer()
		if err != nil {
			return nil, err
		}
		s.CropBorder = cropBorder
		p.scorers <- s
	}
	return p, nil
}

// Item is one restoration to score: Pred against GT, or, without GT,
// identity against Ref (the LQ input; nil for none).
type Item struct {
	Name          string
	Pred, GT, Ref *tensor.Tensor
}

// Image is one image's scores in a set (and its entry in metrics.json):
// missing metrics are left out of Values (JSON has no NaN) and explained
// in Problems.
type Image struct {
	Name     string             `json:"name"`
	Values   map[string]float64 `json:"values"`
	Problems []string           `json:"problems,omitempty"`
	// Desc holds the identity descriptors of the restoration and of its
	// reference, for FID-ID; nil when there are none.
	Desc [2][]float32 `json:"-"`
	// Err is why the image could not be scored at all (then also its only
	// problem); nil when it was.
	Err error `json:"-"`
}

// Score scores n items in parallel, one worker per scorer of the pool;
// load(i) gives item i (an error there is the image's Err). The images
// come back in item order whatever the number of workers; done, when not
// nil, is called once per image, never by two workers at once, so it may
// count without a lock.
func (p *Pool) Score(n int, load func(i int) (Item, error), done func()) []Image {
	images := make([]Image, n)
	var wg sync.WaitGroup
	var doneMu sync.Mutex
	next := make(chan int)
	for range cap(p.scorers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := <-p.scorers
			defer func() { p.scorers <- s }()
			for i := range next {
				images[i] = s.image(load(i))
				if done != nil {
					doneMu.Lock()
					done()
					doneMu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return images
}

// image scores one loaded item; NaN metrics are left out, and an infinite
// one (the PSNR of identical images) is left out with a note.
func (s *Scorer) image(it Item, err error) Image {
	im := Image{Name: it.Name, Values: map[string]float64{}}
	if err != nil {
		im.Problems, im.Err = []string{err.Error()}, err
		return im
	}
	r, err := s.Pair(it.Pred, it.GT, it.Ref)
	if err != nil {
		im.Problems, im.Err = []string{err.Error()}, err
		return im
	}
	for k, v := range r.Values {
		switch {
		case math.IsInf(v, 0):
			im.Problems = append(im.Problems, k+" is infinite (identical images); left out of the mean")
		case !math.IsNaN(v):
			im.Values[k] = v
		}
	}
	im.Problems = append(im.Problems, r.Problems...)
	im.Desc = [2][]float32{r.PredDesc, r.RefDesc}
	return im
}

// Means averages each metric over the images that have it, in image
// order, and counts them.
func Means(images []Image) (map[string]float64, map[string]int) {
	sum, cnt := map[string]float64{}, map[string]int{}
	for _, im := range images {
		for k, v := range im.Values {
			sum[k] += v
			cnt[k]++
		}
	}
	for k := range sum {
		sum[k] /= float64(cnt[k])
	}
	return sum, cnt
}
