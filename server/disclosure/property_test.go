package disclosure

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// count draws counts skewed towards the interesting region: zeros, small counts and a
// few large ones.
func count(t *rapid.T, label string) int {
	switch rapid.IntRange(0, 5).Draw(t, label+"kind") {
	case 0:
		return 0
	case 1, 2:
		return rapid.IntRange(1, 9).Draw(t, label)
	default:
		return rapid.IntRange(1, 80).Draw(t, label)
	}
}

func counts(t *rapid.T, label string, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = count(t, fmt.Sprintf("%s%d", label, i))
	}
	return out
}

// regroup splits total into n counts (another grouping of the same population).
func regroup(t *rapid.T, label string, total, n int) []int {
	out := make([]int, n)
	for range total {
		out[rapid.IntRange(0, n-1).Draw(t, label)]++
	}
	return out
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// genProblem draws a one-way table, linked groupings, a two-way table, or a two-way
// table linked to another grouping through its grand total.
func genProblem(t *rapid.T) Problem {
	switch rapid.IntRange(0, 3).Draw(t, "shape") {
	case 0:
		return OneWay(nil, counts(t, "c", rapid.IntRange(1, 8).Draw(t, "n")))
	case 1:
		a := counts(t, "a", rapid.IntRange(1, 6).Draw(t, "na"))
		gs := [][]int{a}
		for g := range rapid.IntRange(1, 2).Draw(t, "ng") {
			gs = append(gs, regroup(t, fmt.Sprintf("g%d", g), sum(a), rapid.IntRange(1, 5).Draw(t, "nb")))
		}
		return Linked(gs...)
	default:
		nr, nc := rapid.IntRange(1, 5).Draw(t, "rows"), rapid.IntRange(1, 4).Draw(t, "cols")
		cells := make([][]int, nr)
		for r := range cells {
			cells[r] = counts(t, fmt.Sprintf("r%d_", r), nc)
		}
		var b Builder
		ref, err := b.Table(Table{Name: "t", Cells: cells})
		if err != nil {
			t.Fatal(err)
		}
		grand := 0
		for _, row := range cells {
			grand += sum(row)
		}
		if rapid.Bool().Draw(t, "link") {
			other := regroup(t, "o", grand, rapid.IntRange(1, 4).Draw(t, "no"))
			b.OneWay("o", nil, other, ref.GrandTotal())
		}
		return b.Problem()
	}
}

// After Protect under cell: no exposure, shown values are the true counts, zeros are
// shown as 0, no count 1..min_cell−1 is shown, and every reader range holds the truth.
func TestPropertyCellProtect(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prob := genProblem(t)
		p := Policy{Name: PolicyCell, MinCell: rapid.IntRange(2, 10).Draw(t, "min_cell")}
		out, err := Protect(p, prob)
		if err != nil {
			t.Fatalf("Protect: %v", err)
		}
		if len(out) != len(prob.Values) {
			t.Fatalf("%d published for %d values", len(out), len(prob.Values))
		}
		for i, v := range prob.Values {
			o := out[i]
			if o.Suppressed != (o.Value == nil) {
				t.Fatalf("%d: Value/Suppressed mismatch", i)
			}
			if v == 0 && (o.Suppressed || *o.Value != 0) {
				t.Fatalf("zero %d not published as 0: %s", i, fmtPub(out))
			}
			if v >= 1 && v < p.MinCell && !o.Suppressed {
				t.Fatalf("small count %d (=%d) published: %s", i, v, fmtPub(out))
			}
			if !o.Suppressed && *o.Value != v {
				t.Fatalf("%d published %d, true %d", i, *o.Value, v)
			}
		}
		e, err := Audit(p, prob, out)
		if err != nil {
			t.Fatalf("Audit: %v", err)
		}
		if len(e) != 0 {
			t.Fatalf("values %v sums %v\npublished %s\nexposures %+v", prob.Values, prob.Sums, fmtPub(out), e)
		}
		iv, err := Ranges(p, prob, out)
		if err != nil {
			t.Fatalf("Ranges: %v", err)
		}
		for i, v := range prob.Values {
			if v < iv[i].Min || (!iv[i].Unbounded && v > iv[i].Max) {
				t.Fatalf("%d: true %d outside reader range %+v", i, v, iv[i])
			}
		}
	})
}

