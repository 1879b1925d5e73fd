//! Demo mode: an `orgdesk-server` embedded in the app on 127.0.0.1 (a free port, SQLite in
//! the app's data directory, kept between runs), seeded once with a partner org and its
//! client orgs, signed in to, with the partner org opened. "Go offline" stops the server and
//! "Go online" starts it again on the same port, so offline work can be tried for real.

use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;
use orgdesk_client::Profile;
use orgdesk_server::demo::{DemoPlan, DemoSeed};
use orgdesk_server::{MailSettings, RunningServer, Settings};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::OnceCell;

/// The profile the demo signs in with, apart from the user's own.
pub const DEMO_PROFILE: &str = "demo";

pub struct DemoServer {
    dir: PathBuf,
    /// Where it listens once started: the same port again after "Go online".
    addr: Mutex<Option<SocketAddr>>,
    server: tokio::sync::Mutex<Option<RunningServer>>,
    /// The first start, seed and sign-in, done once; every command that needs the session
    /// waits for it.
    bootstrap: OnceCell<Result<(), IpcError>>,
}

impl DemoServer {
    pub fn new(data_dir: &Path) -> DemoServer {
        DemoServer {
            dir: data_dir.join("demo-server"),
            addr: Mutex::new(None),
            server: tokio::sync::Mutex::new(None),
            bootstrap: OnceCell::new(),
        }
    }

    fn addr(&self) -> Option<SocketAddr> {
        *self.addr.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn url(&self) -> Option<String> {
        self.addr().map(|addr| format!("http://{addr}"))
    }

    /// Whether the demo server is stopped ("Go offline").
    pub async fn is_stopped(&self) -> bool {
        self.server.lock().await.is_none()
    }

    /// Starts the server (on its earlier port if it had one) and seeds it if new.
    async fn start(&self) -> IpcResult<DemoSeed> {
        let mut server = self.server.lock().await;
        if server.is_none() {
            std::fs::create_dir_all(&self.dir).map_err(orgdesk_client::Error::from)?;
            let settings = Settings {
                listen: self
                    .addr()
                    .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
                database: self.dir.join("server.db").display().to_string(),
                mail: MailSettings {
                    mailbox_dir: self.dir.join("mailbox"),
                    ..MailSettings::default()
                },
                ..Settings::default()
            };
            let running = orgdesk_server::start(settings)
                .await
                .map_err(server_error)?;
            *self.addr.lock().unwrap_or_else(|p| p.into_inner()) = Some(running.addr);
            *server = Some(running);
        }
        let running = server
            .as_ref()
            .ok_or_else(|| IpcError::new("internal", "the demo server did not start"))?;
        running
            .seed_demo(&DemoPlan::standard())
            .await
            .map_err(server_error)
    }

    /// "Go offline": stops the server; the app carries on from its cache.
    pub async fn stop(&self) -> IpcResult<()> {
        if let Some(running) = self.server.lock().await.take() {
            running.shutdown().await.map_err(server_error)?;
        }
        Ok(())
    }

    /// "Go online": the server again, on the same port.
    pub async fn resume(&self) -> IpcResult<()> {
        self.start().await.map(|_| ())
    }

    /// Starts, seeds and signs in, once; later calls wait for the first.
    pub async fn ready<R: Runtime>(&self, app: &AppHandle<R>) -> IpcResult<()> {
        self.bootstrap
            .get_or_init(|| async { self.first_start(app).await })
            .await
            .clone()
    }

    async fn first_start<R: Runtime>(&self, app: &AppHandle<R>) -> IpcResult<()> {
        let started = std::time::Instant::now();
        let seed = self.start().await?;
        let url = self
            .url()
            .ok_or_else(|| IpcError::new("internal", "the demo server has no address"))?;
        tracing::info!(%url, seeded_now = seed.seeded_now, elapsed = ?started.elapsed(), "demo server ready");
        let desktop = app.state::<Desktop>();
        let profile = Profile::open(&desktop.data_dir, DEMO_PROFILE)?;
        if profile.server()?.is_some() {
            profile.relocate(&url)?;
        }
        let active = match desktop.restore()? {
            Some(active) if active.profile.name == DEMO_PROFILE => active,
            _ => sign_in(&desktop, profile, &url).await?,
        };
        if active.profile.current_org()?.is_none() {
            orgdesk_client::sync::refresh_orgs(&active.api, &active.profile.cache).await?;
            active.profile.switch(&seed.partner_org_id.to_string())?;
        }
        desktop.sync.wake();
        Ok(())
    }
}

/// Signs in to the demo as its partner admin; without a keyring, for this run only (the
/// demo's password is no secret).
async fn sign_in(
    desktop: &Desktop,
    profile: Profile,
    url: &str,
) -> IpcResult<std::sync::Arc<crate::state::Active>> {
    let plan = DemoPlan::standard();
    let signed_in = profile
        .sign_in(Some(url), &plan.admin_email, &plan.admin_password, None)
        .await?;
    match desktop.adopt(profile, signed_in, true)? {
        Ok(active) => Ok(active),
        Err(reason) => {
            tracing::warn!(%reason, "no keyring: the demo session lasts this run only");
            desktop.continue_session_only()
        }
    }
}

fn server_error(error: orgdesk_server::Error) -> IpcError {
    IpcError::new("internal", format!("demo server: {error}"))
}
