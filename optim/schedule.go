package optim

import "math"

// Schedule gives the learning rate for a step, counted from 0 (the number
// of optimiser steps already taken). Use it as opt.SetLR(sched(opt.StepCount()))
// before each Step.
type Schedule func(step int) float64

// Constant is the same rate at every step.
func Constant(lr float64) Schedule {
	return func(int) float64 { return lr }
}

// WarmupCosine rises linearly from 0 at step 0 to lr at step warmup, then
// follows half a cosine down to minLR at step total, and stays at minLR
// after that. As in Hugging Face's get_cosine_schedule_with_warmup, the very
// first step has rate 0 when warmup > 0. If total <= warmup the cosine part
// is empty and the rate is minLR from step warmup on.
func WarmupCosine(lr float64, warmup, total int, minLR float64) Schedule {
	return func(step int) float64 {
		step = max(step, 0)
		if step < warmup {
			return lr * float64(step) / float64(warmup)
		}
		if step >= total {
			return minLR
		}
		progress := float64(step-warmup) / float64(total-warmup)
		return minLR + (lr-minLR)*0.5*(1+math.Cos(math.Pi*progress))
	}
}
