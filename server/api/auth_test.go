package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/golang-jwt/jwt/v5"
)

func claims(sub, role, team string, iat time.Time, ttl time.Duration) auth.Claims {
	return auth.Claims{Role: role, Team: team, RegisteredClaims: jwt.RegisteredClaims{
		Subject: sub, Issuer: auth.Issuer, Audience: jwt.ClaimStrings{auth.Audience},
		IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(iat.Add(ttl)), ID: auth.NewID(),
	}}
}

func sign(t *testing.T, method jwt.SigningMethod, c jwt.Claims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestForgedTokens(t *testing.T) {
	e := newEnv(t)
	var me api.Me
	e.ok("GET", "/v1/auth/me", e.admin, nil, &me)
	now := time.Now()
	good := claims(me.Subject, "admin", "", now, time.Minute)

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})

	// A valid coordinator token with its payload edited to say admin.
	parts := strings.Split(e.coordN, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	json.Unmarshal(payload, &m)
	m["role"] = "admin"
	edited, _ := json.Marshal(m)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(edited) + "." + parts[2]

	wrongAud, wrongIss, noExp := good, good, good
	wrongAud.Audience = jwt.ClaimStrings{"someone-else"}
	wrongIss.Issuer = "evil"
	noExp.ExpiresAt = nil
	future := claims(me.Subject, "admin", "", now.Add(time.Hour), time.Hour) // issued in the future
	unknown := claims(auth.NewID(), "admin", "", now, time.Minute)
	badRole := claims(me.Subject, "superuser", "", now, time.Minute)

	tokens := []struct {
		name, token, code string
	}{
		{"AlgNone", sign(t, jwt.SigningMethodNone, good, jwt.UnsafeAllowNoneSignatureType), "invalid_token"},
		{"WrongKey", sign(t, jwt.SigningMethodHS256, good, []byte("another-key-0123456789abcdef-0123456789")), "invalid_token"},
		{"RS256", sign(t, jwt.SigningMethodRS256, good, rsaKey), "invalid_token"},
		{"HS256WithPublicKey", sign(t, jwt.SigningMethodHS256, good, pubPEM), "invalid_token"},
		{"HS512", sign(t, jwt.SigningMethodHS512, good, e.key), "invalid_token"},
		{"TamperedPayload", tampered, "invalid_token"},
		{"Expired", sign(t, jwt.SigningMethodHS256, claims(me.Subject, "admin", "", now.Add(-time.Hour), 15*time.Minute), e.key), "token_expired"},
		{"WrongAudience", sign(t, jwt.SigningMethodHS256, wrongAud, e.key), "invalid_token"},
		{"WrongIssuer", sign(t, jwt.SigningMethodHS256, wrongIss, e.key), "invalid_token"},
		{"NoExpiry", sign(t, jwt.SigningMethodHS256, noExp, e.key), "invalid_token"},
		{"IssuedInFuture", sign(t, jwt.SigningMethodHS256, future, e.key), "invalid_token"},
		{"UnknownSubject", sign(t, jwt.SigningMethodHS256, unknown, e.key), "invalid_token"},
		{"UnknownRole", sign(t, jwt.SigningMethodHS256, badRole, e.key), "invalid_token"},
		{"Garbage", "not.a.token", "invalid_token"},
	}
	var sc []scenario
	for _, tk := range tokens {
		sc = append(sc, scenario{name: tk.name, req: req{method: "GET", path: "/v1/users", token: tk.token}, status: 401, code: tk.code})
	}
	sc = append(sc,
		scenario{name: "NoToken", req: req{method: "GET", path: "/v1/users"}, status: 401, code: "unauthorized"},
		scenario{name: "BasicAuth", req: req{method: "GET", path: "/v1/users", header: map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="}}, status: 401, code: "invalid_token"},
		scenario{name: "WithinLeeway", req: req{method: "GET", path: "/v1/users",
			token: sign(t, jwt.SigningMethodHS256, claims(me.Subject, "admin", "", now.Add(-15*time.Minute-10*time.Second), 15*time.Minute), e.key)}, status: 200},
		scenario{name: "GoodToken", req: req{method: "GET", path: "/v1/users", token: sign(t, jwt.SigningMethodHS256, good, e.key)}, status: 200},
		scenario{name: "DeviceTokenWrongTeam", req: req{method: "GET", path: "/v1/sync/state",
			token: sign(t, jwt.SigningMethodHS256, claims(e.devN.DeviceID, "device", "south", now, time.Minute), e.key)}, status: 401, code: "invalid_token"},
		scenario{name: "ErrorInWelsh", req: req{method: "GET", path: "/v1/users", header: map[string]string{"Accept-Language": "cy-GB"}}, status: 401, code: "unauthorized",
			check: func(t *testing.T, r response) {
				en := api.Message("en", "unauthorized", nil)
				if strings.Contains(string(r.body), en) {
					t.Fatalf("message not in Welsh: %s", r.body)
				}
			}},
	)
	e.run(t, sc)
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	e.run(t, []scenario{
		{name: "OK", req: req{method: "POST", path: "/v1/auth/login", body: map[string]any{"email": "Coord-North@example.org", "password": "coord-password"}}, status: 200,
			check: func(t *testing.T, r response) {
				var tr api.TokenResponse
				json.Unmarshal(r.body, &tr)
				if tr.AccessToken == "" || tr.RefreshToken == "" || tr.ExpiresIn != 900 || tr.Role != "coordinator" || tr.NodeID == "" || len(tr.Teams) != 1 {
					t.Fatalf("login = %+v", tr)
				}
				if strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), "coord-password") {
					t.Fatal("login answer shows the password or its hash")
				}
			}},
		{name: "WrongPassword", req: req{method: "POST", path: "/v1/auth/login", body: map[string]any{"email": "coord-north@example.org", "password": "nope-nope"}}, status: 401, code: "invalid_credentials"},
		{name: "UnknownEmail", req: req{method: "POST", path: "/v1/auth/login", body: map[string]any{"email": "nobody@example.org", "password": "nope-nope"}}, status: 401, code: "invalid_credentials"},
		{name: "MissingPassword", req: req{method: "POST", path: "/v1/auth/login", body: map[string]any{"email": "a@example.org"}}, status: 422, code: "required"},
		{name: "WrongType", req: req{method: "POST", path: "/v1/auth/login", body: `{"email": 42, "password": "x"}`}, status: 422, code: "invalid_type",
			check: func(t *testing.T, r response) {
				if !strings.Contains(string(r.body), `"field":"email"`) {
					t.Fatalf("no details.field: %s", r.body)
				}
			}},
		{name: "UnknownField", req: req{method: "POST", path: "/v1/auth/login", body: `{"email": "a@example.org", "password": "x", "admin": true}`}, status: 422, code: "invalid_field"},
		{name: "ArrayBody", req: req{method: "POST", path: "/v1/auth/login", body: `[1, 2]`}, status: 422, code: "invalid_type"},
		{name: "EmptyBody", req: req{method: "POST", path: "/v1/auth/login", body: ""}, status: 400, code: "malformed_json"},
		{name: "NotJSON", req: req{method: "POST", path: "/v1/auth/login", body: "email=a&password=b"}, status: 400, code: "malformed_json"},
		{name: "Truncated", req: req{method: "POST", path: "/v1/auth/login", body: `{"email": "a@example.org"`}, status: 400, code: "malformed_json"},
		{name: "TrailingData", req: req{method: "POST", path: "/v1/auth/login", body: `{"email": "a@example.org", "password": "x"} {}`}, status: 400, code: "malformed_json"},
		{name: "TooLarge", req: req{method: "POST", path: "/v1/auth/login", body: `{"email": "` + strings.Repeat("a", 70<<10) + `"}`}, status: 413, code: "body_too_large"},
		{name: "GzipOK", req: req{method: "POST", path: "/v1/auth/login", gzip: true, body: map[string]any{"email": "coord-north@example.org", "password": "coord-password"}}, status: 200},
		{name: "GzipBomb", req: req{method: "POST", path: "/v1/auth/login", gzip: true, body: `{"email": "` + strings.Repeat("a", 10<<20) + `"}`}, status: 413, code: "body_too_large"},
		{name: "NotGzip", req: req{method: "POST", path: "/v1/auth/login", body: "{}", header: map[string]string{"Content-Encoding": "gzip"}}, status: 400, code: "malformed_json"},
		{name: "UnknownEncoding", req: req{method: "POST", path: "/v1/auth/login", body: "{}", header: map[string]string{"Content-Encoding": "br"}}, status: 415, code: "unsupported_media_type"},
		{name: "WrongMethod", req: req{method: "GET", path: "/v1/auth/login"}, status: 405, code: "method_not_allowed"},
	})
}