// Under nhs: every value follows NHSRound (totals from true counts) and reader ranges
// hold the truth.
func TestPropertyNHS(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prob := genProblem(t)
		out, err := Protect(Policy{}, prob)
		if err != nil {
			t.Fatalf("Protect: %v", err)
		}
		for i, v := range prob.Values {
			r, s := NHSRound(v)
			if out[i].Suppressed != s || (!s && *out[i].Value != r) {
				t.Fatalf("%d: true %d published %s", i, v, fmtPub(out[i:i+1]))
			}
		}
		iv, err := Ranges(Policy{}, prob, out)
		if err != nil {
			t.Fatalf("Ranges: %v", err)
		}
		for i, v := range prob.Values {
			if v < iv[i].Min || v > iv[i].Max || iv[i].Unbounded {
				t.Fatalf("%d: true %d outside reader range %+v", i, v, iv[i])
			}
		}
	})
}

// The LP bounds are exact: on small linked groupings, enumerate every integer
// assignment consistent with what a reader knows and compare min and max per quantity.
// Given the total, groupings are independent, so each is enumerated on its own.
func TestPropertyRangesExact(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := counts(t, "a", rapid.IntRange(1, 3).Draw(t, "na"))
		for i := range a {
			a[i] = min(a[i], 8)
		}
		gs := [][]int{a}
		for g := range rapid.IntRange(0, 2).Draw(t, "extra") {
			gs = append(gs, regroup(t, fmt.Sprintf("g%d", g), sum(a), rapid.IntRange(1, 3).Draw(t, "nb")))
		}
		prob := Linked(gs...)
		p := cell5
		var pub []Published
		if rapid.Bool().Draw(t, "nhs") {
			p = Policy{Name: PolicyNHS}
			pub, _ = Protect(p, prob)
		} else {
			// Any suppression pattern over non-zero quantities.
			pub = make([]Published, len(prob.Values))
			for i, v := range prob.Values {
				pub[i] = shown(v)
				if v > 0 && rapid.Bool().Draw(t, fmt.Sprintf("hide%d", i)) {
					pub[i] = hidden
				}
			}
		}
		iv, err := Ranges(p, prob, pub)
		if err != nil {
			t.Fatalf("Ranges: %v", err)
		}
		lo, hi, inf := readerBounds(p, pub)
		const capv = 80 // stands in for +∞ when enumerating; every bounded max is ≤ 26
		for i := range hi {
			if inf[i] {
				hi[i] = capv
			}
		}
		n := len(prob.Values)
		tot := n - 1
		bmin, bmax := make([]int, n), make([]int, n)
		for i := range bmin {
			bmin[i], bmax[i] = 1<<30, -1
		}
		for T := lo[tot]; T <= hi[tot]; T++ {
			gmin, gmax := make([]int, n), make([]int, n)
			ok := true
			for _, s := range prob.Sums {
				parts := s.Parts
				for _, q := range parts {
					gmin[q], gmax[q] = 1<<30, -1
				}
				x := make([]int, len(parts))
				found := false
				var rec func(k, left int)
				rec = func(k, left int) {
					q := parts[k]
					if k == len(parts)-1 {
						if left < lo[q] || left > hi[q] {
							return
						}
						x[k] = left
						found = true
						for j, qq := range parts {
							gmin[qq], gmax[qq] = min(gmin[qq], x[j]), max(gmax[qq], x[j])
						}
						return
					}
					for v := lo[q]; v <= min(hi[q], left); v++ {
						x[k] = v
						rec(k+1, left-v)
					}
				}
				rec(0, T)
				if !found {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			bmin[tot], bmax[tot] = min(bmin[tot], T), max(bmax[tot], T)
			for i := range tot {
				bmin[i], bmax[i] = min(bmin[i], gmin[i]), max(bmax[i], gmax[i])
			}
		}
		if bmax[tot] < 0 {
			t.Fatalf("no feasible assignment, yet the truth is one")
		}
		for i := range n {
			if iv[i].Min != bmin[i] {
				t.Fatalf("%d: LP min %d, enumerated %d (published %s)", i, iv[i].Min, bmin[i], fmtPub(pub))
			}
			if iv[i].Unbounded {
				if bmax[i] <= 30 {
					t.Fatalf("%d: LP unbounded, enumerated max %d (published %s)", i, bmax[i], fmtPub(pub))
				}
			} else if iv[i].Max != bmax[i] {
				t.Fatalf("%d: LP max %d, enumerated %d (published %s)", i, iv[i].Max, bmax[i], fmtPub(pub))
			}
		}
	})
}

