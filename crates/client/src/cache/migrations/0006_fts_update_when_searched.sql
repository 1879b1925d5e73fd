-- The search index's update trigger now fires only when a searched column changes (see
-- `FTS_TRIGGERS`): drop the old one, and `Cache::open` creates the new one.
DROP TRIGGER IF EXISTS members_fts_update;
