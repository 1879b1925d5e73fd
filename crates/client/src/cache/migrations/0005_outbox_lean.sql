-- A push writes each outbox row once, when its result is recorded.
--
-- `sent_at` was written for every change of every batch sent, in a transaction of its own,
-- and never read: a change is pending until answered, sent or not, and a resend is safe
-- (the server answers a replayed mutation id with its stored result).
ALTER TABLE outbox DROP COLUMN sent_at;

-- Rebases look up a member's pending changes. Adds (no member until applied) and answered
-- changes are never looked up that way: without index entries, confirming a 100,000-row
-- import and recording its results write none.
DROP INDEX outbox_by_member;
CREATE INDEX outbox_by_member ON outbox (org_id, user_id)
    WHERE state = 'pending' AND user_id IS NOT NULL;
