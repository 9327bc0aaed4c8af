package fieldapp

import (
	"encoding/json"
	"net/url"
	"strings"
)

// ParseEnrolment reads what the console's enrolment QR code holds, or what a worker typed,
// and returns the server address and the code. It accepts:
//
//   - the console's form, fieldnotes:enrol?code=ABCD2345&server=https%3A%2F%2Fhub…, or any
//     link with server= and code= parameters;
//   - an http(s) link with only the code: https://hub.example.org/enrol?code=ABCD2345 (the
//     server is the scheme, host and any path before /enrol, /console/ or /v1/);
//   - JSON: {"server": "https://hub.example.org", "code": "ABCD2345"}.
//
// ok is false when text holds no code.
func ParseEnrolment(text string) (server, code string, ok bool) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "{") {
		var v struct {
			Server string `json:"server"`
			URL    string `json:"url"`
			Code   string `json:"code"`
		}
		if json.Unmarshal([]byte(text), &v) != nil || v.Code == "" {
			return "", "", false
		}
		if v.Server == "" {
			v.Server = v.URL
		}
		return strings.TrimRight(v.Server, "/"), normCode(v.Code), true
	}
	u, err := url.Parse(text)
	if err != nil || u.Scheme == "" {
		return "", "", false
	}
	q := u.Query()
	code = q.Get("code")
	if code == "" && u.Fragment != "" {
		if f, err := url.ParseQuery(u.Fragment); err == nil {
			code = f.Get("code")
		}
	}
	if code == "" {
		return "", "", false
	}
	if s := q.Get("server"); s != "" {
		return strings.TrimRight(s, "/"), normCode(code), true
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", normCode(code), true
	}
	p := u.Path
	for _, cut := range []string{"/console/", "/enrol", "/v1/"} {
		if i := strings.Index(p, cut); i >= 0 {
			p = p[:i]
		}
	}
	base := url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimRight(p, "/")}
	return base.String(), normCode(code), true
}

// normCode upper-cases a code and drops spaces and dashes a person may type.
func normCode(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	return strings.NewReplacer(" ", "", "-", "").Replace(c)
}
