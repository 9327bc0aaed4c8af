-- The coordinators' own small tables (coord.db beside the SQLite store). Nothing here
-- is personal data.

CREATE TABLE baselines (
    name        TEXT COLLATE "C" PRIMARY KEY,
    group_by    TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE TABLE baseline_shares (
    name  TEXT COLLATE "C" NOT NULL REFERENCES baselines (name) ON DELETE CASCADE,
    grp   TEXT COLLATE "C" NOT NULL,
    share DOUBLE PRECISION NOT NULL, -- a fraction, 0..1
    PRIMARY KEY (name, grp)
);

CREATE TABLE exports (
    id         BIGSERIAL PRIMARY KEY,
    who        TEXT NOT NULL,
    collection TEXT NOT NULL,
    format     TEXT NOT NULL,
    teams      TEXT NOT NULL, -- JSON array; null: every team
    rows       BIGINT NOT NULL,
    complete   BOOLEAN NOT NULL, -- false when the stream broke off
    at         BIGINT NOT NULL
);
CREATE INDEX exports_at ON exports (at);
