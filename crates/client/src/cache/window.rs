//! The desktop roster's windows: one slice of a listing or a search, with its total and the
//! count of every tab beside it, so the UI never holds (or receives) the whole roster.

use super::roster::{RosterQuery, browse, count, filters, fts_query, search};
use super::{Cache, CacheReader, shown_name};
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use orgdesk_domain::wire::{Member, OrgId};
use orgdesk_domain::{Role, RosterTab, Status};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::{Deserialize, Serialize};

/// The most rows one window carries.
pub const MAX_WINDOW: u32 = 500;
/// A search ranks and counts at most this many matches: past it, "1,000+ matches" says
/// more about the query than a count would, and counting every match of a one-letter
/// query costs more than the keystroke may.
pub const SEARCH_CAP: u32 = 1_000;

/// The tabs of the desktop roster. Pending, Active and Guests are domain's [`RosterTab`]s;
/// Suspended is the suspended members of any role (also shown, marked, under Active).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RosterView {
    #[default]
    All,
    Pending,
    Active,
    Guests,
    Suspended,
}

impl RosterView {
    /// The query that lists this tab on top of the user's filters; `None` when the filters
    /// exclude the whole tab (a status filter other than suspended, on Suspended).
    fn narrow(self, query: &RosterQuery) -> Option<RosterQuery> {
        let mut query = query.clone();
        query.tab = match self {
            RosterView::All | RosterView::Suspended => None,
            RosterView::Pending => Some(RosterTab::Pending),
            RosterView::Active => Some(RosterTab::Active),
            RosterView::Guests => Some(RosterTab::Guest),
        };
        if self == RosterView::Suspended {
            if query
                .status
                .is_some_and(|status| status != Status::Suspended)
            {
                return None;
            }
            query.status = Some(Status::Suspended);
        }
        Some(query)
    }
}

/// How many members each tab shows under the current search and filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TabCounts {
    pub all: u64,
    pub pending: u64,
    pub active: u64,
    pub guests: u64,
    pub suspended: u64,
}

impl TabCounts {
    /// Folds `(role, status, count)` groups into tabs by domain's rule.
    fn from_groups(groups: &[(Role, Status, u64)]) -> TabCounts {
        let mut counts = TabCounts::default();
        for &(role, status, n) in groups {
            counts.all += n;
            if RosterTab::Pending.shows(role, status) {
                counts.pending += n;
            }
            if RosterTab::Active.shows(role, status) {
                counts.active += n;
            }
            if RosterTab::Guest.shows(role, status) {
                counts.guests += n;
            }
            if status == Status::Suspended {
                counts.suspended += n;
            }
        }
        counts
    }
}

/// A roster row: the member as the server sent it, and the name the roster shows and sorts
/// by (display name, else first and last name, else the email: [`shown_name`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RosterRow {
    pub name: String,
    /// Changes staged for this member and not yet sent (the row is the server's as of the
    /// last sync; the UI marks it).
    #[serde(skip_serializing_if = "is_zero")]
    pub pending_changes: u32,
    #[serde(flatten)]
    pub member: Member,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl From<Member> for RosterRow {
    fn from(member: Member) -> Self {
        RosterRow {
            name: shown_name(&member),
            pending_changes: 0,
            member,
        }
    }
}

/// Marks the rows of members with changes waiting to be sent.
fn mark_pending(conn: &Connection, org: OrgId, rows: &mut [RosterRow]) -> Result<()> {
    let users: Vec<_> = rows.iter().map(|row| row.member.id).collect();
    let counts = crate::outbox::checked::pending_counts(conn, org, &users)?;
    for row in rows {
        row.pending_changes = counts.get(&row.member.id).copied().unwrap_or(0);
    }
    Ok(())
}

/// One window of the roster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RosterWindow {
    pub offset: u32,
    pub rows: Vec<RosterRow>,
    /// Rows in the whole listing (a search: its matches, up to [`SEARCH_CAP`]).
    pub total: u64,
    /// The search had more matches than it counts.
    pub total_capped: bool,
    /// Every tab's count under the same search and filters.
    pub counts: TabCounts,
    /// The counts are of a search's first [`SEARCH_CAP`] matches only (at least as many).
    pub counts_capped: bool,
    /// When the org's feed was last pulled to its end: the "as of" of what is shown.
    pub as_of: Option<DateTime<Utc>>,
}

