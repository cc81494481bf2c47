package tensor

import (
	"math/rand/v2"
	"testing"
)

// winogradInRef and winogradOutRef are the tile transforms written out
// sum by sum, in the order VecWinogradInput and VecWinogradOutput document.
func winogradInRef(d [16]float32) (o [16]float32) {
	var t [16]float32
	for c := range 4 {
		t[c], t[4+c], t[8+c], t[12+c] = d[c]-d[8+c], d[4+c]+d[8+c], d[8+c]-d[4+c], d[4+c]-d[12+c]
	}
	for r := range 4 {
		o[4*r], o[4*r+1], o[4*r+2], o[4*r+3] = t[4*r]-t[4*r+2], t[4*r+1]+t[4*r+2], t[4*r+2]-t[4*r+1], t[4*r+1]-t[4*r+3]
	}
	return o
}

func winogradOutRef(m [16]float32, bias float32) (y [4]float32) {
	var e [8]float32
	for c := range 4 {
		s := m[c] + m[4+c]
		e[c] = s + m[8+c]
		s = m[4+c] - m[8+c]
		e[4+c] = s - m[12+c]
	}
	e[1] += bias
	e[5] += bias
	for r := range 2 {
		s := e[4*r] + e[4*r+1]
		y[2*r] = s + e[4*r+2]
		s = e[4*r+1] - e[4*r+2]
		y[2*r+1] = s - e[4*r+3]
	}
	return y
}

// Every path gives exactly the reference's float32 sums, for every length
// (vector bodies and tails), with and without bias and accumulation.
func TestVecWinogradExact(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * 3)
		}
		return v
	}
	for _, v := range vecImpls {
		for _, n := range append([]int{8, 9, 48, 96, 193}, vecLens...) {
			var d, o, m [16][]float32
			for i := range d {
				d[i], o[i], m[i] = vec(n), vec(n), vec(n)
			}
			v.winogradIn(o, d)
			for k := range n {
				var dk [16]float32
				for i := range dk {
					dk[i] = d[i][k]
				}
				want := winogradInRef(dk)
				for i := range want {
					if o[i][k] != want[i] {
						t.Fatalf("%s/input n=%d: o[%d][%d] = %g, want %g", v.name, n, i, k, o[i][k], want[i])
					}
				}
			}
			bias := vec(n)
			for _, b := range [][]float32{nil, bias} {
				for _, acc := range []bool{false, true} {
					var y [4][]float32
					for i := range y {
						y[i] = vec(n)
					}
					before := [4][]float32{append([]float32(nil), y[0]...), append([]float32(nil), y[1]...), append([]float32(nil), y[2]...), append([]float32(nil), y[3]...)}
					v.winogradOut(y, m, b, acc)
					for k := range n {
						var mk [16]float32
						for i := range mk {
							mk[i] = m[i][k]
						}
						var bk float32
						if b != nil {
							bk = b[k]
						}
						want := winogradOutRef(mk, bk)
						for i := range want {
							if acc {
								want[i] = before[i][k] + want[i]
							}
							if y[i][k] != want[i] {
								t.Fatalf("%s/output n=%d bias %v accumulate %v: y[%d][%d] = %g, want %g", v.name, n, b != nil, acc, i, k, y[i][k], want[i])
							}
						}
					}
				}
			}
		}
	}
}

func TestVecWinogradLengths(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("VecWinogradInput accepted vectors of unequal lengths")
		}
	}()
	var o, d [16][]float32
	for i := range o {
		o[i], d[i] = make([]float32, 8), make([]float32, 8)
	}
	d[15] = d[15][:7]
	VecWinogradInput(&o, &d)
}
