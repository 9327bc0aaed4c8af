package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/console"
	"github.com/fieldnotes/fieldnotes/server/coordapi"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/sqlite"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
)

const password = "a-long-password"

// env is a console on a fresh store with two teams, a coordinator for each, an admin,
// and one consented conversation per team.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	st     *sqlite.DB
	ids    map[string]string // engagement.north, conversation.north, consent.north, … decision.south
	users  map[string]store.User
	logins int
	coord  *coordapi.Handlers
}

func newEnv(t *testing.T, opts ...func(*console.Deps)) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	e := &env{t: t, st: st, ids: map[string]string{}, users: map[string]store.User{}}
	now := time.Now().UnixMilli()
	for _, team := range []string{"north", "south"} {
		if err := st.CreateTeam(ctx, store.Team{Name: team, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	for name, u := range map[string]struct {
		role  string
		teams []string
	}{"north": {"coordinator", []string{"north"}}, "south": {"coordinator", []string{"south"}}, "admin": {"admin", nil}} {
		usr, err := api.NewUser(name+"@example.org", password, u.role, u.teams, auth.TestArgon2, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateUser(ctx, usr); err != nil {
			t.Fatal(err)
		}
		e.users[name] = usr
	}
	for _, team := range []string{"north", "south"} {
		e.seed(team)
	}
	deps := api.Deps{Store: st, Log: zerolog.Nop(), Now: time.Now, DataDir: dir}
	coord, err := coordapi.New(deps, filepath.Join(dir, "coord.db"))
	if err != nil {
		t.Fatal(err)
	}
	e.coord = coord
	d := console.Deps{Store: st, Sessions: st, Audit: st, Coord: coord, Argon2: auth.TestArgon2, Log: zerolog.Nop(),
		AllowLogin: func(string) (bool, time.Duration) { e.logins++; return e.logins <= 1000, time.Second }}
	for _, o := range opts {
		o(&d)
	}
	c, err := console.New(d)
	if err != nil {
		t.Fatal(err)
	}
	ec := echo.New()
	c.Mount(ec)
	e.srv = httptest.NewServer(ec)
	t.Cleanup(e.srv.Close)
	return e
}

// seed writes an engagement, a participant, a consent and a conversation in team.
func (e *env) seed(team string) {
	e.t.Helper()
	ids := func(k string) string { id := auth.NewID(); e.ids[k+"."+team] = id; return id }
	eng, part, cons, conv, ps := ids("engagement"), ids("participant"), ids("consent"), ids("conversation"), ids("promptset")
	set := func(coll, rec, field string, v any) syncengine.Change {
		return syncengine.Change{Collection: coll, Record: rec, Kind: schema.KindSet, Field: field, Value: v}
	}
	add := func(coll, rec, field string, v any) syncengine.Change {
		return syncengine.Change{Collection: coll, Record: rec, Kind: schema.KindAdd, Field: field, Value: v}
	}
	now := time.Now().UnixMilli()
	ch := []syncengine.Change{
		set(schema.PromptSet, ps, "team", team), set(schema.PromptSet, ps, "name", "Seeded set "+team), set(schema.PromptSet, ps, "version", 1),
		set(schema.PromptSet, ps, "prompts", []map[string]any{{"id": "route", "kind": "text", "text": map[string]string{"en": "Which route?"}}}),
		set(schema.Engagement, eng, "team", team), set(schema.Engagement, eng, "title", "Market day "+team),
		set(schema.Engagement, eng, "venue_type", "market"), add(schema.Engagement, eng, "languages", "en"),
		set(schema.Participant, part, "engagement", eng), set(schema.Participant, part, "preferred_locale", "cy"),
		set(schema.Participant, part, "contact_email", "secret-"+team+"@example.net"),
		set(schema.Consent, cons, "participant", part), set(schema.Consent, cons, "engagement", eng),
		set(schema.Consent, cons, "statement_locale", "cy"), set(schema.Consent, cons, "given_at", now),
		add(schema.Consent, cons, "scopes", "record_views"), add(schema.Consent, cons, "scopes", "contact_for_feedback"),
		set(schema.Conversation, conv, "engagement", eng), set(schema.Conversation, conv, "participant", part),
		set(schema.Conversation, conv, "consent", cons), set(schema.Conversation, conv, "started_at", now),
		add(schema.Conversation, conv, "locales", "cy"), add(schema.Conversation, conv, "themes", "buses"),
		set(schema.Conversation, conv, "answer.hear_back_preference", map[string]any{"choice": "community_venue", "prompt_locale": "cy", "answer_locale": "cy"}),
		set(schema.Conversation, conv, "answer.what_works", map[string]any{"text": "Y bws " + team, "prompt_locale": "cy", "answer_locale": "cy", "translation_en": "The bus"}),
	}
	if _, _, err := e.st.WriteAs(context.Background(), "seed-"+team, ch, syncengine.ApplyOptions{Hub: true, Team: team}); err != nil {
		e.t.Fatal(err)
	}
}

// client is a browser: cookies, no redirects followed.
type client struct {
	e    *env
	t    testing.TB
	http *http.Client
	csrf string
}

func (e *env) client(lang string) *client {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if lang != "" {
		u, _ := url.Parse(e.srv.URL + "/console/")
		jar.SetCookies(u, []*http.Cookie{{Name: "fieldnotes_lang", Value: lang, Path: "/console/"}})
	}
	return &client{e: e, t: e.t, http: hc}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(method, path string, form url.Values) (int, string, http.Header) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return res.StatusCode, string(b), res.Header
}

// signIn signs in as one of the env's users ("" stays signed out).
func (c *client) signIn(who string) *client {
	c.t.Helper()
	c.do("GET", "/console/sign-in", nil)
	if who == "" {
		return c
	}
	st, body, _ := c.do("POST", "/console/sign-in", url.Values{"csrf": {c.csrf}, "email": {who + "@example.org"}, "password": {password}, "next": {"/console/"}})
	if st != http.StatusSeeOther {
		c.t.Fatalf("sign in as %s: %d\n%s", who, st, body)
	}
	c.do("GET", "/console/engagements", nil) // picks up the session's token
	return c
}

type scenario struct {
	name     string
	who      string // "", north, south, admin
	lang     string
	method   string
	path     string
	form     url.Values
	noCSRF   bool
	status   int
	contains []string
	absent   []string
	location string
}

func (e *env) run(t *testing.T, scenarios []scenario) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			c := e.client(s.lang)
			c.t = t
			c.signIn(s.who)
			var form url.Values
			if s.form != nil || s.method == "POST" {
				form = url.Values{}
				for k, v := range s.form {
					form[k] = v
				}
				if !s.noCSRF {
					form.Set("csrf", c.csrf)
				}
			}
			path := s.path
			for k, v := range e.ids {
				path = strings.ReplaceAll(path, "{"+k+"}", v)
				for f, vs := range form {
					for i := range vs {
						form[f][i] = strings.ReplaceAll(vs[i], "{"+k+"}", v)
					}
				}
			}
			st, body, h := c.do(s.method, path, form)
			if st != s.status {
				t.Fatalf("%s %s: status %d, want %d\n%s", s.method, path, st, s.status, body)
			}
			for _, want := range s.contains {
				if !strings.Contains(body, want) {
					t.Errorf("%s %s: body lacks %q\n%s", s.method, path, want, body)
				}
			}
			for _, bad := range s.absent {
				if strings.Contains(body, bad) {
					t.Errorf("%s %s: body has %q", s.method, path, bad)
				}
			}
			if s.location != "" && !strings.HasPrefix(h.Get("Location"), s.location) {
				t.Errorf("Location %q, want prefix %q", h.Get("Location"), s.location)
			}
		})
	}
}

