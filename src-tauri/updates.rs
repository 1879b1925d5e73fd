//! The update check at start: the endpoint and public key from the desktop settings (else
//! tauri.conf.json's). A check that fails (offline, no such host) is logged and otherwise
//! silent; an update found is announced to the UI (installing it is the updates screen's).

use crate::state::Desktop;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_updater::UpdaterExt;

#[derive(Debug, Clone, Serialize)]
pub struct UpdateAvailable {
    pub version: String,
    pub notes: Option<String>,
}

pub fn check_in_background<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        match check(&app).await {
            Ok(Some(update)) => {
                if let Err(error) = app.emit("update-available", update) {
                    tracing::debug!(%error, "update event not delivered");
                }
            }
            Ok(None) => tracing::debug!("no update"),
            Err(error) => tracing::info!(%error, "update check skipped"),
        }
    });
}

async fn check<R: Runtime>(app: &AppHandle<R>) -> anyhow::Result<Option<UpdateAvailable>> {
    let settings = app.state::<Desktop>().settings();
    let mut builder = app.updater_builder();
    if let Some(endpoint) = settings.update_endpoint {
        builder = builder.endpoints(vec![endpoint.parse()?])?;
    }
    if let Some(key) = settings.update_pubkey {
        builder = builder.pubkey(key);
    }
    let update = builder.build()?.check().await?;
    Ok(update.map(|update| UpdateAvailable {
        version: update.version,
        notes: update.body,
    }))
}
