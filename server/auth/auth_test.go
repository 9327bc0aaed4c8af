package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPassword(t *testing.T) {
	h := HashPassword("correct horse", TestArgon2)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash = %s", h)
	}
	if h == HashPassword("correct horse", TestArgon2) {
		t.Fatal("no per-hash salt")
	}
	if !CheckPassword(h, "correct horse") || CheckPassword(h, "correct horsE") || CheckPassword(h, "") {
		t.Fatal("CheckPassword")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=64,t=0,p=1$AAAA$AAAA", "$argon2id$v=19$m=64,t=1,p=1$!!$AAAA"} {
		if CheckPassword(bad, "x") {
			t.Fatalf("accepted %q", bad)
		}
	}
	CheckNoUser("x", TestArgon2)
}

func TestEnrolmentCode(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		c := NewEnrolmentCode()
		if len(c) != CodeLength || strings.Trim(c, codeAlphabet) != "" || seen[c] {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
	}
	if NormaliseCode(" abcd-efgh ") != "ABCDEFGH" {
		t.Fatal("NormaliseCode")
	}
	if HashSecret("a") == HashSecret("b") || len(HashSecret("a")) != 64 {
		t.Fatal("HashSecret")
	}
}

func TestTokens(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	tk := NewTokens([]byte("k-0123456789abcdef0123456789abcdef"), Issuer, Audience, AccessTTL, clock)
	s, err := tk.Issue("dev-1", "device", "north")
	if err != nil {
		t.Fatal(err)
	}
	c, err := tk.Parse(s)
	if err != nil || c.Subject != "dev-1" || c.Role != "device" || c.Team != "north" || c.ID == "" {
		t.Fatalf("Parse = %+v, %v", c, err)
	}
	now = now.Add(AccessTTL + Leeway - time.Second)
	if _, err := tk.Parse(s); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	now = now.Add(2 * time.Second)
	if _, err := tk.Parse(s); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired: %v", err)
	}
	other := NewTokens([]byte("k-0123456789abcdef0123456789abcdef"), Issuer, "other", AccessTTL, clock)
	s2, _ := other.Issue("dev-1", "device", "north")
	if _, err := tk.Parse(s2); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("wrong audience: %v", err)
	}
}
