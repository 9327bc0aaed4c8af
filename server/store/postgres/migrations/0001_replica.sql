-- The replica: the op log, the records it materialises, the links a withdrawal follows.
-- Text keys compare byte by byte (COLLATE "C") so that orders, pages and the state hash
-- are the SQLite store's.

-- One row: the ingest sequence and the hub's clock. Every write transaction locks it
-- first, so sequence order is commit order (a puller's cursor never skips an op) and
-- every instance's clock moves past what any instance stamped.
CREATE TABLE hub (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    seq      BIGINT NOT NULL,
    clock_ts BIGINT NOT NULL,
    clock_tc BIGINT NOT NULL
);
INSERT INTO hub (id, seq, clock_ts, clock_tc) VALUES (1, 0, 0, 0);

CREATE TABLE records (
    collection TEXT COLLATE "C" NOT NULL,
    id         TEXT COLLATE "C" NOT NULL,
    team       TEXT COLLATE "C" NOT NULL,
    state      BYTEA,
    view       BYTEA,
    deleted    BOOLEAN NOT NULL DEFAULT false,
    withdrawn  BOOLEAN NOT NULL DEFAULT false,
    updated_ts BIGINT NOT NULL DEFAULT 0,
    erased_seq BIGINT,
    PRIMARY KEY (collection, id)
);
CREATE INDEX records_erased ON records (erased_seq) WHERE erased_seq IS NOT NULL;
CREATE INDEX records_team ON records (team, collection, id);

-- A record's team never changes, so each op carries it: a pull filters by team without
-- a join.
CREATE TABLE ops (
    seq        BIGINT PRIMARY KEY,
    node       TEXT COLLATE "C" NOT NULL,
    counter    BIGINT NOT NULL,
    collection TEXT COLLATE "C" NOT NULL,
    record     TEXT COLLATE "C" NOT NULL,
    team       TEXT COLLATE "C" NOT NULL,
    ts         BIGINT NOT NULL,
    tc         BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    field      TEXT COLLATE "C",
    value      BYTEA,
    observed   TEXT,
    UNIQUE (node, counter)
);
CREATE INDEX ops_record ON ops (collection, record);
-- A device pulls one team's ops: without this it would scan every team's since its cursor.
CREATE INDEX ops_team ON ops (team, seq);

CREATE TABLE refs (
    kind            TEXT COLLATE "C" NOT NULL,
    from_collection TEXT COLLATE "C" NOT NULL,
    from_id         TEXT COLLATE "C" NOT NULL,
    to_id           TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, from_collection, from_id, to_id)
);
CREATE INDEX refs_to ON refs (kind, to_id);

-- WriteAs: each node's last counter, so counters never repeat even after a purge.
CREATE TABLE node_counters (
    node    TEXT PRIMARY KEY,
    counter BIGINT NOT NULL
);
