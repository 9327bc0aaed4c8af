// Package disclosure decides which counts in a participation report may be published
// and in what form, so that nobody in a small group can be identified, and audits the
// result exactly.
//
// A report is modelled as a [Problem]: the true value of every published quantity
// (cells and the totals over them) plus the linear relations a reader knows hold between
// them ("this total is the sum of these cells"). Several tables over the same population
// are one Problem that shares quantities (for example one grand total), so that
// suppression in one table cannot be undone from another.
//
// Two policies (see docs/DISCLOSURE.md):
//
//   - "nhs" (default): counts 1–7 are suppressed, every other count is rounded to the
//     nearest 5, totals are computed from true counts and then rounded. Zero stays 0.
//   - "cell": counts 1..min_cell−1 are suppressed (primary suppression), then further
//     counts are suppressed (secondary suppression) until an exact linear-programming
//     audit shows that no suppressed count can be worked back from everything published.
//     Unsuppressed counts are exact. Zero stays 0.
//
// The package is pure: no I/O, stdlib only.
package disclosure

import (
	"fmt"
	"strconv"
	"strings"
)

// Policy names as they appear in the `policy` query parameter.
const (
	PolicyNHS  = "nhs"
	PolicyCell = "cell"
)

const (
	// DefaultMinCell is the `cell` policy's threshold when `min_cell` is not given:
	// counts 1..4 are suppressed.
	DefaultMinCell = 5
	// NHSMinShown is the smallest non-zero count the `nhs` rule shows (1–7 are
	// suppressed). ParsePolicy reports it as MinCell for the nhs policy, so that
	// MinCell always means "the smallest non-zero count that can be published".
	NHSMinShown = 8
	// NHSBase is the `nhs` rounding base.
	NHSBase = 5
)

// Stable error codes (the `code` field of the API's error body).
const (
	// CodeInvalidQuery: a bad `policy` or `min_cell`.
	CodeInvalidQuery = "invalid_query"
	// CodeInvalidProblem: a malformed Problem or published slice (a programming error
	// in the caller, not user input).
	CodeInvalidProblem = "invalid_problem"
)

// Error is the package's error type; Code is one of the Code* constants and never
// changes with wording.
type Error struct {
	Code    string
	Param   string // the query parameter at fault ("policy", "min_cell"), if any
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func queryErr(param, format string, args ...any) error {
	return &Error{Code: CodeInvalidQuery, Param: param, Message: fmt.Sprintf(format, args...)}
}

func problemErr(format string, args ...any) error {
	return &Error{Code: CodeInvalidProblem, Message: fmt.Sprintf(format, args...)}
}

// Policy is a disclosure-control policy. The zero value means "nhs".
type Policy struct {
	Name    string // PolicyNHS or PolicyCell; "" means PolicyNHS
	MinCell int    // cell: counts 1..MinCell−1 are suppressed; must be ≥ 2. nhs: ignored (reported as 8)
}

// ParsePolicy reads the `policy` and `min_cell` query parameters. Empty strings mean
// the defaults (nhs; min_cell 5). min_cell must be a whole number ≥ 2; it is validated
// under both policies but only the cell policy uses it. Errors are *Error with code
// invalid_query.
func ParsePolicy(name, minCell string) (Policy, error) {
	mc := DefaultMinCell
	if s := strings.TrimSpace(minCell); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return Policy{}, queryErr("min_cell", "min_cell must be a whole number, got %q", minCell)
		}
		if n < 2 {
			return Policy{}, queryErr("min_cell", "min_cell must be at least 2, got %d", n)
		}
		mc = n
	}
	switch strings.TrimSpace(name) {
	case "", PolicyNHS:
		return Policy{Name: PolicyNHS, MinCell: NHSMinShown}, nil
	case PolicyCell:
		return Policy{Name: PolicyCell, MinCell: mc}, nil
	}
	return Policy{}, queryErr("policy", "policy must be %q or %q, got %q", PolicyNHS, PolicyCell, name)
}

// normalize fills defaults and validates.
func (p Policy) normalize() (Policy, error) {
	switch p.Name {
	case "", PolicyNHS:
		return Policy{Name: PolicyNHS, MinCell: NHSMinShown}, nil
	case PolicyCell:
		if p.MinCell < 2 {
			return Policy{}, queryErr("min_cell", "min_cell must be at least 2, got %d", p.MinCell)
		}
		return p, nil
	}
	return Policy{}, queryErr("policy", "policy must be %q or %q, got %q", PolicyNHS, PolicyCell, p.Name)
}