func TestRefresh(t *testing.T) {
	e := newEnv(t)
	t.Run("PersonRotates", func(t *testing.T) {
		e.t = t
		first := e.login("admin@example.org", "admin-password")
		var second api.TokenResponse
		e.ok("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": first.RefreshToken}, &second)
		if second.RefreshToken == first.RefreshToken || second.Role != "admin" {
			t.Fatalf("refresh = %+v", second)
		}
		e.ok("GET", "/v1/users", second.AccessToken, nil, nil)
		r := e.do(req{method: "POST", path: "/v1/auth/refresh", body: map[string]any{"refresh_token": first.RefreshToken}})
		if r.status != 401 || r.errCode() != "refresh_token_reused" {
			t.Fatalf("reuse: %d %s", r.status, r.body)
		}
		// The whole family is revoked: the live link stops working too.
		r = e.do(req{method: "POST", path: "/v1/auth/refresh", body: map[string]any{"refresh_token": second.RefreshToken}})
		if r.status != 401 || r.errCode() != "refresh_token_invalid" {
			t.Fatalf("after reuse: %d %s", r.status, r.body)
		}
	})
	t.Run("DeviceReuseRevokesItsTokensNotTheDevice", func(t *testing.T) {
		e.t = t
		d := e.enrol(e.coordN, "north")
		var next api.TokenResponse
		e.ok("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": d.RefreshToken}, &next)
		if next.DeviceID != d.DeviceID || next.Team != "north" || next.Role != "device" {
			t.Fatalf("device refresh = %+v", next)
		}
		e.ok("GET", "/v1/sync/state", next.AccessToken, nil, nil)
		e.run(t, []scenario{
			{name: "Reused", req: req{method: "POST", path: "/v1/auth/refresh", body: map[string]any{"refresh_token": d.RefreshToken}}, status: 401, code: "refresh_token_reused"},
			// Its access tokens die too, but it is not told to wipe: the likeliest cause is a
			// refresh answer lost on a bad connection, and the tablet may hold unsynced work.
			{name: "AccessTokenRevoked", req: req{method: "GET", path: "/v1/sync/state", token: next.AccessToken}, status: 401, code: "tokens_revoked"},
			{name: "LiveLinkRevoked", req: req{method: "POST", path: "/v1/auth/refresh", body: map[string]any{"refresh_token": next.RefreshToken}}, status: 401, code: "refresh_token_invalid"},
		})
	})
	e.run(t, []scenario{
		{name: "Unknown", req: req{method: "POST", path: "/v1/auth/refresh", body: map[string]any{"refresh_token": "nope"}}, status: 401, code: "refresh_token_invalid"},
		{name: "Missing", req: req{method: "POST", path: "/v1/auth/refresh", body: map[string]any{}}, status: 422, code: "required"},
		{name: "WrongType", req: req{method: "POST", path: "/v1/auth/refresh", body: `{"refresh_token": ["x"]}`}, status: 422, code: "invalid_type"},
	})
}

