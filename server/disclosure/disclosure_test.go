package disclosure

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

var cell5 = Policy{Name: PolicyCell, MinCell: 5}

func fmtPub(ps []Published) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(' ')
		}
		if p.Suppressed {
			b.WriteByte('*')
		} else {
			fmt.Fprint(&b, *p.Value)
		}
	}
	return b.String()
}

// pubOf renders a publication from a pattern: "*" suppressed, anything else the true value.
func pubOf(prob Problem, hide ...int) []Published {
	out := make([]Published, len(prob.Values))
	for i, v := range prob.Values {
		out[i] = shown(v)
	}
	for _, i := range hide {
		out[i] = hidden
	}
	return out
}

func mustProtect(t *testing.T, p Policy, prob Problem) []Published {
	t.Helper()
	out, err := Protect(p, prob)
	if err != nil {
		t.Fatalf("Protect: %v", err)
	}
	return out
}

func mustAudit(t *testing.T, p Policy, prob Problem, pub []Published) []Exposure {
	t.Helper()
	e, err := Audit(p, prob, pub)
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	return e
}

func mustRanges(t *testing.T, p Policy, prob Problem, pub []Published) []Interval {
	t.Helper()
	iv, err := Ranges(p, prob, pub)
	if err != nil {
		t.Fatalf("Ranges: %v", err)
	}
	return iv
}

func exposedAt(es []Exposure, i int, reason string) bool {
	for _, e := range es {
		if e.Index == i && e.Reason == reason {
			return true
		}
	}
	return false
}

func TestNHSRoundGolden(t *testing.T) {
	for _, c := range []struct {
		in, want int
		sup      bool
	}{
		{0, 0, false}, {1, 0, true}, {2, 0, true}, {5, 0, true}, {7, 0, true},
		{8, 10, false}, {9, 10, false}, {12, 10, false}, {13, 15, false}, {16, 15, false},
		{57, 55, false}, {10023, 10025, false}, {10022, 10020, false}, {-1, 0, true},
	} {
		v, s := NHSRound(c.in)
		if v != c.want || s != c.sup {
			t.Errorf("NHSRound(%d) = %d, %v; want %d, %v", c.in, v, s, c.want, c.sup)
		}
	}
}

func TestNHSTotalsFromTrueCounts(t *testing.T) {
	prob := OneWay([]string{"a", "b", "c"}, []int{3, 3, 3})
	out := mustProtect(t, Policy{}, prob)
	if got := fmtPub(out); got != "* * * 10" {
		t.Fatalf("published %q, want %q", got, "* * * 10")
	}
	// Summing the rounded cells would be wrong in both directions.
	prob = OneWay(nil, []int{8, 8, 8, 0})
	if got := fmtPub(mustProtect(t, Policy{}, prob)); got != "10 10 10 0 25" {
		t.Fatalf("published %q, want 10 10 10 0 25 (total rounded from 24, not 30)", got)
	}
	// A total of 1–7 is suppressed too.
	if got := fmtPub(mustProtect(t, Policy{}, OneWay(nil, []int{2, 0, 4}))); got != "* 0 * *" {
		t.Fatalf("published %q, want * 0 * *", got)
	}
	// The cells 3,3,3 under a published 10 are each anywhere in 1..7: no exposure.
	prob = OneWay(nil, []int{3, 3, 3})
	out = mustProtect(t, Policy{}, prob)
	if e := mustAudit(t, Policy{}, prob, out); len(e) != 0 {
		t.Fatalf("exposures %+v", e)
	}
	iv := mustRanges(t, Policy{}, prob, out)
	for i := range 3 {
		if iv[i] != (Interval{Min: 1, Max: 7}) {
			t.Errorf("cell %d range %+v, want [1,7]", i, iv[i])
		}
	}
	if iv[3] != (Interval{Min: 8, Max: 12}) {
		t.Errorf("total range %+v, want [8,12]", iv[3])
	}
}

