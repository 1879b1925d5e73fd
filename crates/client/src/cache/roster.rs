//! Reading the cached roster: listing with the roster's tabs and filters, and search ordered
//! for people (exact email or name first, then name/email prefixes, then the rest by bm25).

use super::orgs::bad_column;
use super::{Cache, CacheReader};
use crate::error::Result;
use chrono::{DateTime, Utc};
use orgdesk_domain::wire::{Member, MemberSort, OrgId, UserId, Workspace, WorkspaceId};
use orgdesk_domain::{Role, RosterTab, Status};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::Serialize;
use std::collections::HashSet;

/// A roster listing: the tab, filters, sort and window the UI asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterQuery {
    pub tab: Option<RosterTab>,
    /// Search-as-you-type over name, email, title and company. With a search the rows come
    /// in relevance order and `sort` and `offset` do not apply.
    pub search: Option<String>,
    pub role: Option<Role>,
    pub status: Option<Status>,
    pub workspace: Option<WorkspaceId>,
    /// Only members last active before this time, or never (pending invitations aside):
    /// the "inactive for N days" filter.
    pub inactive_before: Option<DateTime<Utc>>,
    pub sort: MemberSort,
    pub descending: bool,
    /// At most this many rows (default 100).
    pub limit: Option<u32>,
    pub offset: u32,
}

/// How a search result matched, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    Exact,
    Prefix,
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub matched: MatchKind,
    pub member: Member,
}

const DEFAULT_LIMIT: u32 = 100;
/// How many full-text matches a search ranks by bm25 before falling back to all of them.
const RANKED_MATCHES: u32 = 2_000;

/// The filters of a query as SQL over `members` (aliased `m`) and their parameters.
pub(super) fn filters(org: OrgId, query: &RosterQuery) -> (String, Vec<Value>) {
    let mut sql = String::from("m.org_id = ?");
    let mut values = vec![Value::Integer(org)];
    if let Some(tab) = query.tab {
        // Which (role, status) pairs a tab shows is domain's rule; we only list them.
        let pairs: Vec<String> = Role::ALL
            .iter()
            .flat_map(|&role| Status::ALL.iter().map(move |&status| (role, status)))
            .filter(|&(role, status)| tab.shows(role, status))
            .map(|(role, status)| format!("'{role}/{status}'"))
            .collect();
        sql.push_str(&format!(
            " AND m.role || '/' || m.status IN ({})",
            pairs.join(", ")
        ));
    }
    if let Some(role) = query.role {
        sql.push_str(" AND m.role = ?");
        values.push(Value::Text(role.as_str().into()));
    }
    if let Some(status) = query.status {
        sql.push_str(" AND m.status = ?");
        values.push(Value::Text(status.as_str().into()));
    }
    if let Some(workspace) = query.workspace {
        sql.push_str(" AND EXISTS (SELECT 1 FROM json_each(m.workspaces) WHERE value = ?)");
        values.push(Value::Integer(workspace));
    }
    if let Some(before) = query.inactive_before {
        // Text order is time order (fixed-width RFC 3339, see `feed::timestamp`).
        sql.push_str(
            " AND (m.last_active_at < ? OR (m.last_active_at IS NULL AND m.status <> 'pending'))",
        );
        values.push(Value::Text(super::feed::timestamp(before)));
    }
    (sql, values)
}

fn member_from_json(json: &str) -> rusqlite::Result<Member> {
    decode_member(json).map_err(|e| bad_column(0, e))
}

/// A `wire::Member` as JSON, the way the cache stores it (`members.data`, the outbox's base
/// and server rows). `Member` reads its flattened profile without serde's buffering (see
/// `wire::FlatMember`), which a pull, a recorded result and every staged row pay for.
pub(crate) fn decode_member(json: &str) -> serde_json::Result<Member> {
    serde_json::from_str(json)
}

