package faces

import (
	"fmt"
	"math"
	"sort"

	"facereward/facenet"
	"facereward/imgproc"
	"facereward/tensor"
)

// Tiling: the SSD reads the whole photo at facenet.SSDSize (512) on its
// long side, so in a photo of long side L a face of s pixels reaches the
// net at s·512/L ("net pixels"). Faces of testdata/detect shrunk into a
// 512 canvas (TestSSDNetFaceSize) were found at IoU ≥ 0.5: 41 of 77
// below 20 net px (geometric side of the labelled box), 33 of 44 at
// 20–28, 30 of 33 from 28 on (15 of 16 at 32–40). So where the whole pass
// would shrink a face of Options.MinFace below tileNetFace, the SSD also
// reads overlapping tiles, each shrunk to 512 (never enlarged), and the
// passes are merged (mergeTiles).
//
// Each pass answers for the face sizes it is laid out for, in geometric
// side of the SSD's box, photo pixels:
//   - the whole pass for faces of at least wholeMin = wholeNetFace·L/512,
//     where it finds faces reliably and places their boxes well;
//   - the tiles for faces up to reach = boxTall·wholeMin. Neighbouring
//     tiles overlap by reach plus a margin, so every face the whole pass
//     leaves out (under wholeMin, so its box is at most about reach tall)
//     lies wholly inside some tile. Between wholeMin and reach both
//     passes answer and the merge keeps one box. Larger faces are left
//     to the whole pass: a tile shows only part of a person, and the SSD
//     can take a part (a chest framed by hair, at 0.52 in
//     faceapi_sample6.jpg) for a face;
//   - the tile side puts a face of MinFace at ≥ tileNetFace net pixels,
//     but is at least 512, and where reach would exceed half a tile the
//     tile grows instead (photos over about 6.3 tile sides), so that the
//     two ranges always meet, at the cost of the tiles' smallest face.
//
// tileLayout and TestTileLayout hold these invariants.
const (
	// tileNetFace is the net size a face of MinFace reaches in a tile.
	tileNetFace = 24
	// wholeNetFace is the net size from which the whole pass answers.
	wholeNetFace = 32
	// boxTall is the SSD box's height over its geometric side (374/346
	// on FFHQ crops, rounded up for tilted and turned heads).
	boxTall = 1.25
	// edgeNet is how close, in net pixels of the tile, a box may come to
	// a tile edge inside the photo before it counts as cut by it.
	edgeNet = 4
	// mergeIoU is the overlap above which two boxes are one face:
	// face-api's own non-max suppression threshold.
	mergeIoU = 0.5
	// coverFrac is the share of a cut box's area that another box must
	// hold for the cut box to be dropped as a piece of that face.
	coverFrac = 0.5
)

// wholeMin is the smallest face (geometric side, photo pixels) the whole
// pass answers for in a photo of long side long; reach, the largest the
// tiles answer for, is boxTall times it.
func wholeMin(long int) float64 { return wholeNetFace * float64(long) / facenet.SSDSize }

func reach(long int) float64 { return boxTall * wholeMin(long) }

// tile is one window of the photo, [x0, x1) × [y0, y1) in photo pixels,
// with the tile side it was laid out for (a tile is narrower where the
// photo is).
type tile struct {
	x0, y0, x1, y1 int
	side           int
}

// tileLayout returns the tile side and the overlap between neighbouring
// tiles for a photo of long side long and faces down to minFace pixels,
// and margin, the distance from an inner tile edge within which a box
// counts as cut.
func tileLayout(long, minFace int) (side, overlap, margin int) {
	const net = facenet.SSDSize
	r := int(math.Ceil(reach(long)))
	side = max(net, ceilDiv(max(minFace, 0)*net, tileNetFace))
	// overlap = r + margin ≤ side/2 with margin = side/128 (edgeNet net
	// pixels) needs side ≥ r·128/63.
	side = max(side, ceilDiv(r*net, net/2-edgeNet))
	margin = tileMargin(side)
	return side, r + margin, margin
}