/// The window `query.offset .. + query.limit` (at most [`MAX_WINDOW`]) of `view`.
pub(crate) fn window(
    conn: &Connection,
    org: OrgId,
    view: RosterView,
    query: &RosterQuery,
) -> Result<RosterWindow> {
    let limit = query.limit.unwrap_or(MAX_WINDOW);
    if limit == 0 || limit > MAX_WINDOW {
        return Err(Error::Invalid(format!(
            "a roster window holds 1 to {MAX_WINDOW} rows, not {limit}"
        )));
    }
    let as_of: Option<String> = conn
        .prepare_cached("SELECT synced_at FROM orgs WHERE id = ?1")?
        .query_row(params![org], |row| row.get(0))
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("organization {org} is not in the cache")))?;
    let as_of = as_of
        .map(|text| DateTime::parse_from_rfc3339(&text).map(|t| t.to_utc()))
        .transpose()
        .map_err(|e| Error::Protocol(format!("synced_at: {e}")))?;
    let mut all = query.clone();
    all.tab = None;
    let Some(listed) = view.narrow(query) else {
        return Ok(RosterWindow {
            offset: query.offset,
            rows: Vec::new(),
            total: 0,
            total_capped: false,
            counts: TabCounts::default(),
            counts_capped: false,
            as_of,
        });
    };
    let text = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let window = match text {
        None => {
            let rows = browse(
                conn,
                org,
                &RosterQuery {
                    limit: Some(limit),
                    ..listed.clone()
                },
            )?;
            RosterWindow {
                offset: query.offset,
                rows: rows.into_iter().map(RosterRow::from).collect(),
                total: count(conn, org, &listed)?,
                total_capped: false,
                counts: TabCounts::from_groups(&groups(conn, org, &all, None)?),
                counts_capped: false,
                as_of,
            }
        }
        Some(text) => searched(conn, org, (&listed, &all), text, limit, as_of)?,
    };
    let mut window = window;
    mark_pending(conn, org, &mut window.rows)?;
    Ok(window)
}

fn searched(
    conn: &Connection,
    org: OrgId,
    (listed, all): (&RosterQuery, &RosterQuery),
    text: &str,
    limit: u32,
    as_of: Option<DateTime<Utc>>,
) -> Result<RosterWindow> {
    let fts = fts_query(&text.to_lowercase());
    let (total, total_capped) = match &fts {
        Some(fts) => capped_count(conn, org, listed, fts)?,
        None => (0, false),
    };
    let rows: Vec<RosterRow> = if listed.offset >= SEARCH_CAP {
        Vec::new()
    } else {
        // Always the same ranking (the first SEARCH_CAP matches), sliced: ranking only as
        // many as the window needs would let a larger limit reorder the tiers, and a
        // member could show on two windows or on none.
        let ranked = RosterQuery {
            limit: Some(SEARCH_CAP),
            offset: 0,
            ..listed.clone()
        };
        search(conn, org, &ranked, text)?
            .into_iter()
            .skip(listed.offset as usize)
            .take(limit as usize)
            .map(|hit| RosterRow::from(hit.member))
            .collect()
    };
    let (counts, counts_capped) = match &fts {
        Some(fts) => {
            let groups = groups(conn, org, all, Some(fts))?;
            let seen: u64 = groups.iter().map(|g| g.2).sum();
            (
                TabCounts::from_groups(&groups),
                seen > u64::from(SEARCH_CAP),
            )
        }
        None => (TabCounts::default(), false),
    };
    Ok(RosterWindow {
        offset: listed.offset,
        // The ranked tiers may find an exact or prefix match that FTS tokenises apart; the
        // total is never less than what was found.
        total: total.max(u64::from(listed.offset) + rows.len() as u64),
        rows,
        total_capped,
        counts,
        counts_capped,
        as_of,
    })
}

/// The matches of `fts` under the filters, counted up to [`SEARCH_CAP`].
fn capped_count(
    conn: &Connection,
    org: OrgId,
    query: &RosterQuery,
    fts: &str,
) -> Result<(u64, bool)> {
    let (filter, base) = filters(org, query);
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM member_fts f CROSS JOIN members m ON m.rowid = f.rowid
          WHERE member_fts MATCH ? AND {filter} LIMIT ?)"
    );
    let mut values = vec![Value::Text(fts.to_owned())];
    values.extend(base);
    values.push(Value::Integer(i64::from(SEARCH_CAP) + 1));
    let n: i64 = conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(values), |row| row.get(0))?;
    let n = u64::try_from(n).unwrap_or(0);
    Ok((n.min(u64::from(SEARCH_CAP)), n > u64::from(SEARCH_CAP)))
}

