//! Applying the change feed (`wire::ChangesPage`) to the cache: one transaction per page,
//! rows and cursor together, so a crash resumes from the stored cursor.

use super::Cache;
use crate::error::{Error, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use orgdesk_domain::wire::{Change, ChangesPage, Member, OrgId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

/// What applying one page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageApplied {
    pub members: usize,
    pub removals: usize,
    pub other: usize,
}

impl PageApplied {
    pub fn rows(&self) -> usize {
        self.members + self.removals + self.other
    }
}

pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    // Fixed width so that text order is time order (the roster sorts on these columns).
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The name the roster shows: display name, else first and last name, else the email.
pub fn shown_name(member: &Member) -> String {
    let profile = &member.profile;
    if let Some(display) = profile
        .display_name
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        return display.trim().to_owned();
    }
    let full = [profile.first_name.as_deref(), profile.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if full.is_empty() {
        member.email.clone()
    } else {
        full
    }
}

fn search_name(member: &Member) -> String {
    let profile = &member.profile;
    let mut parts: Vec<&str> = Vec::new();
    for part in [
        profile.display_name.as_deref(),
        profile.first_name.as_deref(),
        profile.last_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        let part = part.trim();
        if !part.is_empty() && !parts.iter().any(|p| p.contains(part)) {
            parts.push(part);
        }
    }
    parts.join(" ")
}

const UPSERT_MEMBER: &str = "
INSERT INTO members (org_id, user_id, email, name, search_name, title, company, email_lc, name_lc,
                     last_name_lc, role, status, workspaces, created_at, last_active_at, version, data)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
ON CONFLICT (org_id, user_id) DO UPDATE SET
    email = excluded.email, name = excluded.name, search_name = excluded.search_name,
    title = excluded.title, company = excluded.company, email_lc = excluded.email_lc,
    name_lc = excluded.name_lc, last_name_lc = excluded.last_name_lc, role = excluded.role,
    status = excluded.status, workspaces = excluded.workspaces, created_at = excluded.created_at,
    last_active_at = excluded.last_active_at, version = excluded.version, data = excluded.data
";

pub(crate) fn upsert_member(conn: &Connection, org: OrgId, member: &Member) -> Result<()> {
    let name = shown_name(member);
    let keys = IndexedColumns::named(member, &name);
    let mut stmt = conn.prepare_cached(UPSERT_MEMBER)?;
    stmt.execute(params![
        org,
        member.id,
        member.email,
        name,
        search_name(member),
        member.profile.title,
        member.profile.company,
        keys.email_lc,
        keys.name_lc,
        keys.last_name_lc,
        member.role.as_str(),
        member.status.as_str(),
        serde_json::to_string(&member.workspaces)?,
        timestamp(member.created_at),
        member.last_active_at.map(timestamp),
        member.version,
        serde_json::to_string(member)?,
    ])?;
    Ok(())
}

/// Columns of a member row after `org_id` (the order of `UPSERT_MEMBER`'s values).
const MEMBER_VALUES: usize = 16;
/// Rows per multi-row insert: a whole batch of results (`MAX_MUTATIONS_PER_BATCH`), at 17
/// variables each below SQLite's limit of 32,766.
const MEMBERS_PER_INSERT: usize = 1_000;

/// [`upsert_member`] for many members: one statement per 1,000 rows rather than one per
/// row (an import's push writes a thousand new members per batch). Not only the statement
/// overhead: FTS5 flushes its pending terms to a new index segment at every statement that
/// opens a savepoint in the transaction, so a statement per row wrote (and merged) a
/// segment per row.
pub(crate) fn upsert_members(conn: &Connection, org: OrgId, members: &[Member]) -> Result<()> {
    use rusqlite::types::Value;
    let text = |s: &str| Value::Text(s.to_owned());
    let optional = |s: Option<String>| s.map_or(Value::Null, Value::Text);
    for chunk in members.chunks(MEMBERS_PER_INSERT) {
        let mut values = Vec::with_capacity(chunk.len() * (MEMBER_VALUES + 1));
        for member in chunk {
            let name = shown_name(member);
            let keys = IndexedColumns::named(member, &name);
            let profile = &member.profile;
            values.extend([
                Value::Integer(org),
                Value::Integer(member.id),
                text(&member.email),
                Value::Text(keys.name_lc),
                Value::Text(name),
                Value::Text(search_name(member)),
                optional(profile.title.clone()),
                optional(profile.company.clone()),
                Value::Text(keys.email_lc),
                optional(keys.last_name_lc),
                text(member.role.as_str()),
                text(member.status.as_str()),
                Value::Text(serde_json::to_string(&member.workspaces)?),
                Value::Text(timestamp(member.created_at)),
                optional(member.last_active_at.map(timestamp)),
                Value::Integer(member.version),
                Value::Text(serde_json::to_string(member)?),
            ]);
        }
        conn.prepare_cached(&upsert_members_sql(chunk.len()))?
            .execute(rusqlite::params_from_iter(values))?;
    }
    Ok(())
}

/// What the roster's indexes (`members_by_name`, `_by_email`, `_by_last_name`) key a
/// member on, as `members` stores it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct IndexedColumns {
    email_lc: String,
    name_lc: String,
    last_name_lc: Option<String>,
}

