package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

// TokenResponse answers login and refresh for people.
type TokenResponse struct {
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	ExpiresIn    int      `json:"expires_in"` // seconds
	TokenType    string   `json:"token_type"` // "Bearer"
	Role         string   `json:"role"`
	UserID       string   `json:"user_id,omitempty"`
	NodeID       string   `json:"node_id"`
	Teams        []string `json:"teams,omitempty"`
	DeviceID     string   `json:"device_id,omitempty"`
	Team         string   `json:"team,omitempty"`
}

func (s *Server) nowMS() int64 { return s.Now().UnixMilli() }

// issuePair makes an access token and stores a new refresh token (a new family when
// family is ""), returning both in the clear.
func (s *Server) newRefresh(family string, ttl time.Duration) (secret string, t store.RefreshToken) {
	secret = auth.NewSecret()
	if family == "" {
		family = auth.NewID()
	}
	now := s.nowMS()
	return secret, store.RefreshToken{Hash: auth.HashSecret(secret), Family: family, CreatedAt: now, ExpiresAt: now + ttl.Milliseconds()}
}

func (s *Server) userTokens(c echo.Context, u store.User, refresh string) error {
	access, err := s.Tokens.Issue(u.ID, u.Role, "")
	if err != nil {
		return Internal(err)
	}
	teams := u.Teams
	if teams == nil {
		teams = []string{}
	}
	return c.JSON(http.StatusOK, TokenResponse{AccessToken: access, RefreshToken: refresh, ExpiresIn: int(s.Tokens.TTL().Seconds()),
		TokenType: "Bearer", Role: u.Role, UserID: u.ID, NodeID: u.NodeID, Teams: teams})
}

func (s *Server) deviceTokens(c echo.Context, d store.Device, refresh string) error {
	access, err := s.Tokens.Issue(d.ID, store.RoleDevice, d.Team)
	if err != nil {
		return Internal(err)
	}
	return c.JSON(http.StatusOK, TokenResponse{AccessToken: access, RefreshToken: refresh, ExpiresIn: int(s.Tokens.TTL().Seconds()),
		TokenType: "Bearer", Role: store.RoleDevice, NodeID: d.NodeID, DeviceID: d.ID, Team: d.Team})
}

type loginRequest struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
}

func (s *Server) login(c echo.Context) error {
	var req loginRequest
	if err := DecodeStrict(c, &req); err != nil {
		return err
	}
	if req.Email == nil || *req.Email == "" {
		return FailField(schema.CodeRequired, "email")
	}
	if req.Password == nil || *req.Password == "" {
		return FailField(schema.CodeRequired, "password")
	}
	if len(*req.Password) > maxPassword {
		return Fail(CodeInvalidCredentials)
	}
	u, err := s.Store.UserByEmail(c.Request().Context(), strings.TrimSpace(*req.Email))
	if errors.Is(err, store.ErrNotFound) {
		auth.CheckNoUser(*req.Password, s.opt.Argon2)
		return Fail(CodeInvalidCredentials)
	} else if err != nil {
		return Internal(err)
	}
	if !auth.CheckPassword(u.PasswordHash, *req.Password) {
		return Fail(CodeInvalidCredentials)
	}
	secret, rt := s.newRefresh("", s.opt.UserTokenTTL)
	rt.SubjectKind, rt.SubjectID = store.SubjectUser, u.ID
	if err := s.Store.CreateRefreshToken(c.Request().Context(), rt); err != nil {
		return Internal(err)
	}
	return s.userTokens(c, u, secret)
}

type refreshRequest struct {
	RefreshToken *string `json:"refresh_token"`
}

