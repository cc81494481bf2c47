// Command detecteval measures package faces' detectors on hand-labelled
// photos and prints the result as a Markdown table:
//
//	go run ./tools/detecteval                      # testdata/detect/labels.json
//	go run ./tools/detecteval -canvas 3072         # also: ×0.25 copies on a 3072-px canvas
//	go run ./tools/detecteval -labels L.json -root DIR -v -draw /tmp/boxes
//
// Each detector runs with faces.DefaultOptions() and only Detector changed
// (and MinFace, by -minface: the labels hold faces smaller than the
// package's 40 px on purpose, to measure what the detectors see); the SSD
// runs twice, with tiling (the default, Options.Tile) and without. A
// detection matches a labelled face when their boxes overlap by IoU ≥ 0.5
// (-iou); detections are matched best score first, each face once. The
// detection's box is the detector's own (Face.Box): pigo's square, the
// SSD's rectangle. A detection that matches no face is a false positive.
//
// Recall is also given per tag: small (box height under 40 px, decided
// here from the box as measured, so that downscaled copies get it), profile
// and rotated (from the labels). Times are wall-clock per photo, after one
// warm-up run that loads the cascades and weights.
//
// -canvas N adds a second table: each photo that has a ×0.25 copy in the
// labels is pasted at that scale into an N×N mid-grey canvas, the k-th of
// n photos with its top-left corner at (N−w, N−h)·(2k+1)/(2n), so that
// the copies sit at different places relative to the SSD's tiles. There a
// face of 40–75 px is 1.5–3% of the canvas side, as in a large group photo.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"facereward/faces"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/tensor"
)

// smallFace is the box height under which a face counts as small.
const smallFace = 40

type labelFile struct {
	Photos []struct {
		File   string    `json:"file"`
		Scales []float64 `json:"scales"`
		Faces  []struct {
			Box  [4]float64 `json:"box"`
			Tags []string   `json:"tags"`
		} `json:"faces"`
	} `json:"photos"`
}

// photo is one image to measure on, with its faces in its own pixels.
type photo struct {
	name  string
	img   *tensor.Tensor
	faces []face
	// scale is the factor it was resized by from the labelled file.
	scale float64
}

type face struct {
	box  [4]float64
	tags map[string]bool
}

// tally is one detector's counts over all photos.
type tally struct {
	name          string
	opts          faces.Options
	faces, found  int
	falsePos      int
	tagged, tagOK map[string]int
	elapsed       time.Duration
	photos        int
}

var tagNames = []string{"small", "profile", "rotated"}

func main() {
	labels := flag.String("labels", "testdata/detect/labels.json", "labels JSON")
	root := flag.String("root", "", "directory the labels' paths are relative to (default: the labels file's)")
	minFace := flag.Int("minface", 0, "faces.Options.MinFace for both detectors; -1 keeps DefaultOptions'")
	iou := flag.Float64("iou", 0.5, "overlap for a detection to match a face")
	verbose := flag.Bool("v", false, "print one line per photo and detector")
	draw := flag.String("draw", "", "write each photo with its labels (green), pigo's (blue) and the tiled SSD's (red) boxes as PNG into this directory")
	canvas := flag.Int("canvas", 0, "also measure each photo's ×0.25 copy pasted into an N×N grey canvas (0: not)")
	flag.Parse()
	if err := run(*labels, *root, *minFace, *iou, *canvas, *verbose, *draw); err != nil {
		log.Fatal(err)
	}
}

// The rows of the table: the SSD with and without tiling.
const (
	rowSSDTiled   = "ssd tiled"
	rowSSDUntiled = "ssd untiled"
)

func run(labelPath, root string, minFace int, iou float64, canvas int, verbose bool, drawDir string) error {
	photos, err := readPhotos(labelPath, root)
	if err != nil {
		return err
	}
	if err := measure(labelPath, photos, minFace, iou, verbose, drawDir); err != nil {
		return err
	}
	if canvas <= 0 {
		return nil
	}
	onCanvas, err := canvasPhotos(photos, canvas)
	if err != nil {
		return err
	}
	fmt.Println()
	return measure(fmt.Sprintf("×0.25 copies on a %d×%d canvas", canvas, canvas), onCanvas, minFace, iou, verbose, drawDir)
}

