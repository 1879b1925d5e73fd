//! The local SQLite cache of one server profile: orgs, rosters, cursors and the outbox.
//!
//! Synchronous rusqlite (bundled SQLite, WAL) behind a mutex; async callers go through
//! `spawn_blocking` at their edge. [`Cache`] is the one mutating handle; [`CacheReader`]
//! opens a separate read-only connection so the UI can list and search while a sync writes.

pub(crate) mod feed;
pub(crate) mod orgs;
pub mod overview;
pub mod roster;
pub mod window;

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

pub use feed::{PageApplied, shown_name};
pub use orgs::{CachedOrg, OrgListChange};
pub use overview::{MemberDetail, OrgCounts, Person, PropertyShown};
pub use roster::{RosterQuery, SearchHit};
pub use window::{MAX_WINDOW, RosterRow, RosterView, RosterWindow, SEARCH_CAP, TabCounts};

/// Numbered migrations, applied in order and recorded in `PRAGMA user_version`.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("migrations/0001_cache.sql")),
    (2, include_str!("migrations/0002_outbox_by_member.sql")),
    (3, include_str!("migrations/0003_imports.sql")),
    (4, include_str!("migrations/0004_fts_prefix_2_3.sql")),
    (5, include_str!("migrations/0005_outbox_lean.sql")),
    (
        6,
        include_str!("migrations/0006_fts_update_when_searched.sql"),
    ),
    (7, include_str!("migrations/0007_roster_window_indexes.sql")),
];

/// Keep the search index in step with `members` row by row. Dropped during a bulk load
/// (first sync, rebuild) and replaced by one `rebuild` at the end, which is several times
/// faster than 100,000 trigger firings. An update reindexes a row only when a searched
/// column changed: most changes (role, status, workspaces, sign-ins, other profile fields)
/// leave them alone, and an upsert sets every column.
const FTS_TRIGGERS: &str = "
CREATE TRIGGER IF NOT EXISTS members_fts_insert AFTER INSERT ON members BEGIN
    INSERT INTO member_fts (rowid, search_name, email, title, company)
    VALUES (new.rowid, new.search_name, new.email, new.title, new.company);
END;
CREATE TRIGGER IF NOT EXISTS members_fts_delete AFTER DELETE ON members BEGIN
    INSERT INTO member_fts (member_fts, rowid, search_name, email, title, company)
    VALUES ('delete', old.rowid, old.search_name, old.email, old.title, old.company);
END;
CREATE TRIGGER IF NOT EXISTS members_fts_update AFTER UPDATE ON members
WHEN old.search_name IS NOT new.search_name OR old.email IS NOT new.email
     OR old.title IS NOT new.title OR old.company IS NOT new.company
BEGIN
    INSERT INTO member_fts (member_fts, rowid, search_name, email, title, company)
    VALUES ('delete', old.rowid, old.search_name, old.email, old.title, old.company);
    INSERT INTO member_fts (rowid, search_name, email, title, company)
    VALUES (new.rowid, new.search_name, new.email, new.title, new.company);
END;
";

const DROP_FTS_TRIGGERS: &str = "
DROP TRIGGER IF EXISTS members_fts_insert;
DROP TRIGGER IF EXISTS members_fts_delete;
DROP TRIGGER IF EXISTS members_fts_update;
";

/// The roster's sort and prefix-search indexes (as created by migration 0001). A bulk load
/// drops them and builds them once at the end: one sort beats 100,000 random B-tree inserts.
const ROSTER_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS members_by_name      ON members (org_id, name_lc);
CREATE INDEX IF NOT EXISTS members_by_email     ON members (org_id, email_lc);
CREATE INDEX IF NOT EXISTS members_by_last_name ON members (org_id, last_name_lc);
CREATE INDEX IF NOT EXISTS members_by_created     ON members (org_id, created_at);
CREATE INDEX IF NOT EXISTS members_by_last_active ON members (org_id, last_active_at);
CREATE INDEX IF NOT EXISTS members_by_role_status ON members (org_id, role, status);
";

const DROP_ROSTER_INDEXES: &str = "
DROP INDEX IF EXISTS members_by_name;
DROP INDEX IF EXISTS members_by_email;
DROP INDEX IF EXISTS members_by_last_name;
DROP INDEX IF EXISTS members_by_created;
DROP INDEX IF EXISTS members_by_last_active;
DROP INDEX IF EXISTS members_by_role_status;
";

/// The meta key set while the search index is out of step with `members` (bulk load).
const META_FTS_STALE: &str = "fts_stale";
/// A random id naming this profile's entry in the OS keyring.
pub const META_PROFILE_ID: &str = "profile_id";
pub const META_SERVER: &str = "server";
pub const META_EMAIL: &str = "email";
pub const META_ACCOUNT_ID: &str = "account_id";
pub const META_CURRENT_ORG: &str = "current_org";

