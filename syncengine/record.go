package syncengine

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"

	"github.com/fieldnotes/fieldnotes/schema"
)

// register is a last-writer-wins value.
type register struct {
	V json.RawMessage `json:"v"`
	S Stamp           `json:"s"`
}

// element is one value of an add-wins observed-remove set: it is present while some add
// of it has not been observed by a remove.
type element struct {
	V       json.RawMessage `json:"v"`
	Adds    []string        `json:"a,omitempty"` // op ids of its adds
	Removed []string        `json:"r,omitempty"` // op ids removes observed (may name adds not yet seen)
}

func (e *element) present() bool {
	for _, a := range e.Adds {
		if !containsStr(e.Removed, a) {
			return true
		}
	}
	return false
}

// entry is one append to an append-only log.
type entry struct {
	V json.RawMessage `json:"v"`
	S Stamp           `json:"s"`
}

// State is the merged state of one record, with the metadata that merging needs.
// Every method is a pure function of the ops applied, whatever their order.
type State struct {
	Fields map[string]register            `json:"f,omitempty"`
	Sets   map[string]map[string]*element `json:"s,omitempty"`
	Logs   map[string][]entry             `json:"l,omitempty"`
	// LastWrite and LastDelete make delete a last-writer-wins flag against every other write.
	LastWrite  Stamp `json:"w"`
	LastDelete Stamp `json:"d"`
	// Withdrawn is sticky: once a withdraw op is seen nothing clears it. WithdrawnAt is the
	// latest withdraw's stamp (max, so it is the same whatever the order).
	Withdrawn   bool  `json:"x,omitempty"`
	WithdrawnAt Stamp `json:"xs"`
	// ErasedBefore drops, per field, every op stamped at or before the stamp: a consent
	// withdrawal erasing a participant's contact and equality answers.
	ErasedBefore map[string]Stamp `json:"e,omitempty"`
	// UpdatedTS is the wall part of the latest op applied.
	UpdatedTS int64 `json:"u"`
}

// Deleted reports whether the record's latest write is a delete.
func (s *State) Deleted() bool { return !s.LastDelete.IsZero() && s.LastWrite.Less(s.LastDelete) }

// erasedField reports whether an op on field at stamp st has been erased.
func (s *State) erasedField(field string, st Stamp) bool {
	cut, ok := s.ErasedBefore[field]
	return ok && !cut.Less(st)
}

// apply merges one validated op. It reports whether the visible state may have changed.
func (s *State) apply(op *Op) {
	st := op.Stamp()
	if op.TS > s.UpdatedTS {
		s.UpdatedTS = op.TS
	}
	switch op.Kind {
	case schema.KindDelete:
		if s.LastDelete.Less(st) {
			s.LastDelete = st
		}
		return
	case schema.KindWithdraw:
		s.Withdrawn = true
		if s.WithdrawnAt.Less(st) {
			s.WithdrawnAt = st
		}
		return
	case schema.KindErase:
		return // handled by the replica: the whole record goes
	}
	// Writes to fields a withdrawal can erase don't count against a delete: otherwise a
	// replica that saw them before they were purged would disagree with one that never did.
	if s.LastWrite.Less(st) && !erasable(op.Collection, op.Field) {
		s.LastWrite = st
	}
	if s.erasedField(op.Field, st) {
		return
	}
	switch op.Kind {
	case schema.KindSet:
		if s.Fields == nil {
			s.Fields = map[string]register{}
		}
		if cur, ok := s.Fields[op.Field]; !ok || cur.S.Less(st) {
			s.Fields[op.Field] = register{V: op.Value, S: st}
		}
	case schema.KindAdd, schema.KindRemove:
		if s.Sets == nil {
			s.Sets = map[string]map[string]*element{}
		}
		set := s.Sets[op.Field]
		if set == nil {
			set = map[string]*element{}
			s.Sets[op.Field] = set
		}
		key := string(op.Value)
		el := set[key]
		if el == nil {
			el = &element{V: op.Value}
			set[key] = el
		}
		if op.Kind == schema.KindAdd {
			el.Adds = insertSorted(el.Adds, op.ID())
		} else {
			for _, id := range op.Observed {
				el.Removed = insertSorted(el.Removed, id)
			}
		}
	case schema.KindAppend:
		if s.Logs == nil {
			s.Logs = map[string][]entry{}
		}
		log := s.Logs[op.Field]
		i := sort.Search(len(log), func(i int) bool { return !log[i].S.Less(st) })
		if i < len(log) && log[i].S == st {
			return // the same op again
		}
		log = append(log, entry{})
		copy(log[i+1:], log[i:])
		log[i] = entry{V: op.Value, S: st}
		s.Logs[op.Field] = log
	}
}

