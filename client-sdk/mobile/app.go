package mobile

import (
	"time"

	"github.com/fieldnotes/fieldnotes/client-sdk/fieldapp"
)

// StartApp serves the field app from this device's store on a loopback address and
// returns its URL ("http://127.0.0.1:PORT/") for the app's WebView to open. addr is a
// loopback host:port ("" or "127.0.0.1:0" picks a free port); syncEveryMs is how often
// it syncs while the server is reachable (0: every 30 seconds, negative: never). A second
// call returns the running app's URL. See docs/MOBILE.md.
func (m *Device) StartApp(addr string, syncEveryMs int64) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.app != nil {
		return m.app.URL, nil
	}
	every := time.Duration(syncEveryMs) * time.Millisecond
	if syncEveryMs < 0 {
		every = -1
	}
	srv, err := fieldapp.Start(m.d, addr, fieldapp.Options{AutoSync: every})
	if err != nil {
		return "", err
	}
	m.app = srv
	return srv.URL, nil
}

// AppURL is the running field app's URL ("" when it is not running).
func (m *Device) AppURL() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.app == nil {
		return ""
	}
	return m.app.URL
}

// StopApp stops the field app (call it when the app goes to the background for good, or
// before Close; Close calls it too). It is safe to call when the app is not running.
func (m *Device) StopApp() error {
	m.mu.Lock()
	srv := m.app
	m.app = nil
	m.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Stop()
}
