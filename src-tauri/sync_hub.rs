//! One sync at a time, its progress streamed to whoever asked and to the sync badge, and a
//! background loop that syncs every few minutes while online and retries every
//! [`OFFLINE_RETRY`] while the server is away, so the badge catches up by itself when the
//! network comes back. The sync itself is `orgdesk_client::sync`.

use crate::error::{IpcError, IpcResult};
use crate::state::{Active, Desktop};
use chrono::{DateTime, Utc};
use orgdesk_client::BatchOutcome;
use orgdesk_client::sync::{self, SyncOptions, SyncProgress};
use orgdesk_domain::ErrorCode;
use orgdesk_domain::wire::OrgId;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// How often the background loop tries again while the server cannot be reached.
pub const OFFLINE_RETRY: Duration = Duration::from_secs(10);

/// Events the UI listens to.
pub const SYNC_STATUS_EVENT: &str = "sync-status";
pub const CACHE_CHANGED_EVENT: &str = "cache-changed";
pub const ORGS_CHANGED_EVENT: &str = "orgs-changed";

/// What the sync badge shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncStatus {
    pub online: bool,
    pub syncing: bool,
    pub paused: bool,
    pub simulated_offline: bool,
    pub pending_changes: u64,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub last_error: Option<IpcError>,
    pub progress: Option<Progress>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Orgs,
    Push,
    Pull,
    Rebuild,
    Done,
}

/// One step of a long operation, for progress bars.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub operation: &'static str,
    pub phase: Phase,
    pub label: String,
    pub org: Option<OrgId>,
    pub done: u64,
    pub total: Option<u64>,
}

/// How a sync ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncOutcome {
    Synced {
        pulled: usize,
        pushed: BatchOutcome,
    },
    /// The server could not be reached; the cache and the outbox are as they were.
    Offline {
        message: String,
    },
    Cancelled,
    /// Another sync is running; its progress is in the sync status.
    Busy,
}

