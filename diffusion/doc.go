// Package diffusion is the maths of facereward's Gaussian diffusion
// process, free of any network: β schedules (Schedule), the conversions
// between what a network predicts (ε or v) and the clean image, the
// denoising training loss, and DDIM's step plan and update (DDIM,
// Schedule.Step). The sampling loop that calls the restorer's networks,
// guides their prediction and steps lives in restorer.Sampler.
//
// Images are NHWC float32 tensors scaled to [-1, 1]. Timesteps are integers
// in [0, T); the timestep -1 stands for the clean image (ᾱ = 1), which is
// where the last DDIM step lands. Every random draw takes a *rand.Rand, so
// the same seed gives the same bytes.
//
// A ReFL step, in outline (m is one of the last two step indices):
//
//	d := DDIM{Schedule: s, Steps: 20, Eta: rng.Float64()}
//	xt := ...  // restorer.Sampler's loop, without gradients, stopped before step m
//	t := d.Timestep(m)
//	pred := net(g, xt, t, cond) // with gradients
//	x0hat := s.X0FromPredVar(g, pred type, xt, pred, t)
//	// ... reward and regularisers on x0hat, g.Backward(loss)
package diffusion
