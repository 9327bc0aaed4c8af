package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/server/app"
	"github.com/fieldnotes/fieldnotes/server/auth"
)

type client struct {
	t     *testing.T
	url   string
	token string
}

func (c *client) do(method, path string, body any, hdr ...string) (*http.Response, []byte) {
	c.t.Helper()
	var r io.Reader
	if s, ok := body.(string); ok {
		r = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.url+path, r)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func (c *client) json(method, path string, body any, out any, hdr ...string) int {
	c.t.Helper()
	res, b := c.do(method, path, body, hdr...)
	if out != nil {
		json.Unmarshal(b, out)
	}
	return res.StatusCode
}

func errCode(b []byte) string {
	var e struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	json.Unmarshal(b, &e)
	return e.Error.Code + "/" + fmt.Sprint(e.Error.Details["field"])
}

func startDemo(t *testing.T, args ...string) (*app.Instance, *client) {
	t.Helper()
	cfg, err := app.ParseConfig(append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--log-level", "error"}, args...), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Argon2 = auth.TestArgon2
	in, err := app.Start(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Shutdown(context.Background()) })
	c := &client{t: t, url: in.URL()}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if st := c.json("POST", "/v1/auth/login", map[string]string{"email": in.Demo.Coordinator.Email, "password": in.Demo.Coordinator.Password}, &login); st != 200 {
		t.Fatalf("login %d", st)
	}
	c.token = login.AccessToken
	return in, c
}

var (
	rowRE = regexp.MustCompile(`<tr><th scope="row">([^<]*)</th><td(?: class="suppressed")?>([^<]*)</td></tr>`)
	ddRE  = regexp.MustCompile(`<dt>People who took part</dt><dd>([^<]*)</dd>`)
)

// tableRows reads a chart's data table from the report: label → cell text.
func tableRows(t *testing.T, page, id string) map[string]string {
	t.Helper()
	i := strings.Index(page, `<table class="chart-data" id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no table %s", id)
	}
	j := strings.Index(page[i:], "</table>")
	out := map[string]string{}
	for _, m := range rowRE.FindAllStringSubmatch(page[i:i+j], -1) {
		out[html.UnescapeString(m[1])] = m[2]
	}
	return out
}

type participation struct {
	Rows []struct {
		Group             string `json:"group"`
		Participants      *int   `json:"participants"`
		GroupParticipants *int   `json:"group_participants"`
	} `json:"rows"`
	Total struct {
		Participants *int `json:"participants"`
	} `json:"total"`
}

func cell(n *int) string {
	if n == nil {
		return "hidden"
	}
	return strconv.Itoa(*n)
}

// TestAnnualReportE2E runs the server on the demo: the report's figures are the reports
// API's for the same range, its texts are the coordinator's latest, the PDF has them,
// and bad requests get clear errors.
func TestAnnualReportE2E(t *testing.T) {
	in, c := startDemo(t)
	now := time.Now().UTC()
	from, to := now.AddDate(-1, 0, 1).Format(time.DateOnly), now.Format(time.DateOnly)
	fromT, _ := time.Parse(time.DateOnly, from)
	toT, _ := time.Parse(time.DateOnly, to)
	rng := fmt.Sprintf("from=%d&to=%d", fromT.UnixMilli(), toT.AddDate(0, 0, 1).UnixMilli())
	path := "/v1/reports/annual?from=" + from + "&to=" + to

	// The texts: none yet, then two versions.
	res, b := c.do("GET", "/v1/annual-texts/governance", nil)
	if res.StatusCode != 404 {
		t.Fatalf("text before any: %d %s", res.StatusCode, b)
	}
	var txt struct {
		Version  int `json:"version"`
		Versions []struct {
			Text string `json:"text"`
		} `json:"versions"`
	}
	for i, s := range []string{"Draft.", "The involvement board meets every quarter."} {
		if st := c.json("PUT", "/v1/annual-texts/governance", map[string]string{"text": s}, &txt); st != 200 || txt.Version != i+1 {
			t.Fatalf("PUT text: %d %+v", st, txt)
		}
	}
	if st := c.json("GET", "/v1/annual-texts/governance", nil, &txt); st != 200 || len(txt.Versions) != 2 || txt.Versions[0].Text != "Draft." {
		t.Fatalf("GET text: %d %+v", st, txt)
	}

	res, b = c.do("GET", path, nil, "Accept", "text/html")
	page := string(b)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("report: %d %v", res.StatusCode, res.Header)
	}
	if !strings.Contains(page, "The involvement board meets every quarter.") || !strings.Contains(page, "Version 2, updated") || strings.Contains(page, "Draft.") {
		t.Error("report does not show the latest governance text")
	}

	// Figures: the same as GET /v1/reports/participation for the same range.
	var byLang participation
	if st := c.json("GET", "/v1/reports/participation?group_by=language&"+rng, nil, &byLang); st != 200 {
		t.Fatalf("participation %d", st)
	}
	if m := ddRE.FindStringSubmatch(page); m == nil || m[1] != cell(byLang.Total.Participants) {
		t.Errorf("people who took part: report %v, API %s", m, cell(byLang.Total.Participants))
	}
	rows := tableRows(t, page, "facts-language-table")
	checked := 0
	for _, r := range byLang.Rows {
		if r.Participants != nil && *r.Participants == 0 {
			continue
		}
		if got := rows[locales.Name(r.Group)]; got != cell(r.Participants) {
			t.Errorf("language %s: report %q, API %s", r.Group, got, cell(r.Participants))
		}
		checked++
	}
	if checked < 6 {
		t.Errorf("only %d languages compared", checked)
	}
	var engs struct {
		Records []struct {
			ID string `json:"id"`
		} `json:"records"`
	}
	c.json("GET", "/v1/records/engagement?limit=100", nil, &engs)
	if len(engs.Records) != 7 {
		t.Fatalf("%d engagements", len(engs.Records))
	}
	for _, e := range engs.Records {
		var byCom participation
		c.json("GET", "/v1/reports/participation?group_by=community&engagement="+e.ID+"&"+rng, nil, &byCom)
		rows := tableRows(t, page, "e-"+e.ID+"-community-table")
		for _, r := range byCom.Rows {
			if r.Participants != nil && *r.Participants == 0 {
				continue
			}
			label := r.Group
			if label == "not_recorded" {
				label = "Not recorded"
			}
			if got := rows[label]; got != cell(r.Participants) {
				t.Errorf("engagement %s, %s: report %q, API %s", e.ID, r.Group, got, cell(r.Participants))
			}
		}
	}

	// The export log says who made it, with how many quotes.
	var log struct {
		Exports []struct {
			Who, Collection, Format string
			Rows                    int
			Complete                bool
		} `json:"exports"`
	}
	c.json("GET", "/v1/exports", nil, &log)
	if len(log.Exports) == 0 || log.Exports[0].Collection != "annual_report" || log.Exports[0].Format != "html" || log.Exports[0].Rows == 0 || !log.Exports[0].Complete || log.Exports[0].Who == "" {
		t.Errorf("export log %+v", log.Exports)
	}

	// Arabic: right to left.
	res, b = c.do("GET", path+"&lang=ar", nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), `<html lang="ar" dir="rtl">`) {
		t.Errorf("Arabic report: %d", res.StatusCode)
	}

	// Bad input.
	dev := &client{t: t, url: c.url}
	var enrol struct {
		AccessToken string `json:"access_token"`
	}
	dev.json("POST", "/v1/devices/enrol", map[string]string{"code": in.Demo.EnrolmentCode}, &enrol)
	dev.token = enrol.AccessToken
	anon := &client{t: t, url: c.url}
	for _, tc := range []struct {
		name   string
		c      *client
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"NoFrom", c, "GET", "/v1/reports/annual?to=" + to, nil, 400, "invalid_query/from"},
		{"BadDate", c, "GET", "/v1/reports/annual?from=2026-02-30&to=" + to, nil, 400, "invalid_query/from"},
		{"Backwards", c, "GET", "/v1/reports/annual?from=" + to + "&to=" + from, nil, 400, "invalid_query/to"},
		{"UnknownLang", c, "GET", path + "&lang=fr", nil, 400, "invalid_query/lang"},
		{"BadPolicy", c, "GET", path + "&policy=open", nil, 400, "invalid_query/policy"},
		{"OtherTeam", c, "GET", path + "&team=north", nil, 403, "out_of_scope/<nil>"},
		{"Device", dev, "GET", path, nil, 403, "forbidden/<nil>"},
		{"NoToken", anon, "GET", path, nil, 401, "unauthorized/<nil>"},
		{"TextUnknownKind", c, "PUT", "/v1/annual-texts/vision", map[string]string{"text": "x"}, 404, "not_found/kind"},
		{"TextEmpty", c, "PUT", "/v1/annual-texts/strategy", map[string]string{"text": " "}, 422, "required/text"},
		{"TextMissing", c, "PUT", "/v1/annual-texts/strategy", map[string]string{}, 422, "required/text"},
		{"TextUnknownField", c, "PUT", "/v1/annual-texts/strategy", map[string]string{"txt": "x"}, 422, "invalid_field/txt"},
		{"TextWrongType", c, "PUT", "/v1/annual-texts/strategy", map[string]int{"text": 1}, 422, "invalid_type/text"},
		{"TextNotJSON", c, "PUT", "/v1/annual-texts/strategy", "text=x", 400, "malformed_json/<nil>"},
		{"TextOtherTeam", c, "PUT", "/v1/annual-texts/strategy?team=north", map[string]string{"text": "x"}, 403, "out_of_scope/<nil>"},
		{"PublishUnknown", c, "PUT", "/v1/engagements/019bb6cc-4900-7579-afd7-000000000000/published", map[string]bool{"published": true}, 404, "not_found/id"},
		{"PublishWrongType", c, "PUT", "/v1/engagements/" + in.Demo.EngagementID + "/published", map[string]string{"published": "yes"}, 422, "invalid_type/published"},
		{"PublishMissing", c, "PUT", "/v1/engagements/" + in.Demo.EngagementID + "/published", map[string]string{}, 422, "required/published"},
		{"QuoteUnknown", c, "PUT", "/v1/conversations/not-an-id/public-quote", map[string]string{"prompt": "what_works"}, 404, "not_found/id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, b := tc.c.do(tc.method, tc.path, tc.body, "Accept-Language", "pl")
			if res.StatusCode != tc.status || errCode(b) != tc.code {
				t.Errorf("%d %s, want %d %s", res.StatusCode, b, tc.status, tc.code)
			}
			var e struct {
				Error struct {
					Message string `json:"message"`
				} `json:"error"`
			}
			json.Unmarshal(b, &e)
			if e.Error.Message == "" {
				t.Error("no message")
			}
		})
	}
	// Progress of a decision.
	var decs struct {
		Records []struct {
			ID string `json:"id"`
		} `json:"records"`
	}
	c.json("GET", "/v1/records/decision", nil, &decs)
	if len(decs.Records) == 0 {
		t.Fatal("no decisions")
	}
	dp := "/v1/decisions/" + decs.Records[0].ID + "/progress"
	if res, b := c.do("PUT", dp, map[string]string{"progress": "finished"}); res.StatusCode != 422 || errCode(b) != "invalid_enum/progress" {
		t.Errorf("bad progress: %d %s", res.StatusCode, b)
	}
	if res, b := c.do("PUT", dp, map[string]string{}); res.StatusCode != 422 || errCode(b) != "required/progress" {
		t.Errorf("no progress: %d %s", res.StatusCode, b)
	}
	var got struct {
		Fields map[string]any `json:"fields"`
	}
	if st := c.json("PUT", dp, map[string]string{"progress": "done"}, nil); st != 200 {
		t.Errorf("progress: %d", st)
	}
	if c.json("GET", "/v1/records/decision/"+decs.Records[0].ID, nil, &got); got.Fields["progress"] != "done" {
		t.Errorf("progress not stored: %v", got.Fields["progress"])
	}
	if st := c.json("GET", "/v1/annual-texts/strategy", nil, nil); st != 404 {
		t.Errorf("a rejected strategy text was saved: %d", st)
	}

	// PDF (where a browser is installed), read back with pdftotext.
	res, b = c.do("GET", path, nil, "Accept", "application/pdf")
	if annualBrowser(t) {
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Fatalf("PDF: %d %s %.200s", res.StatusCode, res.Header.Get("Content-Type"), b)
		}
		if bin, err := exec.LookPath("pdftotext"); err == nil {
			f := filepath.Join(t.TempDir(), "r.pdf")
			os.WriteFile(f, b, 0o600)
			out, _ := exec.Command(bin, f, "-").Output()
			for _, want := range []string{"Community health conversation", "Parents' coffee morning", "The involvement board meets every quarter.", "Interpreters booked with every appointment"} {
				if !strings.Contains(strings.Join(strings.Fields(string(out)), " "), want) {
					t.Errorf("PDF lacks %q", want)
				}
			}
		}
	}
}

func annualBrowser(t *testing.T) bool {
	if p, _ := exec.LookPath("chromium"); p != "" {
		return true
	}
	if os.Getenv("FIELDNOTES_REQUIRE_BROWSER") == "1" {
		t.Fatal("no chromium and FIELDNOTES_REQUIRE_BROWSER=1")
	}
	t.Log("no chromium: PDF part skipped")
	return false
}

// TestAnnualPDFUnavailable: a server without a browser serves the HTML report, and a PDF
// request gets 503 pdf_unavailable in the caller's language.
func TestAnnualPDFUnavailable(t *testing.T) {
	_, c := startDemo(t, "--chromium", "/nonexistent/chromium")
	path := "/v1/reports/annual?from=2026-01-01&to=2026-12-31"
	res, b := c.do("GET", path, nil, "Accept", "application/pdf", "Accept-Language", "cy")
	var e struct {
		Error struct {
			Code, Message string
		} `json:"error"`
	}
	json.Unmarshal(b, &e)
	want, _ := locales.Localize("cy", "error.pdf_unavailable", nil)
	if res.StatusCode != 503 || e.Error.Code != "pdf_unavailable" || e.Error.Message != want {
		t.Errorf("%d %s", res.StatusCode, b)
	}
	if res, _ := c.do("GET", path, nil, "Accept", "text/html"); res.StatusCode != 200 {
		t.Errorf("HTML without a browser: %d", res.StatusCode)
	}
	if res, b := c.do("GET", path, nil, "Accept", "application/json"); res.StatusCode != 406 || errCode(b) != "not_acceptable/<nil>" {
		t.Errorf("JSON report: %d %s", res.StatusCode, b)
	}
}

// TestPublicPageE2E: the public page needs no sign-in, sets no cookie, is cacheable,
// follows the visitor's language, and is shown only once published; picking a quote
// needs quote consent; feedback links to the page.
func TestPublicPageE2E(t *testing.T) {
	_, c := startDemo(t, "--public-url", "https://fieldnotes.example.org")
	anon := &client{t: t, url: c.url}
	var engs struct {
		Records []struct {
			ID     string         `json:"id"`
			Fields map[string]any `json:"fields"`
		} `json:"records"`
	}
	c.json("GET", "/v1/records/engagement?limit=100", nil, &engs)
	var published, unpublished string
	for _, e := range engs.Records {
		if e.Fields["published"] == true && published == "" {
			published = e.ID
		}
		if e.Fields["published"] == nil && unpublished == "" {
			unpublished = e.ID
		}
	}
	if published == "" || unpublished == "" {
		t.Fatal("demo lacks a published and an unpublished engagement")
	}

	res, b := anon.do("GET", "/public/engagements/"+published, nil, "Accept-Language", "ur-PK, en;q=0.5")
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || !strings.Contains(string(b), `<html lang="ur" dir="rtl">`) || etag == "" ||
		!strings.HasPrefix(res.Header.Get("Cache-Control"), "public, max-age=") || res.Header.Get("Set-Cookie") != "" ||
		!strings.Contains(res.Header.Get("Vary"), "Accept-Language") {
		t.Fatalf("public page: %d %v", res.StatusCode, res.Header)
	}
	if res, b := anon.do("HEAD", "/public/engagements/"+published, nil, "Accept-Language", "ur-PK, en;q=0.5"); res.StatusCode != 200 || len(b) != 0 || res.Header.Get("ETag") != etag {
		t.Errorf("HEAD: %d %d bytes, ETag %q", res.StatusCode, len(b), res.Header.Get("ETag"))
	}
	if res, _ := anon.do("GET", "/public/engagements/"+published, nil, "Accept-Language", "ur-PK, en;q=0.5", "If-None-Match", etag); res.StatusCode != 304 {
		t.Errorf("If-None-Match: %d", res.StatusCode)
	}
	if _, b := anon.do("GET", "/public/engagements/"+published+"?lang=pl", nil, "Accept-Language", "ar"); !strings.Contains(string(b), `<html lang="pl" dir="ltr">`) {
		t.Error("?lang=pl not followed")
	}
	if _, b := anon.do("GET", "/public/engagements/"+published+"?lang=xx", nil, "Accept-Language", "bn"); !strings.Contains(string(b), `<html lang="bn" dir="ltr">`) {
		t.Error("an unknown ?lang= does not fall back to Accept-Language")
	}

	// Unknown and unpublished: the same 404 page, no cookie.
	r1, b1 := anon.do("GET", "/public/engagements/"+unpublished, nil)
	r2, b2 := anon.do("GET", "/public/engagements/019bb6cc-4900-7579-afd7-000000000000", nil)
	r3, _ := anon.do("GET", "/public/engagements/nonsense", nil)
	if r1.StatusCode != 404 || r2.StatusCode != 404 || r3.StatusCode != 404 || !bytes.Equal(b1, b2) || r1.Header.Get("Set-Cookie") != "" {
		t.Errorf("not published: %d %d %d, same body %v", r1.StatusCode, r2.StatusCode, r3.StatusCode, bytes.Equal(b1, b2))
	}

	// Publishing shows it; unpublishing hides it again.
	if st := c.json("PUT", "/v1/engagements/"+unpublished+"/published", map[string]bool{"published": true}, nil); st != 200 {
		t.Fatalf("publish %d", st)
	}
	if res, _ := anon.do("GET", "/public/engagements/"+unpublished, nil); res.StatusCode != 200 {
		t.Errorf("after publishing: %d", res.StatusCode)
	}
	c.json("PUT", "/v1/engagements/"+unpublished+"/published", map[string]bool{"published": false}, nil)
	if res, _ := anon.do("GET", "/public/engagements/"+unpublished, nil); res.StatusCode != 404 {
		t.Errorf("after unpublishing: %d", res.StatusCode)
	}

	// Picking quotes: only under a consent that covers quote.
	var convs struct {
		Records []struct {
			ID     string                     `json:"id"`
			Fields map[string]json.RawMessage `json:"fields"`
		} `json:"records"`
	}
	c.json("GET", "/v1/records/conversation?limit=200", nil, &convs)
	var consents struct {
		Records []struct {
			ID     string         `json:"id"`
			Fields map[string]any `json:"fields"`
		} `json:"records"`
	}
	c.json("GET", "/v1/records/consent?limit=400", nil, &consents)
	quote := map[string]bool{}
	for _, r := range consents.Records {
		for _, s := range r.Fields["scopes"].([]any) {
			if s == "quote" {
				quote[r.ID] = true
			}
		}
	}
	var with, without string
	for _, r := range convs.Records {
		var cons string
		json.Unmarshal(r.Fields["consent"], &cons)
		if _, ok := r.Fields["answer.what_works"]; !ok {
			continue
		}
		if quote[cons] && with == "" {
			with = r.ID
		} else if !quote[cons] && without == "" {
			without = r.ID
		}
	}
	if res, b := c.do("PUT", "/v1/conversations/"+without+"/public-quote", map[string]string{"prompt": "what_works"}); res.StatusCode != 422 || errCode(b) != "invalid_field/prompt" {
		t.Errorf("pick without quote consent: %d %s", res.StatusCode, b)
	}
	if res, b := c.do("PUT", "/v1/conversations/"+with+"/public-quote", map[string]string{"prompt": "services_used"}); res.StatusCode != 422 || errCode(b) != "invalid_field/prompt" {
		t.Errorf("pick of a choice answer: %d %s", res.StatusCode, b)
	}
	if res, b := c.do("PUT", "/v1/conversations/"+with+"/public-quote", map[string]string{"prompt": "what_works"}); res.StatusCode != 200 {
		t.Errorf("pick: %d %s", res.StatusCode, b)
	}
	if res, b := c.do("PUT", "/v1/conversations/"+with+"/public-quote", `{"prompt": null}`); res.StatusCode != 200 || !strings.Contains(string(b), `"public_quote":null`) {
		t.Errorf("unpick: %d %s", res.StatusCode, b)
	}

	// Feedback about published engagements links to their page.
	var fb struct {
		Feedback []struct {
			Message string `json:"message"`
		} `json:"feedback"`
	}
	c.json("GET", "/v1/feedback", nil, &fb)
	linked := 0
	for _, it := range fb.Feedback {
		if strings.Contains(it.Message, "https://fieldnotes.example.org/public/engagements/") {
			linked++
		}
	}
	if linked == 0 || linked == len(fb.Feedback) {
		t.Errorf("%d of %d feedback messages link to a public page", linked, len(fb.Feedback))
	}
}
