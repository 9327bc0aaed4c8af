package form

import (
	"net/url"
	"strings"
)

// Withdraw is the form that withdraws a consent.
type Withdraw struct {
	Consent, Reason string
	Confirmed       bool
}

// ParseWithdraw reads the form.
func ParseWithdraw(v url.Values) Withdraw {
	return Withdraw{Consent: strings.TrimSpace(v.Get("consent")), Reason: strings.TrimSpace(v.Get("reason")), Confirmed: v.Get("confirm") == "true"}
}

// Validate: a reason (at most 2000 bytes, the API's limit) and the confirmation ticked.
func (f Withdraw) Validate() Errors {
	var es Errors
	if f.Reason == "" {
		es.add("reason", "console.form.required")
	} else if len(f.Reason) > 2000 {
		es.add("reason", "console.form.too_long")
	}
	if !f.Confirmed {
		es.add("confirm", "console.withdrawal.confirm_required")
	}
	return es
}
