//! The roster, a window at a time, and one member's detail.

use crate::commands::on_reader;
use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;
use chrono::{Duration, Utc};
use orgdesk_client::RosterQuery;
use orgdesk_client::cache::{MAX_WINDOW, MemberDetail, RosterView, RosterWindow};
use orgdesk_domain::wire::{MemberSort, OrgId, PropertyDefinition, UserId, Workspace, WorkspaceId};
use orgdesk_domain::{Role, Status};
use serde::Deserialize;
use tauri::State;

/// The roster's search, filters and sort as the UI holds them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RosterFilter {
    pub tab: RosterView,
    pub search: String,
    pub role: Option<Role>,
    pub status: Option<Status>,
    pub workspace: Option<WorkspaceId>,
    /// Last active more than this many days ago (or never).
    pub inactive_days: Option<u32>,
    pub sort: MemberSort,
    pub descending: bool,
}

impl RosterFilter {
    /// The tab and the client's query for a window at `offset`.
    pub fn into_query(self, offset: u32, limit: u32) -> (RosterView, RosterQuery) {
        let view = self.tab;
        (view, self.query(offset, limit))
    }

    fn query(self, offset: u32, limit: u32) -> RosterQuery {
        RosterQuery {
            tab: None,
            search: Some(self.search).filter(|s| !s.trim().is_empty()),
            role: self.role,
            status: self.status,
            workspace: self.workspace,
            inactive_before: self
                .inactive_days
                .map(|days| Utc::now() - Duration::days(i64::from(days))),
            sort: self.sort,
            descending: self.descending,
            limit: Some(limit),
            offset,
        }
    }
}

#[tauri::command(async)]
pub async fn roster_window(
    state: State<'_, Desktop>,
    org: OrgId,
    query: RosterFilter,
    offset: u32,
    limit: u32,
) -> IpcResult<RosterWindow> {
    if limit == 0 || limit > MAX_WINDOW {
        return Err(IpcError::invalid(format!(
            "a roster window holds 1 to {MAX_WINDOW} rows, not {limit}"
        )));
    }
    let active = state.active()?;
    let view = query.tab;
    let query = query.query(offset, limit);
    on_reader(&active, move |reader| {
        reader.roster_window(org, view, &query)
    })
    .await
}

#[tauri::command(async)]
pub async fn member_detail(
    state: State<'_, Desktop>,
    org: OrgId,
    user: UserId,
) -> IpcResult<MemberDetail> {
    let active = state.active()?;
    on_reader(&active, move |reader| reader.member_detail(org, user)).await
}

#[tauri::command(async)]
pub async fn workspaces(state: State<'_, Desktop>, org: OrgId) -> IpcResult<Vec<Workspace>> {
    let active = state.active()?;
    let cache = active.profile.cache.clone();
    Ok(cache.run(move |c| c.workspaces(org)).await?)
}

#[tauri::command(async)]
pub async fn property_definitions(
    state: State<'_, Desktop>,
    org: OrgId,
) -> IpcResult<Vec<PropertyDefinition>> {
    let active = state.active()?;
    let cache = active.profile.cache.clone();
    Ok(cache.run(move |c| c.property_definitions(org)).await?)
}
