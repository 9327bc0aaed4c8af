package api

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"unicode"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

// TeamJSON is a team on the wire. Its name is its id.
type TeamJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt int64  `json:"created_at"`
}

func teamJSON(t store.Team) TeamJSON {
	return TeamJSON{ID: t.Name, Name: t.Name, CreatedAt: t.CreatedAt}
}

// UserJSON is a user on the wire: never the password or its hash.
type UserJSON struct {
	ID        string   `json:"id"`
	Email     string   `json:"email"`
	Role      string   `json:"role"`
	Teams     []string `json:"teams"`
	NodeID    string   `json:"node_id"`
	CreatedAt int64    `json:"created_at"`
}

func userJSON(u store.User) UserJSON {
	teams := u.Teams
	if teams == nil {
		teams = []string{}
	}
	return UserJSON{ID: u.ID, Email: u.Email, Role: u.Role, Teams: teams, NodeID: u.NodeID, CreatedAt: u.CreatedAt}
}

// DeviceJSON is a device on the wire.
type DeviceJSON struct {
	ID         string `json:"id"`
	DeviceID   string `json:"device_id"` // the same as id, named as enrol returns it
	NodeID     string `json:"node_id"`
	Label      string `json:"label"`
	Team       string `json:"team"`
	EnrolledAt int64  `json:"enrolled_at"`
	LastSeenAt int64  `json:"last_seen_at"`
	Revoked    bool   `json:"revoked"`
	RevokedAt  *int64 `json:"revoked_at"`
}

func deviceJSON(d store.Device) DeviceJSON {
	out := DeviceJSON{ID: d.ID, DeviceID: d.ID, NodeID: d.NodeID, Label: d.Label, Team: d.Team, EnrolledAt: d.EnrolledAt, LastSeenAt: d.LastSeenAt, Revoked: d.Revoked}
	if d.Revoked {
		at := d.RevokedAt
		out.RevokedAt = &at
	}
	return out
}

type createTeamRequest struct {
	Name *string `json:"name"`
}

// ValidTeamName: 1–100 characters, no control characters, no surrounding spaces.
func ValidTeamName(name string) bool {
	return name != "" && len(name) <= 100 && strings.TrimSpace(name) == name && strings.IndexFunc(name, unicode.IsControl) < 0
}

func (s *Server) createTeam(c echo.Context) error {
	var req createTeamRequest
	if err := DecodeStrict(c, &req); err != nil {
		return err
	}
	if req.Name == nil || strings.TrimSpace(*req.Name) == "" {
		return FailField(schema.CodeRequired, "name")
	}
	name := strings.TrimSpace(*req.Name)
	if !ValidTeamName(name) {
		return Fail(schema.CodeInvalidField, map[string]any{"field": "name", "reason": "1 to 100 characters, no control characters"})
	}
	t := store.Team{Name: name, CreatedAt: s.nowMS()}
	if err := s.Store.CreateTeam(c.Request().Context(), t); errors.Is(err, store.ErrConflict) {
		return Fail(CodeConflict, map[string]any{"field": "name", "reason": "a team with this name exists"})
	} else if err != nil {
		return Internal(err)
	}
	return c.JSON(http.StatusOK, teamJSON(t))
}

func (s *Server) listTeams(c echo.Context) error {
	teams, err := s.Store.Teams(c.Request().Context(), Caller(c).Teams)
	if err != nil {
		return Internal(err)
	}
	out := make([]TeamJSON, 0, len(teams))
	for _, t := range teams {
		out = append(out, teamJSON(t))
	}
	return c.JSON(http.StatusOK, map[string]any{"teams": out})
}

type createUserRequest struct {
	Email    *string   `json:"email"`
	Password *string   `json:"password"`
	Role     *string   `json:"role"`
	Teams    *[]string `json:"teams"`
}

