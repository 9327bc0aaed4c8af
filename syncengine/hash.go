package syncengine

import (
	"hash"
)

// Empty reports whether no op has touched the record: a placeholder made when a
// withdrawal named a participant this replica has not seen yet. Hashes and listings skip it.
func (s *State) Empty() bool {
	return s.LastWrite.IsZero() && s.LastDelete.IsZero() && !s.Withdrawn
}

// writeHashLine adds one record to a state hash. The hash covers what a person could see
// (the view, deleted and withdrawn flags) and which records are erased; it does not cover
// stamps, so a replica that holds the same ops in any order hashes the same.
func writeHashLine(h hash.Hash, k RecordKey, erased bool, s *State) {
	if !erased && (s == nil || s.Empty()) {
		return
	}
	writeHashParts(h, k, erased, !erased && s.Deleted(), !erased && s.Withdrawn, func() []byte { return EncodeView(s.View()) })
}

func writeHashParts(h hash.Hash, k RecordKey, erased, deleted, withdrawn bool, view func() []byte) {
	h.Write([]byte(k.Collection))
	h.Write([]byte{0})
	h.Write([]byte(k.Record))
	h.Write([]byte{0})
	switch {
	case erased:
		h.Write([]byte("erased\n"))
		return
	case deleted && withdrawn:
		h.Write([]byte("dw"))
	case deleted:
		h.Write([]byte("d"))
	case withdrawn:
		h.Write([]byte("w"))
	}
	h.Write([]byte{0})
	h.Write(view())
	h.Write([]byte{'\n'})
}