impl IndexedColumns {
    pub(crate) fn of(member: &Member) -> IndexedColumns {
        IndexedColumns::named(member, &shown_name(member))
    }

    /// The keys of a member whose [`shown_name`] is `name` (the one rule for the columns
    /// every write of a member stores).
    fn named(member: &Member, name: &str) -> IndexedColumns {
        IndexedColumns {
            email_lc: member.email.to_lowercase(),
            name_lc: name.to_lowercase(),
            last_name_lc: member.profile.last_name.as_deref().map(str::to_lowercase),
        }
    }

    /// The columns `email_lc, name_lc, last_name_lc` of a row, from `first` on.
    pub(crate) fn read(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(IndexedColumns {
            email_lc: row.get(first)?,
            name_lc: row.get(first + 1)?,
            last_name_lc: row.get(first + 2)?,
        })
    }
}

/// Values per row of [`update_members_in_place`]: the row id and 12 columns.
const IN_PLACE_VALUES: usize = 13;

/// Rewrites cached members by row id, all columns but those the roster's indexes key on,
/// which the caller found unchanged ([`IndexedColumns`]). SQLite rewrites an index entry
/// for every indexed column an UPDATE sets, changed or not: an upsert of an edited title
/// rewrote three index entries besides the row. One statement per 1,000 rows, like
/// [`upsert_members`]; the search index follows through the update trigger.
pub(crate) fn update_members_in_place(conn: &Connection, rows: &[(i64, Member)]) -> Result<()> {
    use rusqlite::types::Value;
    let optional = |s: Option<String>| s.map_or(Value::Null, Value::Text);
    for chunk in rows.chunks(MEMBERS_PER_INSERT) {
        let mut values = Vec::with_capacity(chunk.len() * IN_PLACE_VALUES);
        for (rowid, member) in chunk {
            values.extend([
                Value::Integer(*rowid),
                Value::Text(member.email.clone()),
                Value::Text(shown_name(member)),
                Value::Text(search_name(member)),
                optional(member.profile.title.clone()),
                optional(member.profile.company.clone()),
                Value::Text(member.role.as_str().to_owned()),
                Value::Text(member.status.as_str().to_owned()),
                Value::Text(serde_json::to_string(&member.workspaces)?),
                Value::Text(timestamp(member.created_at)),
                optional(member.last_active_at.map(timestamp)),
                Value::Integer(member.version),
                Value::Text(serde_json::to_string(member)?),
            ]);
        }
        let row = format!("({})", vec!["?"; IN_PLACE_VALUES].join(", "));
        conn.prepare_cached(&format!(
            "WITH v (rid, email, name, search_name, title, company, role, status, workspaces,
                     created_at, last_active_at, version, data) AS (VALUES {})
             UPDATE members SET
                email = v.email, name = v.name, search_name = v.search_name, title = v.title,
                company = v.company, role = v.role, status = v.status,
                workspaces = v.workspaces, created_at = v.created_at,
                last_active_at = v.last_active_at, version = v.version, data = v.data
             FROM v WHERE members.rowid = v.rid",
            vec![row; chunk.len()].join(", ")
        ))?
        .execute(rusqlite::params_from_iter(values))?;
    }
    Ok(())
}

