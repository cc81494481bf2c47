package dataset

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"facereward/imageio"
	"facereward/tensor"
)

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("dataset: loader closed")

// Transform does per-item work in the loader's workers, such as the
// degradation that makes a low-quality input from a clean face. It gets the
// decoded (and possibly mirrored) image, which it owns and may change, and
// an RNG seeded from (seed, epoch, file) alone, so its draws do not depend
// on the worker count, the batch size or scheduling ("file" is its position
// in the list given to NewLoader). It returns the tensors the batch
// carries for the item, e.g. {lq, gt}; every item must return as many, and
// tensors of the same shape slot by slot.
type Transform func(img *tensor.Tensor, rng *rand.Rand) ([]*tensor.Tensor, error)

// Options configure a Loader. BatchSize is required; zero values elsewhere
// mean the defaults given.
type Options struct {
	BatchSize int
	Seed      uint64
	Shuffle   bool // a new order each epoch, drawn from (Seed, epoch)
	Flip      bool // mirror each item left–right with probability ½
	Epochs    int  // 0: until Close
	// Start is the first batch slot to deliver, counted from the start of
	// epoch 0: a resumed training run passes the number of batches it has
	// consumed and continues with exactly the batches it would have seen.
	Start    int
	DropLast bool // drop each epoch's final short batch

	Workers  int // goroutines building batches; default GOMAXPROCS
	Prefetch int // batches built ahead of the consumer; default 2·Workers

	// Cache keeps every decoded image in memory as float32: 196 KiB per
	// 128×128 face, about 770 MiB for the 3,999 faces of ffhq128.
	Cache bool

	Transform Transform
	// Warn hears about each file skipped, once per file; nil writes a line
	// to standard error. Calls are serialised.
	Warn   func(f File, err error)
	Limits imageio.Limits
}

// Batch is one batch, in epoch order.
type Batch struct {
	Epoch, Index int // Index counts batches within the epoch
	// Tensors holds one [N, ...] tensor per Transform output slot; without
	// a Transform it is just the images, [N, H, W, C]. N is BatchSize less
	// any skipped files.
	Tensors []*tensor.Tensor
	Files   []File
	Flipped []bool
}

// Loader yields batches built by background workers.
//
// A dispatcher hands out batch jobs in order; each job goes first into a
// bounded queue the consumer reads in order, then to a free worker. The
// queue's capacity is therefore the number of batches built ahead, and the
// order batches arrive in never depends on which worker finishes first.
type Loader struct {
	files   []File
	opt     Options
	batches int // per epoch

	order chan *job // jobs in delivery order, at most Prefetch
	work  chan *job // jobs for the workers
	quit  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once

	skipped atomic.Int64
	cacheMu sync.Mutex
	cache   map[int]*tensor.Tensor
	warnMu  sync.Mutex // guards warned and serialises calls to Warn
	warned  map[string]bool

	// Consumer state, touched by Next only.
	epoch   int
	yielded bool // whether the current epoch gave a batch yet
	err     error
}

type job struct {
	epoch, index int
	items        []int // indices into files, in batch order
	done         chan result
}

type result struct {
	batch *Batch
	err   error
}

// NewLoader starts the workers over files; call Close to stop them.
func NewLoader(files []File, opt Options) (*Loader, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("dataset: loader: no files")
	}
	if opt.BatchSize < 1 {
		return nil, fmt.Errorf("dataset: loader: batch size %d, want ≥ 1", opt.BatchSize)
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Prefetch <= 0 {
		opt.Prefetch = 2 * opt.Workers
	}
	batches := (len(files) + opt.BatchSize - 1) / opt.BatchSize
	if opt.DropLast {
		batches = len(files) / opt.BatchSize
	}
	if batches == 0 {
		return nil, fmt.Errorf("dataset: loader: %d files make no full batch of %d", len(files), opt.BatchSize)
	}
	l := &Loader{
		files:   append([]File(nil), files...),
		opt:     opt,
		batches: batches,
		order:   make(chan *job, opt.Prefetch),
		work:    make(chan *job),
		quit:    make(chan struct{}),
		cache:   map[int]*tensor.Tensor{},
		warned:  map[string]bool{},
	}
	if opt.Start < 0 {
		return nil, fmt.Errorf("dataset: loader: start %d, want ≥ 0", opt.Start)
	}
	l.epoch = opt.Start / batches
	l.wg.Add(1 + opt.Workers)
	go l.dispatch()
	for range opt.Workers {
		go l.worker()
	}
	return l, nil
}

// BatchesPerEpoch is the number of batch slots per epoch (a slot whose
// files are all skipped yields no batch).
func (l *Loader) BatchesPerEpoch() int { return l.batches }

