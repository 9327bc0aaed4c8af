package postgres

import (
	"context"
	"errors"
	"sync"

	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxGroupOps bounds one group commit.
const maxGroupOps = 20000

// committer is group commit for pushes: batches that arrive while a transaction is
// running are applied together in the next one, so devices pushing at once share one
// hold of the hub row and one commit. Nothing waits on a timer.
type committer struct {
	db     *DB
	in     chan *pendingBatch
	done   chan struct{}
	mu     sync.RWMutex // held to send on in, and to close it
	closed bool
}

type pendingBatch struct {
	batch syncengine.Batch
	res   syncengine.Result
	err   error
	done  chan struct{}
}

func newCommitter(db *DB) *committer {
	c := &committer{db: db, in: make(chan *pendingBatch, 1024), done: make(chan struct{})}
	go c.loop()
	return c
}

var errClosed = errors.New("postgres: store closed")

// apply queues a batch and waits until it is durable. If ctx ends first the batch may
// still be applied later; a retry finds duplicates.
func (c *committer) apply(ctx context.Context, ops []syncengine.Op, opt syncengine.ApplyOptions) (syncengine.Result, error) {
	p := &pendingBatch{batch: syncengine.Batch{Ops: ops, Opt: opt}, done: make(chan struct{})}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return syncengine.Result{}, errClosed
	}
	select {
	case c.in <- p:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return syncengine.Result{}, ctx.Err()
	}
	select {
	case <-p.done:
		return p.res, p.err
	case <-ctx.Done():
		return syncengine.Result{}, ctx.Err()
	}
}

func (c *committer) loop() {
	defer close(c.done)
	for first := range c.in {
		group := []*pendingBatch{first}
		n := len(first.batch.Ops)
	more:
		for n < maxGroupOps {
			select {
			case p, ok := <-c.in:
				if !ok {
					break more
				}
				group = append(group, p)
				n += len(p.batch.Ops)
			default:
				break more
			}
		}
		c.commit(group)
	}
}

func (c *committer) commit(group []*pendingBatch) {
	// Not tied to any one caller's context: one device hanging up must not roll back
	// the others' pushes.
	ctx := context.Background()
	batches := make([]syncengine.Batch, len(group))
	for i, p := range group {
		batches[i] = p.batch
	}
	results, err := c.db.applyGroup(ctx, batches)
	for i, p := range group {
		switch {
		case err == nil:
			p.res = results[i]
		case len(group) == 1:
			p.err = err
		default:
			// Something failed for the group as a whole: each batch alone, so one bad
			// batch fails only its own push.
			var rs []syncengine.Result
			if rs, p.err = c.db.applyGroup(ctx, batches[i:i+1]); p.err == nil {
				p.res = rs[0]
			}
		}
		close(p.done)
	}
}

func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.in)
	}
	c.mu.Unlock()
	<-c.done
}

// vacuumer vacuums the replica's tables after an erasure, off the writer's path, so the
// deleted rows are reclaimed now rather than at autovacuum's pace. Erasures that come
// while one runs are covered by one more run.
type vacuumer struct {
	pool *pgxpool.Pool
	kick chan struct{}
	done chan struct{}
	ran  chan error // receives each run's outcome (tests)
	mu   sync.Mutex // guards kick against close
	shut bool
	// stop cancels a vacuum still running at close: autovacuum finishes the work, and
	// shutdown must not wait on a large table.
	ctx  context.Context
	stop context.CancelFunc
}

func newVacuumer(pool *pgxpool.Pool) *vacuumer {
	v := &vacuumer{pool: pool, kick: make(chan struct{}, 1), done: make(chan struct{}), ran: make(chan error, 1)}
	v.ctx, v.stop = context.WithCancel(context.Background())
	go v.loop()
	return v
}

func (v *vacuumer) erased() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.shut {
		return
	}
	select {
	case v.kick <- struct{}{}:
	default: // one is already due
	}
}

func (v *vacuumer) loop() {
	defer close(v.done)
	for range v.kick {
		// Best effort: autovacuum gets there anyway. VACUUM can't run in a transaction,
		// hence a plain Exec on the pool.
		_, err := v.pool.Exec(v.ctx, `VACUUM (SKIP_LOCKED) ops, refs, records`)
		select {
		case v.ran <- err:
		default:
		}
	}
}

func (v *vacuumer) close() {
	v.mu.Lock()
	if !v.shut {
		v.shut = true
		close(v.kick)
		v.stop()
	}
	v.mu.Unlock()
	<-v.done
}
