//! Sync on demand, its status, and the demo's "Go offline".

use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;
use crate::sync_hub::{self, Progress, SyncOutcome, SyncStatus};
use orgdesk_domain::wire::OrgId;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};

#[tauri::command(async)]
pub fn sync_status(state: State<'_, Desktop>) -> SyncStatus {
    state.sync.status()
}

#[tauri::command(async)]
pub async fn sync_now<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, Desktop>,
    org: Option<OrgId>,
    on_progress: Channel<Progress>,
) -> IpcResult<SyncOutcome> {
    let active = state.active()?;
    sync_hub::run(&app, active, org, Some(on_progress)).await
}

#[tauri::command(async)]
pub fn cancel_sync(state: State<'_, Desktop>) {
    state.sync.cancel();
}

/// Demo only: stops the embedded server (or starts it again), then syncs so the badge says
/// what happened.
#[tauri::command(async)]
pub async fn demo_set_offline<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, Desktop>,
    offline: bool,
) -> IpcResult<SyncStatus> {
    let demo = state
        .demo
        .as_ref()
        .ok_or_else(|| IpcError::invalid("only the demo can take its server away"))?;
    if offline {
        state.sync.cancel();
        demo.stop().await?;
    } else {
        demo.resume().await?;
    }
    state
        .sync
        .update(&app, |status| status.simulated_offline = offline);
    if let Ok(active) = state.active() {
        sync_hub::run(&app, active, None, None).await?;
    }
    Ok(state.sync.status())
}