func TestEnrolment(t *testing.T) {
	e := newEnv(t)
	used := e.code(e.coordN, "north")
	e.ok("POST", "/v1/devices/enrol", "", map[string]any{"code": used, "label": "first"}, nil)
	expiring := e.code(e.coordN, "north")
	lower := strings.ToLower(e.code(e.coordN, "north"))
	e.run(t, []scenario{
		{name: "UsedCode", req: req{method: "POST", path: "/v1/devices/enrol", body: map[string]any{"code": used}}, status: 409, code: "enrolment_code_used"},
		{name: "UnknownCode", req: req{method: "POST", path: "/v1/devices/enrol", body: map[string]any{"code": "AAAAAAAA"}}, status: 401, code: "enrolment_code_invalid"},
		{name: "MissingCode", req: req{method: "POST", path: "/v1/devices/enrol", body: map[string]any{"label": "x"}}, status: 422, code: "required"},
		{name: "CodeTypedLowerCase", req: req{method: "POST", path: "/v1/devices/enrol", body: map[string]any{"code": lower[:4] + "-" + lower[4:]}}, status: 200,
			check: func(t *testing.T, r response) {
				var tr api.TokenResponse
				json.Unmarshal(r.body, &tr)
				if tr.DeviceID == "" || tr.NodeID == "" || tr.Team != "north" || tr.AccessToken == "" || tr.RefreshToken == "" || tr.ExpiresIn <= 0 {
					t.Fatalf("enrol = %s", r.body)
				}
			}},
		{name: "CodeByDevice", req: req{method: "POST", path: "/v1/devices/enrolment-codes", token: e.devN.AccessToken, body: map[string]any{"team": "north"}}, status: 403, code: "forbidden"},
		{name: "CodeForOtherTeam", req: req{method: "POST", path: "/v1/devices/enrolment-codes", token: e.coordN, body: map[string]any{"team": "south"}}, status: 403, code: "out_of_scope"},
		{name: "CodeOwnTeamByDefault", req: req{method: "POST", path: "/v1/devices/enrolment-codes", token: e.coordN, body: map[string]any{}}, status: 200},
		{name: "AdminNeedsTeam", req: req{method: "POST", path: "/v1/devices/enrolment-codes", token: e.admin, body: map[string]any{}}, status: 422, code: "team_required"},
		{name: "UnknownTeam", req: req{method: "POST", path: "/v1/devices/enrolment-codes", token: e.admin, body: map[string]any{"team": "west"}}, status: 422, code: "unknown_team"},
		{name: "LabelTooLong", req: req{method: "POST", path: "/v1/devices/enrolment-codes", token: e.coordN, body: map[string]any{"label": strings.Repeat("x", 201)}}, status: 422, code: "invalid_field"},
	})
	e.offset.Store((16 * time.Minute).Milliseconds())
	e.run(t, []scenario{
		{name: "ExpiredCode", req: req{method: "POST", path: "/v1/devices/enrol", body: map[string]any{"code": expiring}}, status: 409, code: "enrolment_code_expired"},
	})
}