// Skipped is how many items were dropped so far because their file could
// not be read or transformed; a file that fails in every epoch counts in
// every epoch. Prefetched batches count before Next returns them.
func (l *Loader) Skipped() int { return int(l.skipped.Load()) }

// Close stops the workers and waits for them; it is safe to call twice.
func (l *Loader) Close() error {
	l.once.Do(func() { close(l.quit) })
	l.wg.Wait()
	return nil
}

// Next returns the next batch, io.EOF after the last epoch, or ErrClosed.
// An error other than those (mixed image sizes in a batch, an epoch whose
// every file failed) is final: Next returns it from then on. Next is for
// one goroutine.
func (l *Loader) Next() (*Batch, error) {
	if l.closed() {
		return nil, ErrClosed // even if finished batches are still queued
	}
	if l.err != nil {
		return nil, l.err
	}
	for {
		var j *job
		var ok bool
		select {
		case j, ok = <-l.order:
		case <-l.quit:
			return nil, ErrClosed
		}
		if !ok || j.epoch != l.epoch {
			if l.closed() {
				return nil, ErrClosed // the dispatcher quit early; its queue says nothing
			}
			if !l.yielded {
				l.err = fmt.Errorf("dataset: loader: epoch %d: every one of %d files was skipped", l.epoch, len(l.files))
				return nil, l.err
			}
			if !ok {
				l.err = io.EOF
				return nil, io.EOF
			}
			l.epoch, l.yielded = j.epoch, false
		}
		var r result
		select {
		case r = <-j.done:
		case <-l.quit:
			return nil, ErrClosed
		}
		if r.err != nil {
			l.err = r.err
			return nil, r.err
		}
		if r.batch != nil {
			l.yielded = true
			return r.batch, nil
		}
	}
}

func (l *Loader) closed() bool {
	select {
	case <-l.quit:
		return true
	default:
		return false
	}
}

func (l *Loader) dispatch() {
	defer l.wg.Done()
	defer close(l.order)
	defer close(l.work)
	first, skip := l.opt.Start/l.batches, l.opt.Start%l.batches
	for epoch := first; l.opt.Epochs == 0 || epoch < l.opt.Epochs; epoch++ {
		perm := l.epochOrder(epoch)
		for b := range l.batches {
			if epoch == first && b < skip {
				continue
			}
			items := perm[b*l.opt.BatchSize : min((b+1)*l.opt.BatchSize, len(perm))]
			j := &job{epoch: epoch, index: b, items: items, done: make(chan result, 1)}
			// Queue for the consumer first: when Prefetch jobs wait there,
			// this blocks, and no worker starts a further batch.
			select {
			case l.order <- j:
			case <-l.quit:
				return
			}
			select {
			case l.work <- j:
			case <-l.quit:
				return
			}
		}
	}
}

func (l *Loader) worker() {
	defer l.wg.Done()
	for j := range l.work {
		b, err := l.build(j)
		j.done <- result{b, err} // buffered: never blocks
	}
}

// epochOrder is the file order of one epoch.
func (l *Loader) epochOrder(epoch int) []int {
	if l.opt.Shuffle {
		return rngFor(l.opt.Seed, streamShuffle, uint64(epoch), 0).Perm(len(l.files))
	}
	perm := make([]int, len(l.files))
	for i := range perm {
		perm[i] = i
	}
	return perm
}

// Separate streams keep one kind of draw from shifting another: turning
// Flip on does not change what the Transform draws.
const (
	streamShuffle = iota + 1
	streamFlip
	streamItem
)

