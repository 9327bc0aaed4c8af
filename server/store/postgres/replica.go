package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"

	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/jackc/pgx/v5"
)

// applyGroup applies batches, each under its own options, in one transaction that holds
// the hub row: each gets the Result it would have had applied alone in this order.
func (db *DB) applyGroup(ctx context.Context, batches []syncengine.Batch) ([]syncengine.Result, error) {
	results := make([]syncengine.Result, len(batches))
	erased := false
	err := db.tx(ctx, func(tx pgx.Tx) error {
		t, err := db.lockHub(ctx, tx)
		if err != nil {
			return err
		}
		copies := make([][]syncengine.Op, len(batches))
		var all []syncengine.Op
		for i, b := range batches {
			copies[i] = append([]syncengine.Op(nil), b.Ops...)
			all = append(all, copies[i]...)
		}
		if err := t.prefetch(all); err != nil {
			return err
		}
		for i, b := range batches {
			if results[i], err = db.merge.Apply(t, copies[i], b.Opt); err != nil {
				return err
			}
		}
		if err := t.flush(db.merge.Clock()); err != nil {
			return err
		}
		erased = t.erased
		return nil
	})
	if err != nil {
		return nil, err
	}
	if erased {
		db.vacuum.erased()
	}
	return results, nil
}

// Apply merges a batch, durable when it returns. Batches applied at the same time share
// one transaction (group commit); each gets its own Result, as if applied alone.
func (db *DB) Apply(ctx context.Context, ops []syncengine.Op, opt syncengine.ApplyOptions) (syncengine.Result, error) {
	return db.pushes.apply(ctx, ops, opt)
}

