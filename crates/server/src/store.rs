//! The database: one pool over SQLite or PostgreSQL (picked from the URL), the migrations
//! of each backend, and the pieces every writing transaction shares (the org's change
//! sequence, audit events, tombstones).
//!
//! The SQL is written once in the dialect both backends accept (`$n` placeholders,
//! `RETURNING`, `ON CONFLICT`, times as Unix milliseconds, JSON as text) and run through
//! sqlx's `Any` driver; what differs (types, identity columns, pragmas) lives in the
//! per-backend migrations and [`Store::connect`].

use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub type Tx = sqlx::Transaction<'static, Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pub pool: AnyPool,
    pub backend: Backend,
}

/// `sqlite://x`, `postgres://...`, or a plain path (a SQLite file, created if missing).
fn normalise_url(url: &str) -> (Backend, String) {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return (Backend::Postgres, url.to_owned());
    }
    let url = if url.starts_with("sqlite:") {
        url.to_owned()
    } else {
        format!("sqlite://{url}")
    };
    let url = if url.contains('?') || url.contains(":memory:") {
        url
    } else {
        format!("{url}?mode=rwc")
    };
    (Backend::Sqlite, url)
}

impl Store {
    /// Connects and applies the backend's migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalise_url(url);
        let mut options = AnyPoolOptions::new().max_connections(max_connections.max(1));
        if backend == Backend::Sqlite {
            // WAL lets readers run beside the writer; NORMAL is durable across application
            // crashes in WAL mode, and foreign keys are off by default in SQLite.
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 15000").await?;
                    // 64 MiB of page cache, temporary tables in memory, reads through a
                    // 256 MiB memory map: a large org's feed and roster stay off the disk.
                    conn.execute("PRAGMA cache_size = -65536").await?;
                    conn.execute("PRAGMA temp_store = MEMORY").await?;
                    conn.execute("PRAGMA mmap_size = 268435456").await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await?,
        }
        Ok(Store { pool, backend })
    }

    pub async fn begin(&self) -> Result<Tx> {
        Ok(self.pool.begin().await?)
    }
}

