// Package auth holds the server's credentials: argon2id password hashes, HS256 access
// tokens (JWT) with a fixed algorithm list, issuer, audience, expiry and small leeway, and
// the random one-use secrets (enrolment codes, refresh tokens) that are stored only as
// SHA-256 hashes.
//
// It knows nothing of HTTP or storage.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"golang.org/x/crypto/argon2"
)

// Argon2Params are argon2id's cost parameters; they are stored with each hash, so they can
// be raised later without invalidating old hashes.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultArgon2 is OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane).
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// TestArgon2 is cheap: for tests only.
var TestArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1}

const keyLen = 32

// HashPassword returns an encoded argon2id hash with a fresh 16-byte salt:
// $argon2id$v=19$m=…,t=…,p=…$salt$hash (base64, no padding).
func HashPassword(password string, p Argon2Params) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckPassword reports whether password matches the encoded hash, in constant time.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Time == 0 || p.Threads == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHashes are checked against when a login names no user, so that the answer takes
// as long as for a wrong password and does not tell which emails exist.
var dummyHashes sync.Map // Argon2Params -> string

// CheckNoUser spends the time CheckPassword would with params p.
func CheckNoUser(password string, p Argon2Params) {
	h, ok := dummyHashes.Load(p)
	if !ok {
		h, _ = dummyHashes.LoadOrStore(p, HashPassword("fieldnotes-no-such-user", p))
	}
	CheckPassword(h.(string), password)
}

// NewSecret returns a random refresh token: 32 bytes, URL-safe base64.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// codeAlphabet has no 0/O, 1/I/L, 2/Z, 5/S or 8/B: easy to read aloud and type.
const codeAlphabet = "ACDEFGHJKMNPQRTUVWXY34679"

// CodeLength is an enrolment code's length: 25^8 ≈ 1.5×10^11 codes.
const CodeLength = 8

// NewEnrolmentCode returns a short random code from an unambiguous alphabet.
func NewEnrolmentCode() string {
	b := make([]byte, CodeLength)
	out := make([]byte, CodeLength)
	for i := 0; i < CodeLength; {
		rand.Read(b)
		for _, c := range b {
			// rejection sampling keeps every letter equally likely
			if c >= 250 || i == CodeLength {
				continue
			}
			out[i] = codeAlphabet[int(c)%len(codeAlphabet)]
			i++
		}
	}
	return string(out)
}

// NormaliseCode upper-cases a typed code and drops spaces and dashes.
func NormaliseCode(code string) string {
	code = strings.ToUpper(code)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
}

// HashSecret is what stores keep of a code or refresh token.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewID returns a UUIDv7.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Claims are an access token's claims.
type Claims struct {
	Role string `json:"role"`
	Team string `json:"team,omitempty"`
	jwt.RegisteredClaims
}

// Token errors, for the API to map.
var (
	ErrTokenExpired = errors.New("auth: token expired")
	ErrTokenInvalid = errors.New("auth: token invalid")
)

// Tokens issues and verifies access tokens.
type Tokens struct {
	key      []byte
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	parser   *jwt.Parser
}

// Defaults for NewTokens.
const (
	Issuer    = "fieldnotes"
	Audience  = "fieldnotes-api"
	AccessTTL = 15 * time.Minute
	Leeway    = 30 * time.Second
)

// NewTokens returns an HS256 issuer/verifier. now is time.Now when nil.
func NewTokens(key []byte, issuer, audience string, ttl time.Duration, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{key: key, issuer: issuer, audience: audience, ttl: ttl, now: now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithLeeway(Leeway),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(now),
		)}
}

// TTL is how long an access token lives.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs a token for subject with role (and team for a device).
func (t *Tokens) Issue(subject, role, team string) (string, error) {
	now := t.now()
	c := Claims{Role: role, Team: team, RegisteredClaims: jwt.RegisteredClaims{
		Subject:   subject,
		Issuer:    t.issuer,
		Audience:  jwt.ClaimStrings{t.audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		ID:        NewID(),
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
}

// Parse verifies a token: HS256 only, our key, issuer and audience, unexpired (with
// leeway). It returns ErrTokenExpired or ErrTokenInvalid.
func (t *Tokens) Parse(token string) (*Claims, error) {
	var c Claims
	_, err := t.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil })
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, ErrTokenExpired
		}
		return nil, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	if c.Subject == "" || c.Role == "" {
		return nil, fmt.Errorf("%w: missing sub or role", ErrTokenInvalid)
	}
	return &c, nil
}