// rngFor derives an independent PCG from (seed, stream, epoch, index) by
// chaining splitmix64, so nearby seeds and indices give unrelated streams.
func rngFor(seed, stream, epoch, index uint64) *rand.Rand {
	h := splitmix(seed)
	for _, v := range []uint64{stream, epoch, index} {
		h = splitmix(h ^ v)
	}
	return rand.New(rand.NewPCG(h, splitmix(h)))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// build makes one batch; it returns a nil batch when every file in it was
// skipped, and an error only for problems that skipping cannot fix.
func (l *Loader) build(j *job) (*Batch, error) {
	var b *Batch
	for _, idx := range j.items {
		if l.closed() {
			return nil, ErrClosed
		}
		f := l.files[idx]
		outs, flipped, err := l.item(j.epoch, idx)
		if err != nil {
			l.skip(f, err)
			continue
		}
		if b == nil {
			b = &Batch{Epoch: j.epoch, Index: j.index}
			for _, o := range outs {
				b.Tensors = append(b.Tensors, tensor.New(append([]int{len(j.items)}, o.Shape...)...))
			}
		} else if err := sameShapes(b, outs, f); err != nil {
			return nil, fmt.Errorf("dataset: epoch %d batch %d: %w", j.epoch, j.index, err)
		}
		n := len(b.Files)
		for k, o := range outs {
			size := len(o.Data)
			copy(b.Tensors[k].Data[n*size:(n+1)*size], o.Data)
		}
		b.Files = append(b.Files, f)
		b.Flipped = append(b.Flipped, flipped)
	}
	if b == nil {
		return nil, nil
	}
	// Trim the rows of skipped files.
	for _, t := range b.Tensors {
		t.Data = t.Data[:len(b.Files)*(len(t.Data)/t.Shape[0])]
		t.Shape[0] = len(b.Files)
	}
	return b, nil
}

// sameShapes checks an item's outputs against the batch's first item.
func sameShapes(b *Batch, outs []*tensor.Tensor, f File) error {
	first := b.Files[0]
	if len(outs) != len(b.Tensors) {
		return fmt.Errorf("%s gives %d tensors but %s gave %d", f.Path, len(outs), first.Path, len(b.Tensors))
	}
	for k, o := range outs {
		if want := b.Tensors[k].Shape[1:]; !tensor.SameShape(o.Shape, want) {
			return fmt.Errorf("%s gives shape %s (tensor %d) but %s gave %s: images in a batch must share a size (crop or resize them in the Transform)",
				f.Path, tensor.ShapeString(o.Shape), k, first.Path, tensor.ShapeString(want))
		}
	}
	return nil
}

// item loads, mirrors and transforms one file.
func (l *Loader) item(epoch, idx int) ([]*tensor.Tensor, bool, error) {
	img, cached, err := l.load(idx)
	if err != nil {
		return nil, false, err
	}
	flipped := l.opt.Flip && rngFor(l.opt.Seed, streamFlip, uint64(epoch), uint64(idx)).IntN(2) == 1
	switch {
	case flipped:
		img = flipH(img) // a new tensor, so the cached one stays as it was
	case cached && l.opt.Transform != nil:
		img = img.Clone() // the Transform may change its image in place
	}
	if l.opt.Transform == nil {
		return []*tensor.Tensor{img}, flipped, nil
	}
	outs, err := l.opt.Transform(img, rngFor(l.opt.Seed, streamItem, uint64(epoch), uint64(idx)))
	if err != nil {
		return nil, false, fmt.Errorf("transform: %w", err)
	}
	if len(outs) == 0 {
		return nil, false, fmt.Errorf("transform returned no tensors")
	}
	for k, o := range outs {
		if o == nil || len(o.Data) != tensor.Numel(o.Shape) {
			return nil, false, fmt.Errorf("transform output %d is nil or its data does not fill its shape", k)
		}
	}
	return outs, flipped, nil
}

// load decodes a file, through the cache when it is on. cached says the
// tensor is shared with the cache and must not be changed.
func (l *Loader) load(idx int) (*tensor.Tensor, bool, error) {
	if l.opt.Cache {
		l.cacheMu.Lock()
		img := l.cache[idx]
		l.cacheMu.Unlock()
		if img != nil {
			return img, true, nil
		}
	}
	img, err := l.opt.Limits.Read(l.files[idx].Path)
	if err != nil {
		return nil, false, err
	}
	if l.opt.Cache {
		l.cacheMu.Lock()
		l.cache[idx] = img
		l.cacheMu.Unlock()
	}
	return img, l.opt.Cache, nil
}

// skip counts a dropped item and warns about its file the first time.
func (l *Loader) skip(f File, err error) {
	l.skipped.Add(1)
	l.warnMu.Lock()
	defer l.warnMu.Unlock()
	if l.warned[f.Path] {
		return
	}
	l.warned[f.Path] = true
	if l.opt.Warn != nil {
		l.opt.Warn(f, err)
		return
	}
	fmt.Fprintf(os.Stderr, "dataset: skipping %s: %v\n", f.Path, err)
}

// flipH mirrors an [H, W, C] image left to right into a new tensor.
func flipH(img *tensor.Tensor) *tensor.Tensor {
	h, w, c := img.Shape[0], img.Shape[1], img.Shape[2]
	out := tensor.New(h, w, c)
	for y := range h {
		row := img.Data[y*w*c : (y+1)*w*c]
		dst := out.Data[y*w*c : (y+1)*w*c]
		for x := range w {
			copy(dst[(w-1-x)*c:(w-x)*c], row[x*c:(x+1)*c])
		}
	}
	return out
}