/// `UPSERT_MEMBER` with `rows` rows of values (in `upsert_members`' column order).
fn upsert_members_sql(rows: usize) -> String {
    let row = format!("({})", vec!["?"; MEMBER_VALUES + 1].join(", "));
    format!(
        "INSERT INTO members (org_id, user_id, email, name_lc, name, search_name, title, company,
                              email_lc, last_name_lc, role, status, workspaces, created_at,
                              last_active_at, version, data)
         VALUES {}
         ON CONFLICT (org_id, user_id) DO UPDATE SET
            email = excluded.email, name = excluded.name, search_name = excluded.search_name,
            title = excluded.title, company = excluded.company, email_lc = excluded.email_lc,
            name_lc = excluded.name_lc, last_name_lc = excluded.last_name_lc,
            role = excluded.role, status = excluded.status, workspaces = excluded.workspaces,
            created_at = excluded.created_at, last_active_at = excluded.last_active_at,
            version = excluded.version, data = excluded.data",
        vec![row; rows].join(", ")
    )
}

/// The row id of a cached member, the key of its search index entries.
pub(crate) fn member_rowid(conn: &Connection, org: OrgId, user: UserId) -> Result<Option<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT rowid FROM members WHERE org_id = ?1 AND user_id = ?2")?;
    Ok(stmt
        .query_row(params![org, user], |row| row.get(0))
        .optional()?)
}

/// The sort key that makes writes to the search index cheap: the member's row id, and
/// `i64::MAX` (last) for a member not cached yet (inserted with a new, higher row id) or
/// for a write that is not to a member. FTS5 flushes its pending terms to a new segment
/// whenever a write's row id is lower than the previous one's, so rows written in feed (or
/// staging) order wrote, and later merged, a segment per member; in row id order they
/// write one per transaction. Changes to distinct rows commute, and a stable sort keeps
/// two changes to one member in their order.
pub(crate) fn index_order(conn: &Connection, org: OrgId, user: Option<UserId>) -> Result<i64> {
    Ok(match user {
        Some(user) => member_rowid(conn, org, user)?.unwrap_or(i64::MAX),
        None => i64::MAX,
    })
}

pub(crate) fn delete_member(conn: &Connection, org: OrgId, user: UserId) -> Result<usize> {
    let mut stmt = conn.prepare_cached("DELETE FROM members WHERE org_id = ?1 AND user_id = ?2")?;
    Ok(stmt.execute(params![org, user])?)
}

fn apply_change(
    conn: &Connection,
    org: OrgId,
    change: &Change,
    applied: &mut PageApplied,
) -> Result<()> {
    match change {
        Change::Member(member) => {
            upsert_member(conn, org, member)?;
            applied.members += 1;
        }
        Change::MemberRemoved { id } => {
            delete_member(conn, org, *id)?;
            applied.removals += 1;
        }
        Change::Org { org: info } => {
            if info.id != org {
                return Err(Error::Protocol(format!(
                    "the feed of organization {org} sent organization {}",
                    info.id
                )));
            }
            conn.execute(
                "UPDATE orgs SET info = ?2, name = ?3 WHERE id = ?1",
                params![org, serde_json::to_string(info)?, info.name],
            )?;
            applied.other += 1;
        }
        Change::Workspace(workspace) => {
            conn.prepare_cached(
                "INSERT INTO workspaces (org_id, id, name, version) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (org_id, id) DO UPDATE SET name = excluded.name, version = excluded.version",
            )?
            .execute(params![org, workspace.id, workspace.name, workspace.version])?;
            applied.other += 1;
        }
        Change::WorkspaceRemoved { id } => {
            conn.execute(
                "DELETE FROM workspaces WHERE org_id = ?1 AND id = ?2",
                params![org, id],
            )?;
            applied.removals += 1;
        }
        Change::PropertyDefinition(definition) => {
            conn.prepare_cached(
                "INSERT INTO property_definitions (org_id, id, data, version) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (org_id, id) DO UPDATE SET data = excluded.data, version = excluded.version",
            )?
            .execute(params![
                org,
                definition.id,
                serde_json::to_string(definition)?,
                definition.version
            ])?;
            applied.other += 1;
        }
        Change::PropertyDefinitionRemoved { id } => {
            conn.execute(
                "DELETE FROM property_definitions WHERE org_id = ?1 AND id = ?2",
                params![org, id],
            )?;
            applied.removals += 1;
        }
    }
    Ok(())
}