func TestPages(t *testing.T) {
	e := newEnv(t)
	e.run(t, []scenario{
		{name: "NoSessionRedirectsToSignIn", method: "GET", path: "/console/conversations", status: 303, location: "/console/sign-in?next=%2Fconsole%2Fconversations"},
		{name: "NoSessionPostRefused", method: "POST", path: "/console/engagements", form: url.Values{"title": {"x"}}, noCSRF: true, status: 403},
		{name: "SignInPage", method: "GET", path: "/console/sign-in", status: 200, contains: []string{`<html lang="en" dir="ltr"`, `name="csrf"`, "Sign in"}},
		{name: "SignInPageArabic", lang: "ar", method: "GET", path: "/console/sign-in", status: 200, contains: []string{`<html lang="ar" dir="rtl"`, "تسجيل الدخول"}},
		{name: "SignInPageWelsh", lang: "cy", method: "GET", path: "/console/sign-in", status: 200, contains: []string{`lang="cy"`, "Mewngofnodi"}},
		{name: "WrongPassword", method: "POST", path: "/console/sign-in", form: url.Values{"email": {"north@example.org"}, "password": {"wrong-password"}}, status: 401, contains: []string{"not right"}},
		{name: "SignInWithoutCSRF", method: "POST", path: "/console/sign-in", form: url.Values{"email": {"north@example.org"}, "password": {password}}, noCSRF: true, status: 403},
		{name: "Overview", who: "north", method: "GET", path: "/console/", status: 200, contains: []string{"Market day north", "Awaiting review"}, absent: []string{"Market day south"}},
		{name: "Engagements", who: "north", method: "GET", path: "/console/engagements", status: 200, contains: []string{"Market day north"}, absent: []string{"Market day south"}},
		{name: "EngagementsAdminSeesAll", who: "admin", method: "GET", path: "/console/engagements", status: 200, contains: []string{"Market day north", "Market day south"}},
		{name: "EngagementOtherTeam404", who: "north", method: "GET", path: "/console/engagements/{engagement.south}", status: 404, absent: []string{"Market day south"}},
		{name: "EngagementOtherTeamUpdate404", who: "north", method: "POST", path: "/console/engagements/{engagement.south}", form: url.Values{"title": {"Hijack"}, "languages": {"en"}, "prompt_set": {"community_conversation"}}, status: 404},
		{name: "EngagementCreateCSRFRefused", who: "north", method: "POST", path: "/console/engagements", form: url.Values{"title": {"New"}, "team": {"north"}, "languages": {"en"}, "prompt_set": {"community_conversation"}}, noCSRF: true, status: 403, contains: []string{"did not come from this page"}},
		{name: "EngagementCreateCSRFRefusedPolish", who: "north", lang: "pl", method: "POST", path: "/console/engagements", form: url.Values{"title": {"New"}}, noCSRF: true, status: 403, contains: []string{"nie pochodzi z tej strony"}},
		{name: "EngagementCreateOtherTeam", who: "north", method: "POST", path: "/console/engagements", form: url.Values{"title": {"New"}, "team": {"south"}, "languages": {"en"}, "prompt_set": {"community_conversation"}}, status: 422, contains: []string{"Choose one of your teams"}},
		{name: "EngagementCreateMissingTitle", who: "north", method: "POST", path: "/console/engagements", form: url.Values{"team": {"north"}, "languages": {"en"}, "prompt_set": {"community_conversation"}}, status: 422, contains: []string{"There is a problem", "Fill in this field"}},
		{name: "EngagementCreateBadDate", who: "north", method: "POST", path: "/console/engagements", form: url.Values{"title": {"x"}, "team": {"north"}, "languages": {"en"}, "prompt_set": {"community_conversation"}, "starts_at": {"2026-13-45"}}, status: 422, contains: []string{"real date"}},
		{name: "EngagementWithAnotherTeamsPromptSet", who: "admin", method: "POST", path: "/console/engagements", form: url.Values{"title": {"Mixed"}, "team": {"north"}, "languages": {"en"}, "prompt_set": {"{promptset.south}"}}, status: 422},
		{name: "EngagementWithOwnPromptSet", who: "admin", method: "POST", path: "/console/engagements", form: url.Values{"title": {"Own"}, "team": {"north"}, "languages": {"en"}, "prompt_set": {"{promptset.north}"}}, status: 303},
		{name: "EngagementCreate", who: "north", method: "POST", path: "/console/engagements", form: url.Values{"title": {"Library morning"}, "team": {"north"}, "venue_type": {"library"}, "languages": {"en", "cy"}, "prompt_set": {"community_conversation"}, "published": {"true"}}, status: 303, location: "/console/engagements?done=saved"},
		{name: "Conversations", who: "north", method: "GET", path: "/console/conversations", status: 200, contains: []string{"{conversation.north}"[:0] + "1 conversation", "buses"}, absent: []string{"Market day south"}},
		{name: "ConversationDetail", who: "north", method: "GET", path: "/console/conversations/{conversation.north}", status: 200, contains: []string{"Y bws north", "The bus", "Consent id", "What works well for you", "How would you like to hear from us?", "In person, at a community place like this one"}, absent: []string{"secret-north@example.net"}},
		{name: "ConversationOtherTeam404", who: "north", method: "GET", path: "/console/conversations/{conversation.south}", status: 404, absent: []string{"Y bws south"}},
		{name: "ReviewNeedsComment", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/review", form: url.Values{"review_state": {"has_issues"}}, status: 422, contains: []string{"Write a comment"}},
		{name: "ReviewBadState", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/review", form: url.Values{"review_state": {"lovely"}}, status: 422},
		{name: "ReviewOtherTeam404", who: "north", method: "POST", path: "/console/conversations/{conversation.south}/review", form: url.Values{"review_state": {"approved"}}, status: 404},
		{name: "ReviewWithoutCSRF", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/review", form: url.Values{"review_state": {"approved"}}, noCSRF: true, status: 403},
		{name: "Review", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/review", form: url.Values{"review_state": {"has_issues"}, "review_comment": {"Ask about the bus route"}}, status: 303},
		{name: "ReviewShown", who: "north", method: "GET", path: "/console/conversations/{conversation.north}", status: 200, contains: []string{"Ask about the bus route", "Has issues"}},
		{name: "ReviewFilter", who: "north", method: "GET", path: "/console/conversations?review=has_issues", status: 200, contains: []string{"1 conversation"}},
		{name: "ReviewFilterNone", who: "north", method: "GET", path: "/console/conversations?review=approved", status: 200, contains: []string{"0 conversations"}},
		{name: "BulkReviewNothingTicked", who: "north", method: "POST", path: "/console/conversations/review", form: url.Values{"review_state": {"approved"}}, status: 422},
		{name: "BulkReviewOtherTeamIgnored", who: "north", method: "POST", path: "/console/conversations/review", form: url.Values{"review_state": {"approved"}, "id": {"{conversation.south}"}}, status: 422},
		{name: "BulkReviewAllMatching", who: "north", method: "POST", path: "/console/conversations/review", form: url.Values{"review_state": {"approved"}, "all": {"true"}, "filter": {"theme=buses"}}, status: 303, location: "/console/conversations?done=reviewed&theme=buses"},
		{name: "BulkReviewApplied", who: "north", method: "GET", path: "/console/conversations?review=approved", status: 200, contains: []string{"1 conversation"}},
		{name: "BulkReviewLeftSouthAlone", who: "south", method: "GET", path: "/console/conversations?review=received", status: 200, contains: []string{"1 conversation"}},
		{name: "ThemeAdd", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/themes", form: url.Values{"theme": {"Parking"}, "action": {"add"}}, status: 303},
		{name: "ThemeShown", who: "north", method: "GET", path: "/console/conversations?theme=parking", status: 200, contains: []string{"1 conversation"}},
		{name: "PromptSetCSV", who: "north", method: "POST", path: "/console/prompt-sets", form: url.Values{"name": {"Bus survey"}, "team": {"north"}, "sheet": {"type,name,label::en,label::cy\ntext,route,Which route?,\nselect_one,often,How often?,Pa mor aml?\nchoice,daily,Daily,Bob dydd\n"}}, status: 303, location: "/console/prompt-sets/"},
		{name: "PromptSetBadSheet", who: "north", method: "POST", path: "/console/prompt-sets", form: url.Values{"name": {"Bad"}, "team": {"north"}, "sheet": {"name,label\nx,y\n"}}, status: 422, contains: []string{"type column"}},
		{name: "PromptSetChoiceOrphan", who: "north", method: "POST", path: "/console/prompt-sets", form: url.Values{"name": {"Bad"}, "team": {"north"}, "sheet": {"type,name,label::en\nchoice,a,A\n"}}, status: 422, contains: []string{"must come under"}},
		{name: "PromptSetNewVersion", who: "north", method: "POST", path: "/console/prompt-sets/{promptset.north}", form: url.Values{"name": {"Bus survey"}, "sheet": {"type,name,label::en,label::cy\ntext,route,Which route?,Pa lwybr?\n"}}, status: 303},
		{name: "PromptSetVersion2", who: "north", method: "GET", path: "/console/prompt-sets/{promptset.north}", status: 200, contains: []string{"Version 2", "Pa lwybr?"}, absent: []string{"Missing translations"}},
		{name: "PromptSetOtherTeam404", who: "south", method: "GET", path: "/console/prompt-sets/{promptset.north}", status: 404},
		{name: "PromptSets", who: "north", method: "GET", path: "/console/prompt-sets", status: 200, contains: []string{"Bus survey"}},
		{name: "Devices", who: "north", method: "GET", path: "/console/devices", status: 200, contains: []string{"Make an enrolment code"}},
		{name: "DeviceCode", who: "north", method: "POST", path: "/console/devices/codes", form: url.Values{"team": {"north"}, "label": {"Tablet 1"}}, status: 200, contains: []string{`id="enrolment-code"`, "<svg", "fieldnotes:enrol?code="}},
		{name: "DeviceCodeOtherTeam", who: "north", method: "POST", path: "/console/devices/codes", form: url.Values{"team": {"south"}}, status: 422},
		{name: "Reports", who: "north", method: "GET", path: "/console/reports?report=participation&group_by=language", status: 200, contains: []string{`id="legend"`, "counts from 1 to 7 are hidden", "hidden", "<svg"}},
		{name: "ReportsRejectedIncluded", who: "north", method: "GET", path: "/console/reports?include_rejected=true", status: 200, contains: []string{"are included, as asked"}},
		{name: "ReportsCell", who: "north", method: "GET", path: "/console/reports?report=themes&policy=cell&min_cell=3", status: 200, contains: []string{"counts below the minimum cell"}},
		{name: "ReportsBadPolicy", who: "north", method: "GET", path: "/console/reports?policy=cell&min_cell=zero", status: 422},
		{name: "ReportsGapsUnknownBaseline", who: "north", method: "GET", path: "/console/reports?report=gaps&baseline=nope", status: 422, contains: []string{"no baseline"}},
		{name: "BaselineInvalid", who: "north", method: "POST", path: "/console/reports/baselines", form: url.Values{"name": {"leeds"}, "group_by": {"ethnicity"}, "csv": {"group,share\nmartian,1\n"}}, status: 422, contains: []string{"line 2"}},
		{name: "Baseline", who: "north", method: "POST", path: "/console/reports/baselines", form: url.Values{"name": {"leeds"}, "csv": {"group,share\nwhite_british,0.6\nasian_indian,0.4\n"}}, status: 303},
		{name: "DecisionNeedsTitle", who: "north", method: "POST", path: "/console/decisions", form: url.Values{"outcome": {"changed"}, "conversation": {"{conversation.north}"}}, status: 422},
		{name: "DecisionOtherTeamConversation", who: "north", method: "POST", path: "/console/decisions", form: url.Values{"title": {"T"}, "outcome": {"changed"}, "conversation": {"{conversation.south}"}}, status: 422},
		{name: "DecisionNewPrefilled", who: "north", method: "POST", path: "/console/decisions/new", form: url.Values{"id": {"{conversation.north}"}}, status: 200, contains: []string{`value="{conversation.north}"`[:7]}},
		{name: "Withdrawals", who: "north", method: "GET", path: "/console/withdrawals?consent={consent.north}", status: 200, contains: []string{"erase the 1 conversation", "contact_email"}, absent: []string{"secret-north"}},
		{name: "WithdrawalOtherTeam", who: "north", method: "GET", path: "/console/withdrawals?consent={consent.south}", status: 404},
		{name: "WithdrawalNeedsConfirm", who: "north", method: "POST", path: "/console/withdrawals", form: url.Values{"consent": {"{consent.north}"}, "reason": {"phone"}}, status: 422, contains: []string{"Tick the box"}},
		{name: "Exports", who: "north", method: "GET", path: "/console/exports", status: 200, contains: []string{"conversation", "NDJSON"}},
		{name: "ExportUnknown", who: "north", method: "GET", path: "/console/exports/spaceships", status: 404},
		{name: "Audit", who: "north", method: "GET", path: "/console/audit", status: 200, contains: []string{"sign_in", "north@example.org"}, absent: []string{"south@example.org"}},
		{name: "UsersForbiddenToCoordinator", who: "north", method: "GET", path: "/console/users", status: 403},
		{name: "UsersAdmin", who: "admin", method: "GET", path: "/console/users", status: 200, contains: []string{"north@example.org", "south"}},
		{name: "UserCreateShortPassword", who: "admin", method: "POST", path: "/console/users", form: url.Values{"email": {"x@example.org"}, "password": {"short"}, "role": {"coordinator"}, "teams": {"north"}}, status: 422},
		{name: "UserCreate", who: "admin", method: "POST", path: "/console/users", form: url.Values{"email": {"new@example.org"}, "password": {password}, "role": {"coordinator"}, "teams": {"north"}}, status: 303},
		{name: "TeamCreate", who: "admin", method: "POST", path: "/console/teams", form: url.Values{"name": {"east"}}, status: 303},
		{name: "UnknownPage", who: "north", method: "GET", path: "/console/nowhere", status: 404, contains: []string{"does not exist"}},
		{name: "RootRedirect", method: "GET", path: "/", status: 302, location: "/console/"},
	})
}

func TestSecurityHeadersAndCookies(t *testing.T) {
	e := newEnv(t)
	c := e.client("")
	req, _ := http.NewRequest("GET", e.srv.URL+"/console/sign-in", nil)
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "style-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline: %q", csp)
	}
	if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q", got)
	}
	c.signIn("north")
	u, _ := url.Parse(e.srv.URL + "/console/")
	var found bool
	for _, ck := range c.http.Jar.Cookies(u) {
		found = found || ck.Name == "fieldnotes_session"
	}
	if !found {
		t.Fatal("no session cookie")
	}
	// The cookie as set: HttpOnly, SameSite=Strict, path /console/ (Secure only over TLS).
	st, _, _ := c.do("GET", "/console/sign-in", nil)
	if st != 303 {
		t.Errorf("signed-in visit to sign-in: %d, want a redirect", st)
	}
	res2, _ := http.PostForm(e.srv.URL+"/console/sign-in", url.Values{})
	res2.Body.Close()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r1, _ := hc.Get(e.srv.URL + "/console/sign-in")
	b, _ := io.ReadAll(r1.Body)
	r1.Body.Close()
	tok := csrfRE.FindSubmatch(b)[1]
	r2, err := hc.PostForm(e.srv.URL+"/console/sign-in", url.Values{"csrf": {string(tok)}, "email": {"north@example.org"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	var set string
	for _, v := range r2.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "fieldnotes_session=") {
			set = v
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console/"} {
		if !strings.Contains(set, want) {
			t.Errorf("session cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("Secure cookie over plain HTTP would never come back: %q", set)
	}
}

// The vendored NHS.UK stylesheet is served without the font faces that would load from
// assets.nhs.uk; the rest of it is served as it is.
func TestNHSStylesheetHasNoRemoteFonts(t *testing.T) {
	e := newEnv(t)
	st, body, h := e.client("").do("GET", "/console/static/nhsuk/nhsuk-frontend.min.css", nil)
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/css") {
		t.Fatalf("status %d, %s", st, h.Get("Content-Type"))
	}
	if strings.Contains(body, "assets.nhs.uk") || !strings.Contains(body, ".nhsuk-button") {
		t.Fatalf("stylesheet still loads remote fonts, or lost its rules")
	}
	if st, _, _ := e.client("").do("GET", "/console/static/console.js", nil); st != 200 {
		t.Fatalf("console.js: %d", st)
	}
	if st, _, _ := e.client("").do("GET", "/console/static/../console.go", nil); st == 200 {
		t.Fatal("served a file outside static/")
	}
}

func TestSignOutEndsSession(t *testing.T) {
	e := newEnv(t)
	c := e.client("").signIn("north")
	if st, _, _ := c.do("POST", "/console/sign-out", url.Values{"csrf": {c.csrf}}); st != 303 {
		t.Fatalf("sign out: %d", st)
	}
	if st, _, _ := c.do("GET", "/console/engagements", nil); st != 303 {
		t.Fatalf("after sign-out: %d, want redirect to sign-in", st)
	}
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t, func(d *console.Deps) { d.SessionIdle = 300 * time.Millisecond })
	c := e.client("").signIn("north")
	if st, _, _ := c.do("GET", "/console/engagements", nil); st != 200 {
		t.Fatalf("fresh session: %d", st)
	}
	time.Sleep(400 * time.Millisecond)
	if st, _, h := c.do("GET", "/console/engagements", nil); st != 303 || !strings.HasPrefix(h.Get("Location"), "/console/sign-in") {
		t.Fatalf("idle session: %d %q, want a redirect to sign in", st, h.Get("Location"))
	}
	// A form posted after expiry changes nothing.
	if st, _, _ := c.do("POST", "/console/engagements", url.Values{"csrf": {c.csrf}, "title": {"Late"}, "team": {"north"}, "languages": {"en"}, "prompt_set": {"community_conversation"}}); st != 403 {
		t.Fatalf("post after expiry: %d, want 403", st)
	}
}

func TestLoginRateLimited(t *testing.T) {
	e := newEnv(t)
	e.logins = 1000
	c := e.client("")
	c.do("GET", "/console/sign-in", nil)
	st, body, h := c.do("POST", "/console/sign-in", url.Values{"csrf": {c.csrf}, "email": {"north@example.org"}, "password": {password}})
	if st != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(body, "Too many") {
		t.Fatalf("status %d, Retry-After %q", st, h.Get("Retry-After"))
	}
}

func TestAuditIsAppendOnly(t *testing.T) {
	e := newEnv(t)
	e.client("").signIn("north")
	got, err := e.st.Audit(context.Background(), store.AuditQuery{Action: "sign_in"})
	if err != nil || len(got) != 1 || got[0].Email != "north@example.org" {
		t.Fatalf("audit: %v %+v", err, got)
	}
	if err := e.st.DeleteSession(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	_ = fmt.Sprint()
}

func TestDecisionStageAndNotes(t *testing.T) {
	e := newEnv(t)
	c := e.client("").signIn("north")
	st, body, h := c.do("POST", "/console/decisions", url.Values{"csrf": {c.csrf}, "title": {"Bus stop moved"}, "outcome": {"changed"},
		"conversation": {e.ids["conversation.north"]}, "summary.cy": {"Symudwyd yr arhosfan"}, "themes": {"buses"}})
	if st != 303 || !strings.HasPrefix(h.Get("Location"), "/console/decisions/") {
		t.Fatalf("create: %d %q\n%s", st, h.Get("Location"), body)
	}
	page := strings.SplitN(h.Get("Location"), "?", 2)[0]
	if st, _, _ := c.do("POST", page, url.Values{"csrf": {c.csrf}, "outcome": {"changed"}, "stage": {"sideways"}}); st != 422 {
		t.Fatalf("bad stage: %d", st)
	}
	if st, _, _ := c.do("POST", page, url.Values{"csrf": {c.csrf}, "outcome": {"not_changed"}}); st != 422 {
		t.Fatalf("not_changed without a reason: %d", st)
	}
	if st, _, _ := c.do("POST", page, url.Values{"csrf": {c.csrf}, "outcome": {"changed"}, "stage": {"under_way"}}); st != 303 {
		t.Fatalf("stage: %d", st)
	}
	if st, _, _ := c.do("POST", page+"/progress", url.Values{"csrf": {c.csrf}, "date": {"2026-11-30"}, "text": {"Stop sign ordered"}}); st != 303 {
		t.Fatalf("progress note: %d", st)
	}
	if st, _, _ := c.do("POST", page+"/progress", url.Values{"csrf": {c.csrf}, "date": {"soon"}, "text": {"x"}}); st != 422 {
		t.Fatalf("progress note with a bad date: %d", st)
	}
	st, body, _ = c.do("GET", page, nil)
	for _, want := range []string{"Under way", "2026-11-30", "Stop sign ordered", "Symudwyd yr arhosfan", `id="preview-cy"`} {
		if !strings.Contains(body, want) {
			t.Errorf("decision page lacks %q", want)
		}
	}
	// Another team's coordinator can't see or change it.
	s := e.client("").signIn("south")
	if st, _, _ := s.do("GET", page, nil); st != 404 {
		t.Errorf("south sees north's decision: %d", st)
	}
	if st, _, _ := s.do("POST", page+"/feedback", url.Values{"csrf": {s.csrf}}); st != 404 {
		t.Errorf("south queues feedback for north's decision: %d", st)
	}
	// Queue feedback: the Welsh participant agreed to contact and gave an email.
	if st, _, _ := c.do("POST", page+"/feedback", url.Values{"csrf": {c.csrf}}); st != 303 {
		t.Fatalf("queue: %d", st)
	}
	st, body, _ = c.do("GET", "/console/feedback", nil)
	if st != 200 || !strings.Contains(body, "Bus stop moved") || strings.Contains(body, "secret-north@example.net") {
		t.Errorf("feedback list: %d (contact details must stay out of the page)", st)
	}
	st, body, h = c.do("GET", "/console/feedback.csv", nil)
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.Contains(body, "secret-north@example.net") {
		t.Errorf("mail merge: %d %s", st, h.Get("Content-Type"))
	}
}
