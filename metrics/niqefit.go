package metrics

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"facereward/imageio"
)

// FitNIQE fits a pristine NIQE model on the images at paths: from each
// image the patches sharper than niqeSharpness × its sharpest patch, then
// the mean and covariance of their features. workers images are processed
// at once; the result does not depend on workers.
func FitNIQE(paths []string, workers int, source string) (*NIQEModel, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("metrics: FitNIQE: no images")
	}
	workers = max(1, min(workers, len(paths)))
	perImage := make([][][]float64, len(paths))
	errs := make([]error, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				perImage[i], errs[i] = sharpPatches(paths[i])
			}
		}()
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	var all [][]float64
	for i, e := range errs {
		if e != nil {
			return nil, fmt.Errorf("metrics: FitNIQE: %s: %w", paths[i], e)
		}
		all = append(all, perImage[i]...)
	}
	all = finiteRows(all)
	mu, cov, err := meanCov(all)
	if err != nil {
		return nil, fmt.Errorf("metrics: FitNIQE: %w", err)
	}
	return &NIQEModel{
		Name: NIQEName, Patch: NIQEPatch, Sharpness: niqeSharpness,
		Images: len(paths), Patches: len(all), Source: source,
		Mu: mu, Cov: cov,
	}, nil
}

func sharpPatches(path string) ([][]float64, error) {
	img, err := imageio.Read(path)
	if err != nil {
		return nil, err
	}
	feats, sharp, err := niqePatchFeatures(img)
	if err != nil {
		return nil, err
	}
	var best float64
	for _, s := range sharp {
		best = max(best, s)
	}
	var keep [][]float64
	for i, s := range sharp {
		if s > niqeSharpness*best {
			keep = append(keep, feats[i])
		}
	}
	return keep, nil
}

// WriteJSON writes the model as indented JSON.
func (m *NIQEModel) WriteJSON(path string) error {
	if err := m.check(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("metrics: encoding NIQE model: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("metrics: writing NIQE model: %w", err)
	}
	return nil
}
