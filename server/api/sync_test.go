package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

func pushReq(token string, body any) req {
	return req{method: "POST", path: "/v1/sync/push", token: token, body: body}
}

func decodePush(t *testing.T, r response) syncengine.PushResponse {
	t.Helper()
	var p syncengine.PushResponse
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("push answer: %v: %s", err, r.body)
	}
	return p
}

func rejected(codes ...string) func(t *testing.T, r response) {
	return func(t *testing.T, r response) {
		t.Helper()
		p := decodePush(t, r)
		if len(p.Rejected) != len(codes) {
			t.Fatalf("rejected = %+v, want codes %v", p.Rejected, codes)
		}
		for i, c := range codes {
			if p.Rejected[i].Code != c || p.Rejected[i].Message == "" {
				t.Fatalf("rejected[%d] = %+v, want %s", i, p.Rejected[i], c)
			}
		}
	}
}

func TestPushErrors(t *testing.T) {
	e := newEnv(t)
	d, s := &e.devN, &e.devS
	conv := auth.NewID()
	many := make([]syncengine.Op, 5001)
	for i := range many {
		many[i] = d.op("conversation", conv, "append", "notes", "x")
	}
	bigValue := strings.Repeat("y", 60<<10)
	var huge []syncengine.Op
	for i := 0; i < 140; i++ { // about 8.4 MiB
		huge = append(huge, d.op("conversation", conv, "append", "notes", bigValue))
	}
	bomb := `{"ops": [` + strings.Repeat(" ", 40<<20) + `]}` // 40 MiB of spaces, ~40 KiB gzipped

	e.run(t, []scenario{
		{name: "NotJSON", req: pushReq(d.AccessToken, "ops=1"), status: 400, code: "malformed_json"},
		{name: "Empty", req: pushReq(d.AccessToken, ""), status: 400, code: "malformed_json"},
		{name: "Truncated", req: pushReq(d.AccessToken, `{"ops": [{"node": "x"`), status: 400, code: "malformed_json"},
		// Deeper than encoding/json's limit: refused as it always was, and at once (the
		// fast decoder alone took minutes over such a value).
		{name: "NestedTooDeep", req: pushReq(d.AccessToken, `{"ops": [{"value": `+strings.Repeat("[", 500_000)+strings.Repeat("]", 500_000)+`}]}`), status: 400, code: "malformed_json"},
		{name: "OpsNotArray", req: pushReq(d.AccessToken, `{"ops": {"node": "x"}}`), status: 422, code: "invalid_type"},
		{name: "OpsMissing", req: pushReq(d.AccessToken, `{}`), status: 422, code: "required"},
		{name: "OpsNull", req: pushReq(d.AccessToken, `{"ops": null}`), status: 422, code: "required"},
		{name: "EmptyBatch", req: pushReq(d.AccessToken, `{"ops": []}`), status: 200, check: rejected()},
		{name: "TooManyOps", req: pushReq(d.AccessToken, syncengine.PushRequest{Ops: many}), status: 413, code: "body_too_large"},
		{name: "TooLarge", req: pushReq(d.AccessToken, syncengine.PushRequest{Ops: huge}), status: 413, code: "body_too_large"},
		{name: "GzipBomb", req: req{method: "POST", path: "/v1/sync/push", token: d.AccessToken, body: bomb, gzip: true}, status: 413, code: "body_too_large"},
		{name: "Gzip", req: req{method: "POST", path: "/v1/sync/push", token: d.AccessToken, gzip: true,
			body: syncengine.PushRequest{Ops: []syncengine.Op{d.op("conversation", conv, "set", "engagement", e.engN)}}}, status: 200, check: rejected()},
		{name: "UnknownEnum", req: pushReq(d.AccessToken, syncengine.PushRequest{Ops: []syncengine.Op{
			d.op("engagement", e.engN, "set", "venue_type", "spaceship"),
			d.op("engagement", e.engN, "set", "area", "B11"),
		}}), status: 200, check: func(t *testing.T, r response) {
			rejected("invalid_enum")(t, r)
			p := decodePush(t, r)
			if p.Accepted != 1 || !strings.Contains(p.Rejected[0].Message, "community_centre") {
				t.Fatalf("push = %+v", p)
			}
		}},
		{name: "UnknownKindAndBadRecordID", req: pushReq(d.AccessToken, syncengine.PushRequest{Ops: []syncengine.Op{
			d.op("engagement", e.engN, "explode", "area", "x"),
			d.op("engagement", "not-a-uuid", "set", "area", "x"),
			d.op("Bad Collection", e.engN, "set", "area", "x"),
		}}), status: 200, check: rejected("invalid_kind", "invalid_record_id", "unknown_collection")},
		{name: "WrongTypedOp", req: pushReq(d.AccessToken, fmt.Sprintf(`{"ops": [
			{"node": %q, "counter": "seven", "ts": 1, "collection": "engagement", "record": %q, "kind": "set", "field": "area", "value": "x"},
			{"node": %q, "counter": %d, "ts": %d, "collection": "engagement", "record": %q, "kind": "set", "field": "area", "value": "B12"}]}`,
			d.NodeID, e.engN, d.NodeID, d.counter+100, time.Now().UnixMilli(), e.engN)), status: 200,
			check: func(t *testing.T, r response) {
				rejected("invalid_type")(t, r)
				if p := decodePush(t, r); p.Accepted != 1 || p.Rejected[0].Node != d.NodeID {
					t.Fatalf("push = %+v", p)
				}
			}},
		{name: "WrongValueType", req: pushReq(d.AccessToken, syncengine.PushRequest{Ops: []syncengine.Op{d.op("engagement", e.engN, "set", "starts_at", "tomorrow")}}), status: 200, check: rejected("invalid_type")},
		{name: "OtherTeamsRecord", req: pushReq(d.AccessToken, syncengine.PushRequest{Ops: []syncengine.Op{d.op("engagement", e.engS, "set", "title", "ours now")}}), status: 200, check: rejected("out_of_scope")},
		{name: "NewRecordInOtherTeam", req: pushReq(d.AccessToken, syncengine.PushRequest{Ops: []syncengine.Op{d.op("conversation", auth.NewID(), "set", "engagement", e.engS)}}), status: 200, check: rejected("out_of_scope")},
		{name: "NewEngagementForOtherTeam", req: pushReq(d.AccessToken, syncengine.PushRequest{Ops: []syncengine.Op{d.op("engagement", auth.NewID(), "set", "team", "south")}}), status: 200, check: rejected("out_of_scope")},
		{name: "MoveRecordToOtherTeam", req: pushReq(d.AccessToken, syncengine.PushRequest{Ops: []syncengine.Op{d.op("engagement", e.engN, "set", "team", "south")}}), status: 200, check: rejected("out_of_scope")},
		{name: "AnotherNodesOps", req: pushReq(d.AccessToken, syncengine.PushRequest{Ops: []syncengine.Op{s.op("engagement", e.engN, "set", "title", "forged")}}), status: 200, check: rejected("not_own_node")},
		{name: "CoordinatorOtherTeam", req: req{method: "POST", path: "/v1/sync/push?team=south", token: e.coordN, body: `{"ops": []}`}, status: 403, code: "out_of_scope"},
		{name: "RejectionInPolish", req: req{method: "POST", path: "/v1/sync/push", token: d.AccessToken, header: map[string]string{"Accept-Language": "pl"},
			body: syncengine.PushRequest{Ops: []syncengine.Op{d.op("engagement", e.engS, "set", "title", "x")}}}, status: 200,
			check: func(t *testing.T, r response) {
				if p := decodePush(t, r); strings.Contains(p.Rejected[0].Message, "belongs to another team") {
					t.Fatalf("message not translated: %q", p.Rejected[0].Message)
				}
			}},
	})
}