pub(crate) fn member(conn: &Connection, org: OrgId, user: UserId) -> Result<Option<Member>> {
    let json: Option<String> = conn
        .prepare_cached("SELECT data FROM members WHERE org_id = ?1 AND user_id = ?2")?
        .query_row(params![org, user], |row| row.get(0))
        .optional()?;
    Ok(json.as_deref().map(member_from_json).transpose()?)
}

pub(crate) fn member_by_email(
    conn: &Connection,
    org: OrgId,
    email: &str,
) -> Result<Option<Member>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT data FROM members WHERE org_id = ?1 AND email_lc = ?2",
            params![org, email.trim().to_lowercase()],
            |row| row.get(0),
        )
        .optional()?;
    Ok(json.as_deref().map(member_from_json).transpose()?)
}

/// Lists or searches the roster of one org.
pub(crate) fn list(conn: &Connection, org: OrgId, query: &RosterQuery) -> Result<Vec<Member>> {
    match query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(text) => Ok(search(conn, org, query, text)?
            .into_iter()
            .map(|hit| hit.member)
            .collect()),
        None => browse(conn, org, query),
    }
}

pub(super) fn browse(conn: &Connection, org: OrgId, query: &RosterQuery) -> Result<Vec<Member>> {
    let (filter, mut values) = filters(org, query);
    let column = match query.sort {
        MemberSort::Name => "m.name_lc",
        MemberSort::Email => "m.email_lc",
        MemberSort::Created => "m.created_at",
        MemberSort::LastActive => "m.last_active_at",
    };
    let direction = if query.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT m.data FROM members m WHERE {filter}
         ORDER BY {column} {direction}, m.user_id {direction} LIMIT ? OFFSET ?"
    );
    values.push(Value::Integer(query.limit.unwrap_or(DEFAULT_LIMIT).into()));
    values.push(Value::Integer(query.offset.into()));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(values), |row| {
            member_from_json(&row.get::<_, String>(0)?)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// How many members a listing (without search) would show, for the UI's scroll height.
pub(crate) fn count(conn: &Connection, org: OrgId, query: &RosterQuery) -> Result<u64> {
    let (filter, values) = filters(org, query);
    let sql = format!("SELECT count(*) FROM members m WHERE {filter}");
    let count: i64 = conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(values), |row| row.get(0))?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The FTS5 query for what the user typed: every word as a quoted prefix, all required.
/// Quoting makes FTS syntax in the input (`"`, `*`, `AND`, `-`) plain text.
pub(super) fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"*", w.replace('"', "")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Search in three tiers, each only when the ones before did not fill the limit: a
/// 1-character query is answered from the name/email indexes without ranking the
/// tens of thousands of rows FTS would match.
pub(crate) fn search(
    conn: &Connection,
    org: OrgId,
    query: &RosterQuery,
    text: &str,
) -> Result<Vec<SearchHit>> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT) as usize;
    let needle = text.trim().to_lowercase();
    // Every string that starts with `needle` sorts in [needle, needle + U+10FFFF).
    let upper = format!("{needle}\u{10FFFF}");
    let (filter, base) = filters(org, query);
    let mut hits: Vec<SearchHit> = Vec::new();
    let mut seen: HashSet<UserId> = HashSet::new();

    let mut collect =
        |sql: &str, values: Vec<Value>, kind: MatchKind, hits: &mut Vec<SearchHit>| -> Result<()> {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query(params_from_iter(values))?;
            while let Some(row) = rows.next()? {
                if hits.len() >= limit {
                    break;
                }
                let user: UserId = row.get(0)?;
                if seen.insert(user) {
                    hits.push(SearchHit {
                        matched: kind,
                        member: member_from_json(&row.get::<_, String>(1)?)?,
                    });
                }
            }
            Ok(())
        };

    // Two equality lookups; a UNION rather than an OR so that each uses its own index
    // (with OR and ORDER BY, SQLite picks the name index and scans the whole org).
    let exact = format!(
        "SELECT user_id, data FROM (
            SELECT m.user_id, m.data, m.name_lc FROM members m WHERE {filter} AND m.email_lc = ?
            UNION
            SELECT m.user_id, m.data, m.name_lc FROM members m WHERE {filter} AND m.name_lc = ?
         ) ORDER BY name_lc, user_id LIMIT ?"
    );
    let mut values = base.clone();
    values.push(Value::Text(needle.clone()));
    values.extend(base.iter().cloned());
    values.extend([Value::Text(needle.clone()), Value::Integer(limit as i64)]);
    collect(&exact, values, MatchKind::Exact, &mut hits)?;

    if hits.len() < limit {
        // Three index range scans (name, email, last name), merged by name.
        let want = (limit + hits.len()) as i64;
        let prefix = format!(
            "SELECT user_id, data FROM (
                SELECT * FROM (SELECT m.user_id, m.data, m.name_lc FROM members m
                    WHERE {filter} AND m.name_lc >= ? AND m.name_lc < ? ORDER BY m.name_lc LIMIT ?)
                UNION
                SELECT * FROM (SELECT m.user_id, m.data, m.name_lc FROM members m
                    WHERE {filter} AND m.email_lc >= ? AND m.email_lc < ? ORDER BY m.email_lc LIMIT ?)
                UNION
                SELECT * FROM (SELECT m.user_id, m.data, m.name_lc FROM members m
                    WHERE {filter} AND m.last_name_lc >= ? AND m.last_name_lc < ? ORDER BY m.last_name_lc LIMIT ?)
             ) ORDER BY name_lc, user_id"
        );
        let mut values = Vec::new();
        for _ in 0..3 {
            values.extend(base.iter().cloned());
            values.extend([
                Value::Text(needle.clone()),
                Value::Text(upper.clone()),
                Value::Integer(want),
            ]);
        }
        collect(&prefix, values, MatchKind::Prefix, &mut hits)?;
    }

    if hits.len() < limit
        && let Some(fts) = fts_query(&needle)
    {
        // Ranking every match of a short query ("u" may match a company in every row) is
        // what costs; rank the first RANKED_MATCHES matches (in index order) instead, and
        // only if the filters leave too few of those, rank them all. The index is the outer
        // loop (a LIMITed subquery, then CROSS JOIN): otherwise SQLite may walk the org's
        // rows and test MATCH on each.
        for cap in [format!("LIMIT {RANKED_MATCHES}"), String::new()] {
            let want = (limit + hits.len()) as i64;
            let text_sql = format!(
                "SELECT m.user_id, m.data FROM (
                    SELECT rowid, bm25(member_fts, 10.0, 5.0, 2.0, 2.0) AS score
                    FROM member_fts WHERE member_fts MATCH ? {cap}
                 ) f CROSS JOIN members m ON m.rowid = f.rowid
                 WHERE {filter}
                 ORDER BY f.score, m.name_lc LIMIT ?"
            );
            let mut values = vec![Value::Text(fts.clone())];
            values.extend(base.iter().cloned());
            values.push(Value::Integer(want));
            collect(&text_sql, values, MatchKind::Text, &mut hits)?;
            if hits.len() >= limit {
                break;
            }
        }
    }
    Ok(hits)
}

