package faces

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"facereward/facenet"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/tensor"
)

// TestSSDNetFaceSize measures what the tiling constants rest on: how
// often the SSD finds a face of a given size in its 512 input. The six
// labelled photos of testdata/detect, shrunk to 120–320 px wide and
// pasted into a grey 512 canvas, give faces of 12–44 net pixels. The
// whole pass must find most faces from wholeNetFace−4 on, most from
// tileNetFace−4 on, and clearly fewer below: that is why small faces
// need tiles.
func TestSSDNetFaceSize(t *testing.T) {
	if testing.Short() {
		t.Skip("42 SSD passes")
	}
	type count struct{ n, found int }
	var below, mid, above count // < tileNetFace−4, up to wholeNetFace−4, from there
	buckets := map[int]*count{}
	o := DefaultOptions()
	o.MinFace, o.Pupils = 0, false
	for i := 1; i <= 6; i++ {
		file := "faceapi_sample" + string(rune('0'+i)) + ".jpg"
		img, err := imageio.Read(filepath.Join("../testdata/detect", file))
		if err != nil {
			t.Fatal(err)
		}
		labels := labelledBoxes(t, file)
		for _, w := range []int{320, 256, 224, 192, 160, 140, 120} {
			k := float64(w) / float64(img.Shape[1])
			h := int(math.Round(float64(img.Shape[0]) * k))
			canvas := pasteOnGrey(imgproc.Resize(img, h, w, imgproc.Area), facenet.SSDSize, 100, 100)
			r, err := o.Detect(canvas)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range labels {
				b := [4]float64{l[0]*k + 100, l[1]*k + 100, l[2] * k, l[3] * k}
				found, _ := countFound([][4]float64{b}, r.Faces)
				side := math.Sqrt(b[2] * b[3])
				c := &above
				switch {
				case side < tileNetFace-4:
					c = &below
				case side < wholeNetFace-4:
					c = &mid
				}
				key := int(side/8) * 8
				if buckets[key] == nil {
					buckets[key] = &count{}
				}
				for _, c := range []*count{c, buckets[key]} {
					c.n++
					c.found += found
				}
			}
		}
	}
	for k := 0; k <= 48; k += 8 {
		if b := buckets[k]; b != nil {
			t.Logf("faces of %d–%d net px: %d of %d found", k, k+8, b.found, b.n)
		}
	}
	ratio := func(c count) float64 { return float64(c.found) / float64(c.n) }
	t.Logf("below %d: %d/%d; %d–%d: %d/%d; from %d: %d/%d", tileNetFace-4, below.found, below.n,
		tileNetFace-4, wholeNetFace-4, mid.found, mid.n, wholeNetFace-4, above.found, above.n)
	if ratio(above) < 0.85 || ratio(mid) < 0.7 || ratio(below) > ratio(mid)-0.1 {
		t.Errorf("recall %.2f below %d net px, %.2f up to %d, %.2f from there: the tiling constants rest on 0.53, 0.75, 0.91",
			ratio(below), tileNetFace-4, ratio(mid), wholeNetFace-4, ratio(above))
	}
}

// labelledBoxes returns the labelled face boxes of file (its key in
// testdata/detect/labels.json).
func labelledBoxes(t *testing.T, file string) [][4]float64 {
	t.Helper()
	data, err := os.ReadFile("../testdata/detect/labels.json")
	if err != nil {
		t.Fatal(err)
	}
	var labels struct {
		Photos []struct {
			File  string
			Faces []struct{ Box [4]float64 }
		}
	}
	if err := json.Unmarshal(data, &labels); err != nil {
		t.Fatal(err)
	}
	for _, p := range labels.Photos {
		if p.File == file {
			var boxes [][4]float64
			for _, f := range p.Faces {
				boxes = append(boxes, f.Box)
			}
			return boxes
		}
	}
	t.Fatalf("no labels for %s", file)
	return nil
}