fn apply_page_in(
    conn: &mut Connection,
    org: OrgId,
    page: &ChangesPage,
    now: DateTime<Utc>,
) -> Result<PageApplied> {
    let tx = conn.transaction()?;
    let mut applied = PageApplied::default();
    let mut changes: Vec<(i64, &Change)> = page.changes.iter().map(|c| (0, c)).collect();
    // In bulk mode the search index is rebuilt at the end: nothing to order for.
    if super::meta(&tx, super::META_FTS_STALE)?.is_none() {
        for (key, change) in &mut changes {
            let user = match change {
                Change::Member(member) => Some(member.id),
                Change::MemberRemoved { id } => Some(*id),
                _ => None,
            };
            *key = index_order(&tx, org, user)?;
        }
        changes.sort_by_key(|(key, _)| *key);
    }
    for (_, change) in changes {
        apply_change(&tx, org, change, &mut applied)?;
    }
    let synced_at = (!page.has_more).then(|| timestamp(now));
    let updated = tx.execute(
        "UPDATE orgs SET cursor = ?2, synced_at = coalesce(?3, synced_at) WHERE id = ?1",
        params![org, page.next, synced_at],
    )?;
    if updated == 0 {
        return Err(Error::NotFound(format!(
            "organization {org} is not in the cache"
        )));
    }
    tx.commit()?;
    Ok(applied)
}

impl Cache {
    /// Applies one page of an org's change feed and stores its cursor, in one transaction.
    /// When the page ends the feed (`has_more == false`) the org's "synced at" is `now`.
    pub fn apply_page(
        &self,
        org: OrgId,
        page: &ChangesPage,
        now: DateTime<Utc>,
    ) -> Result<PageApplied> {
        let mut conn = self.lock();
        // A page can always be fetched again: it needs atomicity (rows with their cursor,
        // which WAL gives at any level) but not an fsync per commit. Staged changes and
        // their results keep FULL.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = apply_page_in(&mut conn, org, page, now);
        conn.pragma_update(None, "synchronous", "FULL")?;
        result
    }

    /// Writes one member row as the server has it (take theirs, an applied change).
    /// An older version than the cached one is ignored: the feed already brought newer.
    pub fn store_member(&self, org: OrgId, member: &Member) -> Result<()> {
        let conn = self.lock();
        let cached: Option<i64> = rusqlite::OptionalExtension::optional(conn.query_row(
            "SELECT version FROM members WHERE org_id = ?1 AND user_id = ?2",
            params![org, member.id],
            |row| row.get(0),
        ))?;
        if cached.is_none_or(|version| version <= member.version) {
            upsert_member(&conn, org, member)?;
        }
        Ok(())
    }

    pub fn remove_member(&self, org: OrgId, user: UserId) -> Result<()> {
        delete_member(&self.lock(), org, user)?;
        Ok(())
    }

