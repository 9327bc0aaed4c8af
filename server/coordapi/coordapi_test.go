package coordapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/coordapi"
	"github.com/fieldnotes/fieldnotes/server/reports/reportstest"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/sqlite"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/rs/zerolog"
)

type env struct {
	t     *testing.T
	srv   *api.Server
	token map[string]string
	eng   string
	convs []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tokens := auth.NewTokens([]byte("test-secret-key-0123456789abcdef-0123456789"), auth.Issuer, auth.Audience, auth.AccessTTL, time.Now)
	srv := api.New(api.Deps{Store: st, Tokens: tokens, Log: zerolog.Nop()}, api.Options{Argon2: auth.TestArgon2, RatePerSecond: 1000, RateBurst: 1000})
	srv.Mount(coordapi.Routes(dir))
	e := &env{t: t, srv: srv, token: map[string]string{}}
	ctx := context.Background()
	for _, team := range []string{"north", "south"} {
		if err := st.CreateTeam(ctx, store.Team{Name: team, CreatedAt: 1}); err != nil {
			t.Fatal(err)
		}
		u, err := api.NewUser("coord-"+team+"@example.org", "coord-password", store.RoleCoordinator, []string{team}, auth.TestArgon2, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		var tr api.TokenResponse
		e.do("POST", "/v1/auth/login", "", "", map[string]string{"email": "coord-" + team + "@example.org", "password": "coord-password"}, 200, &tr)
		e.token[team] = tr.AccessToken
	}
	// An engagement with 10 people in north (3 Welsh speakers among them), each under a
	// full consent, one conversation each.
	e.eng = reportstest.ID(1, 1)
	ch := []syncengine.Change{
		{Collection: schema.Engagement, Record: e.eng, Kind: schema.KindSet, Field: "team", Value: "north"},
		{Collection: schema.Engagement, Record: e.eng, Kind: schema.KindSet, Field: "title", Value: "Market"},
		{Collection: schema.Engagement, Record: e.eng, Kind: schema.KindSet, Field: "venue_type", Value: "market"},
	}
	for i := range 10 {
		p, c, cv := reportstest.ID(2, i), reportstest.ID(3, i), reportstest.ID(4, i)
		loc := "en"
		if i < 3 {
			loc = "cy"
		}
		ch = append(ch,
			syncengine.Change{Collection: schema.Participant, Record: p, Kind: schema.KindSet, Field: "engagement", Value: e.eng},
			syncengine.Change{Collection: schema.Participant, Record: p, Kind: schema.KindSet, Field: "preferred_locale", Value: loc},
			syncengine.Change{Collection: schema.Participant, Record: p, Kind: schema.KindAdd, Field: "communities", Value: "Welsh speakers"},
			syncengine.Change{Collection: schema.Participant, Record: p, Kind: schema.KindSet, Field: "contact_email", Value: fmt.Sprintf("p%d@example.org", i)},
			syncengine.Change{Collection: schema.Participant, Record: p, Kind: schema.KindSet, Field: "eq_ethnicity", Value: "white_british"},
			syncengine.Change{Collection: schema.Consent, Record: c, Kind: schema.KindSet, Field: "participant", Value: p},
			syncengine.Change{Collection: schema.Consent, Record: c, Kind: schema.KindSet, Field: "engagement", Value: e.eng},
			syncengine.Change{Collection: schema.Conversation, Record: cv, Kind: schema.KindSet, Field: "engagement", Value: e.eng},
			syncengine.Change{Collection: schema.Conversation, Record: cv, Kind: schema.KindSet, Field: "participant", Value: p},
			syncengine.Change{Collection: schema.Conversation, Record: cv, Kind: schema.KindSet, Field: "consent", Value: c},
			syncengine.Change{Collection: schema.Conversation, Record: cv, Kind: schema.KindAdd, Field: "themes", Value: "transport"},
		)
		for _, s := range schema.ConsentScopes {
			ch = append(ch, syncengine.Change{Collection: schema.Consent, Record: c, Kind: schema.KindAdd, Field: "scopes", Value: s})
		}
		e.convs = append(e.convs, cv)
	}
	if _, _, err := st.WriteAs(ctx, "seed", ch, syncengine.ApplyOptions{Hub: true}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) do(method, path, token, accept string, body any, want int, out any) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	r := httptest.NewRequest(method, path, rd)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	if w.Code != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, w.Code, want, w.Body.String())
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, w.Body.String())
		}
	}
	return w
}