// tileMargin is edgeNet net pixels in photo pixels, for tiles of side.
func tileMargin(side int) int { return ceilDiv(edgeNet*side, facenet.SSDSize) }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// tileGrid lays tiles over an h×w photo, row by row, or returns nil when
// the photo's long side is at most the tile side: then the whole-image
// pass already sees a face of minFace at tileNetFace net pixels or more.
func tileGrid(h, w, minFace int) []tile {
	side, overlap, _ := tileLayout(max(h, w), minFace)
	if max(h, w) <= side {
		return nil
	}
	var out []tile
	for _, y0 := range tileStarts(h, side, overlap) {
		for _, x0 := range tileStarts(w, side, overlap) {
			out = append(out, tile{x0: x0, y0: y0, x1: min(x0+side, w), y1: min(y0+side, h), side: side})
		}
	}
	return out
}

// tileStarts spreads the fewest tiles of side over n pixels whose
// neighbours overlap by at least overlap, evenly, the first at 0 and the
// last at n−side. Consecutive starts differ by at most
// ⌈(n−side)/(k−1)⌉ ≤ side−overlap.
func tileStarts(n, side, overlap int) []int {
	if n <= side {
		return []int{0}
	}
	k := 1 + ceilDiv(n-side, side-overlap)
	starts := make([]int, k)
	for i := range starts {
		starts[i] = i * (n - side) / (k - 1)
	}
	return starts
}

// tileDet is a detection in photo pixels and whether its box comes within
// the margin of an inner edge of the tile it came from: the face may run
// on past that edge, so the box may hold only part of it.
type tileDet struct {
	facenet.Detection
	cut bool
}

// detectTiles runs the SSD on every tile, shrunk by 512/side with area
// averaging (a 512 tile is read as it is), and returns the detections in
// photo pixels, tile by tile. The tiles run one after another: the net
// already spreads each pass over the cores.
func detectTiles(m *facenet.SSD, img *tensor.Tensor, tiles []tile, so facenet.SSDOptions) ([]tileDet, error) {
	h, w := img.Shape[0], img.Shape[1]
	var out []tileDet
	for _, t := range tiles {
		part := cropImage(img, t)
		k := float64(facenet.SSDSize) / float64(t.side)
		th, tw := t.y1-t.y0, t.x1-t.x0
		sh, sw := max(1, int(math.Round(float64(th)*k))), max(1, int(math.Round(float64(tw)*k)))
		if sh != th || sw != tw {
			part = imgproc.Resize(part, sh, sw, imgproc.Area)
		}
		dets, err := m.Detect(part, so)
		if err != nil {
			return nil, fmt.Errorf("faces: tile x %d–%d y %d–%d: %w", t.x0, t.x1, t.y0, t.y1, err)
		}
		kx, ky := float64(tw)/float64(sw), float64(th)/float64(sh)
		margin := float64(tileMargin(t.side))
		for _, d := range dets {
			r := d.Raw
			raw := [4]float64{float64(t.x0) + r[0]*kx, float64(t.y0) + r[1]*ky, r[2] * kx, r[3] * ky}
			// The clipped box is clipped to the tile, as the whole pass's
			// is to the photo.
			x0, y0 := max(raw[0], float64(t.x0)), max(raw[1], float64(t.y0))
			x1, y1 := min(raw[0]+raw[2], float64(t.x1)), min(raw[1]+raw[3], float64(t.y1))
			out = append(out, tileDet{
				Detection: facenet.Detection{X: x0, Y: y0, W: max(0, x1-x0), H: max(0, y1-y0), Raw: raw, Score: d.Score},
				cut:       cutByTile(raw, t, h, w, margin),
			})
		}
	}
	return out, nil
}

// cutByTile reports whether box b (x, y, w, h) comes within margin of an
// edge of t that lies inside the h×w photo. Edges on the photo's border
// do not cut: nothing lies beyond them for another tile to see.
func cutByTile(b [4]float64, t tile, h, w int, margin float64) bool {
	return (t.x0 > 0 && b[0] < float64(t.x0)+margin) ||
		(t.y0 > 0 && b[1] < float64(t.y0)+margin) ||
		(t.x1 < w && b[0]+b[2] > float64(t.x1)-margin) ||
		(t.y1 < h && b[1]+b[3] > float64(t.y1)-margin)
}

