package syncengine

import (
	"database/sql"
	"strings"
)

// The writer's statements, compiled once at open. modernc's driver otherwise compiles
// every statement on every call, which was a quarter of the time of a small write (one
// answer on a tablet). They are prepared on the writer pool before any transaction is
// open (its one connection is then free) and bound to each transaction with tx.Stmt,
// which reuses the compiled statement on that same connection.
const (
	qLoadRecord   = `SELECT rid, team, state, erased_seq, seqs, view FROM records WHERE collection = ? AND id = ?`
	qNodeID       = `SELECT nid FROM nodes WHERE node = ?`
	qNewNode      = `INSERT INTO nodes (node) VALUES (?)`
	qOpByID       = `SELECT ` + opColumns + ` FROM ops o JOIN nodes n ON n.nid = o.nid JOIN records r ON r.rid = o.rid WHERE o.nid = ? AND o.counter = ?`
	qTopCounter   = `SELECT max(counter) FROM ops WHERE nid = ?`
	qRestampOp    = `UPDATE ops SET ts = ?, tc = ? WHERE nid = ? AND counter = ?`
	qDeleteOp     = `DELETE FROM ops WHERE seq = ?`
	qDeleteRefs   = `DELETE FROM refs WHERE from_rid = ?`
	qRefsTo       = `SELECT r.collection, r.id FROM refs f JOIN records r ON r.rid = f.from_rid WHERE f.kind = ? AND f.to_id = ? ORDER BY r.collection, r.id`
	qRefFrom      = `SELECT count(*) FROM refs WHERE kind = ? AND to_id = ? AND from_rid = ?`
	qRefsFrom     = `SELECT to_id FROM refs WHERE kind = ? AND from_rid = ? ORDER BY to_id`
	qGetMeta      = `SELECT value FROM meta WHERE key = ?`
	qSetMeta      = `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	qUpsertRecord = `INSERT INTO records (rid, collection, id, team, state, view, deleted, withdrawn, updated_ts, erased_seq, seqs)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (rid) DO UPDATE SET state = excluded.state, view = excluded.view, deleted = excluded.deleted,
			withdrawn = excluded.withdrawn, updated_ts = excluded.updated_ts, erased_seq = coalesce(records.erased_seq, excluded.erased_seq),
			seqs = excluded.seqs`
)

// insertOpsSizes are the multi-row INSERTs prepared for writing new ops; a batch is
// written in chunks of these sizes, largest first.
var insertOpsSizes = []int{100, 10, 1}

func insertOpsQuery(rows int) string {
	return `INSERT INTO ops (seq, nid, counter, rid, ts, tc, kind, field, value, observed) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?),", rows), ",")
}

// insertRecordsSizes are the multi-row INSERTs prepared for writing new records.
var insertRecordsSizes = []int{50, 10, 1}

func insertRecordsQuery(rows int) string {
	return `INSERT INTO records (rid, collection, id, team, state, view, deleted, withdrawn, updated_ts, erased_seq, seqs) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?),", rows), ",")
}

// insertRefsSizes are the multi-row INSERTs prepared for writing links.
var insertRefsSizes = []int{100, 10, 1}

func insertRefsQuery(rows int) string {
	return `INSERT INTO refs (kind, from_rid, to_id) VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?,?),", rows), ",") + ` ON CONFLICT DO NOTHING`
}

func (s *Store) prepareStatements() error {
	s.stmts = map[string]*sql.Stmt{}
	qs := []string{qLoadRecord, qNodeID, qNewNode, qOpByID, qTopCounter, qRestampOp, qDeleteOp, qDeleteRefs,
		qRefsTo, qRefFrom, qRefsFrom, qGetMeta, qSetMeta, qUpsertRecord}
	for _, n := range insertOpsSizes {
		qs = append(qs, insertOpsQuery(n))
	}
	for _, n := range insertRecordsSizes {
		qs = append(qs, insertRecordsQuery(n))
	}
	for _, n := range insertRefsSizes {
		qs = append(qs, insertRefsQuery(n))
	}
	for _, q := range qs {
		st, err := s.w.Prepare(q)
		if err != nil {
			return err
		}
		s.stmts[q] = st
	}
	return nil
}

// stmt binds a prepared statement to this transaction (once per transaction).
func (t *sqlTxn) stmt(q string) *sql.Stmt {
	if st, ok := t.bound[q]; ok {
		return st
	}
	parent := t.s.stmts[q]
	if parent == nil {
		return nil
	}
	if t.bound == nil {
		t.bound = map[string]*sql.Stmt{}
	}
	st := t.tx.Stmt(parent)
	t.bound[q] = st
	return st
}

func (t *sqlTxn) exec(q string, args ...any) (sql.Result, error) {
	if st := t.stmt(q); st != nil {
		return st.Exec(args...)
	}
	return t.tx.Exec(q, args...)
}

func (t *sqlTxn) query(q string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(q); st != nil {
		return st.Query(args...)
	}
	return t.tx.Query(q, args...)
}

// QueryRow makes sqlTxn a querier for Store.meta.
func (t *sqlTxn) QueryRow(q string, args ...any) *sql.Row {
	if st := t.stmt(q); st != nil {
		return st.QueryRow(args...)
	}
	return t.tx.QueryRow(q, args...)
}
