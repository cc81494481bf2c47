// Package restorer holds the two-stage face restorer: a stage-1
// regression CNN (LQ → smooth estimate), a pixel-space diffusion UNet (the
// face prior) and a ControlNet-style control branch that reads the noisy
// image, the timestep and the stage-1 estimate and adds zero-initialised
// residuals into the UNet's skips and middle. ReFL trains the control
// branch alone, regularised against a frozen copy of it.
//
// A Model knows its noise schedule and what its UNet predicts (Config), so
// Load(spec) returns everything a caller needs; model directories are
// read and written by LoadDir/LoadFS/SaveDir (modeldir.go).
//
// The restoring sampler (sampler.go) is the loop a user's restoration runs,
// in plain view: stage 1 gives the condition; the DDIM run starts from it
// noised to SampleOptions.Strength; at each step the networks predict, the
// prediction is guided toward the condition (restoration guidance), and
// diffusion.Schedule.Step takes the scheduler step. ReFL's descent to step
// m, training's dev-val passes and the restore command all use it.
package restorer
