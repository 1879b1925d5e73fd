-- Orgdesk's schema on SQLite. Flags are BIGINT 0/1 and times are Unix milliseconds (BIGINT), dates ISO text, JSON text,
-- so that the same SQL runs on both backends. Never edit a shipped migration: add one.

CREATE TABLE orgs (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    domains         TEXT    NOT NULL DEFAULT '[]',
    member_directory BIGINT  NOT NULL DEFAULT 0,
    partner_access  TEXT    NOT NULL DEFAULT 'admin',
    partner_org_id  BIGINT  REFERENCES orgs(id),
    plan            TEXT    NOT NULL DEFAULT 'free',
    seats           BIGINT  NOT NULL DEFAULT 0,
    billing_email   TEXT,
    created_at      BIGINT  NOT NULL,
    change_seq      BIGINT  NOT NULL DEFAULT 0,
    pruned_seq      BIGINT  NOT NULL DEFAULT 0,
    access_version  BIGINT  NOT NULL DEFAULT 1,
    seq             BIGINT  NOT NULL DEFAULT 0,
    version         BIGINT  NOT NULL DEFAULT 1
);
CREATE INDEX orgs_partner ON orgs(partner_org_id);

CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    email           TEXT    NOT NULL UNIQUE,
    email_domain    TEXT    NOT NULL,
    password_hash   TEXT,
    display_name    TEXT,
    first_name      TEXT,
    last_name       TEXT,
    phone           TEXT,
    title           TEXT,
    company         TEXT,
    office          TEXT,
    street          TEXT,
    postal_code     TEXT,
    city            TEXT,
    cell_phone      TEXT,
    home_phone      TEXT,
    sort_name       TEXT    NOT NULL,
    totp_secret     TEXT,
    totp_enabled    BIGINT  NOT NULL DEFAULT 0,
    failed_sign_ins BIGINT  NOT NULL DEFAULT 0,
    failed_since    BIGINT  NOT NULL DEFAULT 0,
    locked_until    BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    last_sign_in_at BIGINT
);
CREATE INDEX accounts_domain ON accounts(email_domain);

CREATE TABLE memberships (
    org_id          BIGINT  NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    account_id      BIGINT  NOT NULL REFERENCES accounts(id),
    role            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    workspaces      TEXT    NOT NULL DEFAULT ',',
    scope           TEXT,
    guest_expires   TEXT,
    properties      TEXT    NOT NULL DEFAULT '{}',
    invited_by      BIGINT,
    invited_at      BIGINT,
    invite_token_hash TEXT UNIQUE,
    invite_expires_at BIGINT,
    created_at      BIGINT  NOT NULL,
    last_active_at  BIGINT,
    access_version  BIGINT  NOT NULL DEFAULT 1,
    seq             BIGINT  NOT NULL,
    version         BIGINT  NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, account_id)
);
CREATE INDEX memberships_seq ON memberships(org_id, seq);
CREATE INDEX memberships_account ON memberships(account_id);

CREATE TABLE workspaces (
    id      INTEGER PRIMARY KEY,
    org_id  BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name    TEXT   NOT NULL,
    seq     BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (org_id, name)
);
CREATE INDEX workspaces_seq ON workspaces(org_id, seq);

CREATE TABLE property_definitions (
    id       INTEGER PRIMARY KEY,
    org_id   BIGINT  NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    key      TEXT    NOT NULL,
    label    TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    required BIGINT  NOT NULL DEFAULT 0,
    seq      BIGINT  NOT NULL,
    version  BIGINT  NOT NULL DEFAULT 1,
    UNIQUE (org_id, key)
);
CREATE INDEX property_definitions_seq ON property_definitions(org_id, seq);

CREATE TABLE tombstones (
    org_id     BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL,
    row_id     BIGINT NOT NULL,
    email      TEXT,
    seq        BIGINT NOT NULL,
    removed_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind, row_id)
);
CREATE INDEX tombstones_seq ON tombstones(org_id, seq);

CREATE TABLE sessions (
    token_hash   TEXT   PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY,
    org_id       BIGINT  NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    actor_id     BIGINT,
    action       TEXT    NOT NULL,
    target_kind  TEXT    NOT NULL,
    target_id    BIGINT,
    target_email TEXT,
    target_domain TEXT,
    before_json  TEXT,
    after_json   TEXT,
    client_id    TEXT,
    at           BIGINT  NOT NULL
);
CREATE INDEX audit_events_org ON audit_events(org_id, id);

CREATE TABLE mutation_results (
    account_id  BIGINT NOT NULL,
    mutation_id TEXT   NOT NULL,
    org_id      BIGINT NOT NULL,
    result      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, mutation_id)
);
CREATE INDEX mutation_results_age ON mutation_results(created_at);

CREATE TABLE mail_outbox (
    id         INTEGER PRIMARY KEY,
    recipient  TEXT   NOT NULL,
    subject    TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
