package syncengine

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	fastjson "github.com/segmentio/encoding/json"
)

// The hub decodes pushes and op values with segmentio's decoder (faster) and relies on
// it refusing exactly what encoding/json refuses and reading the same values from what
// both accept. These inputs are the edges where decoders have differed.
var jsonEdges = []string{
	`"plain"`, `"é"`, "\"a\xffb\"", `"\ud800"`, `"\ud800x"`, `"\u00e9"`, "\"\x01\"", "\"a\tb\"",
	`{"a":1,"a":2}`, `{"A":1,"a":2}`, `1e400`, `-0`, `01`, `1.`, `.5`, `1e`, `tru`, `nul`, `[1,]`, `{"a":1,}`,
	`{"a":1}x`, `  "x"  `, `{"a" 1}`, `[]`, `{}`, `null`, `[[[[[[[[1]]]]]]]]`, `18446744073709551616`,
	`{"ops":null}`, `{"ops":[]}`, `{"ops":{}}`, `{"ops":[{"counter":-1}]}`, `{"ops":[{"counter":1.5}]}`,
	`{"ops":[{"counter":"1"}]}`, `{"ops":[{"counter":18446744073709551616}]}`, `{"ops":[{"Node":"x","COUNTER":2}]}`,
	`{"ops":[{"value":{"a":}}]}`, `{"ops":[{"value":12 }]}`, `{"ops":[{"value":  {"b" : 1 } }]}`,
	"{\"ops\":[{\"value\":\"\xff\",\"node\":\"\xfe\"}]}", `{"ops":[{"observed":["a",1]}]}`, `{"ops":[{"tc":4294967296}]}`,
	`{"ops":[{"ts":-5,"kind":null,"field":null,"value":null}]}`, `{"ops":[1]}`, `{"ops":"x"}`, `{"ops":[{}],"extra":true}`,
}

func TestFastJSONAgrees(t *testing.T) {
	for _, in := range jsonEdges {
		fastJSONAgrees(t, []byte(in))
	}
}

func FuzzFastJSONAgrees(f *testing.F) {
	for _, in := range jsonEdges {
		f.Add([]byte(in))
	}
	f.Fuzz(fastJSONAgrees)
}

// TestFastUnmarshalRefusesDeepNesting: encoding/json refuses documents nested deeper
// than 10,000; segmentio's decoder has no limit and is very slow on them (a value a
// hundred thousand brackets deep took minutes). FastUnmarshal leaves both to
// encoding/json, at once, and still takes a wide, shallow document.
func TestFastUnmarshalRefusesDeepNesting(t *testing.T) {
	for _, n := range []int{10001, 100_000, 4_000_000} {
		deep := []byte(`{"ops":[{"value":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}]}`)
		start := time.Now()
		var v any
		var p struct {
			Ops *[]Op `json:"ops"`
		}
		if FastUnmarshal(deep, &v) || FastUnmarshal(deep, &p) {
			t.Errorf("depth %d: taken by the fast decoder", n)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("depth %d: %v to refuse", n, took)
		}
		if err := json.Unmarshal(deep, &v); err == nil {
			t.Errorf("depth %d: encoding/json took it", n)
		}
	}
	wide := []byte(`[` + strings.TrimSuffix(strings.Repeat(`{"a":["[{"]},`, 20_000), ",") + `]`)
	var v, w any
	if !FastUnmarshal(wide, &v) || json.Unmarshal(wide, &w) != nil || !reflect.DeepEqual(v, w) {
		t.Error("a wide document of 40,000 brackets, 2 deep, was not read as encoding/json reads it")
	}
	// A push exactly 10,000 deep: its values are raw, read in one pass by segmentio.
	atLimit := []byte(`{"ops":[{"value":` + strings.Repeat("[", maxJSONDepth-3) + strings.Repeat("]", maxJSONDepth-3) + `}]}`)
	var p, q struct {
		Ops *[]Op `json:"ops"`
	}
	if !FastUnmarshal(atLimit, &p) || json.Unmarshal(atLimit, &q) != nil || !reflect.DeepEqual(p, q) {
		t.Error("a push exactly 10,000 deep is not taken by both alike")
	}
}

func fastJSONAgrees(t *testing.T, in []byte) {
	var a, b, c any
	if FastUnmarshal(in, &c) {
		if err := json.Unmarshal(in, &a); err != nil || !reflect.DeepEqual(a, c) {
			t.Errorf("FastUnmarshal took %q as %#v; encoding/json: %v %#v", in, c, err, a)
		}
		a = nil
	}
	ea, eb := json.Unmarshal(in, &a), fastjson.Unmarshal(in, &b)
	if (ea == nil) != (eb == nil) || (ea == nil && !reflect.DeepEqual(a, b)) {
		t.Errorf("into any %q: encoding/json %v %#v, segmentio %v %#v", in, ea, a, eb, b)
	}
	type push struct {
		Ops *[]Op `json:"ops"`
	}
	var pa, pb push
	ea, eb = json.Unmarshal(in, &pa), fastjson.Unmarshal(in, &pb)
	if (ea == nil) != (eb == nil) || (ea == nil && !reflect.DeepEqual(pa, pb)) {
		t.Errorf("into a push %q: encoding/json %v %+v, segmentio %v %+v", in, ea, pa, eb, pb)
	}
}

// TestValidateDeepValueCost: into an interface, segmentio's decoder reads every nested
// value once per level above it, so its time grows with size × depth. A value of 64 KiB
// (the largest an op may carry) nested 9,990 deep, within encoding/json's limit, took a
// second to validate against encoding/json's 2 ms: a push of a hundred such ops, a few
// KiB gzipped, held a core for minutes. Deep values are left to encoding/json.
func TestValidateDeepValueCost(t *testing.T) {
	const depth = 9990
	val := strings.Repeat("[", depth) + `"` + strings.Repeat("a", 64<<10-2*depth-2) + `"` + strings.Repeat("]", depth)
	start := time.Now()
	for i := range 4 {
		op := Op{Node: "node-01", Counter: uint64(i + 1), TS: 1_763_812_800_000, Collection: "conversation",
			Record: "01900000-0000-7000-8000-0000000000d1", Kind: "set", Field: "notes", Value: json.RawMessage(val)}
		op.Validate() // refused by the schema or not: the cost is in reading the value
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("4 ops with a value %d deep: %v to validate", depth, took)
	}
	// The fast decoder takes an interface only when it nests shallowly enough to be cheap.
	var v any
	shallow := []byte(strings.Repeat("[", maxFastAnyDepth) + strings.Repeat("]", maxFastAnyDepth))
	if !FastUnmarshal(shallow, &v) {
		t.Errorf("a value %d deep was not taken by the fast decoder", maxFastAnyDepth)
	}
	deeper := []byte(strings.Repeat("[", maxFastAnyDepth+1) + strings.Repeat("]", maxFastAnyDepth+1))
	if FastUnmarshal(deeper, &v) {
		t.Errorf("a value %d deep was taken by the fast decoder into an interface", maxFastAnyDepth+1)
	}
}