// measure runs every detector on photos and prints the table, titled.
func measure(title string, photos []photo, minFace int, iou float64, verbose bool, drawDir string) error {
	var tallies []*tally
	for _, row := range []struct {
		name, det string
		tile      bool
	}{{faces.DetectorPigo, faces.DetectorPigo, false}, {rowSSDUntiled, faces.DetectorSSD, false}, {rowSSDTiled, faces.DetectorSSD, true}} {
		o := faces.DefaultOptions()
		o.Detector, o.Tile = row.det, row.tile
		if minFace >= 0 {
			o.MinFace = minFace
		}
		tallies = append(tallies, &tally{name: row.name, opts: o, tagged: map[string]int{}, tagOK: map[string]int{}})
	}
	for _, t := range tallies {
		// Warm up: the first call unpacks cascades and loads weights.
		if _, err := t.opts.Detect(photos[0].img); err != nil {
			return fmt.Errorf("%s: %w", photos[0].name, err)
		}
	}
	for _, p := range photos {
		found := map[string][]faces.Face{}
		for _, t := range tallies {
			start := time.Now()
			r, err := t.opts.Detect(p.img)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", p.name, t.name, err)
			}
			took := time.Since(start)
			t.elapsed += took
			t.photos++
			found[t.name] = r.Faces
			matched, fp := match(p.faces, r.Faces, iou)
			t.faces += len(p.faces)
			t.falsePos += fp
			hits := 0
			for i, f := range p.faces {
				if matched[i] {
					hits++
				}
				for tag := range f.tags {
					t.tagged[tag]++
					if matched[i] {
						t.tagOK[tag]++
					}
				}
			}
			t.found += hits
			if verbose {
				fmt.Printf("%-44s %-11s %d/%d faces, %d false, %.2f s\n", p.name, t.name, hits, len(p.faces), fp, took.Seconds())
			}
		}
		if drawDir != "" {
			if err := drawBoxes(drawDir, p, found[faces.DetectorPigo], found[rowSSDTiled]); err != nil {
				return err
			}
		}
	}
	printTable(title, photos, tallies, iou)
	return nil
}

// readPhotos loads the labelled photos and their downscaled copies.
func readPhotos(labelPath, root string) ([]photo, error) {
	data, err := os.ReadFile(labelPath)
	if err != nil {
		return nil, err
	}
	var lf labelFile
	if err := json.Unmarshal(data, &lf); err != nil {
		return nil, fmt.Errorf("%s: %w", labelPath, err)
	}
	if root == "" {
		root = filepath.Dir(labelPath)
	}
	var out []photo
	for _, lp := range lf.Photos {
		img, err := imageio.Read(filepath.Join(root, lp.File))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", labelPath, err)
		}
		var fs []face
		for _, f := range lp.Faces {
			tags := map[string]bool{}
			for _, t := range f.Tags {
				tags[t] = true
			}
			fs = append(fs, face{box: f.Box, tags: tags})
		}
		out = append(out, withSmall(photo{name: lp.File, img: img, faces: fs, scale: 1}))
		for _, s := range lp.Scales {
			h, w := img.Shape[0], img.Shape[1]
			sh, sw := int(math.Round(float64(h)*s)), int(math.Round(float64(w)*s))
			ky, kx := float64(sh)/float64(h), float64(sw)/float64(w)
			var scaled []face
			for _, f := range fs {
				b := f.box
				scaled = append(scaled, face{box: [4]float64{b[0] * kx, b[1] * ky, b[2] * kx, b[3] * ky}, tags: clone(f.tags)})
			}
			out = append(out, withSmall(photo{
				name:  fmt.Sprintf("%s ×%g (%d×%d)", lp.File, s, sw, sh),
				img:   imgproc.Resize(img, sh, sw, imgproc.Area),
				faces: scaled,
				scale: s,
			}))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no photos", labelPath)
	}
	return out, nil
}

// canvasPhotos pastes the ×0.25 copies into n×n mid-grey canvases, the
// k-th of m at (n−w, n−h)·(2k+1)/(2m), and moves their boxes alike.
func canvasPhotos(photos []photo, n int) ([]photo, error) {
	var quarters []photo
	for _, p := range photos {
		if p.scale == 0.25 {
			quarters = append(quarters, p)
		}
	}
	if len(quarters) == 0 {
		return nil, fmt.Errorf("-canvas: no photo has a ×0.25 copy (labels' scales)")
	}
	var out []photo
	for k, q := range quarters {
		h, w := q.img.Shape[0], q.img.Shape[1]
		if h > n || w > n {
			return nil, fmt.Errorf("-canvas %d: %s does not fit", n, q.name)
		}
		x0, y0 := (n-w)*(2*k+1)/(2*len(quarters)), (n-h)*(2*k+1)/(2*len(quarters))
		img := tensor.New(n, n, 3)
		for i := range img.Data {
			img.Data[i] = 0.5
		}
		for y := range h {
			copy(img.Data[((y0+y)*n+x0)*3:((y0+y)*n+x0+w)*3], q.img.Data[y*w*3:(y+1)*w*3])
		}
		var moved []face
		for _, f := range q.faces {
			b := f.box
			moved = append(moved, face{box: [4]float64{b[0] + float64(x0), b[1] + float64(y0), b[2], b[3]}, tags: clone(f.tags)})
		}
		out = append(out, photo{name: fmt.Sprintf("%s at (%d, %d) on %d×%d", q.name, x0, y0, n, n), img: img, faces: moved})
	}
	return out, nil
}

func clone(m map[string]bool) map[string]bool {
	c := map[string]bool{}
	for k, v := range m {
		c[k] = v
	}
	return c
}

