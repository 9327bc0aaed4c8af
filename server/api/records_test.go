package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/auth"
)

func TestRecords(t *testing.T) {
	e := newEnv(t)
	var convs []string
	for i := 0; i < 5; i++ {
		_, _, v := e.conversation(&e.devN, e.engN)
		convs = append(convs, v)
	}
	_, _, southConv := e.conversation(&e.devS, e.engS)
	list := func(want int, more bool) func(t *testing.T, r response) {
		return func(t *testing.T, r response) {
			var out struct {
				Records []api.RecordJSON `json:"records"`
				Next    string           `json:"next"`
			}
			if err := json.Unmarshal(r.body, &out); err != nil {
				t.Fatal(err)
			}
			if len(out.Records) != want || (out.Next != "") != more {
				t.Fatalf("records = %d, next %q: %s", len(out.Records), out.Next, r.body)
			}
			for _, rec := range out.Records {
				if rec.ID == "" || rec.UpdatedTS == 0 || rec.Fields == nil || rec.Team == "" {
					t.Fatalf("record = %+v", rec)
				}
			}
		}
	}
	future := time.Now().Add(time.Hour).UnixMilli()
	e.run(t, []scenario{
		{name: "List", req: req{method: "GET", path: "/v1/records/conversation", token: e.coordN}, status: 200, check: list(5, false)},
		{name: "ListPage", req: req{method: "GET", path: "/v1/records/conversation?limit=2", token: e.coordN}, status: 200, check: list(2, true)},
		{name: "ListAfter", req: req{method: "GET", path: "/v1/records/conversation?limit=10&after=" + convs[2], token: e.coordN}, status: 200, check: list(2, false)},
		{name: "ListUpdatedSince", req: req{method: "GET", path: fmt.Sprintf("/v1/records/conversation?updated_since=%d", future), token: e.coordN}, status: 200, check: list(0, false)},
		{name: "ListAdminAll", req: req{method: "GET", path: "/v1/records/conversation", token: e.admin}, status: 200, check: list(6, false)},
		{name: "ListAdminTeam", req: req{method: "GET", path: "/v1/records/conversation?team=south", token: e.admin}, status: 200, check: list(1, false)},
		{name: "ListOwnTeam", req: req{method: "GET", path: "/v1/records/conversation?team=north", token: e.coordN}, status: 200, check: list(5, false)},
		{name: "ListOtherTeam", req: req{method: "GET", path: "/v1/records/conversation?team=south", token: e.coordN}, status: 403, code: "out_of_scope"},
		{name: "ListUnknownCollection", req: req{method: "GET", path: "/v1/records/spaceships", token: e.coordN}, status: 404, code: "unknown_collection"},
		{name: "ListBadLimit", req: req{method: "GET", path: "/v1/records/conversation?limit=-1", token: e.coordN}, status: 400, code: "invalid_query"},
		{name: "ListBadSince", req: req{method: "GET", path: "/v1/records/conversation?updated_since=yesterday", token: e.coordN}, status: 400, code: "invalid_query"},
		{name: "ListByDevice", req: req{method: "GET", path: "/v1/records/conversation", token: e.devN.AccessToken}, status: 403, code: "forbidden"},
		{name: "Get", req: req{method: "GET", path: "/v1/records/conversation/" + convs[0], token: e.coordN}, status: 200,
			check: func(t *testing.T, r response) {
				var rec api.RecordJSON
				json.Unmarshal(r.body, &rec)
				if rec.ID != convs[0] || rec.Collection != "conversation" || rec.Team != "north" || rec.History != nil {
					t.Fatalf("record = %s", r.body)
				}
				if !strings.Contains(string(r.body[:]), `"answer.what_works"`) {
					t.Fatalf("answer missing: %s", r.body)
				}
			}},
		{name: "GetHistory", req: req{method: "GET", path: "/v1/records/conversation/" + convs[0] + "?history=1", token: e.coordN}, status: 200,
			check: func(t *testing.T, r response) {
				var rec api.RecordJSON
				json.Unmarshal(r.body, &rec)
				if len(rec.History) != 4 {
					t.Fatalf("history = %d ops: %s", len(rec.History), r.body)
				}
				for _, h := range rec.History {
					if h.By.Kind != "device" || h.By.ID != e.devN.DeviceID || h.Node != e.devN.NodeID || h.TS == 0 {
						t.Fatalf("history entry = %+v", h)
					}
				}
			}},
		{name: "GetOtherTeam", req: req{method: "GET", path: "/v1/records/conversation/" + southConv, token: e.coordN}, status: 403, code: "out_of_scope"},
		{name: "DeviceReadsOtherTeam", req: req{method: "GET", path: "/v1/records/conversation/" + southConv, token: e.devN.AccessToken}, status: 403, code: "forbidden"},
		{name: "DeviceReadsOwnTeam", req: req{method: "GET", path: "/v1/records/conversation/" + convs[0], token: e.devN.AccessToken}, status: 403, code: "forbidden"},
		{name: "GetUnknown", req: req{method: "GET", path: "/v1/records/conversation/" + auth.NewID(), token: e.coordN}, status: 404, code: "not_found"},
		{name: "GetMalformedID", req: req{method: "GET", path: "/v1/records/conversation/%20nope", token: e.coordN}, status: 404, code: "not_found"},
		{name: "GetUnknownCollection", req: req{method: "GET", path: "/v1/records/spaceships/" + convs[0], token: e.coordN}, status: 404, code: "unknown_collection"},
		{name: "NoToken", req: req{method: "GET", path: "/v1/records/conversation"}, status: 401, code: "unauthorized"},
	})
}
