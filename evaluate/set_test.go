package evaluate

import (
	"errors"
	"maps"
	"math"
	"testing"

	"facereward/tensor"
)

// dimmed returns img times f.
func dimmed(img *tensor.Tensor, f float32) *tensor.Tensor {
	out := img.Clone()
	for i := range out.Data {
		out.Data[i] *= f
	}
	return out
}

// A pool of two workers gives each item the scores one worker gives, in
// item order; an item that cannot be loaded is reported and left out of
// the means, which are those of the items scored.
func TestPoolScoresInItemOrder(t *testing.T) {
	ids := []string{"04801", "04850", "04801"}
	gts := make([]*tensor.Tensor, len(ids))
	for i, id := range ids {
		gts[i] = face(t, id)
	}
	broken := errors.New("cannot read")
	load := func(i int) (Item, error) {
		if i == 1 {
			return Item{Name: "broken"}, broken
		}
		return Item{Name: ids[i], Pred: dimmed(gts[i], 0.9+0.02*float32(i)), GT: gts[i]}, nil
	}
	var sets [][]Image
	for _, workers := range []int{1, 2} {
		p, err := NewPool(workers, 0)
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		sets = append(sets, p.Score(len(ids), load, func() { calls++ }))
		if calls != len(ids) {
			t.Errorf("%d workers: done called %d times", workers, calls)
		}
	}
	one, two := sets[0], sets[1]
	for i := range one {
		if one[i].Name != two[i].Name || !maps.Equal(one[i].Values, two[i].Values) {
			t.Errorf("image %d: 1 worker %v, 2 workers %v", i, one[i], two[i])
		}
	}
	if b := one[1]; !errors.Is(b.Err, broken) || len(b.Values) != 0 || len(b.Problems) != 1 || b.Problems[0] != "cannot read" {
		t.Errorf("broken item %+v", b)
	}
	if one[0].Desc[0] == nil || one[0].Desc[1] == nil {
		t.Error("no identity descriptors")
	}
	mean, n := Means(one)
	if want := (one[0].Values[PSNR] + one[2].Values[PSNR]) / 2; n[PSNR] != 2 || mean[PSNR] != want {
		t.Errorf("PSNR mean %v over %d, want %v over 2", mean[PSNR], n[PSNR], want)
	}
}

// A dev-val pass restores in batches, returns the restorations in order
// and averages what Pair gives each face; its grid rows are LQ | out | GT.
func TestDevSetScore(t *testing.T) {
	ds := &DevSet{Names: []string{"a", "b", "c"}}
	for _, id := range []string{"04801", "04850", "04801"} {
		gt := face(t, id)
		ds.GT, ds.LQ = append(ds.GT, gt), append(ds.LQ, dimmed(gt, 0.9))
	}
	p, err := NewPool(2, 0)
	if err != nil {
		t.Fatal(err)
	}
	var batches []int
	sc, outs, err := ds.Score(p, 2, func(lq *tensor.Tensor) (*tensor.Tensor, error) {
		batches = append(batches, lq.Shape[0])
		return lq, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 2 || batches[0] != 2 || batches[1] != 1 || len(outs) != 3 {
		t.Fatalf("batches %v, %d restorations", batches, len(outs))
	}
	s, err := NewScorer()
	if err != nil {
		t.Fatal(err)
	}
	var psnr, ids float64
	for i, out := range outs {
		if !tensor.SameShape(out.Shape, ds.GT[i].Shape) {
			t.Fatalf("restoration %d is %v", i, out.Shape)
		}
		r, err := s.Pair(out, ds.GT[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		psnr += r.Values[PSNR]
		ids += r.Values[IDS]
	}
	if sc.PSNR != psnr/3 || sc.IDS != ids/3 || sc.LMDCount != 3 || math.IsNaN(sc.BRISQUE) {
		t.Errorf("scores %+v, want PSNR %v, IDS %v over 3 faces", sc, psnr/3, ids/3)
	}

	if rows := ds.Rows(outs); len(rows) != 3 || len(rows[1]) != 3 || rows[1][0] != ds.LQ[1] || rows[1][1] != outs[1] || rows[1][2] != ds.GT[1] {
		t.Errorf("grid rows %v", rows)
	}

	failing := &DevSet{Names: []string{"small"}, LQ: ds.LQ[:1], GT: []*tensor.Tensor{tensor.New(64, 64, 3)}}
	if _, _, err := failing.Score(p, 8, func(lq *tensor.Tensor) (*tensor.Tensor, error) { return lq, nil }); err == nil {
		t.Error("a restoration of another size than its ground truth was scored")
	}
}
