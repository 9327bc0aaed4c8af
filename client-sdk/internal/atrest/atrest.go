// Package atrest keeps a tablet's store encrypted at rest: every byte SQLite writes (the
// database, its WAL and shared-memory index, indexes and temporary files) goes through
// the Adiantum VFS of github.com/ncruces/go-sqlite3 (pure Go, no cgo), keyed with the
// device's 32-byte key. The hub is not encrypted this way and stays on modernc.
//
// The key never becomes part of a DSN or a SQL string: each Key registers a VFS of its
// own whose key derivation hands SQLite a copy of the key's bytes, and Destroy zeroes
// them and unregisters the VFS, after which nothing in this process can open the store.
package atrest

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/vfs"
	"github.com/ncruces/go-sqlite3/vfs/adiantum"
	"lukechampine.com/adiantum/hbsh"

	adiantumcipher "lukechampine.com/adiantum"
)

// KeySize is the size of a device key in bytes.
const KeySize = 32

// ErrKeySize: a key is not 32 bytes.
var ErrKeySize = fmt.Errorf("the store key must be %d bytes", KeySize)

// ErrDestroyed: the key was destroyed (the store was wiped).
var ErrDestroyed = errors.New("the store key was destroyed")

// Key is one device's store key, held in memory while the store is open.
type Key struct {
	vfsName string
	mu      sync.Mutex
	key     []byte // nil once destroyed
}

var seq atomic.Int64

// keyParam is the URI parameter that makes the VFS ask this Key's KDF for a key. Its
// value is not secret: the KDF ignores it and returns the key's bytes.
const keyParam = "textkey=device"

// New holds a copy of key (which the caller may then clear) for opening stores.
func New(key []byte) (*Key, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	k := &Key{vfsName: fmt.Sprintf("fieldnotes-atrest-%d", seq.Add(1)), key: bytes.Clone(key)}
	vfs.Register(k.vfsName, adiantum.Wrap(vfs.Find(""), creator{k}))
	return k, nil
}

// NewRandom makes a fresh random key (a desktop test bench's key file).
func NewRandom() []byte {
	b := make([]byte, KeySize)
	rand.Read(b)
	return b
}

// Destroy zeroes the key's bytes and unregisters its VFS. Close every store opened with
// it first; connections still open keep their expanded cipher until they close.
func (k *Key) Destroy() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.key)
	k.key = nil
	vfs.Unregister(k.vfsName)
}

// Destroyed reports whether Destroy was called.
func (k *Key) Destroyed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.key == nil
}

// creator is the VFS's cipher factory: Adiantum (XChaCha12, AES-256, NH and Poly1305)
// over 4 KiB blocks, as the package's default, with the key from k.
type creator struct{ k *Key }

func (c creator) KDF(secret string) []byte {
	if secret == "" {
		return NewRandom() // temporary files: a random key of their own
	}
	c.k.mu.Lock()
	defer c.k.mu.Unlock()
	return bytes.Clone(c.k.key) // nil once destroyed, and then HBSH refuses
}

func (creator) HBSH(key []byte) *hbsh.HBSH {
	if len(key) != KeySize {
		return nil
	}
	h := adiantumcipher.New(key)
	clear(key)
	return h
}

// dsn adds this key's VFS to a "file:" DSN.
func (k *Key) dsn(dsn string) (string, error) {
	k.mu.Lock()
	gone := k.key == nil
	k.mu.Unlock()
	if gone {
		return "", ErrDestroyed
	}
	if !strings.HasPrefix(dsn, "file:") {
		dsn = "file:" + dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "vfs=" + k.vfsName + "&" + keyParam, nil
}

// OpenDB opens a database/sql handle over the encrypting VFS (syncengine.Options.OpenDB).
// The DSN keeps the syntax modernc's driver reads: "_pragma=NAME(VALUE)" applied in
// order at every connection, "_txlock=immediate".
func (k *Key) OpenDB(dsn string) (*sql.DB, error) {
	d, err := k.dsn(dsn)
	if err != nil {
		return nil, err
	}
	return driver.Open(d)
}

// sqliteHeader starts every plain (unencrypted) SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// State is what a store file on disk is.
type State int

const (
	Missing   State = iota // no file, or an empty one
	Plain                  // an unencrypted SQLite database (an older version's store)
	Encrypted              // anything else: taken to be encrypted
)

// Inspect says whether the file at path is missing, a plain SQLite database or not.
func Inspect(path string) (State, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return Missing, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
		return Missing, nil
	}
	if bytes.Equal(head[:n], sqliteHeader) {
		return Plain, nil
	}
	return Encrypted, nil
}

// Verify checks that the key opens the encrypted database at path.
func (k *Key) Verify(path string) error {
	d, err := k.dsn(path)
	if err != nil {
		return err
	}
	c, err := sqlite3.OpenFlags(d, sqlite3.OPEN_READONLY|sqlite3.OPEN_URI)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Exec(`SELECT count(*) FROM sqlite_schema`)
}

// Recover finishes or undoes an Encrypt that a crash cut short: a plain file set aside
// with no store in its place goes back (Encrypt runs again); one left beside the
// encrypted store that replaced it is shredded. A stray half-made copy is removed.
func Recover(path string) error {
	old := path + ".plain"
	if _, err := os.Stat(old); errors.Is(err, os.ErrNotExist) {
		return os.Remove(path + ".encrypting")
	}
	state, err := Inspect(path)
	if err != nil {
		return err
	}
	if state == Missing {
		os.Remove(path)
		return os.Rename(old, path)
	}
	return Shred(old)
}

// Encrypt turns the plain database at path into one encrypted with k, in place: it
// copies it (VACUUM INTO) to an encrypted file beside it, syncs it, renames it over the
// original, and overwrites the plain file and its WAL with zeros before removing them.
// A crash before the rename leaves the plain store as it was (and a stray temporary
// file, removed at the next try); after it, the encrypted one.
func (k *Key) Encrypt(path string) error {
	tmp := path + ".encrypting"

	for _, p := range []string{tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm"} {
		os.Remove(p)
	}
	d, err := k.dsn(tmp)
	if err != nil {
		return err
	}
	c, err := sqlite3.OpenFlags("file:"+path, sqlite3.OPEN_READWRITE|sqlite3.OPEN_URI)
	if err != nil {
		return err
	}
	err = c.Exec(`VACUUM INTO ` + quote(d))
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("encrypt %s: %w", path, err)
	}
	if err := k.Verify(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("encrypt %s: the copy does not open: %w", path, err)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	old := path + ".plain"
	if err := os.Rename(path, old); err != nil {
		return err
	}

	if err := os.Rename(tmp, path); err != nil {
		os.Rename(old, path)
		return err
	}
	var errs []error
	for _, p := range []string{old, path + "-wal", path + "-shm", path + "-journal"} {
		errs = append(errs, Shred(p))
	}
	return errors.Join(errs...)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Shred overwrites a file with zeros, syncs it and removes it; a missing file is not an
// error. On flash storage the old blocks may survive the overwrite in the controller:
// what protects a store is that it was never written unencrypted.
func Shred(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		zero := make([]byte, 64<<10)
		for left := st.Size(); left > 0; left -= int64(len(zero)) {
			if _, err := f.Write(zero[:min(left, int64(len(zero)))]); err != nil {
				break
			}
		}
		f.Sync()
	}
	f.Close()
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