// NewUser validates and hashes a new user; the bootstrap admin and the demo coordinator
// go through it too. It returns API errors.
func NewUser(email, password, role string, teams []string, p auth.Argon2Params, now int64) (store.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return store.User{}, FailField(schema.CodeRequired, "email")
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		return store.User{}, Fail(schema.CodeInvalidField, map[string]any{"field": "email", "reason": "not an email address"})
	}
	if password == "" {
		return store.User{}, FailField(schema.CodeRequired, "password")
	}
	if len([]rune(password)) < minPassword || len(password) > maxPassword {
		return store.User{}, Fail(CodeWeakPassword, map[string]any{"field": "password", "min_length": minPassword})
	}
	if role != store.RoleAdmin && role != store.RoleCoordinator {
		if role == "" {
			return store.User{}, FailField(schema.CodeRequired, "role")
		}
		return store.User{}, Fail(schema.CodeInvalidEnum, map[string]any{"field": "role", "allowed": "admin, coordinator"})
	}
	seen := map[string]bool{}
	clean := []string{}
	for _, t := range teams {
		if !seen[t] {
			seen[t] = true
			clean = append(clean, t)
		}
	}
	return store.User{ID: auth.NewID(), Email: email, Role: role, Teams: clean, NodeID: auth.NewID(),
		PasswordHash: auth.HashPassword(password, p), CreatedAt: now}, nil
}

func (s *Server) createUser(c echo.Context) error {
	var req createUserRequest
	if err := DecodeStrict(c, &req); err != nil {
		return err
	}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	var teams []string
	if req.Teams != nil {
		teams = *req.Teams
	}
	ctx := c.Request().Context()
	for _, t := range teams {
		if _, err := s.Store.Team(ctx, t); errors.Is(err, store.ErrNotFound) {
			return Fail(CodeUnknownTeam, map[string]any{"field": "teams", "team": t})
		} else if err != nil {
			return Internal(err)
		}
	}
	u, err := NewUser(deref(req.Email), deref(req.Password), deref(req.Role), teams, s.opt.Argon2, s.nowMS())
	if err != nil {
		return err
	}
	switch err := s.Store.CreateUser(ctx, u); {
	case errors.Is(err, store.ErrConflict):
		return FailField(CodeEmailTaken, "email")
	case errors.Is(err, store.ErrNotFound):
		return FailField(CodeUnknownTeam, "teams")
	case err != nil:
		return Internal(err)
	}
	s.Log.Info().Str("user", u.ID).Str("role", u.Role).Msg("user created")
	return c.JSON(http.StatusOK, userJSON(u))
}

func (s *Server) listUsers(c echo.Context) error {
	users, err := s.Store.Users(c.Request().Context())
	if err != nil {
		return Internal(err)
	}
	out := make([]UserJSON, 0, len(users))
	for _, u := range users {
		out = append(out, userJSON(u))
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}

func (s *Server) listDevices(c echo.Context) error {
	teams, err := ScopeTeams(c, c.QueryParam("team"))
	if err != nil {
		return err
	}
	devices, err := s.Store.Devices(c.Request().Context(), teams)
	if err != nil {
		return Internal(err)
	}
	out := make([]DeviceJSON, 0, len(devices))
	for _, d := range devices {
		out = append(out, deviceJSON(d))
	}
	return c.JSON(http.StatusOK, map[string]any{"devices": out})
}

type revokeRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) revokeDevice(c echo.Context) error {
	// The body is optional: {"reason": "..."} is accepted and only logged by id.
	if c.Request().ContentLength != 0 {
		var req revokeRequest
		if err := DecodeStrict(c, &req); err != nil {
			var e *Error
			if !(errors.As(err, &e) && e.Code == CodeMalformedJSON && e.Details["reason"] == "empty body") {
				return err
			}
		}
	}
	ctx := c.Request().Context()
	id := c.Param("device_id")
	d, err := s.Store.Device(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Fail(CodeNotFound)
	} else if err != nil {
		return Internal(err)
	}
	if !Caller(c).CanSee(d.Team) {
		return Fail(CodeOutOfScope, map[string]any{"team": d.Team})
	}
	d, err = s.Store.RevokeDevice(ctx, id, s.nowMS())
	if err != nil {
		return Internal(err)
	}
	s.Log.Info().Str("device", d.ID).Str("by", Caller(c).Subject).Msg("device revoked")
	return c.JSON(http.StatusOK, deviceJSON(d))
}
