-- The desktop's roster asks for windows anywhere in a 100,000-row listing, sorted by any
-- column, with per-tab counts beside them. Without these, sorting by last active or created
-- sorts the whole org per window, and the counts read every row. A bulk load drops and
-- rebuilds them with the others (`ROSTER_INDEXES`).
CREATE INDEX IF NOT EXISTS members_by_created     ON members (org_id, created_at);
CREATE INDEX IF NOT EXISTS members_by_last_active ON members (org_id, last_active_at);
CREATE INDEX IF NOT EXISTS members_by_role_status ON members (org_id, role, status);