// mergeTiles merges the whole-image pass's detections of a photo of long
// side long with the tiles' into one list, best score first (ties in
// input order: whole pass first, then tile by tile), as one pass would
// give them:
//
//  1. each pass keeps the face sizes it answers for (geometric side):
//     the whole pass from wholeMin, the tiles up to reach. Below wholeMin
//     the whole pass also places boxes a net pixel or two off, 5–20 photo
//     pixels in a photo of 2500–4000 px, which would leave a second,
//     misplaced box beside the tile's;
//  2. a cut tile box is dropped when an uncut box covers coverFrac of it
//     and scores at least as high, or above minConfidence (a face in its
//     own right): the whole face was seen elsewhere. A cut box that no
//     uncut one covers is kept: it is all there is of that face;
//  3. the rest go through non-max suppression: a box is the same face as
//     a better kept one when they overlap by IoU > mergeIoU or its centre
//     lies inside the kept box (pigo's suppress uses the same rule): the
//     boxes one face gets from passes at different scales differ more
//     than within one pass, and a box nested in a face is no other face.
//
// A box is only ever removed by one that scores at least as high or above
// minConfidence, so, as in a single pass, the near misses kept below
// minConfidence change nothing above it.
func mergeTiles(whole []facenet.Detection, tiled []tileDet, long int, minConfidence float32) []facenet.Detection {
	side := func(d facenet.Detection) float64 { return math.Sqrt(max(d.Raw[2], 0) * max(d.Raw[3], 0)) }
	var all []tileDet
	for _, d := range whole {
		if side(d) >= wholeMin(long) {
			all = append(all, tileDet{Detection: d})
		}
	}
	for _, d := range tiled {
		if side(d.Detection) <= reach(long) {
			all = append(all, d)
		}
	}
	var left []tileDet
	for _, d := range all {
		if !d.cut || !coveredByUncut(d, all, minConfidence) {
			left = append(left, d)
		}
	}
	sort.SliceStable(left, func(i, j int) bool { return left[i].Score > left[j].Score })
	var kept []facenet.Detection
	for _, d := range left {
		dup := false
		for _, k := range kept {
			if rawIoU(d.Raw, k.Raw) > mergeIoU || centreInside(d.Raw, k.Raw) {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, d.Detection)
		}
	}
	return kept
}

// coveredByUncut reports whether an uncut box holds coverFrac of c's box
// and scores at least as high as c or above minConfidence.
func coveredByUncut(c tileDet, dets []tileDet, minConfidence float32) bool {
	for _, d := range dets {
		if !d.cut && (d.Score >= c.Score || d.Score > minConfidence) && covers(d.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// covers reports whether box a holds coverFrac of box b's area; a box of
// no area is covered by anything.
func covers(a, b [4]float64) bool {
	return intersection(a, b) >= coverFrac*max(b[2], 0)*max(b[3], 0)
}

// centreInside reports whether the centre of box a lies inside box b.
func centreInside(a, b [4]float64) bool {
	cx, cy := a[0]+a[2]/2, a[1]+a[3]/2
	return cx >= b[0] && cx <= b[0]+b[2] && cy >= b[1] && cy <= b[1]+b[3]
}

func intersection(a, b [4]float64) float64 {
	w := min(a[0]+a[2], b[0]+b[2]) - max(a[0], b[0])
	h := min(a[1]+a[3], b[1]+b[3]) - max(a[1], b[1])
	return max(w, 0) * max(h, 0)
}

// rawIoU is the IoU of two x, y, w, h boxes; a box of no area overlaps
// nothing.
func rawIoU(a, b [4]float64) float64 {
	areaA, areaB := a[2]*a[3], b[2]*b[3]
	if a[2] <= 0 || a[3] <= 0 || b[2] <= 0 || b[3] <= 0 {
		return 0
	}
	inter := intersection(a, b)
	return inter / (areaA + areaB - inter)
}

// cropImage copies tile t out of img [H,W,3].
func cropImage(img *tensor.Tensor, t tile) *tensor.Tensor {
	w := img.Shape[1]
	tw := t.x1 - t.x0
	out := tensor.New(t.y1-t.y0, tw, 3)
	for y := t.y0; y < t.y1; y++ {
		copy(out.Data[(y-t.y0)*tw*3:(y-t.y0+1)*tw*3], img.Data[(y*w+t.x0)*3:(y*w+t.x1)*3])
	}
	return out
}
