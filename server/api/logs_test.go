package api_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
)

// lockedBuffer collects log lines from concurrent requests.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The logs carry ids, never what a participant said or how to contact them: not for a
// push, a rejected op, a read, an export of the record or a withdrawal.
func TestLogsCarryNoPersonalData(t *testing.T) {
	var logs lockedBuffer
	e := newEnvLogging(t, zerolog.New(&logs).Level(zerolog.DebugLevel))
	const said, email, phone = "Doctor-Okafor-ignored-my-chest-pain", "amina.participant@example.org", "07700 900461"
	part, consent, conv := uuid.NewString(), uuid.NewString(), uuid.NewString()
	d := &e.devN
	res := e.push(d,
		d.op("participant", part, "set", "engagement", e.engN),
		d.op("participant", part, "set", "contact_email", email),
		d.op("participant", part, "set", "contact_phone", phone),
		d.op("consent", consent, "set", "participant", part),
		d.op("consent", consent, "set", "engagement", e.engN),
		d.op("consent", consent, "add", "scopes", "record_views"),
		d.op("conversation", conv, "set", "engagement", e.engN),
		d.op("conversation", conv, "set", "consent", consent),
		d.op("conversation", conv, "set", "answer.what_could_be_better", map[string]any{"text": said, "prompt_locale": "en", "answer_locale": "en"}),
		d.op("conversation", conv, "append", "notes", said+" (note)"),
		d.op("participant", part, "set", "eq_ethnicity", said), // rejected: not a category
	)
	if res.Accepted != 10 || len(res.Rejected) != 1 {
		t.Fatalf("push: %+v", res)
	}
	e.ok("GET", "/v1/records/conversation/"+conv+"?history=1", e.coordN, nil, nil)
	e.ok("GET", "/v1/records/participant/"+part, e.coordN, nil, nil)
	e.ok("POST", "/v1/consents/"+consent+"/withdraw", e.coordN, map[string]any{"reason": "asked on the phone by " + email}, nil)

	out := logs.String()
	if !strings.Contains(out, "/v1/sync/push") {
		t.Fatalf("no request log captured:\n%s", out)
	}
	for _, personal := range []string{"Okafor", email, "amina", phone, "900461"} {
		if strings.Contains(out, personal) {
			t.Errorf("the log holds %q:\n%s", personal, out)
		}
	}
}