func TestRevocation(t *testing.T) {
	e := newEnv(t)
	d := e.enrol(e.coordN, "north")
	e.ok("GET", "/v1/sync/pull", d.AccessToken, nil, nil)
	e.run(t, []scenario{
		{name: "OtherTeamsCoordinator", req: req{method: "POST", path: "/v1/devices/" + d.DeviceID + "/revoke", token: e.coordS}, status: 403, code: "out_of_scope"},
		{name: "ByDevice", req: req{method: "POST", path: "/v1/devices/" + d.DeviceID + "/revoke", token: d.AccessToken}, status: 403, code: "forbidden"},
		{name: "Unknown", req: req{method: "POST", path: "/v1/devices/" + auth.NewID() + "/revoke", token: e.coordN}, status: 404, code: "not_found"},
		{name: "OK", req: req{method: "POST", path: "/v1/devices/" + d.DeviceID + "/revoke", token: e.coordN, body: map[string]any{"reason": "lost"}}, status: 200,
			check: func(t *testing.T, r response) {
				var dj api.DeviceJSON
				json.Unmarshal(r.body, &dj)
				if !dj.Revoked || dj.RevokedAt == nil {
					t.Fatalf("revoke = %s", r.body)
				}
			}},
		{name: "Again", req: req{method: "POST", path: "/v1/devices/" + d.DeviceID + "/revoke", token: e.admin}, status: 200},
		{name: "RevokedPull", req: req{method: "GET", path: "/v1/sync/pull", token: d.AccessToken}, status: 401, code: "device_revoked"},
		{name: "RevokedPush", req: req{method: "POST", path: "/v1/sync/push", token: d.AccessToken, body: `{"ops": []}`}, status: 401, code: "device_revoked"},
		{name: "RevokedRefresh", req: req{method: "POST", path: "/v1/auth/refresh", body: map[string]any{"refresh_token": d.RefreshToken}}, status: 401, code: "device_revoked"},
		{name: "ListShowsRevoked", req: req{method: "GET", path: "/v1/devices?team=north", token: e.coordN}, status: 200,
			check: func(t *testing.T, r response) {
				var out struct{ Devices []api.DeviceJSON }
				json.Unmarshal(r.body, &out)
				found := false
				for _, x := range out.Devices {
					if x.Team != "north" {
						t.Fatalf("north's list has %s's device", x.Team)
					}
					if x.ID == d.DeviceID {
						found = x.Revoked && x.LastSeenAt > 0 && x.EnrolledAt > 0 && x.Label == "tablet north"
					}
				}
				if !found {
					t.Fatalf("devices = %s", r.body)
				}
			}},
		{name: "ListOtherTeam", req: req{method: "GET", path: "/v1/devices?team=south", token: e.coordN}, status: 403, code: "out_of_scope"},
		{name: "ListByDevice", req: req{method: "GET", path: "/v1/devices", token: e.devN.AccessToken}, status: 403, code: "forbidden"},
	})
}

