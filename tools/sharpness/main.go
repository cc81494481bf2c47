// Command sharpness measures whether restore kept faces at least as sharp
// as they came in: for every face of a restore run (its report.json), the
// high-frequency energy (mean squared Laplacian of the luma) inside the
// face box of the restored photo, over the same for the input photo
// upscaled by the same factor with cubic interpolation, which is what a
// restorer that changed nothing would give. A ratio below 1 is a face
// that came back softer than plain upscaling leaves it.
//
//	go run ./tools/sharpness -run OUT [-min-side 150]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"facereward/imageio"
	"facereward/imgproc"
	"facereward/photo"
)

func main() {
	run := flag.String("run", "", "a restore --out folder with report.json")
	minSide := flag.Float64("min-side", 150, "only faces whose box side (input pixels) is at least this")
	flag.Parse()
	if err := measure(*run, *minSide); err != nil {
		fmt.Fprintln(os.Stderr, "sharpness:", err)
		os.Exit(1)
	}
}

func measure(run string, minSide float64) error {
	b, err := os.ReadFile(filepath.Join(run, "report.json"))
	if err != nil {
		return err
	}
	var rep photo.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("%s/report.json: %w", run, err)
	}
	fmt.Println("| photo | face | side (px) | restored | detail weight | HF ratio |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	var ratios []float64
	for _, in := range rep.Inputs {
		if in.Error != "" || len(in.Faces) == 0 {
			continue
		}
		src, err := imageio.Read(in.Input)
		if err != nil {
			return err
		}
		out, err := imageio.Read(in.Output)
		if err != nil {
			return err
		}
		k := float64(out.Shape[1]) / float64(src.Shape[1])
		ref := imgproc.Resize(src, out.Shape[0], out.Shape[1], imgproc.Cubic)
		for i, f := range in.Faces {
			if float64(f.Box[2]) < minSide {
				continue
			}
			x0, y0, s := float64(f.Box[0])*k, float64(f.Box[1])*k, float64(f.Box[2])*k
			xi, yi, si := int(x0), int(y0), int(math.Ceil(s))
			r := imgproc.HFEnergy(out, xi, yi, si) / imgproc.HFEnergy(ref, xi, yi, si)
			ratios = append(ratios, r)
			fmt.Printf("| %s | %d | %.0f | %v | %.2f | %.3f |\n", filepath.Base(in.Input), i, f.Box[2], f.Restored, f.Detail, r)
		}
	}
	if len(ratios) == 0 {
		return fmt.Errorf("no face of side >= %g in %s", minSide, run)
	}
	sort.Float64s(ratios)
	var sum float64
	for _, r := range ratios {
		sum += r
	}
	fmt.Printf("\n%d faces: HF ratio min %.3f, median %.3f, mean %.3f\n", len(ratios), ratios[0], ratios[len(ratios)/2], sum/float64(len(ratios)))
	return nil
}
