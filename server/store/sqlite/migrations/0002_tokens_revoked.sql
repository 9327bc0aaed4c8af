-- A reused refresh token ends the device's tokens, not the device: a tablet that lost
-- the answer to a refresh must not be told to wipe conversations it has not synced.
-- Only a coordinator's revocation (revoked_at) does that.
ALTER TABLE devices ADD COLUMN tokens_revoked_at INTEGER;
