package syncengine

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeOp: no input makes op decoding or validation panic, and an op that validates
// re-encodes to JSON that decodes and validates to the same op.
func FuzzDecodeOp(f *testing.F) {
	seeds := []string{
		`{"node":"n1","counter":1,"ts":1763812800123,"tc":0,"collection":"conversation","record":"0193a4d0-0000-7000-8000-000000000001","kind":"set","field":"interpreter","value":"Amrit (Punjabi)"}`,
		`{"node":"n1","counter":2,"ts":1,"tc":3,"collection":"conversation","record":"0193a4d0-0000-7000-8000-000000000001","kind":"remove","field":"themes","value":"cost","observed":["n1:1","n2:7"]}`,
		`{"node":"n1","counter":3,"ts":1,"collection":"consent","record":"0193a4d0-0000-7000-8000-000000000001","kind":"withdraw"}`,
		`{"node":"n1","counter":4,"ts":1,"collection":"conversation","record":"0193a4d0-0000-7000-8000-000000000001","kind":"set","field":"answer.q1","value":{"text":"ਹਾਂ","prompt_locale":"pa","answer_locale":"pa","translation_en":"yes"}}`,
		`{"node":"n1","counter":5,"ts":1,"collection":"participant","record":"0193a4d0-0000-7000-8000-000000000001","kind":"set","field":"eq_ethnicity","value":"white_roma"}`,
		`{"node":"n1","counter":6,"ts":1,"collection":"conversation","record":"0193a4d0-0000-7000-8000-000000000001","kind":"append","field":"notes","value":"<script>&amp; \u2028"}`,
		`{"node":"","counter":-1}`, `[]`, `null`, `{"value":1e999}`, `{"counter":"1"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		op, err := DecodeOp(data)
		if err != nil {
			return
		}
		if verr := op.Validate(); verr != nil {
			if verr.Code == "" {
				t.Fatalf("validation error without a code: %v", verr)
			}
			return
		}
		again, err := json.Marshal(op)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		op2, err := DecodeOp(again)
		if err != nil {
			t.Fatalf("re-decode %s: %v", again, err)
		}
		if verr := op2.Validate(); verr != nil {
			t.Fatalf("valid op %s no longer validates: %v", again, verr)
		}
		if string(op2.Value) != string(op.Value) {
			t.Fatalf("value not canonical: %s then %s", op.Value, op2.Value)
		}
		// And the merge takes it without panicking.
		m := NewMemory(func() int64 { return 1 }, 1)
		if _, err := m.Apply([]Op{op2}, ApplyOptions{Hub: true}); err != nil {
			t.Fatal(err)
		}
		m.Hash()
	})
}
