package syncengine

import "pgregory.net/rapid"

// logDiff logs the records two replicas disagree on, to make a failing property readable.
func logDiff(t *rapid.T, a, b *Memory) {
	keys := map[RecordKey]bool{}
	for k := range a.records {
		keys[k] = true
	}
	for k := range b.records {
		keys[k] = true
	}
	line := func(m *Memory, k RecordKey) string {
		r := m.records[k]
		if r == nil {
			return "absent"
		}
		if r.erased {
			return "erased"
		}
		v := r.state.visibleView()
		return string(v) + map[bool]string{true: " deleted"}[r.state.Deleted()] + map[bool]string{true: " withdrawn"}[r.state.Withdrawn]
	}
	for k := range keys {
		if la, lb := line(a, k), line(b, k); la != lb {
			t.Logf("%s/%s:\n  a: %s\n  b: %s", k.Collection, k.Record, la, lb)
			for _, m := range []*Memory{a, b} {
				for id := range m.byRec[k] {
					op := m.ops[id].op
					t.Logf("    op %s %d.%d %s %s=%s %v", id, op.TS, op.TC, op.Kind, op.Field, op.Value, op.Observed)
				}
				t.Logf("    --")
			}
		}
	}
}