// NHS rounding alone is not always safe: this is a documented limitation that the audit
// detects. 1, 8, 8 publish as *, 10, 10 with a total of 17 → 15: the total is at most
// 17 and the two other cells at least 8 each, so the hidden cell is exactly 1.
func TestNHSRoundingCanLeakAndAuditFindsIt(t *testing.T) {
	prob := OneWay(nil, []int{1, 8, 8})
	out := mustProtect(t, Policy{}, prob)
	if got := fmtPub(out); got != "* 10 10 15" {
		t.Fatalf("published %q", got)
	}
	e := mustAudit(t, Policy{}, prob, out)
	if len(e) != 1 || e[0].Index != 0 || e[0].Range != (Interval{Min: 1, Max: 1}) {
		t.Fatalf("exposures %+v, want cell 0 pinned to [1,1]", e)
	}
	// The cell policy protects the same data.
	out = mustProtect(t, cell5, prob)
	if e := mustAudit(t, cell5, prob, out); len(e) != 0 {
		t.Fatalf("cell: %s exposures %+v", fmtPub(out), e)
	}
}

func TestParsePolicy(t *testing.T) {
	for _, c := range []struct {
		name, min string
		want      Policy
	}{
		{"", "", Policy{PolicyNHS, NHSMinShown}},
		{"nhs", "", Policy{PolicyNHS, NHSMinShown}},
		{"nhs", "3", Policy{PolicyNHS, NHSMinShown}},
		{"cell", "", Policy{PolicyCell, 5}},
		{"cell", "2", Policy{PolicyCell, 2}},
		{"cell", " 10 ", Policy{PolicyCell, 10}},
	} {
		got, err := ParsePolicy(c.name, c.min)
		if err != nil || got != c.want {
			t.Errorf("ParsePolicy(%q, %q) = %+v, %v; want %+v", c.name, c.min, got, err, c.want)
		}
	}
	for _, c := range []struct{ name, min, param string }{
		{"cell", "1", "min_cell"}, {"cell", "0", "min_cell"}, {"cell", "-3", "min_cell"},
		{"cell", "five", "min_cell"}, {"nhs", "1", "min_cell"}, {"cell", "2.5", "min_cell"},
		{"NHS", "", "policy"}, {"k-anon", "", "policy"},
	} {
		_, err := ParsePolicy(c.name, c.min)
		var de *Error
		if !errors.As(err, &de) || de.Code != CodeInvalidQuery || de.Param != c.param {
			t.Errorf("ParsePolicy(%q, %q) error %v; want invalid_query on %s", c.name, c.min, err, c.param)
		}
	}
}

func TestProtectRejectsSmallMinCell(t *testing.T) {
	prob := OneWay(nil, []int{1, 2, 30})
	for _, p := range []Policy{{PolicyCell, 1}, {PolicyCell, 0}, {PolicyCell, -5}, {"median", 5}} {
		out, err := Protect(p, prob)
		var de *Error
		if !errors.As(err, &de) || de.Code != CodeInvalidQuery || out != nil {
			t.Errorf("Protect(%+v) = %v, %v; want invalid_query", p, out, err)
		}
		if _, err := Audit(p, prob, pubOf(prob)); !errors.As(err, &de) || de.Code != CodeInvalidQuery {
			t.Errorf("Audit(%+v) error %v; want invalid_query", p, err)
		}
	}
}

