-- coord.db: the coordinators' own small tables, next to the replica store and never
-- inside it. Nothing here is personal data.

-- Population baselines (e.g. Census 2021 shares per group) for the gap report.
CREATE TABLE baselines (
    name        TEXT PRIMARY KEY,
    group_by    TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL
);
CREATE TABLE baseline_shares (
    name  TEXT NOT NULL REFERENCES baselines (name) ON DELETE CASCADE,
    grp   TEXT NOT NULL,
    share REAL NOT NULL, -- a fraction, 0..1
    PRIMARY KEY (name, grp)
) WITHOUT ROWID;

-- Every export: who, what, in which format, how many rows, when.
CREATE TABLE exports (
    id         INTEGER PRIMARY KEY,
    who        TEXT NOT NULL,
    collection TEXT NOT NULL,
    format     TEXT NOT NULL,
    teams      TEXT NOT NULL, -- JSON array; null: every team
    rows       INTEGER NOT NULL,
    complete   INTEGER NOT NULL, -- 0 when the stream broke off
    at         INTEGER NOT NULL
);
CREATE INDEX exports_at ON exports (at);
