package syncengine

import (
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// The writer does not checkpoint the WAL itself (wal_autocheckpoint is off on its
// connection): a checkpoint copies pages back into the database file and fsyncs it, and
// on the hub that was a sixth of the single writer's time. A background goroutine does
// it instead, on its own connection, concurrently with the writer (a passive checkpoint
// never blocks it), at most every checkpointEvery after commits.
const checkpointEvery = 200 * time.Millisecond

type checkpointer struct {
	db     *sql.DB
	kick   chan struct{}
	done   chan struct{}
	every  int        // commits between kicks
	mu     sync.Mutex // guards closed and since, so a kick never lands on a closed channel
	closed bool
	since  int // commits since the last kick
	// scrub asks for a full checkpoint that truncates the WAL: an erasure committed, and
	// the pages its purge zeroed must reach the database file and leave the WAL.
	scrub atomic.Bool
	// scrubbed counts completed scrubs (tests wait on it).
	scrubbed atomic.Int64
}

// scrubFor bounds how long the checkpointer keeps retrying a scrub that readers hold
// up; the next erasure asks again.
const scrubFor = 30 * time.Second

func startCheckpointer(path string, opt Options) (*checkpointer, error) {
	db, err := opt.openDB(dsn(path, roleCheckpointer, opt))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), done: make(chan struct{}), every: max(1, opt.CheckpointAfterCommits)}
	go c.loop()
	return c, nil
}

func (c *checkpointer) loop() {
	defer close(c.done)
	for range c.kick {
		if c.scrub.Swap(false) {
			c.truncate()
		} else {
			c.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`) // best effort: the next kick retries
		}
		time.Sleep(checkpointEvery)
	}
}

// truncate copies every frame back and truncates the WAL, retrying while readers on old
// snapshots (a pull in progress) keep it from completing.
func (c *checkpointer) truncate() {
	end := time.Now().Add(scrubFor)
	for {
		var busy, log, done int
		err := c.db.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &log, &done)
		if err == nil && busy == 0 {
			c.scrubbed.Add(1)
			return
		}
		if time.Now().After(end) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// erased asks for a scrub, at once whatever the commit count.
func (c *checkpointer) erased() {
	c.scrub.Store(true)
	c.kickAfter(1)
}

// committed tells the checkpointer there is new WAL to copy back.
func (c *checkpointer) committed() { c.kickAfter(c.every) }

// kickAfter kicks the checkpointer if n commits have passed since the last kick.
func (c *checkpointer) kickAfter(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.since++; c.since < n {
		return
	}
	c.since = 0
	select {
	case c.kick <- struct{}{}:
	default: // one is already due
	}
}

// close stops the checkpointer; closing twice is harmless.
func (c *checkpointer) close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.kick)
	c.mu.Unlock()
	<-c.done
	return c.db.Close()
}