func TestInvalidProblem(t *testing.T) {
	for name, prob := range map[string]Problem{
		"negative":     {Values: []int{-1, -1}, Sums: []Sum{{Total: 1, Parts: []int{0}}}},
		"inconsistent": Linked([]int{2, 48}, []int{20, 31}),
		"range":        {Values: []int{1}, Sums: []Sum{{Total: 0, Parts: []int{3}}}},
		"self":         {Values: []int{0}, Sums: []Sum{{Total: 0, Parts: []int{0}}}},
		"empty sum":    {Values: []int{0}, Sums: []Sum{{Total: 0}}},
	} {
		_, err := Protect(cell5, prob)
		var de *Error
		if !errors.As(err, &de) || de.Code != CodeInvalidProblem {
			t.Errorf("%s: error %v; want invalid_problem", name, err)
		}
	}
	// A publication that contradicts the relations is rejected by the audit.
	prob := OneWay(nil, []int{10, 20})
	bad := pubOf(prob)
	bad[2] = shown(31)
	if _, err := Audit(cell5, prob, bad); err == nil {
		t.Error("Audit accepted 10 + 20 = 31")
	}
}

func TestZeroStaysZero(t *testing.T) {
	prob := OneWay(nil, []int{0, 0, 3, 40, 0})
	for _, p := range []Policy{{}, cell5} {
		out := mustProtect(t, p, prob)
		for _, i := range []int{0, 1, 4} {
			if out[i].Suppressed || *out[i].Value != 0 {
				t.Errorf("%s: zero cell %d published as %s", p.Name, i, fmtPub(out))
			}
		}
	}
	if got := fmtPub(mustProtect(t, cell5, OneWay(nil, []int{0, 0}))); got != "0 0 0" {
		t.Errorf("all-zero table published %q", got)
	}
}

// Primary suppression alone leaks through the total: 92 − 40 − 50 = 2.
func TestSecondarySuppressionThroughTotal(t *testing.T) {
	prob := OneWay([]string{"a", "b", "c"}, []int{2, 40, 50})
	naive := pubOf(prob, 0)
	e := mustAudit(t, cell5, prob, naive)
	if len(e) != 1 || e[0].Index != 0 || e[0].Range != (Interval{Min: 2, Max: 2}) {
		t.Fatalf("naive publication: exposures %+v, want cell a worked back to exactly 2", e)
	}
	out := mustProtect(t, cell5, prob)
	if got := fmtPub(out); got != "* * 50 92" {
		t.Fatalf("published %q, want %q (the smallest other cell hidden too)", got, "* * 50 92")
	}
	if e := mustAudit(t, cell5, prob, out); len(e) != 0 {
		t.Fatalf("exposures %+v", e)
	}
	iv := mustRanges(t, cell5, prob, out)
	if iv[0] != (Interval{Min: 1, Max: 41}) || iv[0].Width() < 5 {
		t.Fatalf("hidden a has range %+v, want [1,41]", iv[0])
	}
}

// When the only other member of the line is the total, the total is suppressed too.
func TestSuppressTotalWhenNothingElse(t *testing.T) {
	prob := OneWay(nil, []int{3, 0, 0})
	out := mustProtect(t, cell5, prob)
	if got := fmtPub(out); got != "* 0 0 *" {
		t.Fatalf("published %q, want * 0 0 *", got)
	}
	prob = OneWay(nil, []int{2, 30})
	out = mustProtect(t, cell5, prob)
	if e := mustAudit(t, cell5, prob, out); len(e) != 0 {
		t.Fatalf("%s: exposures %+v", fmtPub(out), e)
	}
}

// A second grouping of the same population publishes the total that the first hid.
func TestLinkedGroupingsShareTotal(t *testing.T) {
	a, b := []int{2, 48}, []int{20, 30}
	// Protecting grouping A on its own by hiding the 2 and its total is safe in isolation...
	alone := OneWay(nil, a)
	if e := mustAudit(t, cell5, alone, pubOf(alone, 0, 2)); len(e) != 0 {
		t.Fatalf("A alone: exposures %+v", e)
	}
	// ...but grouping B publishes the same total (50), so 50 − 48 = 2.
	prob := Linked(a, b) // a0 a1 b0 b1 total
	e := mustAudit(t, cell5, prob, pubOf(prob, 0))
	if !exposedAt(e, 0, ReasonNarrow) || e[0].Range != (Interval{Min: 2, Max: 2}) {
		t.Fatalf("linked audit of naive publication: %+v, want a0 worked back to 2", e)
	}
	out := mustProtect(t, cell5, prob)
	if e := mustAudit(t, cell5, prob, out); len(e) != 0 {
		t.Fatalf("%s: exposures %+v", fmtPub(out), e)
	}
	if !out[0].Suppressed || !out[1].Suppressed {
		t.Fatalf("published %s, want both cells of A hidden", fmtPub(out))
	}
}

