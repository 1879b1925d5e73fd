-- A push writes each outbox row once, when its result is recorded, and its indexes hold
-- only the changes still to be sent or resolved: answered changes pile up by the hundred
-- thousand (an import), and each moved from one index entry to another when recorded.
--
-- `sent_at` was written for every change of every batch sent, in a transaction of its own,
-- and never read: a change is pending until answered, sent or not, and a resend is safe
-- (the server answers a replayed mutation id with its stored result).
ALTER TABLE outbox DROP COLUMN sent_at;

-- The next batch, and the orgs with changes to send. (SQLite uses a partial index only for
-- a query that repeats its WHERE: see `outbox::list_sql`.)
DROP INDEX outbox_by_state;
CREATE INDEX outbox_pending ON outbox (org_id, seq) WHERE state = 'pending';
-- Conflicts and rejections, for the user to resolve.
CREATE INDEX outbox_unresolved ON outbox (state, org_id, seq)
    WHERE state IN ('conflict', 'rejected');

-- Rebases look up a member's pending changes. Adds (no member until applied) and answered
-- changes are never looked up that way.
DROP INDEX outbox_by_member;
CREATE INDEX outbox_by_member ON outbox (org_id, user_id)
    WHERE state = 'pending' AND user_id IS NOT NULL;