func (s *Server) refresh(c echo.Context) error {
	var req refreshRequest
	if err := DecodeStrict(c, &req); err != nil {
		return err
	}
	if req.RefreshToken == nil || *req.RefreshToken == "" {
		return FailField(schema.CodeRequired, "refresh_token")
	}
	ctx := c.Request().Context()
	secret, next := s.newRefresh("", s.opt.UserTokenTTL) // the store keeps the family's lifetime
	old, err := s.Store.RotateRefreshToken(ctx, auth.HashSecret(*req.RefreshToken), s.nowMS(), next)
	switch {
	case errors.Is(err, store.ErrReused):
		s.Log.Warn().Str("subject_kind", old.SubjectKind).Str("subject", old.SubjectID).Msg("refresh token reused: family revoked")
		return Fail(CodeRefreshTokenReused)
	case errors.Is(err, store.ErrRevoked):
		// device_revoked tells a tablet to wipe: only for a coordinator's revocation, not
		// for a token revoked because its family was reused.
		if old.SubjectKind == store.SubjectDevice {
			if d, derr := s.Store.Device(ctx, old.SubjectID); derr == nil && d.Revoked {
				return Fail(CodeDeviceRevoked)
			}
		}
		return Fail(CodeRefreshTokenInvalid)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrExpired):
		return Fail(CodeRefreshTokenInvalid)
	case err != nil:
		return Internal(err)
	}
	switch old.SubjectKind {
	case store.SubjectDevice:
		d, err := s.Store.Device(ctx, old.SubjectID)
		if err != nil {
			return Internal(err)
		}
		return s.deviceTokens(c, d, secret)
	default:
		u, err := s.Store.UserByID(ctx, old.SubjectID)
		if errors.Is(err, store.ErrNotFound) {
			return Fail(CodeRefreshTokenInvalid)
		} else if err != nil {
			return Internal(err)
		}
		return s.userTokens(c, u, secret)
	}
}

type enrolRequest struct {
	Code  *string `json:"code"`
	Label string  `json:"label"`
	// PreviousRefreshToken (an addition) signs an existing tablet in again as itself,
	// keeping its node id, after its tokens were revoked: see docs/PROTOCOL.md.
	PreviousRefreshToken string `json:"previous_refresh_token"`
}

func (s *Server) enrol(c echo.Context) error {
	var req enrolRequest
	if err := DecodeStrict(c, &req); err != nil {
		return err
	}
	if req.Code == nil || strings.TrimSpace(*req.Code) == "" {
		return FailField(schema.CodeRequired, "code")
	}
	label, err := cleanLabel(req.Label)
	if err != nil {
		return err
	}
	secret, rt := s.newRefresh("", s.opt.DeviceTokenTTL)
	codeHash := auth.HashSecret(auth.NormaliseCode(*req.Code))
	var d store.Device
	if req.PreviousRefreshToken != "" {
		d, err = s.Store.Reenrol(c.Request().Context(), codeHash, auth.HashSecret(req.PreviousRefreshToken), s.nowMS(), label, rt)
		switch {
		case errors.Is(err, store.ErrUnknownToken):
			return FailField(schema.CodeInvalidField, "previous_refresh_token")
		case errors.Is(err, store.ErrRevoked):
			return Fail(CodeDeviceRevoked)
		case errors.Is(err, store.ErrScope):
			return Fail(CodeOutOfScope)
		}
	} else {
		d = store.Device{ID: auth.NewID(), NodeID: auth.NewID(), Label: label}
		d, err = s.Store.Enrol(c.Request().Context(), codeHash, s.nowMS(), d, rt)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Fail(CodeEnrolmentCodeInvalid)
	case errors.Is(err, store.ErrUsed):
		return Fail(CodeEnrolmentCodeUsed)
	case errors.Is(err, store.ErrExpired):
		return Fail(CodeEnrolmentCodeExpired)
	case err != nil:
		return Internal(err)
	}
	s.Log.Info().Str("device", d.ID).Str("team", d.Team).Msg("device enrolled")
	return s.deviceTokens(c, d, secret)
}

// Me describes the caller: GET /v1/auth/me.
type Me struct {
	Subject  string   `json:"sub"`
	Role     string   `json:"role"`
	Teams    []string `json:"teams"`
	NodeID   string   `json:"node_id"`
	DeviceID string   `json:"device_id,omitempty"`
	Email    string   `json:"email,omitempty"`
}

