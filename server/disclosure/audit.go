package disclosure

import (
	"math"
	"sort"
)

// Interval is the set of integer values a reader can prove a quantity may take, given
// everything published and every published relation: [Min, Max], or [Min, ∞) when
// Unbounded.
type Interval struct {
	Min, Max  int
	Unbounded bool
}

// Width is Max−Min, or math.MaxInt when the interval is unbounded.
func (iv Interval) Width() int {
	if iv.Unbounded {
		return math.MaxInt
	}
	return iv.Max - iv.Min
}

// Exposure reasons.
const (
	// ReasonNarrow: the suppressed quantity's feasible interval is too narrow
	// (cell: width < MinCell; nhs: a single value).
	ReasonNarrow = "narrow"
	// ReasonSingleton (cell only): a line (a Sum: its total and parts) has exactly two
	// suppressed members and one of them is a true 1; the person counted in that 1
	// knows their own count and can work the other one back. Index is the other one.
	ReasonSingleton = "singleton"
)

// Exposure is a suppressed quantity that is not protected.
type Exposure struct {
	Index  int
	Label  string
	Range  Interval // what a reader can deduce: exact for ReasonNarrow; for ReasonSingleton possibly a sub-interval at least MinCell wide
	Reason string   // ReasonNarrow or ReasonSingleton
	Line   int      // ReasonSingleton: index into Problem.Sums; otherwise −1
}

// Audit checks a publication of prob under policy p exactly: for every suppressed
// quantity it computes, by linear programming over the published relations, the
// interval of values consistent with everything published (see Ranges), and reports
// each suppressed quantity that is not protected:
//
//   - cell: an interval narrower than MinCell (Max−Min < MinCell), or the singleton
//     rule (ReasonSingleton);
//   - nhs: an interval of a single value (the exact count can be worked back).
//
// The true counts in prob are used only for the singleton rule; the intervals use only
// what a reader sees. Exposures are ordered by Index, then Reason.
func Audit(p Policy, prob Problem, published []Published) ([]Exposure, error) {
	p, err := checkInputs(p, prob, published)
	if err != nil {
		return nil, err
	}
	return audit(p, prob, published)
}

// checkInputs normalises the policy and checks the problem and a publication of it.
func checkInputs(p Policy, prob Problem, published []Published) (Policy, error) {
	p, err := p.normalize()
	if err != nil {
		return p, err
	}
	if err := prob.validate(); err != nil {
		return p, err
	}
	return p, checkPublished(prob, published)
}

// Ranges returns, for every quantity, the interval a reader can deduce from published
// under policy p: what the policy says about each shown or suppressed value, tightened
// by every relation in prob (an exact LP bound per quantity, rounded inwards to whole
// numbers). A reader of p's output knows:
//
//   - cell: a shown value exactly; a suppressed one is ≥ 1 (zero is never suppressed);
//   - nhs: a shown 0 exactly; a shown r > 0 is in [max(r−2, 8), r+2]; a suppressed one
//     is in [1, 7].
//
// It fails with invalid_problem if published is not a possible output for prob.
func Ranges(p Policy, prob Problem, published []Published) ([]Interval, error) {
	p, err := checkInputs(p, prob, published)
	if err != nil {
		return nil, err
	}
	all := make([]bool, len(published))
	for i := range all {
		all[i] = true
	}
	return ranges(p, prob, published, all, 0)
}

func checkPublished(prob Problem, published []Published) error {
	if len(published) != len(prob.Values) {
		return problemErr("%d published values for %d quantities", len(published), len(prob.Values))
	}
	for i, pb := range published {
		if pb.Suppressed != (pb.Value == nil) {
			return problemErr("published %s: Value must be nil exactly when Suppressed", prob.label(i))
		}
		if pb.Value != nil && *pb.Value < 0 {
			return problemErr("published %s is negative", prob.label(i))
		}
	}
	return nil
}