/// `(role, status, count)` of the listing (without search) or of a search's first
/// [`SEARCH_CAP`] matches.
fn groups(
    conn: &Connection,
    org: OrgId,
    query: &RosterQuery,
    fts: Option<&str>,
) -> Result<Vec<(Role, Status, u64)>> {
    let (filter, base) = filters(org, query);
    let (sql, values) = match fts {
        None => (
            format!(
                "SELECT m.role, m.status, count(*) FROM members m WHERE {filter}
                 GROUP BY m.role, m.status"
            ),
            base,
        ),
        Some(fts) => {
            let mut values = vec![Value::Text(fts.to_owned())];
            values.extend(base);
            values.push(Value::Integer(i64::from(SEARCH_CAP) + 1));
            (
                format!(
                    "SELECT role, status, count(*) FROM (
                        SELECT m.role, m.status FROM member_fts f
                        CROSS JOIN members m ON m.rowid = f.rowid
                        WHERE member_fts MATCH ? AND {filter} LIMIT ?)
                     GROUP BY role, status"
                ),
                values,
            )
        }
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(values), |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // A stored role or status this build does not know (a newer server) is left out of
    // the counts rather than failing the roster.
    Ok(rows
        .into_iter()
        .filter_map(|(role, status, n)| {
            Some((
                role.parse().ok()?,
                status.parse().ok()?,
                u64::try_from(n).unwrap_or(0),
            ))
        })
        .collect())
}

/// Every member `view` lists under `query` (a search: its first [`SEARCH_CAP`] matches), in
/// the listing's order.
pub(crate) fn matching_ids(
    conn: &Connection,
    org: OrgId,
    view: RosterView,
    query: &RosterQuery,
) -> Result<Vec<orgdesk_domain::wire::UserId>> {
    let Some(listed) = view.narrow(query) else {
        return Ok(Vec::new());
    };
    let everything = RosterQuery {
        offset: 0,
        limit: Some(u32::MAX),
        ..listed
    };
    let text = everything
        .search
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    Ok(match text {
        Some(text) => search(
            conn,
            org,
            &RosterQuery {
                limit: Some(SEARCH_CAP),
                ..everything.clone()
            },
            text,
        )?
        .into_iter()
        .map(|hit| hit.member.id)
        .collect(),
        None => browse(conn, org, &everything)?
            .into_iter()
            .map(|m| m.id)
            .collect(),
    })
}

impl Cache {
    /// A window of the roster (see [`RosterWindow`]).
    pub fn roster_window(
        &self,
        org: OrgId,
        view: RosterView,
        query: &RosterQuery,
    ) -> Result<RosterWindow> {
        window(&self.lock(), org, view, query)
    }
}

