-- The search index with 2- and 3-character prefix indexes only (0001 had '1 2 3').
-- A 1-character query is answered by the roster's name, email and last-name indexes
-- (`roster::search`'s prefix tier) and reaches the full-text tier only when those find
-- fewer rows than asked for; FTS5 still answers a 1-character prefix without its index, by
-- scanning the terms. The 1-character index was a quarter of every index write: each
-- pull, each recorded result and the first sync's rebuild.
-- Never edit this file once shipped; add 0005_....sql instead.

DROP TABLE member_fts;
CREATE VIRTUAL TABLE member_fts USING fts5 (
    search_name, email, title, company,
    content = 'members', content_rowid = 'rowid',
    prefix = '2 3',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO member_fts (member_fts) VALUES ('rebuild');