// pasteOnGrey returns an n×n mid-grey canvas with img pasted at x0, y0.
func pasteOnGrey(img *tensor.Tensor, n, x0, y0 int) *tensor.Tensor {
	out := tensor.New(n, n, 3)
	for i := range out.Data {
		out.Data[i] = 0.5
	}
	h, w := img.Shape[0], img.Shape[1]
	for y := range h {
		copy(out.Data[((y0+y)*n+x0)*3:((y0+y)*n+x0+w)*3], img.Data[y*w*3:(y+1)*w*3])
	}
	return out
}

// countFound matches faces to boxes (IoU ≥ 0.5, each face once) and
// returns how many boxes were found and how many faces matched none.
func countFound(boxes [][4]float64, faces []Face) (found, extra int) {
	used := make([]bool, len(faces))
	for _, b := range boxes {
		for i, f := range faces {
			fb := [4]float64{float64(f.Box[0]), float64(f.Box[1]), float64(f.Box[2]), float64(f.Box[3])}
			if !used[i] && rectIoU(fb, b) >= 0.5 {
				used[i] = true
				found++
				break
			}
		}
	}
	return found, len(faces) - found
}

// TestDetectTiledLargeCanvas pastes the four-women photo (faces of 53–71
// × 87–99 px) into a 3072-px grey canvas, where the whole-image pass
// sees them at about 12 net pixels. The paste straddles tile edges (tiles
// of 854 px with DefaultOptions' MinFace 40; the image-left face runs
// across the first tile's right edge), so the merge and the border rule
// are exercised too.
func TestDetectTiledLargeCanvas(t *testing.T) {
	const name, n, x0, y0 = "faceapi_sample6_640.jpg", 3072, 700, 900
	canvas := pasteOnGrey(readPhoto(t, name), n, x0, y0)
	var boxes [][4]float64
	for _, b := range labelledBoxes(t, "../faces/"+name) {
		boxes = append(boxes, [4]float64{b[0] + x0, b[1] + y0, b[2], b[3]})
	}
	if tiles := tileGrid(n, n, DefaultOptions().MinFace); len(tiles) < 2 || tiles[0].x1 <= int(boxes[0][0]) || tiles[0].x1 >= int(boxes[0][0]+boxes[0][2]) {
		t.Fatalf("tiles %v: want the first tile's right edge across face %v", tiles, boxes[0])
	}

	o := DefaultOptions()
	o.Pupils = false
	tiled, err := o.Detect(canvas)
	if err != nil {
		t.Fatal(err)
	}
	o.Tile = false
	whole, err := o.Detect(canvas)
	if err != nil {
		t.Fatal(err)
	}
	found, extra := countFound(boxes, tiled.Faces)
	wholeFound, _ := countFound(boxes, whole.Faces)
	t.Logf("tiled: %d of %d faces, %d other; whole image only: %d faces", found, len(boxes), extra, wholeFound)
	for i, f := range tiled.Faces {
		t.Logf("face %d: box %.0f score %.2f", i, f.Box, f.Score)
	}
	if found != len(boxes) || extra != 0 {
		t.Errorf("tiled: found %d of %d faces and %d other boxes", found, len(boxes), extra)
	}
	if wholeFound >= found {
		t.Errorf("the whole-image pass alone found %d faces, tiling %d: the canvas does not test tiling", wholeFound, found)
	}
	for i := 1; i < len(tiled.Faces); i++ {
		if tiled.Faces[i].Score > tiled.Faces[i-1].Score {
			t.Fatalf("faces not sorted by score: %+v", tiled.Faces)
		}
	}
}

// TestDetectUntiledBelowThreshold checks that a photo whose long side is
// the tile side gives the same Result with tiling on as off, and that one
// pixel more lays tiles.
func TestDetectUntiledBelowThreshold(t *testing.T) {
	o := DefaultOptions()
	o.Pupils = false // puploc's random perturbations would differ run to run
	side, _, _ := tileLayout(1000, o.MinFace)
	if tileGrid(side, side, o.MinFace) != nil || tileGrid(side-200, side+1, o.MinFace) == nil {
		t.Fatalf("tiling should start above a long side of %d px", side)
	}
	canvas := pasteOnGrey(readPhoto(t, "faceapi_sample6_640.jpg"), side, 100, 150)
	tiled, err := o.Detect(canvas)
	if err != nil {
		t.Fatal(err)
	}
	o.Tile = false
	whole, err := o.Detect(canvas)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d×%d: %d faces, %d skipped", side, side, len(whole.Faces), len(whole.Skipped))
	if len(whole.Faces) == 0 || !reflect.DeepEqual(tiled, whole) {
		t.Fatalf("with tiling %+v\nwithout %+v", tiled, whole)
	}
}