/// The mutating handle on a profile's cache. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct Cache {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    checkpointer: Arc<Checkpointer>,
}

/// Folds the WAL into the database file from a thread and connection of its own, so that no
/// commit pays for it (see `Cache::open`). At most one such thread per cache; a request
/// while it runs makes it run once more.
#[derive(Default)]
struct Checkpointer {
    /// (a thread is running, it should run again)
    state: Mutex<(bool, bool)>,
}

impl Checkpointer {
    fn state(&self) -> MutexGuard<'_, (bool, bool)> {
        // Two booleans cannot be left half-updated by a panic.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn request(self: &Arc<Self>, path: &Path) {
        {
            let mut state = self.state();
            if state.0 {
                state.1 = true;
                return;
            }
            *state = (true, false);
        }
        let this = Arc::clone(self);
        let path = path.to_owned();
        let spawned = thread::Builder::new()
            .name("cache-checkpoint".into())
            .spawn(move || {
                loop {
                    // A checkpoint that fails (the file is gone, a reader holds the frames)
                    // leaves them in the WAL, where readers still find them, for the next.
                    if let Err(error) = passive_checkpoint(&path) {
                        tracing::debug!(%error, "cache checkpoint skipped");
                    }
                    let mut state = this.state();
                    if !state.1 {
                        state.0 = false;
                        return;
                    }
                    state.1 = false;
                }
            });
        if spawned.is_err() {
            // No thread: the next request tries again; the WAL only grows meanwhile.
            *self.state() = (false, false);
        }
    }
}

/// A PASSIVE checkpoint on a connection of its own: copies what it can without waiting for
/// (or blocking) the writer or readers. Never creates the file.
fn passive_checkpoint(path: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    Ok(())
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("path", &self.path).finish()
    }
}

impl Cache {
    /// Opens (creating and migrating if needed) the cache file at `path`.
    pub fn open(path: &Path) -> Result<Cache> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        // WAL lets readers work while a sync writes; FULL keeps a staged change across a
        // power loss, not only a crash (it costs one fsync per transaction, and pages and
        // batches are few large transactions).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // A first sync writes a few hundred megabytes of pages and index entries in few
        // transactions; a 32 MB page cache keeps them from spilling mid-transaction.
        conn.pragma_update(None, "cache_size", -32_000)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // No checkpoint inside a commit: SQLite's automatic one (every 1,000 WAL pages) ran in
        // whichever commit crossed the mark, the long tail of small pulls. The WAL is folded
        // in by `checkpoint_in_background` instead, after each pull and push and at open.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // A first sync leaves a WAL of a few hundred megabytes; once checkpointed, the next
        // write transaction that restarts it truncates the file to this size.
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        migrate(&mut conn)?;
        let cache = Cache {
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_owned(),
            checkpointer: Arc::default(),
        };
        cache.ensure_profile_id()?;
        // A bulk load that did not finish (crash, kill) left the index stale: rebuild now,
        // before anyone searches.
        if cache.meta(META_FTS_STALE)?.is_some() {
            cache.finish_bulk()?;
        } else {
            let conn = cache.lock();
            conn.execute_batch(ROSTER_INDEXES)?;
            conn.execute_batch(FTS_TRIGGERS)?;
        }
        // FTS5's incremental merging (`automerge`, 4 by default) did most of the work of a
        // small commit: a 100-row pull or a 1,000-result batch spent 2-3x as long merging
        // segments as writing them. Without it, level segments are still merged once 16
        // pile up (`crisismerge`), a few milliseconds for small segments.
        cache
            .lock()
            .execute_batch("INSERT INTO member_fts (member_fts, rank) VALUES ('automerge', 0);")?;
        cache.checkpoint_in_background();
        Ok(cache)
    }

    /// Starts folding the WAL into the database file on a background thread (PASSIVE: it
    /// neither waits for nor blocks this handle's writes or the readers). Called when a
    /// pull or push is done; commits never checkpoint themselves (`wal_autocheckpoint` 0).
    pub fn checkpoint_in_background(&self) {
        self.checkpointer.request(&self.path);
    }

    /// The cache file of `profile` under `data_dir`.
    pub fn path_for(data_dir: &Path, profile: &str) -> PathBuf {
        data_dir
            .join("profiles")
            .join(profile)
            .join("cache.sqlite3")
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A read-only handle with its own connection, for listing and search while a sync
    /// writes.
    pub fn reader(&self) -> Result<CacheReader> {
        CacheReader::open(&self.path)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-written transaction behind
        // (rusqlite rolls back on drop), so the connection is still good.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        meta(&self.lock(), key)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.lock().execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn delete_meta(&self, key: &str) -> Result<()> {
        self.lock()
            .execute("DELETE FROM meta WHERE key = ?1", params![key])?;
        Ok(())
    }

    /// This profile's keyring id: random, created with the cache, so two profiles (or two
    /// test runs) never share a token.
    pub fn profile_id(&self) -> Result<String> {
        self.meta(META_PROFILE_ID)?
            .ok_or_else(|| Error::Invalid("the cache has no profile id".into()))
    }

    fn ensure_profile_id(&self) -> Result<()> {
        self.lock().execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
            params![META_PROFILE_ID, uuid::Uuid::new_v4().to_string()],
        )?;
        Ok(())
    }

    /// Enters bulk mode: the search index triggers and the roster indexes are dropped and
    /// the index marked stale, in one transaction. Idempotent. [`Cache::finish_bulk`] (or the next open) rebuilds.
    pub fn begin_bulk(&self) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        begin_bulk(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Leaves bulk mode: rebuilds the search index from `members` and restores the
    /// triggers, in one transaction. Does nothing outside bulk mode.
    pub fn finish_bulk(&self) -> Result<()> {
        let mut conn = self.lock();
        if meta(&conn, META_FTS_STALE)?.is_none() {
            return Ok(());
        }
        let tx = conn.transaction()?;
        tx.execute_batch(ROSTER_INDEXES)?;
        tx.execute_batch("INSERT INTO member_fts (member_fts) VALUES ('rebuild');")?;
        tx.execute_batch(FTS_TRIGGERS)?;
        tx.execute("DELETE FROM meta WHERE key = ?1", params![META_FTS_STALE])?;
        tx.commit()?;
        drop(conn);
        // A bulk load leaves a WAL of hundreds of megabytes: fold it into the database in
        // the background, not in the sync's time nor in the commits of the next pulls
        // (`journal_size_limit` gives the disk back when the WAL restarts).
        self.checkpoint_in_background();
        Ok(())
    }

    /// Whether the search index is being bulk-loaded (searches may miss rows until the
    /// sync finishes).
    pub fn in_bulk(&self) -> Result<bool> {
        Ok(self.meta(META_FTS_STALE)?.is_some())
    }

    /// Runs `f` on the connection on tokio's blocking pool: the async edge of the cache.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Cache) -> Result<T> + Send + 'static,
    {
        let cache = self.clone();
        tokio::task::spawn_blocking(move || f(&cache)).await?
    }
}

