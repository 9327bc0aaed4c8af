package reports

import (
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
// exactly as fixed says (a report this one must agree with published them), with the
// implied quantities as unknowns a reader can reason with but that are never published.
// The method is disclosure.ProtectWith's; docs/DISCLOSURE.md describes it.
func protect(pol disclosure.Policy, p *problem, fixed []disclosure.Published) ([]disclosure.Published, error) {
	prob := p.b.Problem()
	implied := make([]bool, len(prob.Values))
	for q := range p.implicit {
		implied[q] = true
	}
	return disclosure.ProtectWith(pol, prob, disclosure.Options{Fixed: fixed, Implied: implied})
}