// TestTileLayout checks the layout's invariants over photo sizes and
// MinFace values: tiles cover the photo, none is enlarged, a face of
// MinFace reaches tileNetFace net pixels when the whole pass would shrink
// it, and every box up to reach (the whole pass's reliable size) lies,
// with the margin, wholly inside some tile.
func TestTileLayout(t *testing.T) {
	for _, c := range []struct{ h, w, minFace int }{
		{1280, 1920, 40}, {2560, 2560, 40}, {3000, 4000, 40}, {4000, 600, 40},
		{1280, 1920, 0}, {2560, 2560, 8}, {9000, 12000, 40}, {854, 853, 40},
	} {
		long := max(c.h, c.w)
		side, overlap, margin := tileLayout(long, c.minFace)
		tiles := tileGrid(c.h, c.w, c.minFace)
		if long <= side {
			if tiles != nil {
				t.Errorf("%+v: %d tiles for a photo within the tile side %d", c, len(tiles), side)
			}
			continue
		}
		reach := overlap - margin
		if float64(reach) < boxTall*wholeNetFace*float64(long)/facenet.SSDSize {
			t.Errorf("%+v: overlap %d less the margin does not hold the whole pass's smallest face", c, overlap)
		}
		t.Logf("%+v: side %d, overlap %d, margin %d, %d tiles", c, side, overlap, margin, len(tiles))
		// The tile is 512, or puts MinFace at tileNetFace net pixels, or
		// has grown to hold twice the overlap; whichever is largest.
		forFace := max(facenet.SSDSize, ceilDiv(c.minFace*facenet.SSDSize, tileNetFace))
		netFace := float64(c.minFace) * facenet.SSDSize / float64(side)
		if side < forFace || (side == forFace && side > facenet.SSDSize && netFace < 0.99*tileNetFace) || (side > forFace && 2*overlap < side-2) {
			t.Errorf("%+v: side %d (%d for MinFace), overlap %d", c, side, forFace, overlap)
		}
		if 2*overlap > side+2 {
			t.Errorf("%+v: overlap %d (reach %d) for side %d", c, overlap, reach, side)
		}
		// A box of reach at any position (step 7) is wholly inside,
		// margin included, some tile; every pixel is in some tile.
		inTile := func(x, y, s int) bool {
			for _, tl := range tiles {
				b := [4]float64{float64(x), float64(y), float64(s), float64(s)}
				if x >= tl.x0 && y >= tl.y0 && x+s <= tl.x1 && y+s <= tl.y1 && !cutByTile(b, tl, c.h, c.w, float64(margin)) {
					return true
				}
			}
			return false
		}
		for y := 0; y+reach <= c.h; y += 7 {
			for x := 0; x+reach <= c.w; x += 7 {
				if !inTile(x, y, min(reach, c.h, c.w)) {
					t.Fatalf("%+v: box of %d px at (%d, %d) is in no tile whole", c, reach, x, y)
				}
			}
		}
		for _, tl := range tiles {
			if tl.x1-tl.x0 > side || tl.y1-tl.y0 > side || tl.x0 < 0 || tl.y0 < 0 || tl.x1 > c.w || tl.y1 > c.h {
				t.Fatalf("%+v: tile %+v", c, tl)
			}
		}
	}
}

