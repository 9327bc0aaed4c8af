package syncengine

import "context"

// Batch is one caller's batch for ApplyGroup: its ops and the options they are applied
// under.
type Batch struct {
	Ops []Op
	Opt ApplyOptions
}

// ApplyGroup applies several batches, each under its own options, in one transaction: a
// group commit. Each batch gets the Result Apply would have given it had the batches been
// applied one after the other in this order; all of them are durable when ApplyGroup
// returns, or none is. The hub uses it to share one commit among devices pushing at once.
func (s *Store) ApplyGroup(ctx context.Context, batches []Batch) ([]Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	results := make([]Result, len(batches))
	erased := false
	_, _, err := s.applyLocked(ctx, ApplyOptions{}, func(t *sqlTxn) ([]Op, error) {
		copies := make([][]Op, len(batches))
		var all []Op
		for i, b := range batches {
			copies[i] = append([]Op(nil), b.Ops...)
			all = append(all, copies[i]...)
		}
		if len(all) > prefetchFrom {
			// Once, for the whole group: prefetch starts the batch's bookkeeping afresh.
			if err := t.prefetch(all); err != nil {
				return nil, err
			}
		}
		for i, b := range batches {
			res, err := s.engine.apply(t, copies[i], b.Opt)
			if err != nil {
				return nil, err
			}
			results[i] = res
			erased = erased || len(res.Erased) > 0
		}
		return nil, nil // nothing more for applyLocked to apply: it flushes and commits
	}, false)
	if err != nil {
		return nil, err
	}
	if erased {
		s.scrubWAL()
	}
	return results, nil
}
