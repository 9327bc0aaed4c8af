package disclosure

import "sort"

// cellSuppress returns which quantities the cell policy suppresses: primary suppression
// of counts 1..MinCell−1, then secondary suppression, one quantity at a time, until the
// audit finds no exposure, then a clean-up pass.
//
// Each round takes the first exposure (lowest index). For a singleton exposure it
// suppresses the best candidate in that line. Otherwise it tries every candidate in the
// exposed quantity's lines (Sums), computing the exposed quantity's interval with the
// candidate suppressed too, and takes the one that protects it on its own, or failing
// that widens it most; ties go to cells (quantities that are not the total of any Sum)
// before totals, then the smallest count, then the lowest index. If no candidate in
// those lines helps, it looks at lines further away through suppressed quantities, and
// finally at any published non-zero quantity. Candidates are published non-zero
// quantities: zeros are never suppressed.
//
// It always terminates (each round suppresses one more quantity) and ends with no
// exposure: once every non-zero quantity is suppressed, scaling the true counts shows
// every one of them is unbounded above, and the singleton rule cannot fire.
//
// The clean-up pass then tries to publish each secondary suppression again (totals
// first, then the largest) and keeps it published if the audit stays clean.
//
// With Options, the first len(o.Fixed) quantities are published as given and never
// chosen, implied quantities are hidden and never chosen, exposures of implied
// quantities don't count (they are not published), and an exposure no candidate can
// cure (only fixed quantities could) is left as it is.
func cellSuppress(p Policy, prob Problem, o Options) ([]bool, error) {
	n := len(prob.Values)
	supp := make([]bool, n)
	implied := func(q int) bool { return q < len(o.Implied) && o.Implied[q] }
	fixed := func(q int) bool { return q < len(o.Fixed) }
	for i, v := range prob.Values {
		switch {
		case fixed(i):
			supp[i] = o.Fixed[i].Suppressed
		case implied(i):
			supp[i] = v > 0
		default:
			supp[i] = v >= 1 && v < p.MinCell
		}
	}
	isTotal := make([]bool, n)
	linesOf := make([][]int, n)
	for si, s := range prob.Sums {
		isTotal[s.Total] = true
		for _, q := range members(s) {
			linesOf[q] = append(linesOf[q], si)
		}
	}
	pub := make([]Published, n)
	render := func() {
		for i, v := range prob.Values {
			switch {
			case fixed(i):
				pub[i] = o.Fixed[i]
			case supp[i]:
				pub[i] = hidden
			default:
				pub[i] = shown(v)
			}
		}
	}
	candidate := func(q int) bool { return !supp[q] && prob.Values[q] > 0 && !fixed(q) && !implied(q) }
	exposures := func() ([]Exposure, error) {
		exps, err := audit(p, prob, pub)
		if err != nil {
			return nil, err
		}
		kept := exps[:0]
		for _, e := range exps {
			if !implied(e.Index) {
				kept = append(kept, e)
			}
		}
		return kept, nil
	}
	better := func(a, b int) bool { // is a a better secondary choice than b?
		if b < 0 {
			return true
		}
		if isTotal[a] != isTotal[b] {
			return !isTotal[a]
		}
		if prob.Values[a] != prob.Values[b] {
			return prob.Values[a] < prob.Values[b]
		}
		return a < b
	}
	bestIn := func(lines []int) int {
		best := -1
		for _, si := range lines {
			for _, q := range members(prob.Sums[si]) {
				if candidate(q) && better(q, best) {
					best = q
				}
			}
		}
		return best
	}
	// widthIf is the width of q's interval if c were suppressed too.
	targets := make([]bool, n)
	widthIf := func(q, c int) (int, error) {
		supp[c] = true
		render()
		supp[c] = false
		targets[q] = true
		iv, err := ranges(p, prob, pub, targets, safeWidth(p))
		targets[q] = false
		if err != nil {
			return 0, err
		}
		return iv[q].Width(), nil
	}
	choose := func(e Exposure) (int, error) {
		if e.Reason == ReasonSingleton {
			if c := bestIn([]int{e.Line}); c >= 0 {
				return c, nil
			}
		}
		// Among the candidates in q's lines, the best-ranked one that protects q on its
		// own; else the one that widens q's interval most (ties by rank).
		var cands []int
		seen := make(map[int]bool)
		for _, si := range linesOf[e.Index] {
			for _, c := range members(prob.Sums[si]) {
				if candidate(c) && !seen[c] {
					seen[c] = true
					cands = append(cands, c)
				}
			}
		}
		sort.Slice(cands, func(a, b int) bool { return better(cands[a], cands[b]) })
		pick, pickW := -1, -1
		for _, c := range cands {
			w, err := widthIf(e.Index, c)
			if err != nil {
				return -1, err
			}
			if w >= p.MinCell {
				return c, nil
			}
			if w > e.Range.Width() && w > pickW {
				pick, pickW = c, w
			}
		}
		if pick >= 0 {
			return pick, nil
		}
		// Widen: lines reachable through suppressed quantities, nearest first.
		seenQ := map[int]bool{e.Index: true}
		seenL := make(map[int]bool)
		frontier := []int{e.Index}
		for len(frontier) > 0 {
			var lines, next []int
			for _, q := range frontier {
				for _, si := range linesOf[q] {
					if !seenL[si] {
						seenL[si] = true
						lines = append(lines, si)
					}
				}
			}
			if c := bestIn(lines); c >= 0 {
				return c, nil
			}
			for _, si := range lines {
				for _, q := range members(prob.Sums[si]) {
					if supp[q] && !seenQ[q] {
						seenQ[q] = true
						next = append(next, q)
					}
				}
			}
			frontier = next
		}
		// Last resort, which guarantees an end when nothing is fixed: any candidate. With
		// fixed quantities an exposure may be beyond any candidate's reach; hiding
		// unrelated counts wouldn't cure it, so it is left.
		best := -1
		if len(o.Fixed) == 0 {
			for q := range n {
				if candidate(q) && better(q, best) {
					best = q
				}
			}
		}
		return best, nil
	}
	for {
		render()
		exps, err := exposures()
		if err != nil {
			return nil, err
		}
		added := false
		for _, e := range exps {
			c, err := choose(e)
			if err != nil {
				return nil, err
			}
			if c >= 0 {
				supp[c] = true
				added = true
				break
			}
		}
		if !added {
			break // no exposure left (or nothing left to suppress)
		}
	}
	// Greedy choices can turn out unnecessary once later ones are made: try publishing
	// each secondary suppression again, totals first, then largest count first, and
	// keep it published if the audit stays clean.
	var second []int
	for i, v := range prob.Values {
		if supp[i] && v >= p.MinCell && !fixed(i) && !implied(i) {
			second = append(second, i)
		}
	}
	sort.SliceStable(second, func(a, b int) bool {
		qa, qb := second[a], second[b]
		if isTotal[qa] != isTotal[qb] {
			return isTotal[qa]
		}
		return prob.Values[qa] > prob.Values[qb]
	})
	render()
	left, err := exposures() // only fixed quantities could cure these
	if err != nil {
		return nil, err
	}
	for _, q := range second {
		supp[q] = false
		render()
		exps, err := exposures()
		if err != nil {
			return nil, err
		}
		if len(exps) > len(left) {
			supp[q] = true
		}
	}
	return supp, nil
}