func TestAdmin(t *testing.T) {
	e := newEnv(t)
	e.run(t, []scenario{
		{name: "CreateTeam", req: req{method: "POST", path: "/v1/teams", token: e.admin, body: map[string]any{"name": "east"}}, status: 200,
			check: func(t *testing.T, r response) {
				var tj api.TeamJSON
				json.Unmarshal(r.body, &tj)
				if tj.Name != "east" || tj.ID != "east" || tj.CreatedAt == 0 {
					t.Fatalf("team = %s", r.body)
				}
			}},
		{name: "DuplicateTeam", req: req{method: "POST", path: "/v1/teams", token: e.admin, body: map[string]any{"name": "east"}}, status: 409, code: "conflict"},
		{name: "TeamNameMissing", req: req{method: "POST", path: "/v1/teams", token: e.admin, body: map[string]any{}}, status: 422, code: "required"},
		{name: "TeamNameWrongType", req: req{method: "POST", path: "/v1/teams", token: e.admin, body: map[string]any{"name": 7}}, status: 422, code: "invalid_type"},
		{name: "TeamByCoordinator", req: req{method: "POST", path: "/v1/teams", token: e.coordN, body: map[string]any{"name": "west"}}, status: 403, code: "forbidden"},
		{name: "ListTeamsAdmin", req: req{method: "GET", path: "/v1/teams", token: e.admin}, status: 200,
			check: func(t *testing.T, r response) {
				if !strings.Contains(string(r.body), `"east"`) || !strings.Contains(string(r.body), `"north"`) {
					t.Fatalf("teams = %s", r.body)
				}
			}},
		{name: "ListTeamsCoordinator", req: req{method: "GET", path: "/v1/teams", token: e.coordN}, status: 200,
			check: func(t *testing.T, r response) {
				if strings.Contains(string(r.body), `"south"`) || !strings.Contains(string(r.body), `"north"`) {
					t.Fatalf("coordinator's teams = %s", r.body)
				}
			}},
		{name: "CreateUser", req: req{method: "POST", path: "/v1/users", token: e.admin, body: map[string]any{"email": "new@example.org", "password": "long-enough", "role": "coordinator", "teams": []string{"east", "north"}}}, status: 200,
			check: func(t *testing.T, r response) {
				var u api.UserJSON
				json.Unmarshal(r.body, &u)
				if u.ID == "" || u.NodeID == "" || u.Role != "coordinator" || len(u.Teams) != 2 || strings.Contains(string(r.body), "password") {
					t.Fatalf("user = %s", r.body)
				}
			}},
		{name: "EmailTaken", req: req{method: "POST", path: "/v1/users", token: e.admin, body: map[string]any{"email": "NEW@example.org", "password": "long-enough", "role": "admin"}}, status: 409, code: "email_taken"},
		{name: "WeakPassword", req: req{method: "POST", path: "/v1/users", token: e.admin, body: map[string]any{"email": "w@example.org", "password": "short", "role": "admin"}}, status: 422, code: "weak_password"},
		{name: "BadRole", req: req{method: "POST", path: "/v1/users", token: e.admin, body: map[string]any{"email": "r@example.org", "password": "long-enough", "role": "device"}}, status: 422, code: "invalid_enum"},
		{name: "BadEmail", req: req{method: "POST", path: "/v1/users", token: e.admin, body: map[string]any{"email": "not an email", "password": "long-enough", "role": "admin"}}, status: 422, code: "invalid_field"},
		{name: "UnknownTeam", req: req{method: "POST", path: "/v1/users", token: e.admin, body: map[string]any{"email": "u@example.org", "password": "long-enough", "role": "coordinator", "teams": []string{"west"}}}, status: 422, code: "unknown_team"},
		{name: "TeamsWrongType", req: req{method: "POST", path: "/v1/users", token: e.admin, body: map[string]any{"email": "u@example.org", "password": "long-enough", "role": "coordinator", "teams": "north"}}, status: 422, code: "invalid_type"},
		{name: "UserByCoordinator", req: req{method: "POST", path: "/v1/users", token: e.coordN, body: map[string]any{"email": "c@example.org", "password": "long-enough", "role": "admin"}}, status: 403, code: "forbidden"},
		{name: "ListUsers", req: req{method: "GET", path: "/v1/users", token: e.admin}, status: 200,
			check: func(t *testing.T, r response) {
				if strings.Contains(string(r.body), "argon2") || !strings.Contains(string(r.body), "new@example.org") {
					t.Fatalf("users = %s", r.body)
				}
			}},
		{name: "ListUsersByCoordinator", req: req{method: "GET", path: "/v1/users", token: e.coordN}, status: 403, code: "forbidden"},
		{name: "MeDevice", req: req{method: "GET", path: "/v1/auth/me", token: e.devN.AccessToken}, status: 200,
			check: func(t *testing.T, r response) {
				var me api.Me
				json.Unmarshal(r.body, &me)
				if me.Role != "device" || me.NodeID != e.devN.NodeID || len(me.Teams) != 1 || me.Teams[0] != "north" {
					t.Fatalf("me = %s", r.body)
				}
			}},
	})
	// The new coordinator can log in and sees both teams.
	tr := e.login("new@example.org", "long-enough")
	if len(tr.Teams) != 2 {
		t.Fatalf("teams = %v", tr.Teams)
	}
	_ = http.StatusOK
}

