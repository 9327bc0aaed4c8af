package sdk

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldnotes/fieldnotes/client-sdk/internal/atrest"
)

// What a participant says and how to reach them: none of it may be readable in the
// device's files when the store is encrypted.
var secrets = []string{
	"ਮੇਰੀ ਦਾਦੀ ਨੂੰ ਦਵਾਈ ਨਹੀਂ ਮਿਲਦੀ", // answer text (Punjabi)
	"My grandmother cannot get her medicine",
	"stall smelled of cardamom", // note
	"Harpreet Kaur Sandhu",      // contact name
	"harpreet.sandhu@example.org",
	"07700 900123",
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, atrest.KeySize) }

// record writes one conversation holding every secret; the writes commit one at a time,
// so the WAL holds them before any checkpoint.
func recordSecrets(t *testing.T, d *Device) (eng, consent, conv string) {
	t.Helper()
	ctx := context.Background()
	eng = mustEngagement(t, d)
	c := mustConsent(t, d, eng, allScopes...)
	conv = must[string](t)(d.StartConversation(ctx, ConversationInput{Consent: c.ID, Locales: []string{"pa"}}))
	if err := d.Answer(ctx, conv, AnswerInput{PromptID: "what_works", Text: secrets[0], PromptLocale: "pa", TranslationEN: secrets[1]}); err != nil {
		t.Fatal(err)
	}
	if err := d.AddNote(ctx, conv, secrets[2]); err != nil {
		t.Fatal(err)
	}
	if err := d.SetContact(ctx, c.ID, Contact{Name: secrets[3], Email: secrets[4], Phone: secrets[5]}); err != nil {
		t.Fatal(err)
	}
	return eng, c.ID, conv
}

// readable lists the secrets found in the raw bytes of any file under dir (the store,
// -wal, -shm, anything else), as UTF-8 and as the JSON escapes SQLite may hold.
func readable(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			forms := []string{s}
			if w := strings.Fields(s); len(w) > 2 {
				forms = append(forms, w[0]+" "+w[1]) // a fragment split across pages
			}
			for _, form := range forms {
				if bytes.Contains(raw, []byte(form)) {
					found = append(found, filepath.Base(p)+": "+form)
					break
				}
			}
		}
		return nil
	})
	return found
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestStoreEncryptedAtRest(t *testing.T) {
	ctx := context.Background()

	t.Run("PlainStoreShowsTheSecrets", func(t *testing.T) {
		// The scan below finds what an unencrypted store leaves in its files.
		d := MustOpenDevice(t)
		recordSecrets(t, d)
		if len(readable(t, d.Dir())) < len(secrets) {
			t.Fatalf("the scan finds only %v in a plain store", readable(t, d.Dir()))
		}
	})

	dir := t.TempDir()
	d, err := Open(dir, WithClock(steppingClock(t0)), WithStoreKey(testKey(7)))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetLocalIdentity(ctx, testNode, testTeam); err != nil {
		t.Fatal(err)
	}
	_, consent, conv := recordSecrets(t, d)
	// Open: the WAL and its index hold the latest writes.
	if _, err := os.Stat(filepath.Join(dir, DBName+"-wal")); err != nil {
		t.Fatalf("no WAL while open (%v): the scan would miss it", files(t, dir))
	}
	if f := readable(t, dir); len(f) > 0 {
		t.Fatalf("readable in the open store's files %v: %v", files(t, dir), f)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if f := readable(t, dir); len(f) > 0 {
		t.Fatalf("readable after close %v: %v", files(t, dir), f)
	}

	t.Run("WrongOrNoKeyRefused", func(t *testing.T) {
		before, _ := os.ReadFile(filepath.Join(dir, DBName))
		for name, opts := range map[string][]Option{"wrong key": {WithStoreKey(testKey(8))}, "no key": nil, "short key": {WithStoreKey([]byte("0123456789"))}} {
			_, err := Open(dir, opts...)
			if !errors.Is(err, ErrStoreKey) {
				t.Fatalf("%s: err = %v, want store_key", name, err)
			}
			var e *Error
			errors.As(err, &e)
			if msg := e.Message("pa"); msg == "" || strings.Contains(msg, "store_key") {
				t.Fatalf("%s: message %q", name, msg)
			}
		}
		after, _ := os.ReadFile(filepath.Join(dir, DBName))
		if !bytes.Equal(before, after) {
			t.Fatal("a refused open changed the store")
		}
	})

	t.Run("ReopensWithTheKey", func(t *testing.T) {
		d, err := Open(dir, WithStoreKey(testKey(7)))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		c, err := d.Conversation(ctx, conv)
		if err != nil {
			t.Fatal(err)
		}
		if answerText(c, "what_works") != secrets[0] || len(c.Notes) != 1 || c.Notes[0] != secrets[2] {
			t.Fatalf("conversation after reopen: %+v", c)
		}
		p, err := d.Participant(ctx, must[Consent](t)(d.Consent(ctx, consent)).Participant)
		if err != nil || p.ContactEmail != secrets[4] {
			t.Fatalf("participant after reopen: %+v, %v", p, err)
		}
	})
}

// A store written before encryption (an older SDK, or the CLI without a key) is
// encrypted in place the first time it is opened with a key: everything is still there
// and nothing is readable in the files any more.
func TestPlainStoreEncryptedOnOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := Open(dir, WithClock(steppingClock(t0)))
	if err != nil {
		t.Fatal(err)
	}
	d.SetLocalIdentity(ctx, testNode, testTeam)
	_, _, conv := recordSecrets(t, d)
	hash := localHash(t, d)
	d.Close()
	if st, _ := atrest.Inspect(filepath.Join(dir, DBName)); st != atrest.Plain {
		t.Fatalf("state = %v, want plain", st)
	}

	d, err = Open(dir, WithStoreKey(testKey(3)))
	if err != nil {
		t.Fatal(err)
	}
	if f := readable(t, dir); len(f) > 0 {
		t.Fatalf("readable after migration %v: %v", files(t, dir), f)
	}
	if got := localHash(t, d); got != hash {
		t.Fatalf("state hash %s after migration, was %s", got, hash)
	}
	if c, err := d.Conversation(ctx, conv); err != nil || answerText(c, "what_works") != secrets[0] {
		t.Fatalf("conversation after migration: %+v, %v", c, err)
	}
	if err := d.Answer(ctx, conv, AnswerInput{PromptID: "anything_else", Text: "ਹੋਰ", PromptLocale: "pa"}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	for _, name := range files(t, dir) {
		if name != DBName && name != DBName+"-wal" && name != DBName+"-shm" {
			t.Errorf("left behind: %s", name)
		}
	}
	if st, _ := atrest.Inspect(filepath.Join(dir, DBName)); st != atrest.Encrypted {
		t.Fatalf("state = %v, want encrypted", st)
	}
}

// A wipe (Wipe, or the server revoking the device) removes the files and destroys the
// key: the SDK's copy is zeroed, its VFS is gone, and the platform is told to destroy
// its own.
func TestWipeDestroysTheKey(t *testing.T) {
	for _, how := range []string{"wipe", "revocation"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			destroyed := 0
			opts := []Option{WithStoreKey(testKey(9)), WithWipeHook(func() error { destroyed++; return nil })}
			var d *Device
			if how == "wipe" {
				d = MustOpenDevice(t, opts...)
			} else {
				hub := newTestHub(t, millis(steppingClock(t0)))
				d = mustEnrol(t, hub, "", opts...)
				defer hub.Revoke()
				hub.Revoke()
			}
			recordSecrets(t, d)
			key := d.key
			if key == nil || key.Destroyed() {
				t.Fatal("no live key while open")
			}
			var err error
			if how == "wipe" {
				err = d.Wipe()
			} else {
				err = d.Sync(ctx, nil)
				if !errors.Is(err, ErrRevoked) {
					t.Fatalf("sync: %v", err)
				}
				err = nil
			}
			if err != nil {
				t.Fatal(err)
			}
			if !key.Destroyed() || destroyed != 1 {
				t.Fatalf("key destroyed %v, platform told %d times", key.Destroyed(), destroyed)
			}
			if _, err := key.OpenDB("file:" + filepath.Join(d.Dir(), DBName)); !errors.Is(err, atrest.ErrDestroyed) {
				t.Fatalf("open with a destroyed key: %v", err)
			}
			if left := files(t, d.Dir()); len(left) > 0 {
				t.Fatalf("left after wipe: %v", left)
			}
			if _, err := d.StartEngagement(ctx, EngagementInput{VenueType: "cafe"}); !errors.Is(err, ErrRevoked) {
				t.Fatalf("capture after wipe: %v", err)
			}
		})
	}
}