// withSmall tags the faces whose box is under smallFace pixels tall.
func withSmall(p photo) photo {
	for _, f := range p.faces {
		if f.box[3] < smallFace {
			f.tags["small"] = true
		}
	}
	return p
}

// match pairs detections with faces, best score first, each face with the
// free one it overlaps most (IoU ≥ iou); it returns which faces were found
// and how many detections matched none.
func match(labelled []face, dets []faces.Face, iou float64) ([]bool, int) {
	order := make([]int, len(dets))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return dets[order[a]].Score > dets[order[b]].Score })
	matched := make([]bool, len(labelled))
	fp := 0
	for _, d := range order {
		b := dets[d].Box
		box := [4]float64{float64(b[0]), float64(b[1]), float64(b[2]), float64(b[3])}
		best, bestIoU := -1, iou
		for i, f := range labelled {
			if v := boxIoU(box, f.box); !matched[i] && v >= bestIoU {
				best, bestIoU = i, v
			}
		}
		if best < 0 {
			fp++
			continue
		}
		matched[best] = true
	}
	return matched, fp
}

func boxIoU(a, b [4]float64) float64 {
	w := math.Min(a[0]+a[2], b[0]+b[2]) - math.Max(a[0], b[0])
	h := math.Min(a[1]+a[3], b[1]+b[3]) - math.Max(a[1], b[1])
	if w <= 0 || h <= 0 {
		return 0
	}
	inter := w * h
	return inter / (a[2]*a[3] + b[2]*b[3] - inter)
}

func printTable(title string, photos []photo, tallies []*tally, iou float64) {
	counts := map[string]int{}
	n := 0
	for _, p := range photos {
		n += len(p.faces)
		for _, f := range p.faces {
			for t := range f.tags {
				counts[t]++
			}
		}
	}
	var tagDesc []string
	for _, t := range tagNames {
		tagDesc = append(tagDesc, fmt.Sprintf("%d %s", counts[t], t))
	}
	fmt.Printf("%s: %d images, %d faces (%s); match at IoU ≥ %.2g; MinFace %d\n\n",
		title, len(photos), n, strings.Join(tagDesc, ", "), iou, tallies[0].opts.MinFace)
	fmt.Println("| detector | found | recall | false positives | small | profile | rotated | time per photo |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, t := range tallies {
		row := fmt.Sprintf("| %s | %d/%d | %.2f | %d |", t.name, t.found, t.faces, ratio(t.found, t.faces), t.falsePos)
		for _, tag := range tagNames {
			row += fmt.Sprintf(" %d/%d |", t.tagOK[tag], t.tagged[tag])
		}
		row += fmt.Sprintf(" %.2f s |", t.elapsed.Seconds()/float64(t.photos))
		fmt.Println(row)
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// drawBoxes writes the photo, at most 960 px wide, with its labelled faces
// in green, pigo's detections in blue and the SSD's in red.
func drawBoxes(dir string, p photo, pigo, ssd []faces.Face) error {
	img := tensor.FromSlice(append([]float32(nil), p.img.Data...), p.img.Shape...)
	k := 1.0
	if w := img.Shape[1]; w > 960 {
		k = 960 / float64(w)
		img = imgproc.Resize(img, int(math.Round(float64(img.Shape[0])*k)), 960, imgproc.Area)
	}
	for _, f := range p.faces {
		rect(img, f.box, k, [3]float32{0, 1, 0})
	}
	for _, set := range []struct {
		dets []faces.Face
		col  [3]float32
	}{{pigo, [3]float32{0, 0.4, 1}}, {ssd, [3]float32{1, 0, 0}}} {
		for _, d := range set.dets {
			rect(img, [4]float64{float64(d.Box[0]), float64(d.Box[1]), float64(d.Box[2]), float64(d.Box[3])}, k, set.col)
		}
	}
	name := strings.NewReplacer("/", "_", " ", "", "×", "x", "(", "", ")", "", "..", "").Replace(p.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return imageio.WritePNG(filepath.Join(dir, name+".png"), img)
}

// rect draws a 2-pixel box outline, scaled by k, clipped to the image.
func rect(img *tensor.Tensor, b [4]float64, k float64, col [3]float32) {
	h, w := img.Shape[0], img.Shape[1]
	x0, y0 := int(math.Round(b[0]*k)), int(math.Round(b[1]*k))
	x1, y1 := int(math.Round((b[0]+b[2])*k)), int(math.Round((b[1]+b[3])*k))
	set := func(x, y int) {
		if x >= 0 && y >= 0 && x < w && y < h {
			copy(img.Data[(y*w+x)*3:], col[:])
		}
	}
	for t := range 2 {
		for x := x0; x <= x1; x++ {
			set(x, y0+t)
			set(x, y1-t)
		}
		for y := y0; y <= y1; y++ {
			set(x0+t, y)
			set(x1-t, y)
		}
	}
}
