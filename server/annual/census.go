package annual

import (
	"context"
	"errors"
	"strings"

	"github.com/fieldnotes/fieldnotes/server/reports"
)

// Built-in baselines: usual residents of England and Wales in the 2021 Census, rounded
// to 0.1% (ONS tables TS021 ethnic group, TS007A age, TS024 main language). They are
// stored in coord.db under DefaultBaseline-<grouping> when the report is first mounted,
// unless a baseline of that name exists; a team compares with its own area by uploading
// baselines under another prefix (PUT /v1/baselines/{prefix}-ethnicity_group …) and
// asking for ?baseline={prefix}.
//
// Main language: "und" stands for every language not listed (the Census lists over 90).
var censusBaselines = []struct{ groupBy, csv string }{
	{reports.ByEthnicityGroup, `group,share
asian,9.3%
black,4.0%
mixed,2.9%
white,81.7%
other,2.1%
`},
	{reports.ByAgeBand, `group,share
under_16,18.5%
16_24,10.4%
25_34,13.6%
35_44,12.9%
45_54,13.5%
55_64,12.4%
65_74,10.0%
75_plus,8.7%
`},
	{reports.ByLanguage, `group,share
en,91.1%
pl,1.1%
ro,0.8%
pa,0.5%
ur,0.5%
pt,0.4%
es,0.4%
ar,0.3%
bn,0.3%
gu,0.3%
so,0.1%
und,4.2%
`},
}

// OtherLanguages is the baseline group for languages a baseline does not list.
const OtherLanguages = "und"

// EnsureCensusBaselines stores the built-in baselines that are not in coord yet.
func EnsureCensusBaselines(ctx context.Context, coord *reports.Coord) error {
	for _, b := range censusBaselines {
		name := DefaultBaseline + "-" + b.groupBy
		if _, err := coord.Baseline(ctx, name); err == nil {
			continue
		} else {
			var re *reports.Error
			if !errors.As(err, &re) || re.Code != reports.CodeNotFound {
				return err
			}
		}
		parsed, err := reports.ParseBaseline(name, b.groupBy, strings.NewReader(b.csv))
		if err != nil {
			return err
		}
		if err := coord.PutBaseline(ctx, parsed, "fieldnotes (Census 2021, England and Wales)"); err != nil {
			return err
		}
	}
	return nil
}