// The same for small two-way tables with margins (published grand total under cell;
// anything under nhs): enumerate the cells, derive the margins.
func TestPropertyRangesExactTwoWay(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nr, nc := rapid.IntRange(1, 2).Draw(t, "rows"), rapid.IntRange(2, 3).Draw(t, "cols")
		cells := make([][]int, nr)
		for r := range cells {
			cells[r] = make([]int, nc)
			for c := range cells[r] {
				cells[r][c] = rapid.IntRange(0, 12).Draw(t, fmt.Sprintf("c%d%d", r, c))
			}
		}
		prob, ref, err := Table{Cells: cells}.Problem()
		if err != nil {
			t.Fatal(err)
		}
		nhs := rapid.Bool().Draw(t, "nhs")
		p := cell5
		var pub []Published
		if nhs {
			p = Policy{Name: PolicyNHS}
			pub, _ = Protect(p, prob)
		} else {
			pub = make([]Published, len(prob.Values))
			hiddenCells := 0
			for i, v := range prob.Values {
				pub[i] = shown(v)
				if v > 0 && i != ref.GrandTotal() && (i >= ref.RowTotal(0) || hiddenCells < 4) &&
					rapid.Bool().Draw(t, fmt.Sprintf("hide%d", i)) {
					pub[i] = hidden
					if i < ref.RowTotal(0) {
						hiddenCells++
					}
				}
			}
		}
		iv, err := Ranges(p, prob, pub)
		if err != nil {
			t.Fatalf("Ranges: %v", err)
		}
		lo, hi, inf := readerBounds(p, pub)
		g := ref.GrandTotal()
		for i := range hi {
			if inf[i] {
				hi[i] = hi[g] // no quantity exceeds the published grand total
			}
		}
		n := len(prob.Values)
		bmin, bmax := make([]int, n), make([]int, n)
		for i := range bmin {
			bmin[i], bmax[i] = 1<<30, -1
		}
		x := make([]int, n)
		var rec func(k int)
		rec = func(k int) {
			if k == nr*nc {
				for i := nr * nc; i < n; i++ {
					x[i] = 0
				}
				for r := range nr {
					for c := range nc {
						v := x[ref.Cell(r, c)]
						x[ref.RowTotal(r)] += v
						x[ref.ColTotal(c)] += v
						x[g] += v
					}
				}
				for i := nr * nc; i < n; i++ {
					if x[i] < lo[i] || x[i] > hi[i] {
						return
					}
				}
				for i := range x {
					bmin[i], bmax[i] = min(bmin[i], x[i]), max(bmax[i], x[i])
				}
				return
			}
			for v := lo[k]; v <= hi[k]; v++ {
				x[k] = v
				rec(k + 1)
			}
		}
		rec(0)
		for i := range n {
			if iv[i].Unbounded || iv[i].Min != bmin[i] || iv[i].Max != bmax[i] {
				t.Fatalf("%d: LP %+v, enumerated [%d,%d] (published %s)", i, iv[i], bmin[i], bmax[i], fmtPub(pub))
			}
		}
	})
}