// TestMergeTiles runs the merge on made-up boxes in a photo of 1600 px,
// where the whole pass answers for faces from 100 px (wholeNetFace net
// pixels) and the tiles up to 125.
func TestMergeTiles(t *testing.T) {
	box := func(x, y, w, h float64, score float32) facenet.Detection {
		return facenet.Detection{X: x, Y: y, W: w, H: h, Raw: [4]float64{x, y, w, h}, Score: score}
	}
	uncut := func(x, y, w, h float64, score float32) tileDet { return tileDet{Detection: box(x, y, w, h, score)} }
	cut := func(x, y, w, h float64, score float32) tileDet {
		return tileDet{Detection: box(x, y, w, h, score), cut: true}
	}
	for _, c := range []struct {
		name  string
		whole []facenet.Detection
		tiled []tileDet
		want  []float32 // the scores kept, in order
	}{
		{"the same face in a tile and the whole pass keeps the better", []facenet.Detection{box(100, 100, 100, 120, 0.7)},
			[]tileDet{uncut(104, 98, 100, 116, 0.9)}, []float32{0.9}},
		{"two faces side by side both stay", nil,
			[]tileDet{uncut(100, 100, 50, 60, 0.7), uncut(160, 100, 50, 60, 0.9)}, []float32{0.9, 0.7}},
		{"a box off by a third of the face whose centre is inside a better one goes", nil,
			[]tileDet{uncut(1194, 982, 69, 101, 0.99), uncut(1215, 1010, 70, 106, 0.96)}, []float32{0.99}},
		{"a small whole-pass box is left to the tiles", []facenet.Detection{box(300, 300, 80, 90, 0.99)},
			[]tileDet{uncut(100, 100, 50, 60, 0.7)}, []float32{0.7}},
		{"a large tile box is left to the whole pass", nil,
			[]tileDet{uncut(100, 100, 120, 140, 0.99), uncut(300, 100, 50, 60, 0.7)}, []float32{0.7}},
		{"a large whole-pass box stays", []facenet.Detection{box(300, 300, 100, 120, 0.99)},
			[]tileDet{uncut(100, 100, 50, 60, 0.7)}, []float32{0.99, 0.7}},
		{"a cut half face goes when the whole face is seen", []facenet.Detection{box(60, 100, 100, 120, 0.8)},
			[]tileDet{cut(110, 100, 50, 120, 0.95)}, []float32{0.8}},
		{"also when a tile saw it whole", nil,
			[]tileDet{cut(110, 100, 30, 60, 0.95), uncut(90, 100, 50, 60, 0.8)}, []float32{0.8}},
		{"a cut face that nothing else covers stays", nil,
			[]tileDet{cut(100, 100, 25, 60, 0.95), uncut(300, 100, 50, 60, 0.8)}, []float32{0.95, 0.8}},
		{"nor does a cut box covering it hide it", nil,
			[]tileDet{cut(100, 100, 20, 60, 0.95), cut(60, 100, 70, 60, 0.8)}, []float32{0.95, 0.8}},
		{"a weak near miss does not hide a cut face", nil,
			[]tileDet{cut(60, 100, 30, 60, 0.9), uncut(40, 100, 90, 60, 0.3)}, []float32{0.9}},
		{"but a near miss scoring higher than a cut near miss does", nil,
			[]tileDet{cut(60, 100, 30, 60, 0.3), uncut(40, 100, 90, 60, 0.4)}, []float32{0.4}},
	} {
		got := []float32{}
		for _, d := range mergeTiles(c.whole, c.tiled, 1600, 0.5) {
			got = append(got, d.Score)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: kept %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCutByTile(t *testing.T) {
	// The second of two tiles across a 1000×600 photo: its left edge is
	// inside the photo, its other edges are the photo's.
	tl := tile{x0: 400, y0: 0, x1: 1000, y1: 600, side: 600}
	for _, c := range []struct {
		box [4]float64
		cut bool
	}{
		{[4]float64{500, 100, 50, 60}, false},
		{[4]float64{398, 100, 50, 60}, true},  // across the inner edge
		{[4]float64{402, 100, 50, 60}, true},  // within the margin of it
		{[4]float64{950, -10, 60, 60}, false}, // over the photo's own edges
	} {
		if got := cutByTile(c.box, tl, 600, 1000, 5); got != c.cut {
			t.Errorf("box %v: cut %v, want %v", c.box, got, c.cut)
		}
	}
}
