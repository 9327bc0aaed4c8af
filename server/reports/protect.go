package reports

import (
	"sort"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/disclosure"
)

// problem is a disclosure problem under construction, with the quantities that are
// implied but never published (a multi-valued group's "everyone else" in the
// population): the audit treats them as unknowns a reader can reason with, but they are
// not themselves protected and never used to protect others.
type problem struct {
	b        disclosure.Builder
	implicit map[int]bool
}

func newProblem() *problem { return &problem{implicit: map[int]bool{}} }

// hidden adds an implied, unpublished quantity.
func (p *problem) hidden(label string, v int) int {
	i := p.b.Quantity(label, v)
	p.implicit[i] = true
	return i
}

// layout locates one population's quantities in a disclosure problem.
type layout struct {
	total int
	cell  map[string]map[string]int // grouping -> group -> quantity index
}

// addPopulation adds, for measure m, the population's total (a new quantity if total < 0,
// else that existing one, e.g. an engagement's cell in the all-engagements grouping) and
// every grouping in tabs, each with the relations a reader knows:
//
//   - a grouping where every unit is in exactly one group: total = Σ groups;
//   - a multi-valued one (community, language, a participant met at two venues): each
//     group ≤ total, modelled as total = group + others(group), others implied;
//   - ethnicity_group: each group = Σ its Census categories, and prefer_not_to_say and
//     not_recorded are the same quantities as under ethnicity.
func addPopulation(p *problem, name string, m int, tot totals, tabs map[string]*table, total int) layout {
	b := &p.b
	if total < 0 {
		total = b.Quantity(name+"total", tot[m])
	}
	lay := layout{total: total, cell: map[string]map[string]int{}}
	for _, g := range Groupings {
		t := tabs[g]
		if t == nil || len(t.groups) == 0 {
			continue
		}
		idx := map[string]int{}
		lay.cell[g] = idx
		label := name + g + ":"
		if eth := lay.cell[ByEthnicity]; g == ByEthnicityGroup && eth != nil {
			for _, grp := range t.groups {
				if i, ok := eth[grp]; ok && (grp == schema.PreferNotToSay || grp == NotRecorded) {
					idx[grp] = i
					continue
				}
				var parts []int
				for _, cat := range schema.Ethnicities {
					if schema.EthnicGroup(cat) == grp {
						parts = append(parts, eth[cat])
					}
				}
				idx[grp] = b.Quantity(label+grp, t.counts[m][grp])
				b.Sum(idx[grp], parts...)
			}
			continue
		}
		if !t.multi[m] {
			counts := make([]int, len(t.groups))
			for i, grp := range t.groups {
				counts[i] = t.counts[m][grp]
			}
			cells, _ := b.OneWay(label, t.groups, counts, total)
			for i, grp := range t.groups {
				idx[grp] = cells[i]
			}
			continue
		}
		for _, grp := range t.groups {
			n := t.counts[m][grp]
			idx[grp] = b.Quantity(label+grp, n)
			b.Sum(total, idx[grp], p.hidden(label+grp+"/others", tot[m]-n))
		}
	}
	return lay
}

// protect decides a publication of p under pol, keeping the first len(fixed) quantities
// exactly as fixed says (a report this one must agree with published them).
//
// Under nhs every quantity is rounded on its own (disclosure.NHSRound via Protect).
//
// Under cell: primary suppression of counts 1..min_cell−1; implied quantities are
// unknowns to the reader (≥ 1, or a known 0); then, while disclosure.Audit finds a
// published-kind quantity exposed, one more free quantity is suppressed — in the exposed
// quantity's lines first (cells before totals, then the smallest count), then in lines
// reached through suppressed quantities; finally each secondary suppression is tried
// published again (totals first, then largest) and kept published if the audit stays
// clean. An exposure only fixed quantities could cure is left: a hidden theme count in a
// group of fewer than min_cell+2 conversations is always bounded by that group's
// published count (documented).
func protect(pol disclosure.Policy, p *problem, fixed []disclosure.Published) ([]disclosure.Published, error) {
	prob := p.b.Problem()
	if pol.Name != disclosure.PolicyCell {
		pub, err := disclosure.Protect(pol, prob)
		if err != nil {
			return nil, err
		}
		copy(pub, fixed)
		return pub, nil
	}
	n := len(prob.Values)
	pub := make([]disclosure.Published, n)
	show := func(i int) { pub[i] = disclosure.Published{Value: &prob.Values[i]} }
	hide := func(i int) { pub[i] = disclosure.Published{Suppressed: true} }
	for i, v := range prob.Values {
		if (v >= 1 && v < pol.MinCell) || (p.implicit[i] && v > 0) {
			hide(i)
		} else {
			show(i)
		}
	}
	copy(pub, fixed)
	isTotal := make([]bool, n)
	linesOf := make([][]int, n)
	for si, s := range prob.Sums {
		isTotal[s.Total] = true
		linesOf[s.Total] = append(linesOf[s.Total], si)
		for _, q := range s.Parts {
			linesOf[q] = append(linesOf[q], si)
		}
	}
	members := func(si int) []int { return append([]int{prob.Sums[si].Total}, prob.Sums[si].Parts...) }
	free := func(q int) bool { return q >= len(fixed) && !p.implicit[q] && !pub[q].Suppressed && prob.Values[q] > 0 }
	better := func(a, b int) bool {
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
			for _, q := range members(si) {
				if free(q) && better(q, best) {
					best = q
				}
			}
		}
		return best
	}
	choose := func(e disclosure.Exposure) int {
		if e.Reason == disclosure.ReasonSingleton {
			if c := bestIn([]int{e.Line}); c >= 0 {
				return c
			}
		}
		seenQ := map[int]bool{e.Index: true}
		seenL := map[int]bool{}
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
				return c
			}
			for _, si := range lines {
				for _, q := range members(si) {
					if pub[q].Suppressed && !seenQ[q] {
						seenQ[q] = true
						next = append(next, q)
					}
				}
			}
			frontier = next
		}
		return -1
	}
	exposed := func() ([]disclosure.Exposure, error) {
		exps, err := disclosure.Audit(pol, prob, pub)
		if err != nil {
			return nil, err
		}
		out := exps[:0]
		for _, e := range exps {
			if !p.implicit[e.Index] {
				out = append(out, e)
			}
		}
		return out, nil
	}
	var second []int
	for range n {
		exps, err := exposed()
		if err != nil {
			return nil, err
		}
		c := -1
		for _, e := range exps {
			if c = choose(e); c >= 0 {
				break
			}
		}
		if c < 0 {
			break
		}
		hide(c)
		second = append(second, c)
	}
	sort.SliceStable(second, func(a, b int) bool {
		qa, qb := second[a], second[b]
		if isTotal[qa] != isTotal[qb] {
			return isTotal[qa]
		}
		return prob.Values[qa] > prob.Values[qb]
	})
	before, err := exposed()
	if err != nil {
		return nil, err
	}
	for _, q := range second {
		show(q)
		exps, err := exposed()
		if err != nil {
			return nil, err
		}
		if len(exps) > len(before) {
			hide(q)
		}
	}
	return pub, nil
}
