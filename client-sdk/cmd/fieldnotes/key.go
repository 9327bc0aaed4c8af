package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/locales"
)

// The store key on a desktop.
//
// On a tablet the key lives in the platform keystore (Android Keystore, iOS Keychain)
// and the app passes it to sdk.WithStoreKey. A desktop running this command is a test
// bench, not a field device: its key is FIELDNOTES_DEVICE_KEY (64 hex digits) if set,
// else the file DIR/device.key (hex, mode 0600), made on first use. A key file beside the
// store only keeps the store unreadable to someone who copies the database alone; anyone
// who can read the data directory can read both. See docs/MOBILE.md.

const (
	keyFileName = "device.key"
	keyEnv      = "FIELDNOTES_DEVICE_KEY"
)

// storeKey returns the key for the store in dir and what a wipe does to it: the key file
// is overwritten and removed; a key from the environment is the caller's to forget.
func storeKey(dir string) (key []byte, destroy func() error, err error) {
	key, destroy, _, err = storeKeyNew(dir)
	return key, destroy, err
}

// storeKeyNew is storeKey, also saying whether it made a new key file.
func storeKeyNew(dir string) (key []byte, destroy func() error, made bool, err error) {
	if v := strings.TrimSpace(os.Getenv(keyEnv)); v != "" {
		key, err := hex.DecodeString(v)
		if err != nil || len(key) != 32 {
			return nil, nil, false, &sdk.Error{Code: sdk.CodeStoreKey, Field: keyEnv, Detail: "want 64 hex digits"}
		}
		return key, func() error { return nil }, false, nil
	}
	path := filepath.Join(dir, keyFileName)
	destroy = func() error { return shred(path) }
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != 32 {
			return nil, nil, false, &sdk.Error{Code: sdk.CodeStoreKey, Field: keyFileName, Detail: path + ": want 64 hex digits"}
		}
		return key, destroy, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, false, err
	}
	// No key file. An encrypted store without its key can't be opened, and a new key
	// would not open it either: say so rather than make one.
	if _, err := os.Stat(filepath.Join(dir, sdk.DBName)); err == nil {
		if plain, _ := isPlainStore(filepath.Join(dir, sdk.DBName)); !plain {
			return nil, nil, false, &sdk.Error{Code: sdk.CodeStoreKey, Field: keyFileName, Detail: path + " is missing"}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, false, err
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, nil, false, err
	}
	_, err = fmt.Fprintln(f, hex.EncodeToString(key))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, nil, false, err
	}
	return key, destroy, true, nil
}

// open opens the device's store with its key.
func (c *cli) open() (*sdk.Device, error) {
	key, destroy, made, err := storeKeyNew(c.dir)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	if c.keyMade = made; made && !c.holdKeyNote {
		c.keyNote()
	}
	return sdk.Open(c.dir, sdk.WithLanguage(c.lang), sdk.WithStoreKey(key), sdk.WithWipeHook(destroy))
}

// keyNote tells the worker a key file was made, and what that means on a desktop.
func (c *cli) keyNote() {
	fmt.Fprintln(c.stderr, render(c.t("cli.key_file_created", map[string]any{"Path": filepath.Join(c.dir, keyFileName)}), locales.IsRTL(c.lang), 0))
}

func isPlainStore(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := f.Read(head)
	return n == 0 || string(head[:n]) == "SQLite format 3\x00", nil
}

// shred overwrites the key file with zeros and removes it.
func shred(path string) error {
	if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		f.Write(make([]byte, 65))
		f.Sync()
		f.Close()
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
