package restoreapi

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"
)

// Why a request is not admitted.
var (
	errQueueFull = errors.New("the restore queue is full")
	errDraining  = errors.New("the server is shutting down")
)

// queue admits at most len(engines) + waiting requests at a time and hands
// each admitted one an engine of its own when one is idle. Admission comes
// before the body is read, so the bodies held in memory are bounded too.
type queue struct {
	engines chan Engine // the idle ones
	workers int
	waiting int // the most admitted requests without an engine

	mu       sync.Mutex
	admitted int  // holding a ticket: reading, waiting or restoring
	draining bool // no new tickets
	// mean is an exponentially weighted mean of restore durations, for
	// Retry-After.
	mean time.Duration
	idle chan struct{} // closed when admitted drops to 0 while draining
}

func newQueue(engines []Engine, waiting int) *queue {
	q := &queue{engines: make(chan Engine, len(engines)), workers: len(engines), waiting: waiting, idle: make(chan struct{})}
	for _, e := range engines {
		q.engines <- e
	}
	return q
}

// admit takes a ticket, or says why not. Every ticket must be given back
// with leave, once its request's engine (if any) is back.
func (q *queue) admit() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.draining:
		return errDraining
	case q.admitted >= q.workers+q.waiting:
		return errQueueFull
	}
	q.admitted++
	return nil
}

func (q *queue) leave() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.admitted--
	if q.draining && q.admitted == 0 {
		close(q.idle)
	}
}

// engine waits for an idle engine; the caller gives it back with done.
func (q *queue) engine(ctx context.Context) (Engine, error) {
	select {
	case e := <-q.engines:
		return e, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// done gives an engine back and records how long it took.
func (q *queue) done(e Engine, took time.Duration) {
	q.mu.Lock()
	if q.mean == 0 {
		q.mean = took
	} else {
		q.mean = (3*q.mean + took) / 4
	}
	q.mu.Unlock()
	q.engines <- e
}

// stats are the queue's numbers: tickets held, engines busy, and so those
// waiting (or still sending their body).
func (q *queue) stats() (admitted, busy int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.admitted, q.workers - len(q.engines)
}

// retryAfter is when a refused client should try again, in whole seconds:
// the time for the work admitted now to drain, at least 1.
func (q *queue) retryAfter() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	rounds := float64(q.admitted) / float64(max(q.workers, 1))
	return max(1, int(math.Ceil(rounds*q.mean.Seconds())))
}

// drain stops admitting and returns a channel closed once every admitted
// request has been answered and its engine is back.
func (q *queue) drain() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.draining {
		q.draining = true
		if q.admitted == 0 {
			close(q.idle)
		}
	}
	return q.idle
}

func (q *queue) isDraining() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.draining
}