// NHSRound applies NHS England's rule to one count: 0 stays 0; 1–7 are suppressed
// (value 0, suppressed true); every other count is rounded to the nearest multiple of 5
// (8→10, 12→10, 13→15, 57→55). A negative n is not a count and is reported suppressed.
func NHSRound(n int) (value int, suppressed bool) {
	switch {
	case n == 0:
		return 0, false
	case n < 0 || n < NHSMinShown:
		return 0, true
	}
	r := n % NHSBase
	v := n - r
	if 2*r >= NHSBase { // half up; cannot tie for integers and base 5
		v += NHSBase
	}
	return v, false
}

// Sum is a published linear relation: Values[Total] = Σ Values[Parts].
type Sum struct {
	Total int
	Parts []int
}

// Problem is a set of linked quantities: their true counts and the relations a reader
// knows hold between them. Build one with OneWay, Linked, Table.Problem or a Builder.
type Problem struct {
	Values []int    // true counts of every quantity (cells and totals), all ≥ 0
	Sums   []Sum    // relations between them
	Labels []string // optional, one per value; used in Exposure
}

// Published is what is shown for one quantity: Value is nil exactly when Suppressed.
type Published struct {
	Value      *int
	Suppressed bool
}

func shown(v int) Published { return Published{Value: &v} }

var hidden = Published{Suppressed: true}

func (p Problem) label(i int) string {
	if i < len(p.Labels) && p.Labels[i] != "" {
		return p.Labels[i]
	}
	return "#" + strconv.Itoa(i)
}

// validate checks indices, non-negativity and that every Sum holds on Values.
func (p Problem) validate() error {
	n := len(p.Values)
	if len(p.Labels) != 0 && len(p.Labels) != n {
		return problemErr("%d labels for %d values", len(p.Labels), n)
	}
	for i, v := range p.Values {
		if v < 0 {
			return problemErr("value %s is negative (%d)", p.label(i), v)
		}
	}
	seen := make(map[int]bool)
	for si, s := range p.Sums {
		if s.Total < 0 || s.Total >= n {
			return problemErr("sum %d: total index %d out of range", si, s.Total)
		}
		if len(s.Parts) == 0 {
			return problemErr("sum %d has no parts", si)
		}
		clear(seen)
		seen[s.Total] = true
		sum := 0
		for _, q := range s.Parts {
			if q < 0 || q >= n {
				return problemErr("sum %d: part index %d out of range", si, q)
			}
			if seen[q] {
				return problemErr("sum %d: index %d appears twice", si, q)
			}
			seen[q] = true
			sum += p.Values[q]
		}
		if sum != p.Values[s.Total] {
			return problemErr("sum %d: %s is %d but its parts add up to %d",
				si, p.label(s.Total), p.Values[s.Total], sum)
		}
	}
	return nil
}

// Protect decides what to publish for every quantity of prob under policy p.
// The result has one entry per prob.Values. Errors: invalid_query for a bad policy
// (e.g. cell with MinCell < 2), invalid_problem for a malformed problem.
func Protect(p Policy, prob Problem) ([]Published, error) {
	return ProtectWith(p, prob, Options{})
}

// Options constrain a publication that must agree with others.
type Options struct {
	// Fixed publishes the first len(Fixed) quantities exactly as given: another report
	// on the same data already published them (a per-engagement report keeps the
	// engagement's cell of the all-engagements report).
	Fixed []Published
	// Implied marks quantities a reader can reason with but that are never published
	// (in a multi-valued grouping, everyone not in a group). They are hidden, never used
	// to protect others, and their own exposure doesn't count.
	Implied []bool
}

// ProtectWith is Protect under Options.
func ProtectWith(p Policy, prob Problem, o Options) ([]Published, error) {
	p, err := p.normalize()
	if err != nil {
		return nil, err
	}
	if err := prob.validate(); err != nil {
		return nil, err
	}
	if len(o.Fixed) > len(prob.Values) || len(o.Implied) > len(prob.Values) {
		return nil, &Error{Code: CodeInvalidProblem, Message: "options name more quantities than the problem has"}
	}
	out := make([]Published, len(prob.Values))
	if p.Name == PolicyNHS {
		for i, v := range prob.Values {
			if r, sup := NHSRound(v); sup || (i < len(o.Implied) && o.Implied[i]) {
				out[i] = hidden
			} else {
				out[i] = shown(r)
			}
		}
		copy(out, o.Fixed)
		return out, nil
	}
	supp, err := cellSuppress(p, prob, o)
	if err != nil {
		return nil, err
	}
	for i, v := range prob.Values {
		if supp[i] {
			out[i] = hidden
		} else {
			out[i] = shown(v)
		}
	}
	copy(out, o.Fixed)
	return out, nil
}
