-- The replica store, the same on a tablet and on the server.

-- Node ids are long strings; ops refer to them by a small integer.
CREATE TABLE nodes (
    nid  INTEGER PRIMARY KEY,
    node TEXT NOT NULL UNIQUE
);

-- Materialised records. A record whose erased_seq is set is a tombstone: its state and
-- view are gone and only its name stays, so that late ops for it are discarded.
CREATE TABLE records (
    rid        INTEGER PRIMARY KEY,
    collection TEXT NOT NULL,
    id         TEXT NOT NULL,
    team       TEXT NOT NULL DEFAULT '',
    state      BLOB,            -- merge metadata (JSON of syncengine.State)
    view       BLOB,            -- canonical JSON of the visible fields; NULL when empty
    deleted    INTEGER NOT NULL DEFAULT 0,
    withdrawn  INTEGER NOT NULL DEFAULT 0,
    updated_ts INTEGER NOT NULL DEFAULT 0,
    erased_seq INTEGER,
    seqs       BLOB,            -- varint seqs of the record's ops, so purge and history need no index on ops
    UNIQUE (collection, id)
);
CREATE INDEX records_team ON records (team, collection, id);
CREATE INDEX records_erased ON records (erased_seq) WHERE erased_seq IS NOT NULL;
-- Covers the join from an op to its record's name and team, so a pull doesn't read the
-- wide record rows (state and view) for every op.
CREATE INDEX records_ident ON records (rid, team, collection, id);

-- The op log. seq is the ingest sequence that pull cursors count in.
CREATE TABLE ops (
    seq      INTEGER PRIMARY KEY,
    nid      INTEGER NOT NULL,
    counter  INTEGER NOT NULL,
    rid      INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
    tc       INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    field    TEXT,
    value    BLOB,
    observed TEXT
);
CREATE UNIQUE INDEX ops_identity ON ops (nid, counter);

-- Links a consent withdrawal follows: conversation -> consent, consent -> participant.
-- Kept for every value a field ever had, so the rule doesn't depend on arrival order.
CREATE TABLE refs (
    kind     TEXT NOT NULL,
    from_rid INTEGER NOT NULL,
    to_id    TEXT NOT NULL,
    PRIMARY KEY (kind, to_id, from_rid)
) WITHOUT ROWID;
CREATE INDEX refs_from ON refs (kind, from_rid);

-- Small settings of this replica: its node id, team, clock, counters, sync cursors.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
