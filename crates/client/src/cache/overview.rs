//! What the desktop shows around the roster: each org's counts for the switcher, one member
//! with names for its ids (the detail panel), and the user's view preferences.

use super::roster::{member, workspaces};
use super::window::RosterRow;
use super::{Cache, CacheReader, shown_name};
use crate::error::{Error, Result};
use crate::import::plan::property_definitions;
use orgdesk_domain::wire::{OrgId, PropertyKind, UserId, Workspace};
use rusqlite::{Connection, params};
use serde::Serialize;
use std::collections::HashMap;

/// Preferences are meta rows under this prefix, apart from the cache's own keys.
const PREF_PREFIX: &str = "ui:";

/// An org's cached members and the staged changes not yet settled (to send or resolve).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OrgCounts {
    pub members: u64,
    pub open_changes: u64,
}

/// A member with the names of what its ids point at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberDetail {
    pub member: RosterRow,
    /// The workspaces assigned, by name (an id the cache does not know is left out).
    pub workspaces: Vec<Workspace>,
    /// Every property the org defines, with this member's value (`null` when unset).
    pub properties: Vec<PropertyShown>,
    pub invited_by: Option<Person>,
    /// This member's changes that still need the server or the user, oldest first.
    pub staged: Vec<crate::outbox::StagedChange>,
    /// The row as the pending changes leave it, all of them applied in order (`None`
    /// without pending changes, or when they remove the member).
    pub pending_row: Option<RosterRow>,
    /// The pending changes remove the member.
    pub pending_removal: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyShown {
    pub key: String,
    pub label: String,
    pub kind: PropertyKind,
    pub value: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: UserId,
    pub name: String,
    pub email: String,
}

fn org_counts(conn: &Connection) -> Result<HashMap<OrgId, OrgCounts>> {
    let mut counts: HashMap<OrgId, OrgCounts> = HashMap::new();
    let mut members =
        conn.prepare_cached("SELECT org_id, count(*) FROM members GROUP BY org_id")?;
    for row in members.query_map([], |row| Ok((row.get(0)?, row.get::<_, i64>(1)?)))? {
        let (org, n) = row?;
        counts.entry(org).or_default().members = u64::try_from(n).unwrap_or(0);
    }
    for (org, n) in open_changes(conn)? {
        counts.entry(org).or_default().open_changes = n;
    }
    Ok(counts)
}

/// Each org's changes to send or resolve, each state through its own partial index
/// (migration 0005).
fn open_changes(conn: &Connection) -> Result<HashMap<OrgId, u64>> {
    let mut counts: HashMap<OrgId, u64> = HashMap::new();
    for state in ["pending", "conflict", "rejected"] {
        let mut open = conn.prepare_cached(
            "SELECT org_id, count(*) FROM outbox WHERE state = ?1 GROUP BY org_id",
        )?;
        for row in open.query_map(params![state], |row| {
            Ok((row.get(0)?, row.get::<_, i64>(1)?))
        })? {
            let (org, n) = row?;
            *counts.entry(org).or_default() += u64::try_from(n).unwrap_or(0);
        }
    }
    Ok(counts)
}

fn member_detail(conn: &Connection, org: OrgId, user: UserId) -> Result<MemberDetail> {
    let found = member(conn, org, user)?
        .ok_or_else(|| Error::NotFound(format!("user {user} is not in the cached roster")))?;
    let assigned: Vec<Workspace> = workspaces(conn, org)?
        .into_iter()
        .filter(|w| found.workspaces.contains(&w.id))
        .collect();
    let properties = property_definitions(conn, org)?
        .into_iter()
        .map(|definition| PropertyShown {
            value: found
                .properties
                .get(&definition.key)
                .cloned()
                .unwrap_or(serde_json::Value::Null),
            key: definition.key,
            label: definition.label,
            kind: definition.kind,
        })
        .collect();
    let invited_by = match found.invited_by {
        Some(id) => member(conn, org, id)?.map(|inviter| Person {
            id,
            name: shown_name(&inviter),
            email: inviter.email,
        }),
        None => None,
    };
    let staged = crate::outbox::checked::member_changes(conn, org, user)?;
    let pending: Vec<_> = staged
        .iter()
        .filter(|c| c.state == crate::outbox::OutboxState::Pending)
        .collect();
    let pending_row = if pending.is_empty() {
        None
    } else {
        pending
            .iter()
            .try_fold(found.clone(), |row, c| {
                crate::outbox::project(row, &c.change)
            })
            .map(RosterRow::from)
    };
    let pending_removal = !pending.is_empty() && pending_row.is_none();
    let mut member = RosterRow::from(found);
    member.pending_changes = pending.len() as u32;
    Ok(MemberDetail {
        member,
        pending_row,
        pending_removal,
        staged,
        workspaces: assigned,
        properties,
        invited_by,
    })
}

