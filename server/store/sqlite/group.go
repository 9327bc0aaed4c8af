package sqlite

import (
	"context"
	"errors"
	"sync"

	"github.com/fieldnotes/fieldnotes/syncengine"
)

// maxGroupOps bounds one group commit: big enough to share a commit among every device
// pushing at once, small enough that no push waits long behind others.
const maxGroupOps = 20000

// committer is group commit for pushes: batches that arrive while a transaction is
// running are applied together in the next one (syncengine.ApplyGroup), so devices
// pushing at once share commits instead of queueing for one each. Nothing waits on a
// timer: a lone push is committed at once.
type committer struct {
	store  *syncengine.Store
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

func newCommitter(s *syncengine.Store) *committer {
	c := &committer{store: s, in: make(chan *pendingBatch, 1024), done: make(chan struct{})}
	go c.loop()
	return c
}

// apply queues a batch and waits until it is durable. If ctx ends first the batch may
// still be applied later; the caller was not told so, and a retry finds duplicates.
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
	// The transaction is not tied to any one caller's context: one device hanging up
	// must not roll back the others' pushes.
	ctx := context.Background()
	if len(group) == 1 {
		p := group[0]
		p.res, p.err = c.store.Apply(ctx, p.batch.Ops, p.batch.Opt)
		close(p.done)
		return
	}
	batches := make([]syncengine.Batch, len(group))
	for i, p := range group {
		batches[i] = p.batch
	}
	results, err := c.store.ApplyGroup(ctx, batches)
	for i, p := range group {
		if err != nil {
			// Something failed for the group as a whole: apply each batch alone, so one
			// bad batch fails only its own push.
			p.res, p.err = c.store.Apply(ctx, p.batch.Ops, p.batch.Opt)
		} else {
			p.res = results[i]
		}
		close(p.done)
	}
}

// close stops taking batches and waits for the ones queued to be committed.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.in)
	}
	c.mu.Unlock()
	<-c.done
}

var errClosed = errors.New("sqlite: store closed")
