package disclosure

import (
	"errors"
	"math"
)

// A small dense primal simplex for
//
//	minimise/maximise z_j  subject to  A z = b,  z ≥ 0
//
// used by the audit. Every constraint matrix the audit builds has coefficients in
// {−1, 0, 1}; for the tables this package builds it is totally unimodular (see
// docs/DISCLOSURE.md), so basis inverses are integral and float64 arithmetic on
// integer data far below 2^53 is exact up to the tolerance below. Optima are rounded
// inwards to integers (ceil of a minimum, floor of a maximum), which is always valid
// for integer-valued quantities.

const lpEps = 1e-9

var errInfeasible = errors.New("infeasible")

type tableau struct {
	m, n  int         // constraint rows; structural columns (artificials excluded)
	a     [][]float64 // m rows of n+1 entries (last: right-hand side)
	obj   []float64   // f(z) = Σ obj[k] z_k − obj[n]
	basis []int       // basic column of each row
	// observe, if set, is called with the basic solution at every optimum (bounds).
	observe func(x []float64)
	nz      []int // scratch: non-zero columns of the pivot row
}

// point is the current basic feasible solution.
func (t *tableau) point() []float64 {
	x := make([]float64, t.n)
	for r, bc := range t.basis {
		if bc < t.n {
			x[bc] = t.a[r][t.n]
		}
	}
	return x
}

// newTableau finds a basic feasible solution of A z = b, z ≥ 0 (phase 1).
// hint[r], if ≥ 0, is a column that is a unit column with +1 in row r (a slack) and can
// start in the basis when b[r] ≥ 0; other rows get artificials. A is not modified.
func newTableau(A [][]float64, b []float64, n int, hint []int) (*tableau, error) {
	m := len(A)
	// columns: 0..n−1 structural, n..n+m−1 artificials (only some used), then rhs.
	w := n + m
	t := &tableau{m: m, n: w, a: make([][]float64, m), basis: make([]int, m)}
	var arts []int
	for r := range m {
		row := make([]float64, w+1)
		sign := 1.0
		if b[r] < 0 {
			sign = -1
		}
		for k := range n {
			row[k] = sign * A[r][k]
		}
		row[w] = sign * b[r]
		if hint != nil && hint[r] >= 0 && sign > 0 {
			t.basis[r] = hint[r]
		} else {
			row[n+r] = 1
			t.basis[r] = n + r
			arts = append(arts, r)
		}
		t.a[r] = row
	}
	if len(arts) > 0 {
		t.obj = make([]float64, w+1)
		for _, r := range arts {
			t.obj[n+r] = 1
		}
		t.priceOut()
		// Only structural columns and artificials may enter; unused artificial columns
		// are all zero and never improve the objective.
		if _, err := t.solve(); err != nil {
			return nil, err
		}
		if -t.obj[w] > 1e-7*(1+rhsScale(t)) {
			return nil, errInfeasible
		}
		// Drive remaining artificials out of the basis; drop redundant rows.
		for r := 0; r < len(t.a); r++ {
			if t.basis[r] < n {
				continue
			}
			piv := -1
			for k := range n {
				if math.Abs(t.a[r][k]) > lpEps {
					piv = k
					break
				}
			}
			if piv >= 0 {
				t.pivot(r, piv)
				continue
			}
			t.a = append(t.a[:r], t.a[r+1:]...)
			t.basis = append(t.basis[:r], t.basis[r+1:]...)
			r--
		}
	}
	// Drop the artificial columns.
	for r, row := range t.a {
		nr := make([]float64, n+1)
		copy(nr, row[:n])
		nr[n] = row[w]
		t.a[r] = nr
	}
	t.m, t.n = len(t.a), n
	t.obj = nil
	return t, nil
}

func rhsScale(t *tableau) float64 {
	s := 0.0
	for _, row := range t.a {
		s = math.Max(s, math.Abs(row[len(row)-1]))
	}
	return s
}

// priceOut makes the objective row's coefficients of basic columns zero.
func (t *tableau) priceOut() {
	for r, bc := range t.basis {
		if f := t.obj[bc]; f != 0 {
			row := t.a[r]
			for k := range t.obj {
				t.obj[k] -= f * row[k]
			}
			t.obj[bc] = 0
		}
	}
}

func (t *tableau) pivot(r, c int) {
	pr := t.a[r]
	inv := 1 / pr[c]
	nz := t.nz[:0]
	for k := range pr {
		if pr[k] != 0 {
			pr[k] *= inv
			nz = append(nz, k)
		}
	}
	t.nz = nz
	pr[c] = 1
	elim := func(row []float64) {
		f := row[c]
		if f == 0 {
			return
		}
		for _, k := range nz {
			v := row[k] - f*pr[k]
			if v < lpEps && v > -lpEps {
				v = 0
			}
			row[k] = v
		}
		row[c] = 0
	}
	for i, row := range t.a {
		if i != r {
			elim(row)
		}
	}
	if t.obj != nil {
		elim(t.obj)
	}
	t.basis[r] = c
}

// solve minimises the current objective from the current feasible basis. It reports
// unbounded=true if the objective decreases without limit.
func (t *tableau) solve() (unbounded bool, err error) {
	w := len(t.obj) - 1
	limit := 50 * (len(t.a) + w + 10)
	for iter := 0; ; iter++ {
		if iter > 1000*(len(t.a)+w+10) {
			return false, errors.New("simplex did not terminate")
		}
		bland := iter > limit // Bland's rule after many pivots: guarantees termination
		c := -1
		best := -lpEps
		for k := range w {
			if d := t.obj[k]; d < best {
				c = k
				if bland {
					break
				}
				best = d
			}
		}
		if c < 0 {
			return false, nil
		}
		r := -1
		var ratio float64
		for i, row := range t.a {
			if row[c] > lpEps {
				q := math.Max(row[w], 0) / row[c]
				if r < 0 || q < ratio-lpEps || (q <= ratio+lpEps && t.basis[i] < t.basis[r]) {
					r, ratio = i, q
				}
			}
		}
		if r < 0 {
			return true, nil
		}
		t.pivot(r, c)
	}
}

// bounds returns min and max of column j over the feasible region; unbounded reports
// that the maximum is infinite. The tableau stays feasible between calls (warm start).
func (t *tableau) bounds(j int) (lo, hi float64, unbounded bool, err error) {
	t.obj = make([]float64, t.n+1)
	t.obj[j] = 1
	t.priceOut()
	if _, err = t.solve(); err != nil {
		return
	}
	lo = -t.obj[t.n]
	if t.observe != nil {
		t.observe(t.point())
	}
	t.obj = make([]float64, t.n+1)
	t.obj[j] = -1
	t.priceOut()
	var ub bool
	if ub, err = t.solve(); err != nil {
		return
	}
	if ub {
		return lo, math.Inf(1), true, nil
	}
	hi = t.obj[t.n]
	if t.observe != nil {
		t.observe(t.point())
	}
	return lo, hi, false, nil
}