type errBody struct {
	Error struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

func TestCoordinatorAPI(t *testing.T) {
	e := newEnv(t)
	n := e.token["north"]

	var rep map[string]any
	e.do("GET", "/v1/reports/participation?group_by=community", n, "", nil, 200, &rep)
	if tot := rep["total"].(map[string]any); tot["participants"] != 10.0 || rep["policy"] != "nhs" {
		t.Fatalf("report %v", rep)
	}
	e.do("GET", "/v1/reports/participation?group_by=community", e.token["south"], "", nil, 200, &rep)
	if tot := rep["total"].(map[string]any); tot["participants"] != 0.0 {
		t.Fatalf("south sees north: %v", rep)
	}
	e.do("GET", "/v1/reports/themes?group_by=venue_type&policy=cell&min_cell=3", n, "", nil, 200, &rep)
	e.do("GET", "/v1/reports/participation", "", "", nil, 401, nil)

	var eb errBody
	e.do("GET", "/v1/reports/participation?group_by=shoe_size", n, "", nil, 400, &eb)
	if eb.Error.Code != "invalid_query" || eb.Error.Details["field"] != "group_by" {
		t.Fatalf("%+v", eb)
	}

	// baselines and gaps
	e.do("PUT", "/v1/baselines/town", n, "", "group,share\nwhite_british,60\nasian_indian,25\nblack_african,15\n", 200, nil)
	e.do("PUT", "/v1/baselines/bad", n, "", "group,share\nwhite_british,0.5\nmartian,0.3\nwhite_british,0.1\n", 422, &eb)
	if eb.Error.Code != "invalid_baseline" || len(eb.Error.Details["problems"].([]any)) != 3 || eb.Error.Message == "" {
		t.Fatalf("%+v", eb)
	}
	var gaps struct {
		Rows []struct {
			Group string   `json:"group"`
			Ratio *float64 `json:"ratio"`
		} `json:"rows"`
	}
	e.do("GET", "/v1/reports/gaps?baseline=town", n, "", nil, 200, &gaps)
	if gaps.Rows[0].Ratio == nil || *gaps.Rows[0].Ratio != 0 || gaps.Rows[len(gaps.Rows)-1].Ratio != nil {
		t.Fatalf("gaps %+v", gaps)
	}
	e.do("GET", "/v1/reports/gaps?baseline=nope", n, "", nil, 404, nil)

	// decisions and feedback
	e.do("POST", "/v1/decisions", n, "", map[string]any{"title": "x", "outcome": "maybe"}, 422, &eb)
	if eb.Error.Code != "invalid_enum" || eb.Error.Details["field"] != "outcome" {
		t.Fatalf("%+v", eb)
	}
	var dec struct {
		ID string `json:"id"`
	}
	e.do("POST", "/v1/decisions", n, "", map[string]any{"title": "Buses", "outcome": "changed", "themes": []string{"transport"},
		"summary": map[string]string{"en": "a bus now stops at the surgery", "cy": "mae bws bellach yn stopio wrth y feddygfa"}, "conversations": e.convs[:4]}, 200, &dec)
	var q map[string]int
	e.do("POST", "/v1/decisions/"+dec.ID+"/feedback", n, "", nil, 200, &q)
	if q["queued"] != 4 || q["skipped_no_consent"] != 0 {
		t.Fatalf("%v", q)
	}
	e.do("POST", "/v1/decisions/"+dec.ID+"/feedback", e.token["south"], "", nil, 404, nil)
	w := e.do("GET", "/v1/feedback?status=queued", n, "text/csv", nil, 200, nil)
	body := w.Body.String()
	if !strings.HasPrefix(body, "\ufeff") || !strings.Contains(body, "p0@example.org") || !strings.Contains(body, "tri") && !strings.Contains(body, "\r\n") {
		t.Fatalf("csv %q", body)
	}
	var list struct {
		Feedback []struct {
			ID, Locale, Status string
		} `json:"feedback"`
	}
	e.do("GET", "/v1/feedback", n, "", nil, 200, &list)
	if len(list.Feedback) != 4 {
		t.Fatalf("%+v", list)
	}
	e.do("PATCH", "/v1/feedback/"+list.Feedback[0].ID, n, "", map[string]string{"status": "sent"}, 200, nil)
	e.do("PATCH", "/v1/feedback/"+list.Feedback[0].ID, n, "", map[string]string{"status": "lost"}, 422, nil)

	// exports and the log
	w = e.do("GET", "/v1/export/participant", n, "text/csv", nil, 200, nil)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.HasPrefix(w.Body.String(), "\ufeff") {
		t.Fatalf("content type %s", ct)
	}
	w = e.do("GET", "/v1/export/conversation", n, "application/x-ndjson", nil, 200, nil)
	if lines := strings.Count(w.Body.String(), "\n"); lines != 10 {
		t.Fatalf("%d ndjson lines", lines)
	}
	e.do("GET", "/v1/export/secrets", n, "text/csv", nil, 404, nil)
	e.do("GET", "/v1/export/participant", n, "application/pdf", nil, 406, nil)
	var log struct {
		Exports []map[string]any `json:"exports"`
	}
	e.do("GET", "/v1/exports", n, "", nil, 200, &log)
	if len(log.Exports) != 2 {
		t.Fatalf("%+v", log)
	}
	e.do("GET", "/v1/exports", e.token["south"], "", nil, 200, &log)
	if len(log.Exports) != 0 {
		t.Fatalf("south sees north's exports: %+v", log)
	}

	// audit trail
	var trail map[string]any
	e.do("GET", "/v1/engagements/"+e.eng+"/audit", n, "", nil, 200, &trail)
	if ds := trail["decisions"].([]any); len(ds) != 1 {
		t.Fatalf("%v", trail)
	}
	w = e.do("GET", "/v1/engagements/"+e.eng+"/audit", n, "text/csv", nil, 200, nil)
	if !strings.Contains(w.Body.String(), "fed_back") {
		t.Fatal(w.Body.String())
	}
	e.do("GET", "/v1/engagements/"+e.eng+"/audit", e.token["south"], "", nil, 404, nil)
}

var _ = http.StatusOK

// A decision linked to a conversation whose participant withdrew is saved with the live
// links, and the answer says which were left out: the coordinator could not have known.
func TestDecisionLinkedToErasedConversation(t *testing.T) {
	e := newEnv(t)
	n := e.token["north"]
	withdrawn := reportstest.ID(3, 5) // person 5's consent; their conversation is e.convs[5]
	e.do("POST", "/v1/consents/"+withdrawn+"/withdraw", n, "", map[string]string{"reason": "asked by phone"}, 200, nil)

	type answer struct {
		ID     string `json:"id"`
		Team   string `json:"team"`
		Fields struct {
			Conversations []string `json:"conversations"`
		} `json:"fields"`
		LeftOutErased []string `json:"left_out_erased"`
	}
	post := func(token string, convs []string, want int, out any) {
		t.Helper()
		e.do("POST", "/v1/decisions", token, "", map[string]any{"title": "Buses", "outcome": "changed", "conversations": convs}, want, out)
	}
	t.Run("OK", func(t *testing.T) {
		var a answer
		post(n, []string{e.convs[4], e.convs[5], e.convs[6]}, 200, &a)
		if len(a.LeftOutErased) != 1 || a.LeftOutErased[0] != e.convs[5] {
			t.Fatalf("left_out_erased = %v, want [%s]", a.LeftOutErased, e.convs[5])
		}
		if got := a.Fields.Conversations; len(got) != 2 || got[0] != e.convs[4] || got[1] != e.convs[6] {
			t.Fatalf("saved links %v, want the two live ones", got)
		}
		// Stored as answered.
		var rec struct {
			Fields struct {
				Conversations []string `json:"conversations"`
			} `json:"fields"`
		}
		e.do("GET", "/v1/records/decision/"+a.ID, n, "", nil, 200, &rec)
		if len(rec.Fields.Conversations) != 2 {
			t.Fatalf("stored links %v", rec.Fields.Conversations)
		}
	})
	t.Run("NoneErased", func(t *testing.T) {
		w := e.do("POST", "/v1/decisions", n, "", map[string]any{"title": "Buses", "outcome": "changed", "conversations": e.convs[:2]}, 200, nil)
		if !strings.Contains(w.Body.String(), `"left_out_erased":[]`) {
			t.Fatalf("want an empty left_out_erased: %s", w.Body.String())
		}
	})
	t.Run("OnlyErased", func(t *testing.T) {
		var a answer
		post(n, []string{e.convs[5]}, 200, &a)
		if len(a.LeftOutErased) != 1 || len(a.Fields.Conversations) != 0 || a.Team != "north" {
			t.Fatalf("%+v", a)
		}
	})
	t.Run("ErrUnknownConversation", func(t *testing.T) {
		var eb errBody
		post(n, []string{e.convs[4], reportstest.ID(9, 9)}, 422, &eb)
		if eb.Error.Code != "invalid_field" || eb.Error.Details["field"] != "conversations[1]" {
			t.Fatalf("%+v", eb)
		}
	})
	t.Run("ErrOtherTeamsErasedConversation", func(t *testing.T) {
		// South must not learn that north's conversation existed and was erased.
		var eb errBody
		post(e.token["south"], []string{e.convs[5]}, 422, &eb)
		if eb.Error.Code != "invalid_field" || eb.Error.Details["field"] != "conversations[0]" {
			t.Fatalf("%+v", eb)
		}
	})
}
