-- Server instances sharing this database, each heartbeating: every instance enforces its
-- share of the rate limits, so a caller gets the configured rate however many serve it.
CREATE TABLE instances (
    id      TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL -- the database's clock, ms
);
