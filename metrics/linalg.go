package metrics

import (
	"fmt"
	"math"
)

// Small dense float64 linear algebra for FID-ID and NIQE: sizes are at most
// a few hundred, so clear O(n³) code is fast enough and avoids a dependency.

// meanCov returns the mean and the unbiased (n−1) covariance of the rows of
// x, as numpy.cov(rowvar=False) does.
func meanCov(x [][]float64) (mu []float64, cov [][]float64, err error) {
	n := len(x)
	if n < 2 {
		return nil, nil, fmt.Errorf("metrics: need at least 2 samples for a covariance, got %d", n)
	}
	d := len(x[0])
	mu = make([]float64, d)
	for _, r := range x {
		if len(r) != d {
			return nil, nil, fmt.Errorf("metrics: samples of length %d and %d", d, len(r))
		}
		for j, v := range r {
			mu[j] += v
		}
	}
	for j := range mu {
		mu[j] /= float64(n)
	}
	cov = newMat(d)
	c := make([]float64, d)
	for _, r := range x {
		for j := range r {
			c[j] = r[j] - mu[j]
		}
		for i := 0; i < d; i++ {
			ci, row := c[i], cov[i]
			for j := i; j < d; j++ {
				row[j] += ci * c[j]
			}
		}
	}
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			cov[i][j] /= float64(n - 1)
			cov[j][i] = cov[i][j]
		}
	}
	return mu, cov, nil
}

func newMat(n int) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n)
	}
	return m
}

// matMul returns a·b for square matrices.
func matMul(a, b [][]float64) [][]float64 {
	n := len(a)
	c := newMat(n)
	for i := 0; i < n; i++ {
		for k := 0; k < n; k++ {
			aik := a[i][k]
			if aik == 0 {
				continue
			}
			bk, ci := b[k], c[i]
			for j := 0; j < n; j++ {
				ci[j] += aik * bk[j]
			}
		}
	}
	return c
}

// symEigen returns the eigenvalues and eigenvectors (columns of v) of the
// symmetric matrix a by cyclic Jacobi rotations, which are accurate for
// small eigenvalues too — the near-singular covariances here need that.
func symEigen(a [][]float64) (w []float64, v [][]float64) {
	n := len(a)
	m := newMat(n)
	v = newMat(n)
	for i := range m {
		copy(m[i], a[i])
		v[i][i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		var off, diag float64
		for i := 0; i < n; i++ {
			diag += m[i][i] * m[i][i]
			for j := i + 1; j < n; j++ {
				off += m[i][j] * m[i][j]
			}
		}
		if off <= 1e-30*diag || off == 0 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				if m[p][q] == 0 {
					continue
				}
				rotate(m, v, p, q)
			}
		}
	}
	w = make([]float64, n)
	for i := range w {
		w[i] = m[i][i]
	}
	return w, v
}

// rotate applies the Jacobi rotation that zeroes m[p][q].
func rotate(m, v [][]float64, p, q int) {
	theta := (m[q][q] - m[p][p]) / (2 * m[p][q])
	t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
	if theta < 0 {
		t = -t
	}
	c := 1 / math.Sqrt(t*t+1)
	s := t * c
	n := len(m)
	for k := 0; k < n; k++ {
		mkp, mkq := m[k][p], m[k][q]
		m[k][p] = c*mkp - s*mkq
		m[k][q] = s*mkp + c*mkq
	}
	for k := 0; k < n; k++ {
		mpk, mqk := m[p][k], m[q][k]
		m[p][k] = c*mpk - s*mqk
		m[q][k] = s*mpk + c*mqk
	}
	for k := 0; k < n; k++ {
		vkp, vkq := v[k][p], v[k][q]
		v[k][p] = c*vkp - s*vkq
		v[k][q] = s*vkp + c*vkq
	}
}

// symFunc returns V·diag(f(w))·Vᵀ for the eigen-decomposition of the
// symmetric matrix a: its square root, pseudo-inverse and so on.
func symFunc(a [][]float64, f func(float64) float64) [][]float64 {
	w, v := symEigen(a)
	return fromEigen(w, v, f)
}

// fromEigen is V·diag(f(w))·Vᵀ.
func fromEigen(w []float64, v [][]float64, f func(float64) float64) [][]float64 {
	n := len(w)
	fw := make([]float64, n)
	for i := range w {
		fw[i] = f(w[i])
	}
	out := newMat(n)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			var s float64
			for k := 0; k < n; k++ {
				s += v[i][k] * fw[k] * v[j][k]
			}
			out[i][j], out[j][i] = s, s
		}
	}
	return out
}

// pinvSym is the Moore–Penrose pseudo-inverse of a symmetric matrix, with
// numpy.linalg.pinv's cut-off: eigenvalues under 1e-15·max|λ| count as zero.
func pinvSym(a [][]float64) [][]float64 {
	w, v := symEigen(a)
	var big float64
	for _, x := range w {
		big = math.Max(big, math.Abs(x))
	}
	cut := 1e-15 * big
	return fromEigen(w, v, func(x float64) float64 {
		if math.Abs(x) <= cut {
			return 0
		}
		return 1 / x
	})
}
