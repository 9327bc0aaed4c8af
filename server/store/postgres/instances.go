package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultHeartbeat is how often an instance says it is alive; one not heard from for
// three beats no longer counts.
const DefaultHeartbeat = 5 * time.Second

// registry keeps this instance's row in table instances fresh and counts the live
// ones. Times are the database's clock, so instances' own clocks don't matter.
type registry struct {
	pool  *pgxpool.Pool
	id    string
	every time.Duration
	live  atomic.Int32
	stop  chan struct{}
	done  chan struct{}
}

const dbNow = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`

func startRegistry(ctx context.Context, pool *pgxpool.Pool, every time.Duration) (*registry, error) {
	if every <= 0 {
		every = DefaultHeartbeat
	}
	b := make([]byte, 8)
	rand.Read(b)
	r := &registry{pool: pool, id: hex.EncodeToString(b), every: every, stop: make(chan struct{}), done: make(chan struct{})}
	if err := r.beat(ctx); err != nil {
		return nil, err
	}
	go r.loop()
	return r, nil
}

// beat records this instance alive, forgets instances silent for a minute (crashed)
// and counts those heard from within three beats.
func (r *registry) beat(ctx context.Context) error {
	window := (3 * r.every).Milliseconds()
	var n int32
	err := r.pool.QueryRow(ctx, `WITH me AS (
			INSERT INTO instances (id, seen_at) VALUES ($1, `+dbNow+`)
			ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at RETURNING seen_at),
		gone AS (DELETE FROM instances WHERE seen_at < `+dbNow+` - greatest($2::bigint, 60000))
		SELECT count(*) + 1 FROM instances, me WHERE instances.id <> $1 AND instances.seen_at >= me.seen_at - $2`,
		r.id, window).Scan(&n)
	if err == nil {
		r.live.Store(n)
	}
	return err
}

func (r *registry) loop() {
	defer close(r.done)
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), r.every)
			r.beat(ctx) // a missed beat keeps the last count
			cancel()
		}
	}
}

func (r *registry) close() {
	close(r.stop)
	<-r.done
	r.pool.Exec(context.Background(), `DELETE FROM instances WHERE id = $1`, r.id)
}

// Instances is how many server instances share this database (at least 1), as of the
// last heartbeat.
func (db *DB) Instances() int { return max(1, int(db.reg.live.Load())) }
