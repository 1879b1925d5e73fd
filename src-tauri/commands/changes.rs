//! Changing things: what the rules allow on a member, staging changes (one, or one per
//! selected member) checked by `domain` first, the pending changes with their diffs,
//! resolving conflicts and rejections, taking a change back, and pausing the push.

use crate::commands::roster::RosterFilter;
use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;
use crate::sync_hub::SyncStatus;
use chrono::Utc;
use orgdesk_client::bulk::BulkAction;
use orgdesk_client::outbox::{Checked, Verdict};
use orgdesk_client::{Resolution, StagedChange};
use orgdesk_domain::wire::{MutationId, MutationKind, OrgId, UserId};
use serde::Deserialize;
use tauri::{AppHandle, Emitter, Runtime, State};

/// The members a bulk action reaches: ids, or everyone a listing shows but a few.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Selection {
    Ids {
        ids: Vec<UserId>,
    },
    Matching {
        query: RosterFilter,
        except: Vec<UserId>,
    },
}

/// The day the rules check dates against: UTC's, as the CLI and the server count it.
fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

/// Tells the UI the outbox and the roster's pending marks changed.
fn changed<R: Runtime>(app: &AppHandle<R>, state: &Desktop, org: OrgId) {
    if let Err(error) = app.emit("outbox-changed", serde_json::json!({ "orgs": [org] })) {
        tracing::debug!(%error, "outbox event not delivered");
    }
    if let Ok(active) = state.active() {
        state.sync.count_pending(app, &active);
    }
    // Pushing happens by itself while online.
    state.sync.wake();
}

#[tauri::command(async)]
pub async fn allowed_actions(
    state: State<'_, Desktop>,
    org: OrgId,
    user: UserId,
) -> IpcResult<Vec<Verdict>> {
    let cache = state.active()?.profile.cache.clone();
    Ok(cache
        .run(move |c| c.outbox().allowed_actions(org, user, today()))
        .await?)
}

#[tauri::command(async)]
pub async fn stage_changes<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, Desktop>,
    org: OrgId,
    changes: Vec<MutationKind>,
    only_check: bool,
) -> IpcResult<Checked> {
    let cache = state.active()?.profile.cache.clone();
    let checked = cache
        .run(move |c| {
            c.outbox()
                .stage_allowed(org, &changes, only_check, today(), Utc::now())
        })
        .await?;
    if !checked.staged.is_empty() {
        changed(&app, &state, org);
    }
    Ok(checked)
}

#[tauri::command(async)]
pub async fn stage_bulk<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, Desktop>,
    org: OrgId,
    selection: Selection,
    action: BulkAction,
    only_check: bool,
) -> IpcResult<Checked> {
    let cache = state.active()?.profile.cache.clone();
    let checked = cache
        .run(move |c| {
            let users = match selection {
                Selection::Ids { ids } => ids,
                Selection::Matching { query, except } => {
                    let (view, query) = query.into_query(0, 1);
                    let mut ids = c.matching_ids(org, view, &query)?;
                    ids.retain(|id| !except.contains(id));
                    ids
                }
            };
            let changes = c.bulk_changes(org, &users, &action)?;
            c.outbox()
                .stage_allowed(org, &changes, only_check, today(), Utc::now())
        })
        .await?;
    if !checked.staged.is_empty() {
        changed(&app, &state, org);
    }
    Ok(checked)
}

#[tauri::command(async)]
pub async fn pending_changes(
    state: State<'_, Desktop>,
    org: Option<OrgId>,
) -> IpcResult<Vec<StagedChange>> {
    let cache = state.active()?.profile.cache.clone();
    let changes = cache.run(move |c| c.outbox().open_changes(org)).await?;
    Ok(changes.into_iter().map(without_password).collect())
}

/// A staged add's password (sealed in the cache) never goes to the webview; the UI shows
/// that one is set.
fn without_password(mut staged: StagedChange) -> StagedChange {
    if let MutationKind::AddMember { member } = &mut staged.change
        && member.password.is_some()
    {
        member.password = Some(PASSWORD_SET.to_owned());
    }
    staged
}

/// What stands for a staged password in the UI.
pub const PASSWORD_SET: &str = "(set)";

#[tauri::command(async)]
pub async fn resolve_change<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, Desktop>,
    id: MutationId,
    resolution: Resolution,
) -> IpcResult<Option<StagedChange>> {
    let cache = state.active()?.profile.cache.clone();
    let lookup = id.clone();
    let org = cache
        .run(move |c| c.outbox().get(&lookup))
        .await?
        .map(|change| change.org_id)
        .ok_or_else(|| IpcError::new("not_found", format!("no staged change {id}")))?;
    let restaged = cache
        .run(move |c| c.outbox().resolve(&id, resolution, today(), Utc::now()))
        .await?;
    changed(&app, &state, org);
    if let Err(error) = app.emit("cache-changed", serde_json::json!({ "orgs": [org] })) {
        tracing::debug!(%error, "cache event not delivered");
    }
    Ok(restaged)
}

/// Takes back a change not yet sent (and the later ones to the same member). Refused while
/// a push runs: the change may be on its way.
#[tauri::command(async)]
pub async fn withdraw_change<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, Desktop>,
    id: MutationId,
) -> IpcResult<Vec<MutationId>> {
    if state.sync.status().syncing {
        return Err(IpcError::new(
            "invalid_state",
            "a sync is sending changes; take the change back once it is done, or pause syncing",
        ));
    }
    let cache = state.active()?.profile.cache.clone();
    let lookup = id.clone();
    let org = cache
        .run(move |c| c.outbox().get(&lookup))
        .await?
        .map(|change| change.org_id)
        .ok_or_else(|| IpcError::new("not_found", format!("no staged change {id}")))?;
    let taken = cache.run(move |c| c.outbox().withdraw(&id)).await?;
    changed(&app, &state, org);
    Ok(taken)
}

/// Pauses (or resumes) the background sync and its push; "Sync now" still works.
#[tauri::command(async)]
pub fn set_sync_paused<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, Desktop>,
    paused: bool,
) -> SyncStatus {
    state.sync.update(&app, |status| status.paused = paused);
    if !paused {
        state.sync.wake();
    }
    state.sync.status()
}