pub(crate) fn workspaces(conn: &Connection, org: OrgId) -> Result<Vec<Workspace>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, version FROM workspaces WHERE org_id = ?1 ORDER BY name, id",
    )?;
    let rows = stmt
        .query_map(params![org], |row| {
            Ok(Workspace {
                id: row.get(0)?,
                name: row.get(1)?,
                version: row.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The org's active admins by id: the facts `last_admin` needs.
pub(crate) fn active_admins(conn: &Connection, org: OrgId) -> Result<Vec<UserId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id FROM members WHERE org_id = ?1 AND role = ?2 AND status = ?3",
    )?;
    let rows = stmt
        .query_map(
            params![org, Role::Admin.as_str(), Status::Active.as_str()],
            |row| row.get(0),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

impl Cache {
    pub fn roster(&self, org: OrgId, query: &RosterQuery) -> Result<Vec<Member>> {
        list(&self.lock(), org, query)
    }

    pub fn roster_count(&self, org: OrgId, query: &RosterQuery) -> Result<u64> {
        count(&self.lock(), org, query)
    }

    pub fn search(&self, org: OrgId, text: &str, limit: u32) -> Result<Vec<SearchHit>> {
        let query = RosterQuery {
            limit: Some(limit),
            ..RosterQuery::default()
        };
        search(&self.lock(), org, &query, text)
    }

    pub fn member_by_email(&self, org: OrgId, email: &str) -> Result<Option<Member>> {
        member_by_email(&self.lock(), org, email)
    }

    pub fn workspaces(&self, org: OrgId) -> Result<Vec<Workspace>> {
        workspaces(&self.lock(), org)
    }
}

impl CacheReader {
    pub fn roster(&self, org: OrgId, query: &RosterQuery) -> Result<Vec<Member>> {
        list(self.connection(), org, query)
    }

    pub fn roster_count(&self, org: OrgId, query: &RosterQuery) -> Result<u64> {
        count(self.connection(), org, query)
    }

    pub fn search(&self, org: OrgId, text: &str, limit: u32) -> Result<Vec<SearchHit>> {
        let query = RosterQuery {
            limit: Some(limit),
            ..RosterQuery::default()
        };
        search(self.connection(), org, &query, text)
    }

    pub fn member(&self, org: OrgId, user: UserId) -> Result<Option<Member>> {
        member(self.connection(), org, user)
    }

    pub fn orgs(&self) -> Result<Vec<super::CachedOrg>> {
        super::orgs::orgs(self.connection())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::feed::tests::{access, member, page};
    use crate::cache::tests::temp_cache;
    use orgdesk_domain::wire::Change;

    fn seeded() -> (tempfile::TempDir, Cache) {
        let (dir, cache) = temp_cache();
        let now = "2026-11-23T06:00:00Z".parse().unwrap();
        cache
            .replace_org_list(&[access(1, Role::Admin, 1)], now)
            .unwrap();
        let mut guest = member(14, "Gus", "Guest", Role::Guest);
        guest.status = Status::Pending;
        let mut pending = member(15, "Penny", "Pending", Role::Member);
        pending.status = Status::Pending;
        let mut titled = member(16, "Zed", "Zulu", Role::Member);
        titled.profile.title = Some("Head of Annapurna expeditions".into());
        titled.workspaces = vec![7];
        let changes = vec![
            member(10, "Ann", "Smith", Role::Admin),
            member(11, "Annabel", "Jones", Role::Member),
            member(12, "Bob", "Annan", Role::Member),
            member(13, "Carla", "Marr", Role::UserAdmin),
            guest,
            pending,
            titled,
        ]
        .into_iter()
        .map(|m| Change::Member(Box::new(m)))
        .collect();
        cache
            .apply_page(1, &page(changes, "c1", false), now)
            .unwrap();
        (dir, cache)
    }

    fn ids(members: &[Member]) -> Vec<UserId> {
        members.iter().map(|m| m.id).collect()
    }

    #[test]
    fn search_puts_the_exact_match_first_then_prefixes_then_the_rest() {
        let (_dir, cache) = seeded();
        let hits = cache.search(1, "ann smith", 10).unwrap();
        assert_eq!(hits[0].member.id, 10);
        assert_eq!(hits[0].matched, MatchKind::Exact);

        let hits = cache.search(1, "ann", 10).unwrap();
        let order: Vec<(UserId, MatchKind)> =
            hits.iter().map(|h| (h.member.id, h.matched)).collect();
        assert_eq!(
            order,
            vec![
                (10, MatchKind::Prefix), // "ann smith" starts with ann
                (11, MatchKind::Prefix), // "annabel jones"
                (12, MatchKind::Prefix), // last name "annan"
                (16, MatchKind::Text),   // title "Annapurna"
            ]
        );
    }

    #[test]
    fn a_one_character_query_matches_by_prefix() {
        let (_dir, cache) = seeded();
        let hits = cache.search(1, "z", 10).unwrap();
        assert_eq!(hits[0].member.id, 16);
    }

    #[test]
    fn search_input_with_fts_syntax_is_plain_text() {
        let (_dir, cache) = seeded();
        for text in ["\"", "ann*", "AND", "-bob", "(", "a\"b"] {
            cache.search(1, text, 10).unwrap();
        }
    }

    #[test]
    fn tabs_follow_the_domain_rule() {
        let (_dir, cache) = seeded();
        let list = |tab| {
            ids(&cache
                .roster(
                    1,
                    &RosterQuery {
                        tab: Some(tab),
                        ..Default::default()
                    },
                )
                .unwrap())
        };
        assert_eq!(list(RosterTab::Guest), vec![14]);
        assert_eq!(list(RosterTab::Pending), vec![15]);
        assert_eq!(list(RosterTab::Active), vec![10, 11, 12, 13, 16]);
    }

    #[test]
    fn filters_combine_with_search_and_sort() {
        let (_dir, cache) = seeded();
        let by_role = cache
            .roster(
                1,
                &RosterQuery {
                    role: Some(Role::Member),
                    sort: MemberSort::Email,
                    descending: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(ids(&by_role), vec![16, 15, 12, 11]);
        let in_workspace = cache
            .roster(
                1,
                &RosterQuery {
                    workspace: Some(7),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(ids(&in_workspace), vec![16]);
        let searched = cache
            .roster(
                1,
                &RosterQuery {
                    search: Some("ann".into()),
                    role: Some(Role::Admin),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(ids(&searched), vec![10]);
        assert_eq!(cache.roster_count(1, &RosterQuery::default()).unwrap(), 7);
    }

    #[test]
    fn the_search_index_follows_updates_and_removals() {
        let (_dir, cache) = seeded();
        let now = "2026-11-23T07:00:00Z".parse().unwrap();
        let mut renamed = member(13, "Carla", "Quux", Role::UserAdmin);
        renamed.version = 2;
        cache
            .apply_page(
                1,
                &page(
                    vec![
                        Change::Member(Box::new(renamed)),
                        Change::MemberRemoved { id: 12 },
                    ],
                    "c2",
                    false,
                ),
                now,
            )
            .unwrap();
        assert!(cache.search(1, "marr", 10).unwrap().is_empty());
        assert_eq!(cache.search(1, "quux", 10).unwrap()[0].member.id, 13);
        assert!(cache.search(1, "annan", 10).unwrap().is_empty());
    }

    #[test]
    fn a_bulk_load_is_searchable_once_finished() {
        let (_dir, cache) = temp_cache();
        let now = "2026-11-23T06:00:00Z".parse().unwrap();
        cache
            .replace_org_list(&[access(1, Role::Admin, 1)], now)
            .unwrap();
        cache.begin_bulk().unwrap();
        let changes = vec![Change::Member(Box::new(member(
            10,
            "Ann",
            "Smith",
            Role::Admin,
        )))];
        cache
            .apply_page(1, &page(changes, "c1", false), now)
            .unwrap();
        cache.finish_bulk().unwrap();
        assert_eq!(cache.search(1, "smi", 10).unwrap()[0].member.id, 10);
        // And the triggers are back.
        let changes = vec![Change::Member(Box::new(member(
            11,
            "Bo",
            "Quist",
            Role::Member,
        )))];
        cache
            .apply_page(1, &page(changes, "c2", false), now)
            .unwrap();
        assert_eq!(cache.search(1, "quist", 10).unwrap()[0].member.id, 11);
    }

    #[test]
    fn a_reader_sees_what_the_writer_committed() {
        let (_dir, cache) = seeded();
        let reader = cache.reader().unwrap();
        assert_eq!(reader.roster_count(1, &RosterQuery::default()).unwrap(), 7);
        assert_eq!(reader.search(1, "bob", 5).unwrap()[0].member.id, 12);
    }
}