func audit(p Policy, prob Problem, published []Published) ([]Exposure, error) {
	targets := make([]bool, len(published))
	for i, pb := range published {
		targets[i] = pb.Suppressed
	}
	iv, err := ranges(p, prob, published, targets, safeWidth(p))
	if err != nil {
		return nil, err
	}
	var out []Exposure
	for i, pb := range published {
		if !pb.Suppressed {
			continue
		}
		if iv[i].Width() < safeWidth(p) {
			out = append(out, Exposure{Index: i, Label: prob.label(i), Range: iv[i], Reason: ReasonNarrow, Line: -1})
		}
	}
	if p.Name == PolicyCell {
		out = append(out, singletons(prob, published, iv)...)
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Index != out[b].Index {
			return out[a].Index < out[b].Index
		}
		return out[a].Reason < out[b].Reason
	})
	return out, nil
}

// singletons applies the singleton rule: in a line with exactly two suppressed members,
// one of which is a true 1, the person in that 1 can work back the other. A line whose
// other members are all zero is exempt: there the two suppressed members are a cell and
// its own total, equal by construction, so the other one tells the insider nothing
// about anyone else (and zeros are never suppressed, so nothing more could be hidden).
func singletons(prob Problem, published []Published, iv []Interval) []Exposure {
	var out []Exposure
	seen := make(map[int]bool)
	for si, s := range prob.Sums {
		var hid []int
		others := 0
		for _, q := range members(s) {
			if published[q].Suppressed {
				hid = append(hid, q)
			} else if *published[q].Value != 0 {
				others++
			}
		}
		if len(hid) != 2 || others == 0 {
			continue
		}
		for k, q := range hid {
			other := hid[1-k]
			if prob.Values[q] == 1 && !seen[other] {
				seen[other] = true
				out = append(out, Exposure{Index: other, Label: prob.label(other), Range: iv[other], Reason: ReasonSingleton, Line: si})
			}
		}
	}
	return out
}

func members(s Sum) []int {
	return append([]int{s.Total}, s.Parts...)
}

// safeWidth is the smallest interval width at which a suppressed quantity counts as
// protected: MinCell under cell; under nhs, 1 (anything but an exact value).
func safeWidth(p Policy) int {
	if p.Name == PolicyNHS {
		return 1
	}
	return p.MinCell
}

// readerBounds is what a reader knows about each quantity before using relations.
func readerBounds(p Policy, published []Published) (lo, hi []int, inf []bool) {
	n := len(published)
	lo, hi, inf = make([]int, n), make([]int, n), make([]bool, n)
	for i, pb := range published {
		switch {
		case !pb.Suppressed && p.Name == PolicyNHS && *pb.Value > 0:
			lo[i] = max(*pb.Value-NHSBase/2, NHSMinShown)
			hi[i] = *pb.Value + NHSBase/2
		case !pb.Suppressed:
			lo[i], hi[i] = *pb.Value, *pb.Value
		case p.Name == PolicyNHS:
			lo[i], hi[i] = 1, NHSMinShown-1
		default:
			lo[i], inf[i] = 1, true
		}
	}
	return lo, hi, inf
}

