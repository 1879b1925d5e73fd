//! The orgs the account can open, as `GET /me/orgs` last listed them, with each org's
//! feed cursor and "synced at"; access loss and role/scope changes are applied here.

use super::{Cache, META_CURRENT_ORG, begin_bulk};
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use orgdesk_domain::wire::{OrgAccess, OrgId, OrgInfo};
use orgdesk_domain::{ErrorCode, OrgKind, Role};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use std::collections::HashMap;

/// Above this many cached rows, clearing an org drops the index triggers and rebuilds the
/// index once instead of deleting row by row.
const BULK_CLEAR_ROWS: i64 = 2_000;

/// One org in the cache.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CachedOrg {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    /// The caller's effective role in the org.
    pub role: Role,
    pub via_partner: bool,
    pub partner_org_id: Option<OrgId>,
    pub scope_version: i64,
    pub info: Option<OrgInfo>,
    pub cursor: String,
    /// When a pull last reached the end of the org's feed: the UI's "as of".
    pub synced_at: Option<DateTime<Utc>>,
    pub opened: bool,
}

/// What replacing the org list did to the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum OrgListChange {
    Added {
        org: OrgId,
    },
    /// Access lost: the org's cached data is deleted; its pending changes are kept in the
    /// outbox as rejected (`forbidden`) so they can still be exported.
    Purged {
        org: OrgId,
        name: String,
        rejected_changes: usize,
    },
    /// Role or scope changed: the org's rows are cleared and it pulls from cursor 0.
    Rebuild {
        org: OrgId,
    },
}

const ORG_COLUMNS: &str = "id, name, kind, role, via_partner, partner_org_id, scope_version, info, cursor, synced_at, opened";

fn org_from_row(row: &Row<'_>) -> rusqlite::Result<CachedOrg> {
    let kind: String = row.get(2)?;
    let role: String = row.get(3)?;
    let info: Option<String> = row.get(7)?;
    let synced_at: Option<String> = row.get(9)?;
    Ok(CachedOrg {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: kind.parse::<OrgKind>().map_err(|e| bad_column(2, e))?,
        role: role.parse::<Role>().map_err(|e| bad_column(3, e))?,
        via_partner: row.get(4)?,
        partner_org_id: row.get(5)?,
        scope_version: row.get(6)?,
        info: info
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|e| bad_column(7, e))?,
        cursor: row.get(8)?,
        synced_at: synced_at
            .map(|text| DateTime::parse_from_rfc3339(&text).map(|t| t.to_utc()))
            .transpose()
            .map_err(|e| bad_column(9, e))?,
        opened: row.get(10)?,
    })
}

/// A cached value that no longer parses (e.g. a role written by a newer client).
pub(crate) fn bad_column(
    index: usize,
    error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, error.into())
}

pub(crate) fn org(conn: &Connection, id: OrgId) -> Result<Option<CachedOrg>> {
    Ok(conn
        .query_row(
            &format!("SELECT {ORG_COLUMNS} FROM orgs WHERE id = ?1"),
            params![id],
            org_from_row,
        )
        .optional()?)
}