func erasable(collection, field string) bool {
	return collection == schema.Participant && schema.ErasedOnWithdrawal(collection, field)
}

// eraseFields drops the named fields' values written at or before cut, and remembers the
// cut so that late ops are dropped too.
func (s *State) eraseFields(fields []string, cut Stamp) {
	if s.ErasedBefore == nil {
		s.ErasedBefore = map[string]Stamp{}
	}
	for _, f := range fields {
		if cur, ok := s.ErasedBefore[f]; !ok || cur.Less(cut) {
			s.ErasedBefore[f] = cut
		}
		if r, ok := s.Fields[f]; ok && !cut.Less(r.S) {
			delete(s.Fields, f)
		}
		if log, ok := s.Logs[f]; ok {
			kept := log[:0]
			for _, e := range log {
				if cut.Less(e.S) {
					kept = append(kept, e)
				}
			}
			s.Logs[f] = kept
		}
		// Set elements carry op ids, not stamps; an erasable field is never a set.
	}
}

// View is the visible record: every field with a value, sets as sorted arrays, logs in
// order. Encoded canonically (sorted keys) it is what the state hash covers.
func (s *State) View() map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(s.Fields)+len(s.Sets)+len(s.Logs))
	for k, r := range s.Fields {
		if len(r.V) > 0 && !bytes.Equal(r.V, jsonNull) {
			out[k] = r.V
		}
	}
	for k, set := range s.Sets {
		var vals []string
		for key, el := range set {
			if el.present() {
				vals = append(vals, key)
			}
		}
		if len(vals) == 0 {
			continue
		}
		sort.Strings(vals)
		out[k] = joinArray(vals)
	}
	for k, log := range s.Logs {
		if len(log) == 0 {
			continue
		}
		vals := make([]string, len(log))
		for i, e := range log {
			vals[i] = string(e.V)
		}
		out[k] = joinArray(vals)
	}
	return out
}

var jsonNull = []byte("null")

func joinArray(vals []string) json.RawMessage {
	n := 2
	for _, v := range vals {
		n += len(v) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, v...)
	}
	return append(b, ']')
}

// EncodeView writes the view canonically: keys sorted, values already canonical.
func EncodeView(v map[string]json.RawMessage) []byte {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	size := 2 // one allocation: a conversation's view is rewritten on every answer
	for _, k := range keys {
		size += len(k) + 4 + len(v[k])
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, k)
		b = append(b, ':')
		b = append(b, v[k]...)
	}
	return append(b, '}')
}

// FieldString returns a register's value if it is a JSON string.
func (s *State) FieldString(field string) (string, bool) {
	r, ok := s.Fields[field]
	if !ok || len(r.V) == 0 || r.V[0] != '"' {
		return "", false
	}
	var out string
	if json.Unmarshal(r.V, &out) != nil {
		return "", false
	}
	return out, true
}

func insertSorted(xs []string, x string) []string {
	i := sort.SearchStrings(xs, x)
	if i < len(xs) && xs[i] == x {
		return xs
	}
	xs = append(xs, "")
	copy(xs[i+1:], xs[i:])
	xs[i] = x
	return xs
}

func containsStr(sorted []string, x string) bool {
	i := sort.SearchStrings(sorted, x)
	return i < len(sorted) && sorted[i] == x
}