// A tablet signed out for safety comes back as itself with a new code and its last
// refresh token; nobody else's token, no other team's code, and no revoked tablet.
func TestReenrol(t *testing.T) {
	e := newEnv(t)
	d := e.enrol(e.coordN, "north")
	var next api.TokenResponse
	e.ok("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": d.RefreshToken}, &next)
	e.run(t, []scenario{
		{name: "ReuseSignsOut", req: req{method: "POST", path: "/v1/auth/refresh", body: map[string]any{"refresh_token": d.RefreshToken}}, status: 401, code: "refresh_token_reused"},
		{name: "UnknownPreviousToken", req: req{method: "POST", path: "/v1/devices/enrol", body: map[string]any{"code": e.code(e.coordN, "north"), "previous_refresh_token": "not-a-token"}}, status: 422, code: "invalid_field"},
		{name: "OtherTeamsCode", req: req{method: "POST", path: "/v1/devices/enrol", body: map[string]any{"code": e.code(e.coordS, "south"), "previous_refresh_token": next.RefreshToken}}, status: 403, code: "out_of_scope"},
		{name: "BackAsItself", req: req{method: "POST", path: "/v1/devices/enrol", body: map[string]any{"code": e.code(e.coordN, "north"), "previous_refresh_token": next.RefreshToken}}, status: 200,
			check: func(t *testing.T, r response) {
				var got api.TokenResponse
				if err := json.Unmarshal(r.body, &got); err != nil || got.DeviceID != d.DeviceID || got.NodeID != d.NodeID {
					t.Fatalf("re-enrolled as %+v, was %+v (%v)", got, d, err)
				}
			}},
	})
	e.ok("POST", "/v1/devices/"+d.DeviceID+"/revoke", e.coordN, nil, nil)
	e.run(t, []scenario{
		{name: "RevokedCannotComeBack", req: req{method: "POST", path: "/v1/devices/enrol", body: map[string]any{"code": e.code(e.coordN, "north"), "previous_refresh_token": next.RefreshToken}}, status: 401, code: "device_revoked"},
	})
}