impl Cache {
    /// Every cached org's member count and open changes.
    pub fn org_counts(&self) -> Result<HashMap<OrgId, OrgCounts>> {
        org_counts(&self.lock())
    }

    pub fn member_detail(&self, org: OrgId, user: UserId) -> Result<MemberDetail> {
        member_detail(&self.lock(), org, user)
    }

    /// A view preference of the user's (columns chosen, last tab…), kept with the profile.
    pub fn pref(&self, key: &str) -> Result<Option<String>> {
        self.meta(&format!("{PREF_PREFIX}{key}"))
    }

    pub fn set_pref(&self, key: &str, value: &str) -> Result<()> {
        if key.is_empty() || key.len() > 200 || value.len() > 64 * 1024 {
            return Err(Error::Invalid(
                "a preference has a key of 1 to 200 bytes and a value of at most 64 KiB".into(),
            ));
        }
        self.set_meta(&format!("{PREF_PREFIX}{key}"), value)
    }
}

impl CacheReader {
    pub fn org_counts(&self) -> Result<HashMap<OrgId, OrgCounts>> {
        org_counts(self.connection())
    }

    /// The changes to send or resolve, in every org: the sync badge's count.
    pub fn open_change_count(&self) -> Result<u64> {
        Ok(open_changes(self.connection())?.values().sum())
    }

    pub fn member_detail(&self, org: OrgId, user: UserId) -> Result<MemberDetail> {
        member_detail(self.connection(), org, user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::feed::tests::{access, member, page};
    use crate::cache::tests::temp_cache;
    use orgdesk_domain::Role;
    use orgdesk_domain::wire::{Change, PropertyDefinition};

    #[test]
    fn the_detail_names_workspaces_properties_and_the_inviter() {
        let (_dir, cache) = temp_cache();
        let now = "2026-11-23T06:00:00Z".parse().unwrap();
        cache
            .replace_org_list(&[access(1, Role::Admin, 1)], now)
            .unwrap();
        let mut invited = member(11, "Ines", "Invited", Role::Member);
        invited.invited_by = Some(10);
        invited.workspaces = vec![7, 99];
        invited
            .properties
            .insert("cost_center".into(), serde_json::json!("CC-12"));
        let changes = vec![
            Change::Workspace(Workspace {
                id: 7,
                name: "Sales".into(),
                version: 1,
            }),
            Change::PropertyDefinition(PropertyDefinition {
                id: 1,
                key: "cost_center".into(),
                label: "Cost center".into(),
                kind: PropertyKind::Text,
                required: false,
                version: 1,
            }),
            Change::PropertyDefinition(PropertyDefinition {
                id: 2,
                key: "badge".into(),
                label: "Badge".into(),
                kind: PropertyKind::Number,
                required: false,
                version: 1,
            }),
            Change::Member(Box::new(member(10, "Ann", "Admin", Role::Admin))),
            Change::Member(Box::new(invited)),
        ];
        cache
            .apply_page(1, &page(changes, "c1", false), now)
            .unwrap();
        let detail = cache.member_detail(1, 11).unwrap();
        assert_eq!(detail.member.name, "Ines Invited");
        assert_eq!(
            detail
                .workspaces
                .iter()
                .map(|w| w.name.as_str())
                .collect::<Vec<_>>(),
            ["Sales"]
        );
        let shown: Vec<(&str, &serde_json::Value)> = detail
            .properties
            .iter()
            .map(|p| (p.key.as_str(), &p.value))
            .collect();
        assert_eq!(
            shown,
            [
                ("cost_center", &serde_json::json!("CC-12")),
                ("badge", &serde_json::Value::Null)
            ]
        );
        let inviter = detail.invited_by.unwrap();
        assert_eq!((inviter.id, inviter.name.as_str()), (10, "Ann Admin"));
        assert_eq!(cache.member_detail(1, 12).unwrap_err().code(), "not_found");
        assert_eq!(
            cache.org_counts().unwrap()[&1],
            OrgCounts {
                members: 2,
                open_changes: 0
            }
        );
    }

    #[test]
    fn preferences_live_apart_from_the_cache_own_keys() {
        let (_dir, cache) = temp_cache();
        cache.set_pref("server", "columns").unwrap();
        assert_eq!(cache.pref("server").unwrap().as_deref(), Some("columns"));
        assert_ne!(
            cache.meta(crate::cache::META_SERVER).unwrap().as_deref(),
            Some("columns")
        );
        assert!(cache.set_pref("", "x").is_err());
    }
}
