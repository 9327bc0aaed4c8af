package app_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/fieldnotes/fieldnotes/server/app"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/store"
)

// Actions taken over the API land in the same audit log as the console's: sign-ins,
// teams, enrolment codes and enrolments (with the device and team from the answer);
// failed calls and token refreshes do not.
func TestAPIActionsAreAudited(t *testing.T) {
	cfg, err := app.ParseConfig([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "error",
		"--admin-email", "root@example.org", "--admin-password", "root-password"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Argon2 = auth.TestArgon2
	in, err := app.Start(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Shutdown(context.Background())
	u := in.URL()
	var tok struct {
		AccessToken string `json:"access_token"`
		UserID      string `json:"user_id"`
	}
	if st := post(t, u+"/v1/auth/login", "", map[string]string{"email": "root@example.org", "password": "wrong-password"}, nil); st != 401 {
		t.Fatalf("bad login: %d", st)
	}
	if st := post(t, u+"/v1/auth/login", "", map[string]string{"email": "root@example.org", "password": "root-password"}, &tok); st != 200 {
		t.Fatalf("login: %d", st)
	}
	post(t, u+"/v1/teams", tok.AccessToken, map[string]string{"name": "north"}, nil)
	post(t, u+"/v1/teams", tok.AccessToken, map[string]string{"name": "north"}, nil) // 409: not an action
	var code struct {
		Code string `json:"code"`
	}
	post(t, u+"/v1/devices/enrolment-codes", tok.AccessToken, map[string]string{"team": "north"}, &code)
	var dev struct {
		DeviceID string `json:"device_id"`
	}
	if st := post(t, u+"/v1/devices/enrol", "", map[string]string{"code": code.Code}, &dev); st != 200 {
		t.Fatalf("enrol: %d", st)
	}
	entries, err := in.Store.Audit(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		got = append(got, strings.TrimSpace(e.Action+" "+e.Actor+" "+e.Team+" "+e.Target))
	}
	want := []string{
		"api_sign_in " + tok.UserID,
		"api POST /v1/teams " + tok.UserID,
		"enrolment_code " + tok.UserID + " north",
		"device_enrol  north device/" + dev.DeviceID,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