pub(crate) fn begin_bulk(conn: &Connection) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, '1')",
        params![META_FTS_STALE],
    )?;
    conn.execute_batch(DROP_FTS_TRIGGERS)?;
    conn.execute_batch(DROP_ROSTER_INDEXES)?;
    Ok(())
}

/// Whether the cache is in bulk mode (search index and roster indexes out of step).
pub(crate) fn in_bulk(conn: &Connection) -> Result<bool> {
    Ok(meta(conn, META_FTS_STALE)?.is_some())
}

fn meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            params![key],
            |row| row.get(0),
        )
        .optional()?)
}

fn configure(conn: &Connection) -> Result<()> {
    // The CLI and the desktop may open one profile at once; wait for the other's write.
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .map_err(|source| Error::Migration { version, source })?;
        tx.commit()?;
    }
    Ok(())
}

/// A read-only handle on a profile's cache.
pub struct CacheReader {
    conn: Connection,
}

impl CacheReader {
    pub fn open(path: &Path) -> Result<CacheReader> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        Ok(CacheReader { conn })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn temp_cache() -> (tempfile::TempDir, Cache) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&Cache::path_for(dir.path(), "test")).unwrap();
        (dir, cache)
    }

    #[test]
    fn a_new_cache_is_migrated_in_wal_mode_with_fts5() {
        let (_dir, cache) = temp_cache();
        let conn = cache.lock();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as u32);
        let fts: i64 = conn
            .query_row("SELECT count(*) FROM member_fts", [], |row| row.get(0))
            .unwrap();
        assert_eq!(fts, 0);
    }

    #[test]
    fn reopening_keeps_the_profile_id_and_does_not_migrate_twice() {
        let (dir, cache) = temp_cache();
        let id = cache.profile_id().unwrap();
        drop(cache);
        let again = Cache::open(&Cache::path_for(dir.path(), "test")).unwrap();
        assert_eq!(again.profile_id().unwrap(), id);
    }

    #[test]
    fn an_interrupted_bulk_load_is_finished_on_open() {
        let (dir, cache) = temp_cache();
        cache.begin_bulk().unwrap();
        assert!(cache.in_bulk().unwrap());
        drop(cache);
        let again = Cache::open(&Cache::path_for(dir.path(), "test")).unwrap();
        assert!(!again.in_bulk().unwrap(), "the open rebuilt the index");
        let indexes: i64 = again
            .lock()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'members_by_%'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 6, "and the roster indexes are back");
    }
}