func answerText(c Conversation, prompt string) string {
	for _, a := range c.Answers {
		if a.PromptID == prompt {
			return a.Text
		}
	}
	return ""
}

// A crash in the middle of encrypting a plain store loses nothing: with the plain file
// set aside and no store in its place, the next open puts it back and encrypts it; with
// the encrypted store in place, the plain file left beside it is shredded.
func TestEncryptionInterrupted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	base := filepath.Join(dir, DBName)
	d, err := Open(dir, WithClock(steppingClock(t0)))
	if err != nil {
		t.Fatal(err)
	}
	d.SetLocalIdentity(ctx, testNode, testTeam)
	_, _, conv := recordSecrets(t, d)
	d.Close()
	// Crash after the rename that sets the plain file aside, with a half-made copy.
	if err := os.Rename(base, base+".plain"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(base+".encrypting", []byte("half"), 0o600)
	d, err = Open(dir, WithStoreKey(testKey(4)))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := d.Conversation(ctx, conv); err != nil || answerText(c, "what_works") != secrets[0] {
		t.Fatalf("conversation after the interrupted encryption: %+v, %v", c, err)
	}
	d.Close()
	if f := readable(t, dir); len(f) > 0 {
		t.Fatalf("readable %v: %v", files(t, dir), f)
	}
	// Crash after the encrypted copy took its place, before the plain file was shredded.
	plain := t.TempDir()
	p, err := Open(plain, WithClock(steppingClock(t0)))
	if err != nil {
		t.Fatal(err)
	}
	p.SetLocalIdentity(ctx, testNode, testTeam)
	recordSecrets(t, p)
	p.Close()
	if err := os.Rename(filepath.Join(plain, DBName), base+".plain"); err != nil {
		t.Fatal(err)
	}
	d, err = Open(dir, WithStoreKey(testKey(4)))
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if f := readable(t, dir); len(f) > 0 {
		t.Fatalf("readable after recovery %v: %v", files(t, dir), f)
	}
	for _, name := range files(t, dir) {
		if strings.HasSuffix(name, ".plain") || strings.HasSuffix(name, ".encrypting") {
			t.Fatalf("left behind: %s", name)
		}
	}
}