func TestPushIdempotentAndRestamp(t *testing.T) {
	e := newEnv(t)
	d := &e.devN
	conv := auth.NewID()
	batch := []syncengine.Op{d.op("conversation", conv, "set", "engagement", e.engN), d.op("conversation", conv, "append", "notes", "first visit")}
	first := e.push(d, batch...)
	again := e.push(d, batch...)
	if first.Accepted != 2 || first.Duplicates != 0 || again.Accepted != 0 || again.Duplicates != 2 {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	if first.Cursor == "" || first.ServerTS == 0 {
		t.Fatalf("push answer lacks cursor or server_ts: %+v", first)
	}

	ahead := d.op("conversation", conv, "set", "interpreter", "Amrit")
	ahead.TS = time.Now().Add(365 * 24 * time.Hour).UnixMilli()
	res := e.push(d, ahead)
	if res.Accepted != 1 || len(res.Restamped) != 1 {
		t.Fatalf("restamp push = %+v", res)
	}
	r := res.Restamped[0]
	if r.Node != ahead.Node || r.Counter != ahead.Counter || r.TS >= ahead.TS || r.TS > res.ServerTS+int64(syncengine.DefaultMaxSkew/time.Millisecond) {
		t.Fatalf("restamped = %+v (sent ts %d, server_ts %d)", r, ahead.TS, res.ServerTS)
	}
	// Sent again (the device missed our answer): still the restamped copy comes back.
	res = e.push(d, ahead)
	if res.Duplicates != 1 || len(res.Restamped) != 1 || res.Restamped[0].TS != r.TS {
		t.Fatalf("restamp again = %+v", res)
	}
}

func pullAll(t *testing.T, e *env, token string, limit int, cursor string) (ops []syncengine.Op, erased []syncengine.RecordKey, last string, pages int) {
	t.Helper()
	for {
		var page syncengine.PullResponse
		e.ok("GET", fmt.Sprintf("/v1/sync/pull?cursor=%s&limit=%d", cursor, limit), token, nil, &page)
		pages++
		if page.ServerTS == 0 || page.Ops == nil || page.Erased == nil {
			t.Fatalf("page = %+v", page)
		}
		ops = append(ops, page.Ops...)
		erased = append(erased, page.Erased...)
		if page.Cursor == "" && len(page.Ops) > 0 {
			t.Fatal("empty cursor after ops")
		}
		cursor = page.Cursor
		if !page.More {
			return ops, erased, cursor, pages
		}
		if pages > 1000 {
			t.Fatal("pull does not end")
		}
	}
}

func TestPullStateAndWithdrawal(t *testing.T) {
	e := newEnv(t)
	var consents, convs []string
	for i := 0; i < 4; i++ {
		_, c, v := e.conversation(&e.devN, e.engN)
		consents, convs = append(consents, c), append(convs, v)
	}
	e.conversation(&e.devS, e.engS)

	// A fresh device of the north team pulls in small pages and rebuilds the state.
	fresh := e.enrol(e.coordN, "north")
	ops, erased, cursor, pages := pullAll(t, e, fresh.AccessToken, 7, "")
	if want := 3 + 4*10; len(ops) != want || len(erased) != 0 || pages < 6 {
		t.Fatalf("pulled %d ops in %d pages (erased %d), want %d", len(ops), pages, len(erased), want)
	}
	seen := map[string]bool{}
	for _, op := range ops {
		if op.Record == e.engS {
			t.Fatal("north pulled south's engagement")
		}
		if seen[op.ID()] {
			t.Fatalf("op %s pulled twice", op.ID())
		}
		seen[op.ID()] = true
	}
	local, err := syncengine.Open(filepath.Join(t.TempDir(), "device.db"), syncengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	ctx := context.Background()
	if res, err := local.Apply(ctx, ops, syncengine.ApplyOptions{Team: "north"}); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("local apply: %v %+v", err, res.Rejected)
	}
	state := func(token string) syncengine.StateResponse {
		var s syncengine.StateResponse
		e.ok("GET", "/v1/sync/state", token, nil, &s)
		return s
	}
	server := state(fresh.AccessToken)
	hash, n, err := local.StateHash(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if hash != server.Hash || n != server.Records || n != 1+4*3 {
		t.Fatalf("local %s/%d, server %s/%d", hash, n, server.Hash, server.Records)
	}
	var coordState syncengine.StateResponse
	e.ok("GET", "/v1/sync/state?team=north", e.coordN, nil, &coordState)
	if coordState != server {
		t.Fatalf("coordinator's state %+v != device's %+v", coordState, server)
	}

	// Withdraw one consent centrally: the next pull says what to erase.
	var wr struct {
		Consent   string                 `json:"consent"`
		Withdrawn bool                   `json:"withdrawn"`
		Already   bool                   `json:"already_withdrawn"`
		Erased    []syncengine.RecordKey `json:"erased"`
	}
	e.ok("POST", "/v1/consents/"+consents[0]+"/withdraw", e.coordN, map[string]any{"reason": "asked by phone"}, &wr)
	if !wr.Withdrawn || wr.Already || len(wr.Erased) != 1 || wr.Erased[0].Record != convs[0] {
		t.Fatalf("withdraw = %+v", wr)
	}
	ops2, erased2, _, _ := pullAll(t, e, fresh.AccessToken, 500, cursor)
	if len(erased2) != 1 || erased2[0] != (syncengine.RecordKey{Collection: "conversation", Record: convs[0]}) {
		t.Fatalf("erased = %+v", erased2)
	}
	if _, err := local.Apply(ctx, ops2, syncengine.ApplyOptions{Team: "north"}); err != nil {
		t.Fatal(err)
	}
	if err := local.Purge(ctx, erased2, "north"); err != nil {
		t.Fatal(err)
	}
	server = state(fresh.AccessToken)
	if hash, n, _ = local.StateHash(ctx, nil); hash != server.Hash || n != server.Records {
		t.Fatalf("after withdrawal: local %s/%d, server %s/%d", hash, n, server.Hash, server.Records)
	}

	e.run(t, []scenario{
		{name: "ErasedConversationGone", req: req{method: "GET", path: "/v1/records/conversation/" + convs[0], token: e.coordN}, status: 404, code: "record_erased"},
		{name: "ConsentStaysWithdrawn", req: req{method: "GET", path: "/v1/records/consent/" + consents[0], token: e.coordN}, status: 200,
			check: func(t *testing.T, r response) {
				if !strings.Contains(string(r.body), `"withdrawn":true`) {
					t.Fatalf("consent = %s", r.body)
				}
			}},
		{name: "WithdrawAgain", req: req{method: "POST", path: "/v1/consents/" + consents[0] + "/withdraw", token: e.coordN, body: map[string]any{}}, status: 200,
			check: func(t *testing.T, r response) {
				if !strings.Contains(string(r.body), `"already_withdrawn":true`) {
					t.Fatalf("again = %s", r.body)
				}
			}},
		{name: "WithdrawNoBody", req: req{method: "POST", path: "/v1/consents/" + consents[1] + "/withdraw", token: e.admin}, status: 200},
		{name: "WithdrawOtherTeam", req: req{method: "POST", path: "/v1/consents/" + consents[2] + "/withdraw", token: e.coordS, body: map[string]any{}}, status: 403, code: "out_of_scope"},
		{name: "WithdrawUnknown", req: req{method: "POST", path: "/v1/consents/" + auth.NewID() + "/withdraw", token: e.coordN, body: map[string]any{}}, status: 404, code: "not_found"},
		{name: "WithdrawByDevice", req: req{method: "POST", path: "/v1/consents/" + consents[2] + "/withdraw", token: e.devN.AccessToken, body: map[string]any{}}, status: 403, code: "forbidden"},
		{name: "WithdrawBadBody", req: req{method: "POST", path: "/v1/consents/" + consents[2] + "/withdraw", token: e.coordN, body: `{"reason": 5}`}, status: 422, code: "invalid_type"},
		{name: "PullBadCursor", req: req{method: "GET", path: "/v1/sync/pull?cursor=abc", token: fresh.AccessToken}, status: 400, code: "invalid_cursor"},
		{name: "PullNegativeCursor", req: req{method: "GET", path: "/v1/sync/pull?cursor=-5", token: fresh.AccessToken}, status: 400, code: "invalid_cursor"},
		{name: "PullBadLimit", req: req{method: "GET", path: "/v1/sync/pull?limit=zero", token: fresh.AccessToken}, status: 400, code: "invalid_query"},
		{name: "PullHugeLimitClamped", req: req{method: "GET", path: "/v1/sync/pull?limit=999999", token: fresh.AccessToken}, status: 200},
		{name: "PullOtherTeamByDevice", req: req{method: "GET", path: "/v1/sync/pull?team=south", token: fresh.AccessToken}, status: 403, code: "out_of_scope"},
		{name: "StateOtherTeamByCoordinator", req: req{method: "GET", path: "/v1/sync/state?team=south", token: e.coordN}, status: 403, code: "out_of_scope"},
		{name: "AdminPullsEverything", req: req{method: "GET", path: "/v1/sync/pull?limit=5000", token: e.admin}, status: 200,
			check: func(t *testing.T, r response) {
				if !strings.Contains(string(r.body), e.engS) || !strings.Contains(string(r.body), e.engN) {
					t.Fatal("admin pull misses a team")
				}
			}},
	})
}

func TestCoordinatorPush(t *testing.T) {
	e := newEnv(t)
	node := e.coordNUser.NodeID
	op := syncengine.Op{Node: node, Counter: 1, TS: time.Now().UnixMilli(), Collection: "engagement", Record: e.engN, Kind: "set", Field: "topic", Value: json.RawMessage(`"Pharmacy access"`)}
	foreign := op
	foreign.Node, foreign.Counter = e.devN.NodeID, 999
	e.run(t, []scenario{
		{name: "OwnNode", req: pushReq(e.coordN, syncengine.PushRequest{Ops: []syncengine.Op{op}}), status: 200, check: rejected()},
		{name: "DevicesNode", req: pushReq(e.coordN, syncengine.PushRequest{Ops: []syncengine.Op{foreign}}), status: 200, check: rejected("not_own_node")},
		{name: "HistoryNamesAuthors", req: req{method: "GET", path: "/v1/records/engagement/" + e.engN + "?history=1", token: e.coordN}, status: 200,
			check: func(t *testing.T, r response) {
				var rec struct {
					Fields  map[string]any
					History []struct {
						Node, Kind, Field string
						By                struct{ Kind, ID, Label string }
					}
				}
				json.Unmarshal(r.body, &rec)
				kinds := map[string]bool{}
				for _, h := range rec.History {
					kinds[h.By.Kind] = true
					if h.By.Kind == "device" && h.By.ID != e.devN.DeviceID {
						t.Fatalf("history names %+v", h.By)
					}
				}
				if len(rec.History) != 4 || !kinds["device"] || !kinds["user"] || rec.Fields["topic"] != "Pharmacy access" {
					t.Fatalf("record = %s", r.body)
				}
			}},
	})
}

// One (node, counter), one op (OpenRosa's instanceID rule): the same op pushed again is a
// duplicate; another body under the same identity is refused with op_id_reused, in the
// caller's language, and the first value stays.
func TestPushOpIDReused(t *testing.T) {
	e := newEnv(t)
	d := &e.devN
	first := d.op("engagement", e.engN, "set", "topic", "Bus routes")
	reused := first
	reused.Value = json.RawMessage(`"Something else"`)
	if res := e.push(d, first); res.Accepted != 1 {
		t.Fatalf("first push: %+v", res)
	}
	e.run(t, []scenario{
		{name: "SameOpIsDuplicate", req: pushReq(d.AccessToken, syncengine.PushRequest{Ops: []syncengine.Op{first}}), status: 200,
			check: func(t *testing.T, r response) {
				if p := decodePush(t, r); p.Duplicates != 1 || p.Accepted != 0 || len(p.Rejected) != 0 {
					t.Fatalf("%+v", p)
				}
			}},
		{name: "OtherBodyRefused", req: pushReq(d.AccessToken, syncengine.PushRequest{Ops: []syncengine.Op{reused, d.op("engagement", e.engN, "set", "area", "LS7")}}), status: 200,
			check: func(t *testing.T, r response) {
				rejected("op_id_reused")(t, r)
				p := decodePush(t, r)
				if p.Accepted != 1 || p.Duplicates != 0 || p.Rejected[0].Counter != first.Counter || p.Rejected[0].Node != first.Node {
					t.Fatalf("%+v", p)
				}
				if !strings.Contains(p.Rejected[0].Message, "already saved") {
					t.Fatalf("English message %q", p.Rejected[0].Message)
				}
			}},
		{name: "OtherBodyRefusedInWelsh", req: req{method: "POST", path: "/v1/sync/push", token: d.AccessToken, header: map[string]string{"Accept-Language": "cy"},
			body: syncengine.PushRequest{Ops: []syncengine.Op{reused}}}, status: 200,
			check: func(t *testing.T, r response) {
				rejected("op_id_reused")(t, r)
				if m := decodePush(t, r).Rejected[0].Message; !strings.Contains(m, "newid arall") {
					t.Fatalf("message not in Welsh: %q", m)
				}
			}},
		{name: "FirstValueStays", req: req{method: "GET", path: "/v1/records/engagement/" + e.engN, token: e.coordN}, status: 200,
			check: func(t *testing.T, r response) {
				if !strings.Contains(string(r.body), `"topic":"Bus routes"`) {
					t.Fatalf("record %s", r.body)
				}
			}},
	})
}

// A coordinator's client numbers its own ops from 1 under the coordinator's node, while the
// server writes that coordinator's API changes (here withdrawals) under the same node:
// neither ever refuses the other's ops.
func TestCoordinatorClientBesideServerWrites(t *testing.T) {
	e := newEnv(t)
	node := e.coordNUser.NodeID
	var consents []string
	for i := 0; i < 3; i++ {
		_, c, _ := e.conversation(&e.devN, e.engN)
		consents = append(consents, c)
	}
	for i, c := range consents {
		e.ok("POST", "/v1/consents/"+c+"/withdraw", e.coordN, map[string]string{"reason": "asked"}, nil)
		op := syncengine.Op{Node: node, Counter: uint64(i + 1), TS: time.Now().UnixMilli(), Collection: "engagement", Record: e.engN, Kind: "set", Field: "topic", Value: json.RawMessage(fmt.Sprintf(`"topic %d"`, i))}
		var res syncengine.PushResponse
		e.ok("POST", "/v1/sync/push", e.coordN, syncengine.PushRequest{Ops: []syncengine.Op{op}}, &res)
		if res.Accepted != 1 || len(res.Rejected) != 0 {
			t.Fatalf("coordinator client op %d: %+v", i+1, res)
		}
	}
	var rec struct {
		History []struct {
			Node    string
			Counter uint64
			Kind    string
		}
	}
	e.ok("GET", "/v1/records/consent/"+consents[2]+"?history=1", e.coordN, nil, &rec)
	found := false
	for _, h := range rec.History {
		if h.Kind == "withdraw" {
			found = true
			if h.Node != node || h.Counter <= syncengine.ForeignCounterBase {
				t.Fatalf("server's withdrawal written as %s:%d", h.Node, h.Counter)
			}
		}
	}
	if !found {
		t.Fatalf("no withdrawal in the consent's history: %+v", rec.History)
	}
}
