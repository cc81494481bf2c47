// Command niqefit fits the NIQE-FFHQ pristine model on the train split of
// the 128×128 FFHQ faces and writes metrics/models/niqe_ffhq128.json, which
// package metrics embeds:
//
//	go run ./tools/niqefit -data ../shared/data/ffhq128 -out metrics/models/niqe_ffhq128.json
package main

import (
	"flag"
	"fmt"
	"log"
	"runtime"

	"facereward/dataset"
	"facereward/metrics"
)

func main() {
	data := flag.String("data", "../shared/data/ffhq128", "folder of FFHQ 128×128 faces")
	out := flag.String("out", "metrics/models/niqe_ffhq128.json", "model file to write")
	workers := flag.Int("workers", runtime.NumCPU(), "images processed at once")
	flag.Parse()
	if err := run(*data, *out, *workers); err != nil {
		log.Fatal(err)
	}
}

func run(data, out string, workers int) error {
	f, err := dataset.Open(data)
	if err != nil {
		return err
	}
	train, err := f.Split("train")
	if err != nil {
		return err
	}
	paths := make([]string, len(train.Files))
	for i, file := range train.Files {
		paths[i] = file.Path
	}
	r := dataset.TrainIDs()
	source := fmt.Sprintf("ffhq128 train split (ids %05d-%05d), %d images; FFHQ is CC BY-NC-SA 4.0", r.From, r.To, len(paths))
	m, err := metrics.FitNIQE(paths, workers, source)
	if err != nil {
		return err
	}
	if err := m.WriteJSON(out); err != nil {
		return err
	}
	log.Printf("%s: %d sharp patches of %d images -> %s", m.Name, m.Patches, m.Images, out)
	return nil
}
