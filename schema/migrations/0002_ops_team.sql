-- A pull reads one team's ops in ingest order. With the team on the op row and an index
-- on (team, seq) that is one range scan, instead of a seek into records for every op to
-- find its team. A record's team is fixed when the record is created (the merge refuses
-- to move a record to another team), so an op's team is its record's team for good,
-- whether the record named its team itself or got it through its engagement.
ALTER TABLE ops ADD COLUMN team TEXT NOT NULL DEFAULT '';
UPDATE ops SET team = (SELECT r.team FROM records r WHERE r.rid = ops.rid);
CREATE INDEX ops_team_seq ON ops (team, seq);
