package form

import (
	"net/url"
	"slices"
	"strings"
)

// User is the admins' form that adds a user.
type User struct {
	Email, Password, Role string
	Teams                 []string
}

// ParseUser reads the form.
func ParseUser(v url.Values) User {
	return User{Email: strings.TrimSpace(v.Get("email")), Password: v.Get("password"), Role: v.Get("role"), Teams: v["teams"]}
}

// Validate checks what the form can; the API's NewUser checks the rest (the email's
// shape, the password's length).
func (f User) Validate(teams []string) Errors {
	var es Errors
	if f.Email == "" {
		es.add("email", "console.form.required")
	}
	if len(f.Password) < 8 {
		es.add("password", "console.user.password_short")
	}
	if f.Role != "admin" && f.Role != "coordinator" {
		es.add("role", "console.form.invalid_choice")
	}
	if f.Role == "coordinator" && len(f.Teams) == 0 {
		es.add("teams", "console.form.team_required")
	}
	for _, t := range f.Teams {
		if !slices.Contains(teams, t) {
			es.add("teams", "console.form.invalid_choice")
			break
		}
	}
	return es
}

// Team is the admins' form that adds a team.
type Team struct{ Name string }

// ParseTeam reads the form.
func ParseTeam(v url.Values) Team { return Team{Name: strings.TrimSpace(v.Get("name"))} }