func (s *Server) me(c echo.Context) error {
	p := Caller(c)
	teams := p.Teams
	if teams == nil {
		all, err := s.Store.Teams(c.Request().Context(), nil)
		if err != nil {
			return Internal(err)
		}
		teams = []string{}
		for _, t := range all {
			teams = append(teams, t.Name)
		}
	}
	return c.JSON(http.StatusOK, Me{Subject: p.Subject, Role: p.Role, Teams: teams, NodeID: p.Node, DeviceID: p.DeviceID, Email: p.Email})
}

type enrolmentCodeRequest struct {
	Team  string `json:"team"`
	Label string `json:"label"`
}

// EnrolmentCodeResponse answers POST /v1/devices/enrolment-codes.
type EnrolmentCodeResponse struct {
	Code      string `json:"code"`
	ExpiresAt int64  `json:"expires_at"` // ms
	Team      string `json:"team"`
	Label     string `json:"label"`
}

// teamFor picks the team a person acts for: the one asked for (which they must be able to
// see and which must exist), or their only team.
func (s *Server) teamFor(c echo.Context, requested string) (string, error) {
	p := Caller(c)
	team := strings.TrimSpace(requested)
	if team == "" {
		if len(p.Teams) != 1 {
			return "", FailField(CodeTeamRequired, "team")
		}
		team = p.Teams[0]
	}
	if !p.CanSee(team) {
		return "", Fail(CodeOutOfScope, map[string]any{"team": team})
	}
	if _, err := s.Store.Team(c.Request().Context(), team); errors.Is(err, store.ErrNotFound) {
		return "", Fail(CodeUnknownTeam, map[string]any{"team": team, "field": "team"})
	} else if err != nil {
		return "", Internal(err)
	}
	return team, nil
}

// IssueEnrolmentCode makes a one-use code for team valid for ttl and returns it in the
// clear (the store keeps only its hash). The --demo seed uses it too.
func IssueEnrolmentCode(ctx context.Context, st store.Store, team, label, createdBy string, now time.Time, ttl time.Duration) (string, int64, error) {
	code := auth.NewEnrolmentCode()
	exp := now.Add(ttl).UnixMilli()
	err := st.CreateEnrolmentCode(ctx, store.EnrolmentCode{Hash: auth.HashSecret(code), Team: team, Label: label,
		CreatedBy: createdBy, CreatedAt: now.UnixMilli(), ExpiresAt: exp})
	return code, exp, err
}

func (s *Server) createEnrolmentCode(c echo.Context) error {
	var req enrolmentCodeRequest
	if err := DecodeStrict(c, &req); err != nil {
		return err
	}
	label, err := cleanLabel(req.Label)
	if err != nil {
		return err
	}
	team, err := s.teamFor(c, req.Team)
	if err != nil {
		return err
	}
	code, exp, err := IssueEnrolmentCode(c.Request().Context(), s.Store, team, label, Caller(c).Subject, s.Now(), s.opt.EnrolmentTTL)
	if errors.Is(err, store.ErrNotFound) {
		return Fail(CodeUnknownTeam, map[string]any{"team": team, "field": "team"})
	} else if err != nil {
		return Internal(err)
	}
	return c.JSON(http.StatusOK, EnrolmentCodeResponse{Code: code, ExpiresAt: exp, Team: team, Label: label})
}

const (
	maxLabel    = 200
	maxPassword = 1024
	minPassword = 8
)

func cleanLabel(label string) (string, error) {
	label = strings.TrimSpace(label)
	if len(label) > maxLabel || strings.IndexFunc(label, unicode.IsControl) >= 0 {
		return "", Fail(schema.CodeInvalidField, map[string]any{"field": "label", "reason": "at most 200 characters, no control characters"})
	}
	return label, nil
}
