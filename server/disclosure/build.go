package disclosure

import "strconv"

// Builder assembles a Problem from quantities and relations. Quantities shared by
// several tables (a grand total, or a margin that is itself a cell of another table)
// must be added once and referred to by the same index.
type Builder struct {
	p Problem
}

// Quantity adds a quantity with its true count and returns its index.
func (b *Builder) Quantity(label string, value int) int {
	b.p.Values = append(b.p.Values, value)
	b.p.Labels = append(b.p.Labels, label)
	return len(b.p.Values) - 1
}

// Sum records that the quantity at total is the sum of the quantities at parts.
func (b *Builder) Sum(total int, parts ...int) {
	b.p.Sums = append(b.p.Sums, Sum{Total: total, Parts: append([]int(nil), parts...)})
}

// OneWay adds a one-way table: one quantity per count and, if total < 0, a new total
// quantity labelled name+"total"; otherwise total is the index of an existing quantity
// (e.g. a grand total shared with another grouping of the same population). It returns
// the cells' indices and the total's index.
func (b *Builder) OneWay(name string, groups []string, counts []int, total int) (cells []int, tot int) {
	sum := 0
	for i, c := range counts {
		label := name + strconv.Itoa(i)
		if i < len(groups) {
			label = name + groups[i]
		}
		cells = append(cells, b.Quantity(label, c))
		sum += c
	}
	if total < 0 {
		total = b.Quantity(name+"total", sum)
	}
	b.Sum(total, cells...)
	return cells, total
}

// TableRef locates a Table's quantities inside a Builder's Problem.
type TableRef struct {
	base, rows, cols int
}

// Cell is the index of cell (r, c).
func (t TableRef) Cell(r, c int) int { return t.base + r*t.cols + c }

// RowTotal is the index of row r's total.
func (t TableRef) RowTotal(r int) int { return t.base + t.rows*t.cols + r }

// ColTotal is the index of column c's total.
func (t TableRef) ColTotal(c int) int { return t.base + t.rows*t.cols + t.rows + c }

// GrandTotal is the index of the table's grand total.
func (t TableRef) GrandTotal() int { return t.base + t.rows*t.cols + t.rows + t.cols }

// Table is a two-way table of true counts (e.g. theme by community) whose row totals,
// column totals and grand total are published too. Use it only when those totals
// really are sums of the cells (each person counted once per row and once per column).
type Table struct {
	Name  string
	Rows  []string
	Cols  []string
	Cells [][]int // len(Rows) rows of len(Cols) counts
}

func (t Table) dims() (int, int, error) {
	r := len(t.Cells)
	c := len(t.Cols)
	if c == 0 && r > 0 {
		c = len(t.Cells[0])
	}
	if len(t.Rows) != 0 && len(t.Rows) != r {
		return 0, 0, problemErr("table %q: %d row labels for %d rows", t.Name, len(t.Rows), r)
	}
	for i, row := range t.Cells {
		if len(row) != c {
			return 0, 0, problemErr("table %q: row %d has %d cells, want %d", t.Name, i, len(row), c)
		}
	}
	return r, c, nil
}

// Table adds a two-way table: cells row by row, then row totals, column totals and the
// grand total, with the relations between them (each row total and each column total
// is the sum of its cells; the grand total is the sum of the row totals and also of the
// column totals).
func (b *Builder) Table(t Table) (TableRef, error) {
	nr, nc, err := t.dims()
	if err != nil {
		return TableRef{}, err
	}
	ref := TableRef{base: len(b.p.Values), rows: nr, cols: nc}
	rl := func(r int) string {
		if r < len(t.Rows) {
			return t.Rows[r]
		}
		return strconv.Itoa(r)
	}
	cl := func(c int) string {
		if c < len(t.Cols) {
			return t.Cols[c]
		}
		return strconv.Itoa(c)
	}
	rowSum := make([]int, nr)
	colSum := make([]int, nc)
	grand := 0
	for r := range nr {
		for c := range nc {
			v := t.Cells[r][c]
			b.Quantity(t.Name+"["+rl(r)+","+cl(c)+"]", v)
			rowSum[r] += v
			colSum[c] += v
			grand += v
		}
	}
	for r := range nr {
		b.Quantity(t.Name+"["+rl(r)+",total]", rowSum[r])
	}
	for c := range nc {
		b.Quantity(t.Name+"[total,"+cl(c)+"]", colSum[c])
	}
	b.Quantity(t.Name+"[total]", grand)
	for r := range nr {
		parts := make([]int, nc)
		for c := range nc {
			parts[c] = ref.Cell(r, c)
		}
		b.Sum(ref.RowTotal(r), parts...)
	}
	for c := range nc {
		parts := make([]int, nr)
		for r := range nr {
			parts[r] = ref.Cell(r, c)
		}
		b.Sum(ref.ColTotal(c), parts...)
	}
	if nr > 0 {
		parts := make([]int, nr)
		for r := range nr {
			parts[r] = ref.RowTotal(r)
		}
		b.Sum(ref.GrandTotal(), parts...)
	}
	if nc > 0 {
		parts := make([]int, nc)
		for c := range nc {
			parts[c] = ref.ColTotal(c)
		}
		b.Sum(ref.GrandTotal(), parts...)
	}
	return ref, nil
}

// Problem returns the problem built so far (a copy; the Builder can keep growing).
func (b *Builder) Problem() Problem {
	p := Problem{
		Values: append([]int(nil), b.p.Values...),
		Labels: append([]string(nil), b.p.Labels...),
		Sums:   make([]Sum, len(b.p.Sums)),
	}
	for i, s := range b.p.Sums {
		p.Sums[i] = Sum{Total: s.Total, Parts: append([]int(nil), s.Parts...)}
	}
	return p
}

// OneWay is a one-way table: quantities 0..len(counts)−1 are the groups' counts, the
// last quantity (index len(counts)) is the total.
func OneWay(groups []string, counts []int) Problem {
	var b Builder
	b.OneWay("", groups, counts, -1)
	return b.Problem()
}

// Linked is several groupings of the same population (e.g. by community and by
// language) sharing one published total. Grouping g's cell i is quantity
// len(groupings[0])+…+len(groupings[g−1])+i; the shared total is the last quantity.
// Its value is the sum of the first grouping; groupings whose sums differ make
// Protect and Audit fail with invalid_problem.
func Linked(groupings ...[]int) Problem {
	var b Builder
	var cells [][]int
	sum := 0
	for g, counts := range groupings {
		var idx []int
		for i, c := range counts {
			idx = append(idx, b.Quantity("g"+strconv.Itoa(g)+"["+strconv.Itoa(i)+"]", c))
			if g == 0 {
				sum += c
			}
		}
		cells = append(cells, idx)
	}
	total := b.Quantity("total", sum)
	for _, idx := range cells {
		if len(idx) > 0 {
			b.Sum(total, idx...)
		}
	}
	return b.Problem()
}

// Problem builds the problem for a single two-way table, laid out as described by
// Builder.Table; the TableRef gives each quantity's index.
func (t Table) Problem() (Problem, TableRef, error) {
	var b Builder
	ref, err := b.Table(t)
	if err != nil {
		return Problem{}, TableRef{}, err
	}
	return b.Problem(), ref, nil
}
