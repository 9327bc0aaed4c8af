-- The server's own data, next to the replica: who may call it. Secrets are stored hashed.

CREATE TABLE teams (
    name       TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'coordinator')),
    node_id       TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE user_teams (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    team    TEXT NOT NULL REFERENCES teams (name),
    PRIMARY KEY (user_id, team)
) WITHOUT ROWID;

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    node_id      TEXT NOT NULL UNIQUE,
    team         TEXT NOT NULL REFERENCES teams (name),
    label        TEXT NOT NULL,
    enrolled_by  TEXT NOT NULL,
    enrolled_at  INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX devices_team ON devices (team, enrolled_at);

CREATE TABLE enrolment_codes (
    hash       TEXT PRIMARY KEY,
    team       TEXT NOT NULL REFERENCES teams (name),
    label      TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    device_id  TEXT
) WITHOUT ROWID;

CREATE TABLE refresh_tokens (
    hash         TEXT PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('user', 'device')),
    subject_id   TEXT NOT NULL,
    family       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    revoked_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_subject ON refresh_tokens (subject_kind, subject_id);
