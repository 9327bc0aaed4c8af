package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/fieldnotes/fieldnotes/syncengine"
)

// Progress reports how far a sync is: Phase "push" (Done of Total ops sent) or "pull"
// (Done ops received; Total is 0 until the last page, when it equals Done).
type Progress struct {
	Phase string
	Done  int
	Total int
}

// Phases of a sync.
const (
	PhasePush = "push"
	PhasePull = "pull"
)

// SyncReport is what the last sync did.
type SyncReport struct {
	Pushed, Duplicates, Restamped int
	Rejected                      []syncengine.Rejection
	Pulled, Erased                int
}

// Crash points a test can stop a sync at (Device.hook).
const (
	hookPushAnswered = "push-answered" // server committed; ack not saved
	hookPullApplied  = "pull-applied"  // page applied; erasures and cursor not saved
	hookPullPurged   = "pull-purged"   // erasures purged; cursor not saved
)

func (d *Device) crashPoint(name string) error {
	if d.hook != nil {
		return d.hook(name)
	}
	return nil
}

// Sync pushes this device's unacknowledged ops in batches, then pulls from the saved cursor
// until the server has nothing more. Every step is idempotent and its progress saved, so a
// crash anywhere redoes at most one batch or page and loses or duplicates nothing.
func (d *Device) Sync(ctx context.Context, progress func(Progress)) error {
	_, err := d.SyncReport(ctx, progress)
	return err
}

// SyncReport is Sync, returning what it did.
func (d *Device) SyncReport(ctx context.Context, progress func(Progress)) (SyncReport, error) {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	if progress == nil {
		progress = func(Progress) {}
	}
	var rep SyncReport
	id, err := d.Identity()
	if err != nil {
		return rep, err
	}
	err = d.push(ctx, id, &rep, progress)
	if err == nil {
		err = d.pull(ctx, id, &rep, progress)
	}
	d.recordSync(err)
	return rep, err
}

// metaLastErrorCode keeps the last sync error's code, so it can be shown in any language.
const metaLastErrorCode = "sdk.last_sync_error_code"

func (d *Device) recordSync(err error) {
	if d.Wiped() {
		return
	}
	kv := map[string]string{metaLastError: "", metaLastErrorCode: ""}
	if err != nil {
		kv[metaLastError] = err.Error()
		kv[metaLastErrorCode] = CodeSyncFailed
		var e *Error
		if errors.As(err, &e) && e.Code != "" {
			kv[metaLastErrorCode] = e.Code
		}
	} else {
		kv[metaLastSync] = strconv.FormatInt(d.opts.now().UnixMilli(), 10)
	}
	d.use(func(s *syncengine.Store) error { return s.SetMeta(context.Background(), kv) })
}

