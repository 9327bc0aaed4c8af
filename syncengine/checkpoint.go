package syncengine

import (
	"database/sql"
	"sync"
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
}

func startCheckpointer(path string, opt Options) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path, roleCheckpointer, opt))
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
		c.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`) // best effort: the next kick retries
		time.Sleep(checkpointEvery)
	}
}

// committed tells the checkpointer there is new WAL to copy back.
func (c *checkpointer) committed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.since++; c.since < c.every {
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
