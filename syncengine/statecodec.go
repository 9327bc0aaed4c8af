package syncengine

import (
	"encoding/binary"
	"encoding/json"
	"errors"
)

// The merge state is stored in a compact binary form: it is written once per record per
// batch and read back on the next batch that touches the record, so it sits on the
// ingest hot path (JSON encoding was a fifth of apply time in the profile).

// Version 2 leaves out register and log values: they are in the record's view, which is
// stored beside the state, and fillValues puts them back on load. That halves what
// ingest writes.
const stateCodecVersion = 2

type stateWriter struct{ b []byte }

func (w *stateWriter) uv(x uint64)    { w.b = binary.AppendUvarint(w.b, x) }
func (w *stateWriter) v(x int64)      { w.b = binary.AppendVarint(w.b, x) }
func (w *stateWriter) bytes(p []byte) { w.uv(uint64(len(p))); w.b = append(w.b, p...) }
func (w *stateWriter) str(s string)   { w.uv(uint64(len(s))); w.b = append(w.b, s...) }
func (w *stateWriter) strs(s []string) {
	w.uv(uint64(len(s)))
	for _, x := range s {
		w.str(x)
	}
}
func (w *stateWriter) stamp(s Stamp) {
	w.v(s.TS)
	w.uv(uint64(s.TC))
	w.str(s.Node)
	w.uv(s.Counter)
}

func encodeState(s *State) []byte {
	n := len(s.Fields) + len(s.Logs) // about 64 bytes a stamp: sized once, not grown
	for _, set := range s.Sets {
		n += len(set)
	}
	w := stateWriter{b: make([]byte, 0, 16+64*n)}
	w.b = append(w.b, stateCodecVersion)
	w.uv(uint64(len(s.Fields)))
	for k, r := range s.Fields {
		w.str(k)
		w.stamp(r.S)
	}
	w.uv(uint64(len(s.Sets)))
	for k, set := range s.Sets {
		w.str(k)
		w.uv(uint64(len(set)))
		for _, el := range set {
			w.bytes(el.V)
			w.strs(el.Adds)
			w.strs(el.Removed)
		}
	}
	w.uv(uint64(len(s.Logs)))
	for k, log := range s.Logs {
		w.str(k)
		w.uv(uint64(len(log)))
		for _, e := range log {
			w.stamp(e.S)
		}
	}
	w.stamp(s.LastWrite)
	w.stamp(s.LastDelete)
	if s.Withdrawn {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
	w.stamp(s.WithdrawnAt)
	w.uv(uint64(len(s.ErasedBefore)))
	for k, st := range s.ErasedBefore {
		w.str(k)
		w.stamp(st)
	}
	w.v(s.UpdatedTS)
	return w.b
}

var errCorruptState = errors.New("corrupt record state")

type stateReader struct {
	b   []byte
	err error
}

func (r *stateReader) uv() uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorruptState
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *stateReader) v() int64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errCorruptState
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *stateReader) bytes() []byte {
	n := r.uv()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errCorruptState
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *stateReader) str() string { return string(r.bytes()) }

// count reads a length and checks it against what is left, so corrupt input can't make
// us allocate gigabytes.
func (r *stateReader) count() int {
	n := r.uv()
	if n > uint64(len(r.b)) {
		r.err = errCorruptState
		return 0
	}
	return int(n)
}

func (r *stateReader) strs() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

func (r *stateReader) stamp() Stamp {
	return Stamp{TS: r.v(), TC: uint32(r.uv()), Node: r.str(), Counter: r.uv()}
}

func decodeState(b []byte, s *State) error {
	if len(b) == 0 || b[0] != stateCodecVersion {
		return errCorruptState
	}
	r := stateReader{b: b[1:]}
	if n := r.count(); n > 0 {
		s.Fields = make(map[string]register, n)
		for i := 0; i < n && r.err == nil; i++ {
			k := r.str()
			s.Fields[k] = register{S: r.stamp()}
		}
	}
	if n := r.count(); n > 0 {
		s.Sets = make(map[string]map[string]*element, n)
		for i := 0; i < n && r.err == nil; i++ {
			k := r.str()
			m := r.count()
			set := make(map[string]*element, m)
			for j := 0; j < m && r.err == nil; j++ {
				el := &element{V: r.bytes()}
				el.Adds, el.Removed = r.strs(), r.strs()
				set[string(el.V)] = el
			}
			s.Sets[k] = set
		}
	}
	if n := r.count(); n > 0 {
		s.Logs = make(map[string][]entry, n)
		for i := 0; i < n && r.err == nil; i++ {
			k := r.str()
			m := r.count()
			log := make([]entry, m)
			for j := range log {
				log[j] = entry{S: r.stamp()}
			}
			s.Logs[k] = log
		}
	}
	s.LastWrite, s.LastDelete = r.stamp(), r.stamp()
	if len(r.b) == 0 {
		return errCorruptState
	}
	s.Withdrawn, r.b = r.b[0] == 1, r.b[1:]
	s.WithdrawnAt = r.stamp()
	if n := r.count(); n > 0 {
		s.ErasedBefore = make(map[string]Stamp, n)
		for i := 0; i < n && r.err == nil; i++ {
			k := r.str()
			s.ErasedBefore[k] = r.stamp()
		}
	}
	s.UpdatedTS = r.v()
	return r.err
}

// fillValues puts register and log values back from the record's stored view.
func fillValues(s *State, view []byte) error {
	if len(view) == 0 {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(view, &fields); err != nil {
		return err
	}
	for k, r := range s.Fields {
		r.V = fields[k] // absent: the value was null
		s.Fields[k] = r
	}
	for k, log := range s.Logs {
		if len(log) == 0 {
			continue
		}
		var vals []json.RawMessage
		if err := json.Unmarshal(fields[k], &vals); err != nil || len(vals) != len(log) {
			return errCorruptState
		}
		for i := range log {
			log[i].V = vals[i]
		}
	}
	return nil
}
