-- Staged imports (SPEC.md §6): a file read, diffed against the cached roster and checked
-- row by row, kept here until the user confirms it into the outbox, so a staged import
-- survives a restart and its result report can be written after the push.
-- Never edit this file once shipped; add 0004_....sql instead.

CREATE TABLE imports (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL,
    file_name    TEXT    NOT NULL,
    -- The file as read, so an edit re-plans the untouched rows exactly as they were read.
    file         BLOB    NOT NULL,
    sheet        TEXT,
    default_role TEXT,
    -- staged | confirmed
    state        TEXT    NOT NULL DEFAULT 'staged',
    staged_at    TEXT    NOT NULL,
    confirmed_at TEXT,
    -- JSON: headers, unknown columns, warnings, source (what the preview shows).
    summary      TEXT    NOT NULL
);
CREATE INDEX imports_by_org ON imports (org_id, id);

-- One row per non-blank data row of the file, with its plan.
CREATE TABLE import_rows (
    import_id  INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_number INTEGER NOT NULL,
    email      TEXT    NOT NULL,
    -- The cells as written (or as edited), by position: the result report's row.
    cells      TEXT    NOT NULL,
    -- The user edited the cells: re-planned from `cells`, not from the file.
    edited     INTEGER NOT NULL DEFAULT 0,
    dropped    INTEGER NOT NULL DEFAULT 0,
    -- create | update | unchanged | error
    plan       TEXT    NOT NULL,
    -- JSON RowPlan (what the preview shows; never a password).
    detail     TEXT    NOT NULL,
    user_id    INTEGER,
    -- JSON [{base_version, change}]: the mutations confirmation puts in the outbox.
    mutations  TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (import_id, row_number)
) WITHOUT ROWID;

-- The outbox ids a confirmed row's mutations got: its results are read through these.
CREATE TABLE import_mutations (
    import_id   INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_number  INTEGER NOT NULL,
    mutation_id TEXT    NOT NULL,
    PRIMARY KEY (import_id, row_number, mutation_id)
) WITHOUT ROWID;