impl CacheReader {
    /// A window of the roster, on the reader's own connection (a sync may be writing).
    pub fn roster_window(
        &self,
        org: OrgId,
        view: RosterView,
        query: &RosterQuery,
    ) -> Result<RosterWindow> {
        window(self.connection(), org, view, query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::feed::tests::{access, member, page};
    use crate::cache::tests::temp_cache;
    use orgdesk_domain::wire::Change;

    /// 250 members of org 1: every 10th pending, every 25th a guest, every 50th suspended,
    /// the rest active; member n last active n days before the sync.
    fn roster() -> (tempfile::TempDir, Cache) {
        let (dir, cache) = temp_cache();
        let now: DateTime<Utc> = "2026-11-23T06:00:00Z".parse().unwrap();
        cache
            .replace_org_list(&[access(1, Role::Admin, 1)], now)
            .unwrap();
        let changes = (0..250)
            .map(|n| {
                let role = if n % 25 == 0 {
                    Role::Guest
                } else {
                    Role::Member
                };
                let mut m = member(n + 1, &format!("Person{n:03}"), "Example", role);
                m.status = match n {
                    _ if n % 10 == 0 => Status::Pending,
                    _ if n % 50 == 1 => Status::Suspended,
                    _ => Status::Active,
                };
                if m.status != Status::Pending {
                    m.last_active_at = Some(now - chrono::Duration::days(n));
                }
                Change::Member(Box::new(m))
            })
            .collect();
        cache
            .apply_page(1, &page(changes, "c1", false), now)
            .unwrap();
        (dir, cache)
    }

    fn query(offset: u32, limit: u32) -> RosterQuery {
        RosterQuery {
            offset,
            limit: Some(limit),
            ..RosterQuery::default()
        }
    }

    #[test]
    fn a_window_is_a_slice_with_the_total_and_every_tabs_count() {
        let (_dir, cache) = roster();
        let window = cache
            .roster_window(1, RosterView::All, &query(200, 100))
            .unwrap();
        assert_eq!(window.offset, 200);
        assert_eq!(window.rows.len(), 50, "the last window is short");
        assert_eq!(window.rows[0].name, "Person200 Example");
        assert_eq!(window.total, 250);
        assert!(window.as_of.is_some());
        // 25 pending (every 10th, guests among them), 10 guests, 5 suspended.
        assert_eq!(
            window.counts,
            TabCounts {
                all: 250,
                pending: 20,
                active: 220,
                guests: 10,
                suspended: 5,
            }
        );
    }

    #[test]
    fn each_tab_lists_what_its_count_says() {
        let (_dir, cache) = roster();
        for view in [
            RosterView::All,
            RosterView::Pending,
            RosterView::Active,
            RosterView::Guests,
            RosterView::Suspended,
        ] {
            let window = cache.roster_window(1, view, &query(0, 500)).unwrap();
            let expected = match view {
                RosterView::All => window.counts.all,
                RosterView::Pending => window.counts.pending,
                RosterView::Active => window.counts.active,
                RosterView::Guests => window.counts.guests,
                RosterView::Suspended => window.counts.suspended,
            };
            assert_eq!(window.total, expected, "{view:?}");
            assert_eq!(window.rows.len() as u64, expected, "{view:?}");
        }
    }

    #[test]
    fn a_search_window_slices_the_ranked_matches_and_counts_them() {
        let (_dir, cache) = roster();
        let searched = |offset, view| {
            cache
                .roster_window(
                    1,
                    view,
                    &RosterQuery {
                        search: Some("person1".into()),
                        ..query(offset, 20)
                    },
                )
                .unwrap()
        };
        // Person100 to Person199.
        let first = searched(0, RosterView::All);
        assert_eq!(first.total, 100);
        assert!(!first.total_capped);
        assert_eq!(first.rows.len(), 20);
        let next = searched(20, RosterView::All);
        assert_eq!(next.offset, 20);
        assert!(
            first
                .rows
                .iter()
                .all(|a| next.rows.iter().all(|b| a.member.id != b.member.id)),
            "windows do not overlap"
        );
        assert_eq!(first.counts.all, 100);
        assert!(!first.counts_capped);
        let pending = searched(0, RosterView::Pending);
        assert_eq!(pending.total, pending.counts.pending);
    }

    #[test]
    fn the_inactive_filter_keeps_members_last_seen_before_the_cutoff() {
        let (_dir, cache) = roster();
        let cutoff: DateTime<Utc> = "2026-09-24T06:00:00Z".parse().unwrap(); // 60 days
        let window = cache
            .roster_window(
                1,
                RosterView::All,
                &RosterQuery {
                    inactive_before: Some(cutoff),
                    ..query(0, 500)
                },
            )
            .unwrap();
        assert!(
            window
                .rows
                .iter()
                .all(|row| row.member.last_active_at.is_some_and(|t| t < cutoff))
        );
        // Members 61..249 days ago, less the pending ones among them.
        let expected = (61..250).filter(|n| n % 10 != 0).count() as u64;
        assert_eq!(window.total, expected);
    }

    #[test]
    fn a_window_is_at_most_max_window_rows() {
        let (_dir, cache) = roster();
        let error = cache
            .roster_window(1, RosterView::All, &query(0, MAX_WINDOW + 1))
            .unwrap_err();
        assert_eq!(error.code(), "invalid_input");
        let unknown = cache
            .roster_window(99, RosterView::All, &query(0, 10))
            .unwrap_err();
        assert_eq!(unknown.code(), "not_found");
    }

    #[test]
    fn a_status_filter_other_than_suspended_empties_the_suspended_tab() {
        let (_dir, cache) = roster();
        let window = cache
            .roster_window(
                1,
                RosterView::Suspended,
                &RosterQuery {
                    status: Some(Status::Active),
                    ..query(0, 100)
                },
            )
            .unwrap();
        assert_eq!(window.total, 0);
        assert!(window.rows.is_empty());
    }
}