// A subtler cross-table leak: counts by community (one-way) are the row margin of the
// community-by-venue table. Protecting each table on its own hides the community's row
// total in the two-way table (its cells 2 and 3 would otherwise be pinned to 5) while
// the one-way table, seeing a 5, publishes it. Put together, 2 + 3 = 5 is back.
func TestCrossTableMargin(t *testing.T) {
	y := Table{Name: "y", Rows: []string{"r0", "r1", "r2"}, Cols: []string{"cafe", "market", "library"},
		Cells: [][]int{{2, 3, 0}, {20, 14, 9}, {11, 25, 30}}}
	yProb, ref, err := y.Problem()
	if err != nil {
		t.Fatal(err)
	}
	yOut := mustProtect(t, cell5, yProb)
	if e := mustAudit(t, cell5, yProb, yOut); len(e) != 0 {
		t.Fatalf("y alone: exposures %+v", e)
	}
	if !yOut[ref.RowTotal(0)].Suppressed {
		t.Fatalf("y alone published r0's total: %s", fmtPub(yOut))
	}
	x := OneWay([]string{"r0", "r1", "r2"}, []int{5, 43, 66})
	xOut := mustProtect(t, cell5, x)
	if e := mustAudit(t, cell5, x, xOut); len(e) != 0 || xOut[0].Suppressed {
		t.Fatalf("x alone: %s, exposures %+v", fmtPub(xOut), e)
	}
	// Both publications together: the reader knows r0's total from x.
	combined := append([]Published(nil), yOut...)
	combined[ref.RowTotal(0)] = xOut[0]
	e := mustAudit(t, cell5, yProb, combined)
	if !exposedAt(e, ref.Cell(0, 0), ReasonNarrow) {
		t.Fatalf("combined audit %+v: want y[r0,cafe] exposed", e)
	}
	// Linked: x's cells are y's row totals and x's total is y's grand total, so the
	// linked problem is y's problem; x is rendered from y's row margin.
	out := mustProtect(t, cell5, yProb)
	xs := []Published{out[ref.RowTotal(0)], out[ref.RowTotal(1)], out[ref.RowTotal(2)], out[ref.GrandTotal()]}
	if !xs[0].Suppressed {
		t.Fatalf("linked x published r0: %s", fmtPub(xs))
	}
	if e := mustAudit(t, cell5, yProb, out); len(e) != 0 {
		t.Fatalf("linked: exposures %+v", e)
	}
	if e := mustAudit(t, cell5, x, xs); len(e) != 0 {
		t.Fatalf("x as rendered from the linked protection: exposures %+v", e)
	}
}

// A hidden 1 with exactly one other hidden member in its line: the person in the 1
// knows the other (80 − 30 − 40 − 1 = 9) although its interval is wide for everyone else.
func TestSingletonNextToOneHidden(t *testing.T) {
	prob := OneWay(nil, []int{1, 9, 30, 40})
	pub := pubOf(prob, 0, 1)
	e := mustAudit(t, cell5, prob, pub)
	if len(e) != 1 || e[0].Index != 1 || e[0].Reason != ReasonSingleton || e[0].Line != 0 {
		t.Fatalf("exposures %+v, want singleton on cell 1", e)
	}
	if w := e[0].Range.Width(); w < 5 {
		t.Fatalf("interval %+v: the singleton case must be one the width rule misses", e[0].Range)
	}
	out := mustProtect(t, cell5, prob)
	if got := fmtPub(out); got != "* * * 40 80" {
		t.Fatalf("published %q, want * * * 40 80", got)
	}
	if e := mustAudit(t, cell5, prob, out); len(e) != 0 {
		t.Fatalf("exposures %+v", e)
	}
	// Exempt: the other hidden member is the cell's own total and all else is zero.
	prob = OneWay(nil, []int{1, 0})
	if e := mustAudit(t, cell5, prob, pubOf(prob, 0, 2)); len(e) != 0 {
		t.Fatalf("1,0 with hidden total: exposures %+v", e)
	}
}

