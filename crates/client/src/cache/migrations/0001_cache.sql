-- The local cache of one server profile: the orgs the signed-in account can open, their
-- rosters as of each org's change-feed cursor, and the outbox of staged changes.
-- Never edit this file once shipped; add 0002_....sql instead.

-- Key/value facts about this profile: server URL, account, current org, FTS state.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per org from `GET /me/orgs`, with the feed cursor and "synced at".
CREATE TABLE orgs (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    role           TEXT    NOT NULL,
    via_partner    INTEGER NOT NULL,
    partner_org_id INTEGER,
    scope_version  INTEGER NOT NULL,
    -- wire::OrgInfo as JSON, once the feed has sent it.
    info           TEXT,
    -- The opaque cursor of the last page applied; '0' means "from the start".
    cursor         TEXT    NOT NULL DEFAULT '0',
    -- RFC 3339; set when a pull reached the end of the feed.
    synced_at      TEXT,
    -- The user opened this org (switched to it or synced it): `sync` pulls opened orgs.
    opened         INTEGER NOT NULL DEFAULT 0
);

-- The roster. `data` is the wire::Member as the server sent it; the other columns are
-- copies for filtering, sorting and the search index.
CREATE TABLE members (
    rowid          INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    email          TEXT    NOT NULL,
    -- What the roster shows: display name, else first and last name, else the email.
    name           TEXT    NOT NULL,
    -- Every name the user may type: display, first and last name (indexed by FTS only).
    search_name    TEXT    NOT NULL,
    title          TEXT,
    company        TEXT,
    email_lc       TEXT    NOT NULL,
    name_lc        TEXT    NOT NULL,
    last_name_lc   TEXT,
    role           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    -- JSON array of workspace ids.
    workspaces     TEXT    NOT NULL DEFAULT '[]',
    created_at     TEXT    NOT NULL,
    last_active_at TEXT,
    version        INTEGER NOT NULL,
    data           TEXT    NOT NULL,
    UNIQUE (org_id, user_id)
);
CREATE INDEX members_by_name      ON members (org_id, name_lc);
CREATE INDEX members_by_email     ON members (org_id, email_lc);
CREATE INDEX members_by_last_name ON members (org_id, last_name_lc);

-- Search over name, email, title and company. External content: the text lives once, in
-- `members`; prefix indexes make 1- to 3-character search-as-you-type queries cheap.
CREATE VIRTUAL TABLE member_fts USING fts5 (
    search_name, email, title, company,
    content = 'members', content_rowid = 'rowid',
    prefix = '1 2 3',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE workspaces (
    org_id  INTEGER NOT NULL,
    id      INTEGER NOT NULL,
    name    TEXT    NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
) WITHOUT ROWID;

CREATE TABLE property_definitions (
    org_id  INTEGER NOT NULL,
    id      INTEGER NOT NULL,
    data    TEXT    NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
) WITHOUT ROWID;

-- Every staged change, persisted before anything is sent. `id` is the mutation id fixed
-- at staging, so a resend after a crash gets the server's stored result (exactly once).
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    org_id          INTEGER NOT NULL,
    -- The member the change is done to; NULL for an add.
    user_id         INTEGER,
    base_version    INTEGER,
    -- wire::MutationKind as JSON.
    change          TEXT    NOT NULL,
    staged_at       TEXT    NOT NULL,
    -- pending | applied | conflict | rejected | resolved
    state           TEXT    NOT NULL DEFAULT 'pending',
    -- The cached row the change was staged on (wire::Member JSON), for the diff.
    base_row        TEXT,
    sent_at         TEXT,
    result_at       TEXT,
    applied_version INTEGER,
    result_code     TEXT,
    result_message  TEXT,
    -- conflict: the server's current row (wire::Member JSON); NULL if it was removed.
    server_row      TEXT,
    -- resolved: keep_mine | take_theirs | drop
    resolution      TEXT
);
CREATE INDEX outbox_by_state ON outbox (state, org_id, seq);
