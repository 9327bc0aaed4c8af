package sqlite

import "encoding/json"

// jsonList encodes names for `IN (SELECT value FROM json_each(?))`: one parameter
// whatever the list's length.
func jsonList(xs []string) string {
	if xs == nil {
		xs = []string{}
	}
	b, _ := json.Marshal(xs)
	return string(b)
}

func parseList(s string) []string {
	out := []string{}
	_ = json.Unmarshal([]byte(s), &out)
	return out
}