func TestTwoWayTable(t *testing.T) {
	tb := Table{Name: "themes", Rows: []string{"housing", "transport", "gp"}, Cols: []string{"a", "b", "c", "d"},
		Cells: [][]int{{12, 3, 25, 18}, {30, 22, 0, 41}, {9, 16, 27, 2}}}
	prob, ref, err := tb.Problem()
	if err != nil {
		t.Fatal(err)
	}
	// Hiding in the row only leaks through the column, and vice versa.
	rowOnly := pubOf(prob, ref.Cell(0, 1), ref.Cell(0, 0))
	if e := mustAudit(t, cell5, prob, rowOnly); !exposedAt(e, ref.Cell(0, 1), ReasonNarrow) {
		t.Fatalf("row-only hiding: exposures %+v", e)
	}
	out := mustProtect(t, cell5, prob)
	if e := mustAudit(t, cell5, prob, out); len(e) != 0 {
		t.Fatalf("%s: exposures %+v", fmtPub(out), e)
	}
	iv := mustRanges(t, cell5, prob, out)
	for r := range 3 {
		for c := range 4 {
			q := ref.Cell(r, c)
			if !out[q].Suppressed {
				continue
			}
			if iv[q].Width() < 5 {
				t.Errorf("cell (%d,%d) range %+v", r, c, iv[q])
			}
			// Protected in both directions: another hidden member in its row and column.
			inRow, inCol := 0, 0
			for k := range 4 {
				if out[ref.Cell(r, k)].Suppressed {
					inRow++
				}
			}
			for k := range 3 {
				if out[ref.Cell(k, c)].Suppressed {
					inCol++
				}
			}
			if (inRow < 2 && !out[ref.RowTotal(r)].Suppressed) || (inCol < 2 && !out[ref.ColTotal(c)].Suppressed) {
				t.Errorf("cell (%d,%d) alone in its row or column: %s", r, c, fmtPub(out))
			}
		}
	}
	for _, q := range []int{ref.Cell(0, 1), ref.Cell(2, 3)} {
		if !out[q].Suppressed {
			t.Errorf("small cell %d published", q)
		}
	}
	if out[ref.Cell(1, 2)].Suppressed || *out[ref.Cell(1, 2)].Value != 0 {
		t.Errorf("zero cell not published as 0")
	}
	if out[ref.GrandTotal()].Suppressed {
		t.Errorf("grand total suppressed needlessly: %s", fmtPub(out))
	}
}

func TestTableRejectsRagged(t *testing.T) {
	_, _, err := Table{Cells: [][]int{{1, 2}, {3}}}.Problem()
	var de *Error
	if !errors.As(err, &de) || de.Code != CodeInvalidProblem {
		t.Fatalf("error %v", err)
	}
}

func BenchmarkProtectTable20x10(b *testing.B) {
	cells := make([][]int, 20)
	for r := range cells {
		cells[r] = make([]int, 10)
		for c := range cells[r] {
			cells[r][c] = (r*7 + c*13) % 29
		}
	}
	prob, _, _ := Table{Cells: cells}.Problem()
	for b.Loop() {
		if _, err := Protect(cell5, prob); err != nil {
			b.Fatal(err)
		}
	}
}
