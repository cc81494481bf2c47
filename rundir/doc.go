// Package rundir manages a training run's folder: config.json (every
// setting, resolved), log.jsonl (one line per logged step, read back in
// order or merged by step for reports), checkpoints/ (written atomically,
// the newest found on --resume) and samples/, plus the interrupt handling
// that lets Ctrl-C save before the process exits. Open removes the
// temporary files a killed run's atomic writes left in the folder and its
// checkpoints/ (atomicfile.IsTemp names only) and counts them in
// Run.RemovedTemps, for the caller to report.
package rundir
