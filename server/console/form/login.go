package form

import (
	"net/url"
	"strings"
)

// Login is the sign-in form.
type Login struct {
	Email, Password, Next string
}

// ParseLogin reads the sign-in form.
func ParseLogin(v url.Values) Login {
	return Login{Email: strings.TrimSpace(v.Get("email")), Password: v.Get("password"), Next: SafeNext(v.Get("next"))}
}

// Validate checks both fields are there.
func (f Login) Validate() Errors {
	var es Errors
	if f.Email == "" {
		es.add("email", "console.form.required")
	}
	if f.Password == "" {
		es.add("password", "console.form.required")
	}
	return es
}

// SafeNext keeps a redirect target only if it is a console path on this site.
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/console/"
	}
	return next
}