pub(crate) fn orgs(conn: &Connection) -> Result<Vec<CachedOrg>> {
    let mut stmt = conn.prepare(&format!("SELECT {ORG_COLUMNS} FROM orgs ORDER BY name, id"))?;
    let orgs = stmt
        .query_map([], org_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(orgs)
}

/// Deletes an org's rows (members, workspaces, property definitions), in bulk mode when
/// there are many.
fn clear_org_rows(conn: &Connection, org: OrgId) -> Result<()> {
    let rows: i64 = conn.query_row(
        "SELECT count(*) FROM members WHERE org_id = ?1",
        params![org],
        |row| row.get(0),
    )?;
    if rows > BULK_CLEAR_ROWS {
        begin_bulk(conn)?;
    }
    conn.execute("DELETE FROM members WHERE org_id = ?1", params![org])?;
    conn.execute("DELETE FROM workspaces WHERE org_id = ?1", params![org])?;
    conn.execute(
        "DELETE FROM property_definitions WHERE org_id = ?1",
        params![org],
    )?;
    Ok(())
}

fn reset_org_in(conn: &Connection, org: OrgId) -> Result<()> {
    clear_org_rows(conn, org)?;
    conn.execute(
        "UPDATE orgs SET cursor = '0', synced_at = NULL, info = NULL WHERE id = ?1",
        params![org],
    )?;
    Ok(())
}

fn purge_org_in(conn: &Connection, org: OrgId, now: DateTime<Utc>) -> Result<usize> {
    clear_org_rows(conn, org)?;
    conn.execute("DELETE FROM orgs WHERE id = ?1", params![org])?;
    conn.execute(
        "DELETE FROM meta WHERE key = ?1 AND value = ?2",
        params![META_CURRENT_ORG, org.to_string()],
    )?;
    let rejected = conn.execute(
        "UPDATE outbox SET state = 'rejected', result_code = ?2, result_message = ?3, result_at = ?4
         WHERE org_id = ?1 AND state = 'pending'",
        params![
            org,
            ErrorCode::Forbidden.as_str(),
            "You no longer have access to this organization; the change was not sent.",
            now.to_rfc3339(),
        ],
    )?;
    Ok(rejected)
}

impl Cache {
    pub fn orgs(&self) -> Result<Vec<CachedOrg>> {
        orgs(&self.lock())
    }

    pub fn org(&self, id: OrgId) -> Result<Option<CachedOrg>> {
        org(&self.lock(), id)
    }

    /// Replaces the cached org list with the server's `me/orgs`, in one transaction: orgs
    /// no longer listed are purged, orgs whose role or scope changed are reset to cursor 0.
    pub fn replace_org_list(
        &self,
        access: &[OrgAccess],
        now: DateTime<Utc>,
    ) -> Result<Vec<OrgListChange>> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let cached: HashMap<OrgId, CachedOrg> =
            orgs(&tx)?.into_iter().map(|org| (org.id, org)).collect();
        let mut changes = Vec::new();
        for org in cached.values() {
            if !access.iter().any(|a| a.id == org.id) {
                let rejected_changes = purge_org_in(&tx, org.id, now)?;
                changes.push(OrgListChange::Purged {
                    org: org.id,
                    name: org.name.clone(),
                    rejected_changes,
                });
            }
        }
        for a in access {
            match cached.get(&a.id) {
                Some(old) => {
                    if old.scope_version != a.scope_version
                        || old.role != a.role
                        || old.via_partner != a.via_partner
                    {
                        reset_org_in(&tx, a.id)?;
                        changes.push(OrgListChange::Rebuild { org: a.id });
                    }
                    tx.execute(
                        "UPDATE orgs SET name = ?2, kind = ?3, role = ?4, via_partner = ?5,
                                partner_org_id = ?6, scope_version = ?7
                         WHERE id = ?1",
                        params![
                            a.id,
                            a.name,
                            a.kind.as_str(),
                            a.role.as_str(),
                            a.via_partner,
                            a.partner_org_id,
                            a.scope_version
                        ],
                    )?;
                }
                None => {
                    tx.execute(
                        "INSERT INTO orgs (id, name, kind, role, via_partner, partner_org_id, scope_version)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![
                            a.id,
                            a.name,
                            a.kind.as_str(),
                            a.role.as_str(),
                            a.via_partner,
                            a.partner_org_id,
                            a.scope_version
                        ],
                    )?;
                    changes.push(OrgListChange::Added { org: a.id });
                }
            }
        }
        tx.commit()?;
        Ok(changes)
    }

    /// Forgets every cached org (another account signed in on this profile). Changes that
    /// were still pending are kept as rejected: they were staged by the other account.
    pub fn forget_orgs(&self) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let now = Utc::now();
        for org in orgs(&tx)? {
            purge_org_in(&tx, org.id, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Clears an org and sets its cursor to 0: the feed answered `resync_required`.
    pub fn reset_org(&self, org: OrgId) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        reset_org_in(&tx, org)?;
        tx.commit()?;
        Ok(())
    }

    /// Marks an org as opened: `sync` pulls the opened orgs.
    pub fn open_org(&self, org: OrgId) -> Result<()> {
        let changed = self
            .lock()
            .execute("UPDATE orgs SET opened = 1 WHERE id = ?1", params![org])?;
        if changed == 0 {
            return Err(Error::NotFound(format!(
                "organization {org} is not among your organizations (run `orgdesk sync`)"
            )));
        }
        Ok(())
    }

    /// Finds an org by id or by name (case-insensitive).
    pub fn find_org(&self, name_or_id: &str) -> Result<CachedOrg> {
        let orgs = self.orgs()?;
        let wanted = name_or_id.trim();
        let by_id = wanted
            .parse::<OrgId>()
            .ok()
            .and_then(|id| orgs.iter().find(|o| o.id == id));
        by_id
            .or_else(|| orgs.iter().find(|o| o.name.eq_ignore_ascii_case(wanted)))
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no organization named '{wanted}'")))
    }
}