#[derive(Default)]
pub struct SyncHub {
    status: Mutex<SyncStatus>,
    /// The running sync: its number and how to stop it.
    running: Mutex<Option<(u64, AbortHandle)>>,
    started: std::sync::atomic::AtomicU64,
    not_listable: Mutex<HashSet<OrgId>>,
    wake: Notify,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SyncHub {
    pub fn status(&self) -> SyncStatus {
        lock(&self.status).clone()
    }

    /// Whether the caller's role may list this org's roster, as the last sync found.
    pub fn listable(&self, org: OrgId) -> bool {
        !lock(&self.not_listable).contains(&org)
    }

    /// Changes the status and tells the UI.
    pub fn update<R: Runtime>(&self, app: &AppHandle<R>, change: impl FnOnce(&mut SyncStatus)) {
        let status = {
            let mut status = lock(&self.status);
            change(&mut status);
            status.clone()
        };
        if let Err(error) = app.emit(SYNC_STATUS_EVENT, status) {
            tracing::debug!(%error, "sync status not delivered");
        }
    }

    /// Wakes the background loop (signed in, network back, demo server back).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops the running sync, if any.
    pub fn cancel(&self) -> bool {
        match lock(&self.running).take() {
            Some((_, handle)) => {
                handle.abort();
                true
            }
            None => false,
        }
    }

    /// Recounts the staged changes for the badge.
    pub fn count_pending<R: Runtime>(&self, app: &AppHandle<R>, active: &Active) {
        let pending = active
            .read(|reader| reader.open_change_count())
            .unwrap_or(0);
        self.update(app, |status| status.pending_changes = pending);
    }
}

/// Syncs (the outbox first, then `org` or every opened org), streaming progress to `channel`
/// and the badge. Returns when done; [`SyncHub::cancel`] ends it early.
pub async fn run<R: Runtime>(
    app: &AppHandle<R>,
    active: Arc<Active>,
    org: Option<OrgId>,
    channel: Option<Channel<Progress>>,
) -> IpcResult<SyncOutcome> {
    let desktop = app.state::<Desktop>();
    let hub = &desktop.sync;
    let names = org_names(&active);
    let task = {
        let mut running = lock(&hub.running);
        if running.is_some() {
            return Ok(SyncOutcome::Busy);
        }
        let app = app.clone();
        let worker = active.clone();
        let task = tokio::spawn(async move {
            let hub = &app.state::<Desktop>().sync;
            let mut report = |event: SyncProgress| {
                let progress = describe(&event, &names);
                if let Some(channel) = &channel
                    && let Err(error) = channel.send(progress.clone())
                {
                    tracing::debug!(%error, "progress not delivered");
                }
                hub.update(&app, |status| status.progress = Some(progress));
            };
            let options = SyncOptions {
                orgs: org.map(|org| vec![org]),
                pull_only: false,
            };
            sync::sync(&worker.api, &worker.profile.cache, &options, &mut report).await
        });
        let number = hub
            .started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *running = Some((number, task.abort_handle()));
        (number, task)
    };
    let (number, task) = task;
    hub.update(app, |status| {
        status.syncing = true;
        status.progress = None;
    });
    let ended = task.await;
    {
        // A cancelled sync's slot may hold the next one already.
        let mut running = lock(&hub.running);
        if running.as_ref().is_some_and(|(n, _)| *n == number) {
            running.take();
        }
    }
    let outcome = match ended {
        Ok(Ok(report)) => {
            let pulled = report.pulled.iter().map(|(_, rows)| rows).sum();
            {
                let mut not_listable = lock(&hub.not_listable);
                for (org, _) in &report.pulled {
                    not_listable.remove(org);
                }
                not_listable.extend(report.not_listable.iter().copied());
            }
            let changed: Vec<OrgId> = report.pulled.iter().map(|(org, _)| *org).collect();
            emit(
                app,
                CACHE_CHANGED_EVENT,
                serde_json::json!({ "orgs": changed }),
            );
            emit(app, ORGS_CHANGED_EVENT, serde_json::Value::Null);
            hub.update(app, |status| {
                status.online = true;
                status.last_error = None;
                status.last_synced_at = Some(Utc::now());
            });
            Ok(SyncOutcome::Synced {
                pulled,
                pushed: report.pushed,
            })
        }
        Ok(Err(error)) if error.is_offline() => {
            let message = error.to_string();
            hub.update(app, |status| {
                status.online = false;
                status.last_error = Some(error.into());
            });
            Ok(SyncOutcome::Offline { message })
        }
        Ok(Err(error)) => {
            let error = IpcError::from(error);
            hub.update(app, |status| status.last_error = Some(error.clone()));
            Err(error)
        }
        Err(join) if join.is_cancelled() => {
            // A first sync cancelled half-way left the search index to be rebuilt.
            if let Err(error) = active.profile.cache.run(|c| c.finish_bulk()).await {
                tracing::warn!(%error, "search index not rebuilt after a cancelled sync");
            }
            emit(app, ORGS_CHANGED_EVENT, serde_json::Value::Null);
            Ok(SyncOutcome::Cancelled)
        }
        Err(join) => Err(join.into()),
    };
    hub.update(app, |status| {
        status.syncing = false;
        status.progress = None;
    });
    hub.count_pending(app, &active);
    outcome
}

fn emit<R: Runtime>(app: &AppHandle<R>, event: &str, payload: serde_json::Value) {
    if let Err(error) = app.emit(event, payload) {
        tracing::debug!(%error, event, "event not delivered");
    }
}

fn org_names(active: &Active) -> HashMap<OrgId, String> {
    active
        .profile
        .cache
        .orgs()
        .map(|orgs| orgs.into_iter().map(|o| (o.id, o.name)).collect())
        .unwrap_or_default()
}

/// A sync step as the progress bar shows it.
fn describe(event: &SyncProgress, names: &HashMap<OrgId, String>) -> Progress {
    let name = |org: &OrgId| {
        names
            .get(org)
            .cloned()
            .unwrap_or_else(|| format!("organization {org}"))
    };
    let (phase, label, org, done) = match event {
        SyncProgress::Orgs { changes } => (
            Phase::Orgs,
            match changes.len() {
                0 => "Checked your organizations".to_owned(),
                n => format!("Your organizations changed ({n})"),
            },
            None,
            0,
        ),
        SyncProgress::Pushed { org, sent, .. } => (
            Phase::Push,
            format!("Sent {sent} changes to {}", name(org)),
            Some(*org),
            *sent as u64,
        ),
        SyncProgress::Pulled {
            org,
            rows,
            rebuilding,
            ..
        } => (
            if *rebuilding {
                Phase::Rebuild
            } else {
                Phase::Pull
            },
            format!("Downloading {}: {rows} users and changes", name(org)),
            Some(*org),
            *rows as u64,
        ),
        SyncProgress::Resync { org } => (
            Phase::Rebuild,
            format!("Your access to {} changed: downloading it again", name(org)),
            Some(*org),
            0,
        ),
        SyncProgress::Done { org, rows } => (
            Phase::Done,
            format!("{} is up to date", name(org)),
            Some(*org),
            *rows as u64,
        ),
    };
    Progress {
        operation: "sync",
        phase,
        label,
        org,
        done,
        total: None,
    }
}

/// Syncs in the background: at once when woken (sign-in, network back), every
/// `sync_minutes` while online, every [`OFFLINE_RETRY`] while offline.
pub fn spawn_background<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let (wait, signed_in) = {
                let desktop = app.state::<Desktop>();
                let status = desktop.sync.status();
                let wait = if status.online {
                    Duration::from_secs(desktop.settings().sync_minutes.max(1) * 60)
                } else {
                    OFFLINE_RETRY
                };
                (wait, desktop.is_signed_in())
            };
            if signed_in {
                background_sync(&app).await;
            }
            let desktop = app.state::<Desktop>();
            tokio::select! {
                _ = desktop.sync.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    });
}

async fn background_sync<R: Runtime>(app: &AppHandle<R>) {
    let desktop = app.state::<Desktop>();
    if desktop.sync.status().paused {
        return;
    }
    let Ok(active) = desktop.active() else {
        return;
    };
    match run(app, active, None, None).await {
        Ok(_) => {}
        Err(error) if error.code == ErrorCode::Unauthenticated.as_str() => {
            // The server ended the session (expired, signed out elsewhere): say so once.
            emit(app, "session-ended", serde_json::json!(error));
        }
        Err(error) => {
            tracing::warn!(code = error.code, message = %error.message, "background sync failed")
        }
    }
}
