package syncengine

import "sync"

// Clock is a hybrid logical clock: (wall ms, counter). Now never goes backwards and every
// timestamp it hands out is unique for its node. Wall time is injected; the clock also
// carries an offset learnt from the hub so that a tablet whose own clock is wrong stamps
// its ops in hub time.
type Clock struct {
	mu     sync.Mutex
	wall   func() int64
	offset int64
	ts     int64
	tc     uint32
}

// NewClock returns a clock reading wall (Unix ms).
func NewClock(wall func() int64) *Clock { return &Clock{wall: wall} }

// Now returns a fresh timestamp, later than every one returned or observed before.
func (c *Clock) Now() (int64, uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pt := c.wall() + c.offset
	if pt > c.ts {
		c.ts, c.tc = pt, 0
	} else {
		c.tc++
	}
	return c.ts, c.tc
}

// Observe moves the clock past a timestamp seen on an incoming op.
func (c *Clock) Observe(ts int64, tc uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts > c.ts || ts == c.ts && tc > c.tc {
		c.ts, c.tc = ts, tc
	}
}

// Adopt takes the hub's time: the physical part becomes hub time from now on, and if
// this clock had run ahead of the hub by more than maxSkew (a tablet set a year ahead)
// the logical part is pulled back to the hub's. That is safe because the hub restamps
// every op stamped that far ahead, so nothing this node keeps is ordered by the old
// time, and it is what stops a fast tablet winning every later conflict.
func (c *Clock) Adopt(serverTS int64, maxSkew int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = serverTS - c.wall()
	if c.ts > serverTS+maxSkew {
		c.ts, c.tc = serverTS, 0
	}
	if serverTS > c.ts {
		c.ts, c.tc = serverTS, 0
	}
}

// Offset is what Adopt learnt: hub time minus wall time, in ms.
func (c *Clock) Offset() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// SetOffset restores an offset saved by a previous run.
func (c *Clock) SetOffset(off int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = off
}

// Last returns the latest timestamp handed out or observed.
func (c *Clock) Last() (int64, uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ts, c.tc
}

// Physical returns wall time corrected by the hub offset.
func (c *Clock) Physical() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall() + c.offset
}
