-- Who may call the server. Secrets are stored hashed.

CREATE TABLE teams (
    name       TEXT COLLATE "C" PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT COLLATE "C" NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'coordinator')),
    node_id       TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE user_teams (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    team    TEXT COLLATE "C" NOT NULL REFERENCES teams (name),
    PRIMARY KEY (user_id, team)
);

CREATE TABLE devices (
    id                TEXT COLLATE "C" PRIMARY KEY,
    node_id           TEXT NOT NULL UNIQUE,
    team              TEXT COLLATE "C" NOT NULL REFERENCES teams (name),
    label             TEXT NOT NULL,
    enrolled_by       TEXT NOT NULL,
    enrolled_at       BIGINT NOT NULL,
    last_seen_at      BIGINT NOT NULL,
    revoked_at        BIGINT,
    tokens_revoked_at BIGINT
);
CREATE INDEX devices_team ON devices (team, enrolled_at);

CREATE TABLE enrolment_codes (
    hash       TEXT PRIMARY KEY,
    team       TEXT COLLATE "C" NOT NULL REFERENCES teams (name),
    label      TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    device_id  TEXT
);

CREATE TABLE refresh_tokens (
    hash         TEXT PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('user', 'device')),
    subject_id   TEXT NOT NULL,
    family       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_subject ON refresh_tokens (subject_kind, subject_id);