// WriteAs stamps changes as ops of node and applies them in one transaction; a change
// that fails validation stores nothing (*syncengine.RejectedError).
func (db *DB) WriteAs(ctx context.Context, node string, changes []syncengine.Change, opt syncengine.ApplyOptions) ([]syncengine.Op, syncengine.Result, error) {
	if node == "" {
		return nil, syncengine.Result{}, errors.New("postgres: WriteAs needs a node")
	}
	var ops []syncengine.Op
	var res syncengine.Result
	erased := false
	err := db.tx(ctx, func(tx pgx.Tx) error {
		t, err := db.lockHub(ctx, tx)
		if err != nil {
			return err
		}
		// As on SQLite: the hub numbers a person's node from ForeignCounterBase, above
		// anything stored for it, so ops their own client pushes under it never collide.
		var counter int64
		if err := tx.QueryRow(ctx, `SELECT greatest($2::bigint, (SELECT counter FROM node_counters WHERE node = $1),
			(SELECT max(counter) FROM ops WHERE node = $1))`, node, int64(syncengine.ForeignCounterBase)).Scan(&counter); err != nil {
			return err
		}
		if ops, err = db.merge.Stamp(t, node, uint64(counter), changes); err != nil {
			return err
		}
		batch := append([]syncengine.Op(nil), ops...)
		if err := t.prefetch(batch); err != nil {
			return err
		}
		if res, err = db.merge.Apply(t, batch, opt); err != nil {
			return err
		}
		if len(res.Rejected) > 0 {
			return &syncengine.RejectedError{Rejected: res.Rejected}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO node_counters (node, counter) VALUES ($1, $2)
			ON CONFLICT (node) DO UPDATE SET counter = excluded.counter`, node, counter+int64(len(changes))); err != nil {
			return err
		}
		if err := t.flush(db.merge.Clock()); err != nil {
			return err
		}
		erased = t.erased
		return nil
	})
	if err != nil {
		return nil, syncengine.Result{}, err
	}
	if erased {
		db.vacuum.erased()
	}
	return ops, res, nil
}

// Pull returns up to limit ops ingested after cursor in the teams' records (nil: all), in
// ingest order, and the records erased in the same span, read in one snapshot.
func (db *DB) Pull(ctx context.Context, teams []string, cursor int64, limit int) (syncengine.PullResult, error) {
	if limit <= 0 {
		limit = 1000
	}
	res := syncengine.PullResult{Ops: make([]syncengine.Op, 0, min(limit, 1024)), Erased: []syncengine.RecordKey{}}
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		q, args := `SELECT `+opColumns+`, seq FROM ops WHERE seq > $1`, []any{cursor, limit + 1}
		switch {
		case len(teams) == 1: // a device: one team, read in order from index ops_team
			q += ` AND team = $3`
			args = append(args, teams[0])
		case teams != nil:
			q += ` AND team = ANY($3)`
			args = append(args, teams)
		}
		rows, err := tx.Query(ctx, q+` ORDER BY seq LIMIT $2`, args...)
		if err != nil {
			return err
		}
		var last int64
		for rows.Next() {
			var seq int64
			op, err := scanOp(rows, &seq)
			if err != nil {
				rows.Close()
				return err
			}
			if len(res.Ops) == limit {
				res.More = true
				break
			}
			res.Ops = append(res.Ops, op)
			last = seq
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if res.More {
			res.Cursor = last
		} else {
			var top int64
			if err := tx.QueryRow(ctx, `SELECT seq FROM hub`).Scan(&top); err != nil {
				return err
			}
			res.Cursor = max(top, cursor)
		}
		q, args = `SELECT collection, id FROM records WHERE erased_seq > $1 AND erased_seq <= $2`, []any{cursor, res.Cursor}
		if teams != nil {
			q += ` AND team = ANY($3)`
			args = append(args, teams)
		}
		erows, err := tx.Query(ctx, q+` ORDER BY erased_seq`, args...)
		if err != nil {
			return err
		}
		defer erows.Close()
		for erows.Next() {
			var k syncengine.RecordKey
			if err := erows.Scan(&k.Collection, &k.Record); err != nil {
				return err
			}
			res.Erased = append(res.Erased, k)
		}
		return erows.Err()
	})
	if err != nil {
		return syncengine.PullResult{}, err
	}
	return res, nil
}

// MaxSeq is the highest ingest sequence committed (ops and erasures).
func (db *DB) MaxSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT seq FROM hub`).Scan(&seq)
	return seq, err
}

// StateHash is syncengine's canonical hash of the teams' records (nil: all), byte for
// byte the SQLite store's, and how many live records it covers.
func (db *DB) StateHash(ctx context.Context, teams []string) (string, int, error) {
	q, args := `SELECT collection, id, erased_seq IS NOT NULL, deleted, withdrawn, view FROM records
		WHERE (view IS NOT NULL OR erased_seq IS NOT NULL)`, []any{}
	if teams != nil {
		q += ` AND team = ANY($1)`
		args = append(args, teams)
	}
	rows, err := db.pool.Query(ctx, q+` ORDER BY collection, id`, args...)
	if err != nil {
		return "", 0, err
	}
	defer rows.Close()
	h := sha256.New()
	n := 0
	for rows.Next() {
		var k syncengine.RecordKey
		var erased, deleted, withdrawn bool
		var view []byte
		if err := rows.Scan(&k.Collection, &k.Record, &erased, &deleted, &withdrawn, &view); err != nil {
			return "", 0, err
		}
		if !erased {
			n++
		}
		syncengine.HashRecord(h, k, erased, deleted, withdrawn, view)
	}
	if err := rows.Err(); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

const recordColumns = `collection, id, team, view, deleted, withdrawn, erased_seq IS NOT NULL, updated_ts`

func scanRecord(sc pgx.Row) (syncengine.Record, error) {
	var r syncengine.Record
	var view []byte
	if err := sc.Scan(&r.Collection, &r.ID, &r.Team, &view, &r.Deleted, &r.Withdrawn, &r.Erased, &r.UpdatedTS); err != nil {
		return syncengine.Record{}, err
	}
	r.Fields = map[string]json.RawMessage{}
	if len(view) > 0 {
		if err := json.Unmarshal(view, &r.Fields); err != nil {
			return syncengine.Record{}, err
		}
	}
	return r, nil
}

// Get returns one record (a tombstone if erased) or syncengine.ErrNotFound.
func (db *DB) Get(ctx context.Context, k syncengine.RecordKey) (syncengine.Record, error) {
	r, err := scanRecord(db.pool.QueryRow(ctx, `SELECT `+recordColumns+` FROM records WHERE collection = $1 AND id = $2`, k.Collection, k.Record))
	if errors.Is(err, pgx.ErrNoRows) {
		return syncengine.Record{}, syncengine.ErrNotFound
	}
	return r, err
}

// Records lists a page of one collection in id order; next is the id to continue after.
func (db *DB) Records(ctx context.Context, q syncengine.RecordQuery) ([]syncengine.Record, string, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	where, args := `collection = $1 AND id > $2 AND updated_ts >= $3`, []any{q.Collection, q.After, q.UpdatedSince, q.Limit + 1}
	if q.Teams != nil {
		where += ` AND team = ANY($5)`
		args = append(args, q.Teams)
	}
	if !q.WithErased {
		where += ` AND erased_seq IS NULL AND view IS NOT NULL`
	}
	if !q.WithDeleted {
		where += ` AND NOT deleted`
	}
	rows, err := db.pool.Query(ctx, `SELECT `+recordColumns+` FROM records WHERE `+where+` ORDER BY collection, id LIMIT $4`, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out, next := []syncengine.Record{}, ""
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, "", err
		}
		if len(out) == q.Limit {
			next = out[len(out)-1].ID
			break
		}
		out = append(out, r)
	}
	return out, next, rows.Err()
}

// Scan calls fn for every live record of a collection in the teams (nil: all), in id
// order, a page at a time.
func (db *DB) Scan(ctx context.Context, collection string, teams []string, fn func(syncengine.Record) error) error {
	return syncengine.ScanPages(ctx, db.Records, collection, teams, fn)
}

// History lists a record's ops in stamp order.
func (db *DB) History(ctx context.Context, k syncengine.RecordKey) ([]syncengine.Op, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+opColumns+` FROM ops WHERE collection = $1 AND record = $2 ORDER BY seq`, k.Collection, k.Record)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ops := []syncengine.Op{}
	for rows.Next() {
		op, err := scanOp(rows)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Stamp().Less(ops[j].Stamp()) })
	return ops, nil
}
