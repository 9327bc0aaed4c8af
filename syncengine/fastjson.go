package syncengine

import (
	"bytes"

	fastjson "github.com/segmentio/encoding/json"
)

// maxJSONDepth is encoding/json's nesting limit: it refuses anything deeper.
const maxJSONDepth = 10000

// FastUnmarshal decodes b into v with segmentio's decoder (4.7× faster than
// encoding/json into ops, 2× into an any) and reports whether it did. It reports false,
// with v perhaps half filled, when the decoder fails or b may nest deeper than
// encoding/json allows: segmentio has no limit and slows down sharply on deep nesting
// (a push of a value a million brackets deep would hold a core for minutes). Then decode
// again, into a fresh value, with encoding/json, whose errors the caller answers with.
// Where both decode, they read the same (TestFastJSONAgrees, FuzzFastJSONAgrees).
func FastUnmarshal(b []byte, v any) bool {
	return withinDepth(b, maxJSONDepth) && fastjson.Unmarshal(b, v) == nil
}

// withinDepth reports whether the JSON text b nests arrays and objects at most limit
// deep (b need not be valid). Counting brackets settles almost every document at once,
// with bytes.Count's vector loop; only one with more brackets than limit is walked.
func withinDepth(b []byte, limit int) bool {
	if len(b) <= limit || bytes.Count(b, []byte{'['})+bytes.Count(b, []byte{'{'}) <= limit {
		return true
	}
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			if depth++; depth > limit {
				return false
			}
		case ']', '}':
			depth--
		}
	}
	return true
}
