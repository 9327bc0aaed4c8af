package mobile

import (
	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
)

// Encryption at rest (see docs/MOBILE.md). The app keeps a random 32-byte key per device
// in the platform keystore (Android Keystore, iOS Keychain), and passes it in at every
// start. When Wiped turns true (the server revoked the device, or Wipe was called) the
// store's files and the SDK's copy of the key are already gone, and the app deletes the
// key from the keystore too: with the key gone, nothing left on flash can be read.

// KeySize is the size of the store key in bytes.
const KeySize = 32

// OpenEncrypted opens (creating if needed) the store in dir, encrypted with key (KeySize
// bytes, from the platform keystore; the app may clear its copy afterwards). A store
// written unencrypted by an earlier version is encrypted in place. A wrong key, or an
// encrypted store opened with Open, fails with ErrorCode "store_key" and changes nothing.
func OpenEncrypted(dir, lang string, key []byte) (*Device, error) {
	m := &Device{}
	d, err := sdk.Open(dir, sdk.WithLanguage(lang), sdk.WithStoreKey(key), sdk.WithSyncListener(func(err error) {
		m.mu.Lock()
		m.lastErr = err
		m.mu.Unlock()
	}))
	if err != nil {
		return nil, err
	}
	m.d = d
	return m, nil
}

// Wipe deletes the store and the SDK's copy of its key, as a revocation does: for a
// tablet handed back. Changes not yet synced are lost. Then delete the key from the
// keystore; the Device can't be used afterwards.
func (m *Device) Wipe() error {
	m.StopAutoSync()
	return m.d.Wipe()
}