    /// One cached member.
    pub fn member(&self, org: OrgId, user: UserId) -> Result<Option<Member>> {
        super::roster::member(&self.lock(), org, user)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cache::tests::temp_cache;
    use orgdesk_domain::wire::{OrgAccess, Profile};
    use orgdesk_domain::{OrgKind, Role, Status};

    pub fn access(id: OrgId, role: Role, scope_version: i64) -> OrgAccess {
        OrgAccess {
            id,
            name: format!("Org {id}"),
            kind: OrgKind::Standard,
            role,
            via_partner: false,
            partner_org_id: None,
            scope_version,
        }
    }

    pub fn member(id: UserId, first: &str, last: &str, role: Role) -> Member {
        Member {
            id,
            email: format!(
                "{}.{}@client.example",
                first.to_lowercase(),
                last.to_lowercase()
            ),
            role,
            status: Status::Active,
            profile: Profile {
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                ..Profile::default()
            },
            workspaces: vec![],
            scope: None,
            guest_expires: None,
            properties: Default::default(),
            invited_by: None,
            invited_at: None,
            invitation_expires_at: None,
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            last_active_at: None,
            last_sign_in_at: None,
            version: 1,
        }
    }

    pub fn page(changes: Vec<Change>, next: &str, has_more: bool) -> ChangesPage {
        ChangesPage {
            changes,
            next: next.into(),
            has_more,
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-23T06:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_page_stores_rows_and_cursor_together() {
        let (_dir, cache) = temp_cache();
        cache
            .replace_org_list(&[access(1, Role::Admin, 1)], now())
            .unwrap();
        let first = page(
            vec![
                Change::Member(Box::new(member(10, "Ada", "Lovelace", Role::Admin))),
                Change::Member(Box::new(member(11, "Alan", "Turing", Role::Member))),
            ],
            "c2",
            true,
        );
        cache.apply_page(1, &first, now()).unwrap();
        let org = cache.org(1).unwrap().unwrap();
        assert_eq!(org.cursor, "c2");
        assert_eq!(org.synced_at, None, "not caught up yet");
        let last = page(vec![Change::MemberRemoved { id: 11 }], "c3", false);
        cache.apply_page(1, &last, now()).unwrap();
        let org = cache.org(1).unwrap().unwrap();
        assert_eq!(org.cursor, "c3");
        assert_eq!(org.synced_at, Some(now()));
        assert!(cache.member(1, 11).unwrap().is_none(), "tombstone applied");
        assert_eq!(
            cache.member(1, 10).unwrap().unwrap().email,
            "ada.lovelace@client.example"
        );
    }

    #[test]
    fn a_page_that_fails_leaves_the_cursor_where_it_was() {
        let (_dir, cache) = temp_cache();
        cache
            .replace_org_list(&[access(1, Role::Admin, 1)], now())
            .unwrap();
        let mut wrong = crate::cache::feed::tests::org_info(2);
        wrong.name = "Other".into();
        let bad = page(
            vec![
                Change::Member(Box::new(member(10, "Ada", "Lovelace", Role::Admin))),
                Change::Org { org: wrong },
            ],
            "c2",
            false,
        );
        assert!(cache.apply_page(1, &bad, now()).is_err());
        assert_eq!(cache.org(1).unwrap().unwrap().cursor, "0");
        assert!(
            cache.member(1, 10).unwrap().is_none(),
            "rolled back with the cursor"
        );
    }

    pub fn org_info(id: OrgId) -> orgdesk_domain::wire::OrgInfo {
        orgdesk_domain::wire::OrgInfo {
            id,
            name: format!("Org {id}"),
            kind: OrgKind::Standard,
            domains: vec![],
            settings: Default::default(),
            partner_org_id: None,
            created_at: now(),
            version: 1,
        }
    }

    #[test]
    fn losing_access_purges_the_org_and_rejects_its_pending_changes() {
        let (_dir, cache) = temp_cache();
        cache
            .replace_org_list(
                &[access(1, Role::Admin, 1), access(2, Role::Admin, 1)],
                now(),
            )
            .unwrap();
        cache
            .apply_page(
                2,
                &page(
                    vec![Change::Member(Box::new(member(
                        10,
                        "Ada",
                        "L",
                        Role::Admin,
                    )))],
                    "c1",
                    false,
                ),
                now(),
            )
            .unwrap();
        cache
            .lock()
            .execute(
                "INSERT INTO outbox (id, org_id, user_id, change, staged_at) VALUES ('m1', 2, 10, '{}', 'x')",
                [],
            )
            .unwrap();
        let changes = cache
            .replace_org_list(&[access(1, Role::Admin, 1)], now())
            .unwrap();
        assert!(matches!(
            changes.as_slice(),
            [OrgListChange::Purged {
                org: 2,
                rejected_changes: 1,
                ..
            }]
        ));
        assert!(cache.org(2).unwrap().is_none());
        assert!(cache.member(2, 10).unwrap().is_none());
        let state: String = cache
            .lock()
            .query_row(
                "SELECT state || ':' || result_code FROM outbox WHERE id = 'm1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(state, "rejected:forbidden", "kept for export");
    }

    #[test]
    fn a_scope_change_resets_the_org_to_cursor_zero() {
        let (_dir, cache) = temp_cache();
        cache
            .replace_org_list(&[access(1, Role::Admin, 1)], now())
            .unwrap();
        cache
            .apply_page(
                1,
                &page(
                    vec![Change::Member(Box::new(member(
                        10,
                        "Ada",
                        "L",
                        Role::Admin,
                    )))],
                    "c1",
                    false,
                ),
                now(),
            )
            .unwrap();
        let changes = cache
            .replace_org_list(&[access(1, Role::Admin, 2)], now())
            .unwrap();
        assert_eq!(changes, vec![OrgListChange::Rebuild { org: 1 }]);
        let org = cache.org(1).unwrap().unwrap();
        assert_eq!((org.cursor.as_str(), org.scope_version), ("0", 2));
        assert!(cache.member(1, 10).unwrap().is_none());
    }

    #[test]
    fn a_page_written_in_row_order_keeps_each_members_changes_in_feed_order() {
        let (_dir, cache) = temp_cache();
        cache
            .replace_org_list(&[access(1, Role::Admin, 1)], now())
            .unwrap();
        let first = (10..13)
            .map(|id| Change::Member(Box::new(member(id, "Ada", &format!("N{id}"), Role::Member))))
            .collect();
        cache
            .apply_page(1, &page(first, "c1", true), now())
            .unwrap();
        // Feed order is not row order: 12, then 10 twice, then a new member twice, then 12 gone.
        let second = vec![
            Change::Member(Box::new(member(12, "Grace", "Hopper", Role::Member))),
            Change::Member(Box::new(member(10, "Alan", "Turing", Role::Member))),
            Change::Member(Box::new(member(10, "Edsger", "Dijkstra", Role::Member))),
            Change::Member(Box::new(member(20, "Barbara", "Liskov", Role::Member))),
            Change::Member(Box::new(member(20, "Frances", "Allen", Role::Member))),
            Change::MemberRemoved { id: 12 },
        ];
        cache
            .apply_page(1, &page(second, "c2", false), now())
            .unwrap();
        assert!(cache.member(1, 12).unwrap().is_none());
        let last = |id| cache.member(1, id).unwrap().unwrap().profile.last_name;
        assert_eq!(last(10).as_deref(), Some("Dijkstra"));
        assert_eq!(last(20).as_deref(), Some("Allen"));
        assert_eq!(last(11).as_deref(), Some("N11"));
        // The search index followed: old names are gone, new ones are found.
        let found = |text: &str| -> Vec<UserId> {
            let mut ids: Vec<UserId> = cache
                .search(1, text, 50)
                .unwrap()
                .into_iter()
                .map(|hit| hit.member.id)
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(found("dijkstra"), vec![10]);
        assert_eq!(found("allen"), vec![20]);
        assert!(found("hopper").is_empty() && found("turing").is_empty());
        assert!(found("liskov").is_empty());
    }

    use crate::cache::OrgListChange;
}
