package syncengine

import (
	"bytes"

	fastjson "github.com/segmentio/encoding/json"
)

// maxJSONDepth is encoding/json's nesting limit: it refuses anything deeper.
const maxJSONDepth = 10000

// maxFastAnyDepth is how deep a document decoded into an interface (canonicalJSON's
// op values) may nest and still go to segmentio. Into an interface it reads each nested
// value once per level above it (parseValue, then the decode of its contents), so its
// time grows with size × depth: a 64 KiB value 9,990 deep took a second where
// encoding/json takes 2 ms. Real values nest a few levels; deeper ones are left to
// encoding/json, which reads them in one pass.
const maxFastAnyDepth = 64

// FastUnmarshal decodes b into v with segmentio's decoder (4.7× faster than
// encoding/json into ops, 2× into an any) and reports whether it did. It reports false,
// with v perhaps half filled, when the decoder fails or b may nest deeper than
// encoding/json allows: segmentio has no limit and slows down sharply on deep nesting
// (a push of a value a million brackets deep would hold a core for minutes). Then decode
// again, into a fresh value, with encoding/json, whose errors the caller answers with.
// Into an interface (v a *any) it also reports false when b nests deeper than
// maxFastAnyDepth; other targets must hold no interface that deep values could reach
// (a push's op values are json.RawMessage, which segmentio reads in one pass).
// Where both decode, they read the same (TestFastJSONAgrees, FuzzFastJSONAgrees).
func FastUnmarshal(b []byte, v any) bool {
	limit := maxJSONDepth
	if _, ok := v.(*any); ok {
		limit = maxFastAnyDepth
	}
	return withinDepth(b, limit) && fastjson.Unmarshal(b, v) == nil
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