func (d *Device) metaInt(key string) (int64, error) {
	v, err := d.meta(key)
	if err != nil || v == "" {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

func (d *Device) push(ctx context.Context, id Identity, rep *SyncReport, progress func(Progress)) error {
	acked, err := d.metaInt(metaAcked)
	if err != nil {
		return fromStore(err)
	}
	written, _ := d.metaInt(metaEngineCount)
	total := int(max(written-acked, 0))
	done := 0
	progress(Progress{Phase: PhasePush, Done: 0, Total: total})
	for {
		var ops []syncengine.Op
		if err := d.use(func(s *syncengine.Store) error {
			var err error
			ops, err = s.OpsFrom(ctx, id.Node, uint64(acked), d.opts.batch)
			return err
		}); err != nil {
			return fromStore(err)
		}
		if len(ops) == 0 {
			return nil
		}
		body, err := json.Marshal(syncengine.PushRequest{Ops: ops})
		if err != nil {
			return &Error{Code: CodeInternal, Err: err}
		}
		var res syncengine.PushResponse
		if err := d.call(ctx, http.MethodPost, "/v1/sync/push", body, &res); err != nil {
			return err
		}
		if err := d.crashPoint(hookPushAnswered); err != nil {
			return err
		}
		last := ops[len(ops)-1].Counter
		err = d.use(func(s *syncengine.Store) error {
			if len(res.Restamped) > 0 {
				defer d.cache.invalidate()
				// The hub re-clocked ops stamped too far ahead: take its copies.
				if _, err := s.Apply(ctx, res.Restamped, syncengine.ApplyOptions{Team: id.Team}); err != nil {
					return err
				}
			}
			if res.ServerTS > 0 {
				s.Clock().Adopt(res.ServerTS, s.MaxSkew())
			}
			kv := map[string]string{metaAcked: strconv.FormatUint(last, 10)}
			if len(res.Rejected) > 0 {
				kv[metaRejected] = appendRejected(s, res.Rejected)
			}
			return s.SetMeta(ctx, kv)
		})
		if err != nil {
			return fromStore(err)
		}
		for _, r := range res.Rejected {
			d.opts.logger.Warn("op rejected by server", "node", r.Node, "counter", r.Counter, "code", r.Code, "field", r.Field)
		}
		acked = int64(last)
		done += len(ops)
		rep.Pushed += res.Accepted
		rep.Duplicates += res.Duplicates
		rep.Restamped += len(res.Restamped)
		rep.Rejected = append(rep.Rejected, res.Rejected...)
		progress(Progress{Phase: PhasePush, Done: done, Total: max(total, done)})
	}
}

// maxKeptRejections bounds the rejected ops kept for `status`.
const maxKeptRejections = 100

func appendRejected(s *syncengine.Store, rs []syncengine.Rejection) string {
	var kept []syncengine.Rejection
	if v, ok, _ := s.Meta(metaRejected); ok {
		json.Unmarshal([]byte(v), &kept)
	}
	kept = append(kept, rs...)
	if len(kept) > maxKeptRejections {
		kept = kept[len(kept)-maxKeptRejections:]
	}
	b, _ := json.Marshal(kept)
	return string(b)
}

func (d *Device) pull(ctx context.Context, id Identity, rep *SyncReport, progress func(Progress)) error {
	cursor, err := d.meta(metaCursor)
	if err != nil {
		return fromStore(err)
	}
	progress(Progress{Phase: PhasePull})
	// The next page is fetched while this one is applied, so the server's work and the
	// device's overlap. The cursor is saved only after a page is applied, so a crash
	// anywhere still redoes at most one page.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetched struct {
		page syncengine.PullResponse
		err  error
	}
	fetch := func(cursor string) chan fetched {
		ch := make(chan fetched, 1)
		go func() {
			var f fetched
			q := url.Values{"cursor": {cursor}, "limit": {strconv.Itoa(d.opts.pageLimit)}}
			f.err = d.call(ctx, http.MethodGet, "/v1/sync/pull?"+q.Encode(), nil, &f.page)
			ch <- f
		}()
		return ch
	}
	next := fetch(cursor)
	for {
		f := <-next
		if f.err != nil {
			return f.err
		}
		page := f.page
		if page.More {
			next = fetch(page.Cursor)
		}
		err := d.use(func(s *syncengine.Store) error {
			// Pulled ops may withdraw a consent or erase a conversation.
			defer d.cache.invalidate()
			if len(page.Ops) > 0 {
				res, err := s.Apply(ctx, page.Ops, syncengine.ApplyOptions{Team: id.Team})
				if err != nil {
					return err
				}
				for _, r := range res.Rejected {
					// The hub validated these; a device that can't read them is older than the
					// data. Keep going: unknown fields pass through, so this is rare.
					d.opts.logger.Warn("pulled op rejected", "node", r.Node, "counter", r.Counter, "code", r.Code)
				}
			}
			if err := d.crashPoint(hookPullApplied); err != nil {
				return err
			}
			if err := s.Purge(ctx, page.Erased, id.Team); err != nil {
				return err
			}
			if err := d.crashPoint(hookPullPurged); err != nil {
				return err
			}
			if page.ServerTS > 0 {
				s.Clock().Adopt(page.ServerTS, s.MaxSkew())
			}
			return s.SetMeta(ctx, map[string]string{metaCursor: page.Cursor})
		})
		if err != nil {
			return fromStore(err)
		}
		cursor = page.Cursor
		rep.Pulled += len(page.Ops)
		rep.Erased += len(page.Erased)
		if !page.More {
			progress(Progress{Phase: PhasePull, Done: rep.Pulled, Total: rep.Pulled})
			return nil
		}
		progress(Progress{Phase: PhasePull, Done: rep.Pulled})
	}
}

// State is this device's state hash and live record count: equal to the server's
// GET /v1/sync/state after a full sync.
func (d *Device) State(ctx context.Context) (syncengine.StateResponse, error) {
	var st syncengine.StateResponse
	err := d.use(func(s *syncengine.Store) error {
		var err error
		st.Hash, st.Records, err = s.StateHash(ctx, nil)
		return err
	})
	return st, fromStore(err)
}

// ServerState asks the server for its state hash of this device's scope.
func (d *Device) ServerState(ctx context.Context) (syncengine.StateResponse, error) {
	var st syncengine.StateResponse
	err := d.call(ctx, http.MethodGet, "/v1/sync/state", nil, &st)
	return st, err
}

// Reachable reports whether the server answers GET /healthz (no retries).
func (d *Device) Reachable(ctx context.Context) bool {
	server, err := d.meta(metaServer)
	if err != nil || server == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := d.opts.httpClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode < 300
}

// AutoSync syncs every interval while the server is reachable, and at once when it becomes
// reachable again after being away (probed with GET /healthz each interval). It returns
// when ctx ends, or with ErrRevoked once the device has been wiped. Each attempt's outcome
// goes to the WithSyncListener callback.
func (d *Device) AutoSync(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if d.Reachable(ctx) {
			err := d.Sync(ctx, nil)
			if d.opts.onSync != nil && ctx.Err() == nil {
				d.opts.onSync(err)
			}
			if errors.Is(err, ErrRevoked) {
				return err
			}
			if err != nil {
				d.opts.logger.Warn("auto sync failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Status is what `fieldnotes status` shows.
type Status struct {
	Identity
	Enrolled  bool
	Pending   int64 // own ops not yet acknowledged by the server
	Ops       int64 // ops held
	LastSync  int64 // ms; 0 = never
	LastError string
	Cursor    string
	Hash      string
	Records   int
	Rejected  []syncengine.Rejection
	// LastErrorCode is the last sync error's code (sync_failed if it had none): show
	// (&Error{Code: LastErrorCode}).Message(lang) to the worker; LastError is English,
	// for logs.
	LastErrorCode string
}

// Status reports the device's sync state.
func (d *Device) Status(ctx context.Context) (Status, error) {
	var st Status
	id, err := d.Identity()
	if err != nil && !errors.Is(err, ErrNotEnrolled) {
		return st, err
	}
	st.Identity, st.Enrolled = id, err == nil
	err = d.use(func(s *syncengine.Store) error {
		get := func(k string) string { v, _, _ := s.Meta(k); return v }
		written, _ := strconv.ParseInt(get(metaEngineCount), 10, 64)
		acked, _ := strconv.ParseInt(get(metaAcked), 10, 64)
		st.Pending = max(written-acked, 0)
		st.LastSync, _ = strconv.ParseInt(get(metaLastSync), 10, 64)
		st.LastError, st.LastErrorCode, st.Cursor = get(metaLastError), get(metaLastErrorCode), get(metaCursor)
		if st.LastError != "" && st.LastErrorCode == "" { // written before codes were kept
			st.LastErrorCode = CodeSyncFailed
		}
		if v := get(metaRejected); v != "" {
			json.Unmarshal([]byte(v), &st.Rejected)
		}
		var err error
		if st.Ops, err = s.CountOps(ctx); err != nil {
			return err
		}
		st.Hash, st.Records, err = s.StateHash(ctx, nil)
		return err
	})
	return st, fromStore(err)
}