// ranges computes the reader's interval for every quantity with targets[i] set (others
// get their prior bounds), one exact LP per bound, per connected component of unknowns.
//
// With enough > 0 only widths below enough need to be exact: every vertex the simplex
// visits is a feasible point, and once the points seen so far already spread a target
// over enough values its LPs are skipped and the spread seen is returned (a
// sub-interval of the true one, at least enough wide). Targets narrower than enough
// always get their exact interval.
func ranges(p Policy, prob Problem, published []Published, targets []bool, enough int) ([]Interval, error) {
	lo, hi, inf := readerBounds(p, published)
	n := len(published)
	out := make([]Interval, n)
	isVar := make([]bool, n)
	for i := range n {
		out[i] = Interval{Min: lo[i], Max: hi[i], Unbounded: inf[i]}
		isVar[i] = inf[i] || hi[i] > lo[i]
	}

	// Union the unknowns that share a relation; check relations without unknowns.
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for si, s := range prob.Sums {
		first := -1
		for _, q := range members(s) {
			if !isVar[q] {
				continue
			}
			if first < 0 {
				first = q
			} else {
				parent[find(q)] = find(first)
			}
		}
		if first < 0 {
			sum := 0
			for _, q := range s.Parts {
				sum += lo[q]
			}
			if sum != lo[s.Total] {
				return nil, problemErr("published values contradict sum %d (%s)", si, prob.label(s.Total))
			}
		}
	}
	comps := make(map[int][]int) // root → variables in index order
	var roots []int
	for i := range n {
		if !isVar[i] {
			continue
		}
		r := find(i)
		if _, ok := comps[r]; !ok {
			roots = append(roots, r)
		}
		comps[r] = append(comps[r], i)
	}
	sumsOf := make(map[int][]int) // root → sums touching the component
	for si, s := range prob.Sums {
		for _, q := range members(s) {
			if isVar[q] {
				r := find(q)
				sumsOf[r] = append(sumsOf[r], si)
				break
			}
		}
	}

	for _, root := range roots {
		vars := comps[root]
		need := false
		for _, v := range vars {
			need = need || targets[v]
		}
		if !need || len(sumsOf[root]) == 0 {
			continue // no relation touches it: prior bounds are exact
		}
		col := make(map[int]int, len(vars))
		for k, v := range vars {
			col[v] = k
		}
		// Columns: z_v = x_v − lo_v ≥ 0 for each variable, then one slack per
		// variable with a finite upper bound.
		nv := len(vars)
		slack := make([]int, nv)
		ncols := nv
		for k, v := range vars {
			slack[k] = -1
			if !inf[v] {
				slack[k] = ncols
				ncols++
			}
		}
		var A [][]float64
		var b []float64
		var hint []int
		for _, si := range sumsOf[root] {
			s := prob.Sums[si]
			row := make([]float64, ncols)
			rhs := 0.0
			add := func(q int, coef float64) {
				if isVar[q] {
					row[col[q]] += coef
				}
				rhs -= coef * float64(lo[q])
			}
			add(s.Total, 1)
			for _, q := range s.Parts {
				add(q, -1)
			}
			A, b, hint = append(A, row), append(b, rhs), append(hint, -1)
		}
		for k, v := range vars {
			if slack[k] < 0 {
				continue
			}
			row := make([]float64, ncols)
			row[k], row[slack[k]] = 1, 1
			A, b, hint = append(A, row), append(b, float64(hi[v]-lo[v])), append(hint, slack[k])
		}
		t, err := newTableau(A, b, ncols, hint)
		if err != nil {
			return nil, problemErr("published values are inconsistent with the relations: %v", err)
		}
		var seenLo, seenHi []float64
		if enough > 0 {
			seenLo, seenHi = make([]float64, nv), make([]float64, nv)
			for k := range nv {
				seenLo[k], seenHi[k] = math.Inf(1), math.Inf(-1)
			}
			t.observe = func(x []float64) {
				for k := range nv {
					seenLo[k], seenHi[k] = min(seenLo[k], x[k]), max(seenHi[k], x[k])
				}
			}
			t.observe(t.point())
		}
		for k, v := range vars {
			if !targets[v] {
				continue
			}
			if enough > 0 && seenHi[k]-seenLo[k] >= float64(enough)-1e-6 {
				out[v] = Interval{Min: lo[v] + int(math.Ceil(seenLo[k]-1e-6)), Max: lo[v] + int(math.Floor(seenHi[k]+1e-6))}
				continue
			}
			zl, zh, unb, err := t.bounds(k)
			if err != nil {
				return nil, problemErr("audit: %v", err)
			}
			iv := Interval{Min: lo[v] + int(math.Ceil(zl-1e-6))}
			if unb {
				iv.Unbounded = true
			} else {
				iv.Max = lo[v] + int(math.Floor(zh+1e-6))
			}
			out[v] = iv
		}
	}
	return out, nil
}