/// The server's clock, shifted forward by tests (guest expiry, invitation expiry,
/// sign-in lockouts) instead of sleeping.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        Utc::now().timestamp_millis() + self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn today(&self) -> NaiveDate {
        to_time(self.now_ms()).date_naive()
    }

    /// Moves the clock forward (tests only need forward).
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub fn to_time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Takes the org's next change number. It is the first write of every transaction that
/// changes synced rows: on PostgreSQL the row lock serialises the org's writers, so
/// numbers commit in order and a feed reader never skips one; on SQLite it takes the
/// write lock before anything is read.
pub async fn next_seq(tx: &mut Tx, org_id: i64) -> Result<i64> {
    sqlx::query_scalar::<Any, i64>(
        "UPDATE orgs SET change_seq = change_seq + 1 WHERE id = $1 RETURNING change_seq",
    )
    .bind(org_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(Error::not_found)
}

/// One audit event, written in the transaction of the change it records.
#[derive(Debug, Default)]
pub struct AuditEvent<'a> {
    pub org_id: i64,
    pub actor_id: Option<i64>,
    pub client_id: Option<&'a str>,
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: Option<i64>,
    pub target_email: Option<&'a str>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub async fn record_audit(tx: &mut Tx, event: AuditEvent<'_>, now_ms: i64) -> Result<()> {
    let domain = event
        .target_email
        .and_then(|email| email.rsplit_once('@'))
        .map(|(_, domain)| domain.to_owned());
    sqlx::query(
        "INSERT INTO audit_events (org_id, actor_id, action, target_kind, target_id, \
         target_email, target_domain, before_json, after_json, client_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(event.org_id)
    .bind(event.actor_id)
    .bind(event.action)
    .bind(event.target_kind)
    .bind(event.target_id)
    .bind(event.target_email)
    .bind(domain)
    .bind(event.before.map(|v| v.to_string()))
    .bind(event.after.map(|v| v.to_string()))
    .bind(event.client_id)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An audit event held back to be written with others of its transaction in one statement
/// (see [`record_audits`]): a batch of mutations writes its events at the end instead of
/// one statement (one round trip to SQLite's worker thread) each.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub org_id: i64,
    pub actor_id: Option<i64>,
    pub client_id: Option<String>,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<i64>,
    pub target_email: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub at: i64,
}

impl AuditRow {
    pub fn new(event: AuditEvent<'_>, now_ms: i64) -> AuditRow {
        AuditRow {
            org_id: event.org_id,
            actor_id: event.actor_id,
            client_id: event.client_id.map(str::to_owned),
            action: event.action.to_owned(),
            target_kind: event.target_kind.to_owned(),
            target_id: event.target_id,
            target_email: event.target_email.map(str::to_owned),
            before: event.before.map(|v| v.to_string()),
            after: event.after.map(|v| v.to_string()),
            at: now_ms,
        }
    }
}

/// Writes audit events in their order (ids ascending), a few hundred per statement.
pub async fn record_audits(tx: &mut Tx, rows: &[AuditRow]) -> Result<()> {
    for chunk in rows.chunks(MULTI_ROW_CHUNK) {
        let mut q = crate::sql::Query::many(tx);
        let mut values = Vec::with_capacity(chunk.len());
        for row in chunk {
            let domain = row
                .target_email
                .as_deref()
                .and_then(|email| email.rsplit_once('@'))
                .map(|(_, domain)| domain.to_owned());
            values.push(format!(
                "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                q.int(row.org_id),
                q.opt_int(row.actor_id),
                q.text(row.action.as_str()),
                q.text(row.target_kind.as_str()),
                q.opt_int(row.target_id),
                q.opt_text(row.target_email.clone()),
                q.opt_text(domain),
                q.opt_text(row.before.clone()),
                q.opt_text(row.after.clone()),
                q.opt_text(row.client_id.clone()),
                q.int(row.at),
            ));
        }
        q.push(&format!(
            "INSERT INTO audit_events (org_id, actor_id, action, target_kind, target_id, \
             target_email, target_domain, before_json, after_json, client_id, at) VALUES {}",
            values.join(", ")
        ));
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Rows per multi-row statement: well under SQLite's 32,766 and PostgreSQL's 65,535 bound
/// parameters for the widest row written so (an account, 17 columns).
pub const MULTI_ROW_CHUNK: usize = 500;

/// Tombstone kinds in the change feed.
pub const TOMBSTONE_MEMBER: &str = "member";
pub const TOMBSTONE_WORKSPACE: &str = "workspace";
pub const TOMBSTONE_PROPERTY: &str = "property_definition";

pub async fn add_tombstone(
    tx: &mut Tx,
    org_id: i64,
    kind: &str,
    row_id: i64,
    email: Option<&str>,
    seq: i64,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO tombstones (org_id, kind, row_id, email, seq, removed_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (org_id, kind, row_id) DO UPDATE SET seq = $5, removed_at = $6, email = $4",
    )
    .bind(org_id)
    .bind(kind)
    .bind(row_id)
    .bind(email)
    .bind(seq)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A row that comes back (a re-added member) is no longer removed.
pub async fn clear_tombstone(tx: &mut Tx, org_id: i64, kind: &str, row_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM tombstones WHERE org_id = $1 AND kind = $2 AND row_id = $3")
        .bind(org_id)
        .bind(kind)
        .bind(row_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub fn opt_str(row: &AnyRow, column: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(column)?)
}

pub fn int(row: &AnyRow, column: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(column)?)
}

pub fn opt_int(row: &AnyRow, column: &str) -> Result<Option<i64>> {
    Ok(row.try_get::<Option<i64>, _>(column)?)
}

pub fn text(row: &AnyRow, column: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(column)?)
}

/// Flags are stored as 0/1 integers: sqlx's `Any` driver maps no boolean type of SQLite.
pub fn boolean(row: &AnyRow, column: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// Parses a value the server itself stored; a failure means a corrupt row.
pub fn parse_stored<T: std::str::FromStr>(value: &str, what: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| Error::internal(format!("stored {what} '{value}' does not parse")))
}

pub fn parse_json<T: serde::de::DeserializeOwned>(value: &str, what: &str) -> Result<T> {
    serde_json::from_str(value)
        .map_err(|e| Error::internal(format!("stored {what} does not parse: {e}")))
}
