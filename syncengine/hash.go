package syncengine

import (
	"hash"
)

// visibleView returns the encoded view, or nil when the record shows nothing at all: no
// field, not deleted, not withdrawn (a placeholder made when a withdrawal named a
// participant not yet seen, or one whose every field was erased). Hashes and listings
// skip those, since whether a replica ever held the erased ops must not matter.
func (s *State) visibleView() []byte {
	v := s.View()
	if len(v) == 0 && !s.Deleted() && !s.Withdrawn {
		return nil
	}
	return EncodeView(v)
}

// writeHashLine adds one record to a state hash. The hash covers what a person could see
// (the view, deleted and withdrawn flags) and which records are erased; it does not cover
// stamps, so a replica that holds the same ops in any order hashes the same.
func writeHashLine(h hash.Hash, k RecordKey, erased bool, s *State) {
	var view []byte
	if !erased {
		if s == nil {
			return
		}
		if view = s.visibleView(); view == nil {
			return
		}
	}
	writeHashParts(h, k, erased, !erased && s.Deleted(), !erased && s.Withdrawn, func() []byte { return view })
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
