//! The org directory server: the HTTP API of SPEC.md over SQLite or PostgreSQL.
//!
//! The library is what tests and the desktop's demo mode embed: [`start`] a server with
//! [`Settings`] (port 0 works), [`create_org`] to bootstrap an org and its first admin, and
//! [`RunningServer::shutdown`] to stop it. The `orgdesk-server` binary is a thin CLI over it.

pub mod access;
pub mod api;
pub mod auth;
pub mod demo;
pub mod error;
pub mod feed;
pub mod invite_page;
pub mod mail;
pub mod members;
pub mod orgs;
pub mod settings;
pub mod sql;
pub mod store;

pub use error::{Error, Result};
pub use settings::{MailSettings, Settings};
pub use store::Clock;

use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{Notify, watch};

/// Turns true once when the server stops; every background task watches it.
pub type Stop = watch::Receiver<bool>;

/// What every handler shares.
pub struct AppState {
    pub store: store::Store,
    pub settings: Settings,
    pub clock: Clock,
    /// Wakes the mail worker after a commit that queued mail.
    pub mail_wake: Arc<Notify>,
    /// Verified against for unknown accounts, so a failed sign-in takes as long either way.
    pub dummy_hash: String,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    /// The base of links in mail, without a trailing slash.
    pub fn public_base_url(&self) -> String {
        self.settings
            .public_base_url
            .trim_end_matches('/')
            .to_owned()
    }
}

/// A server running in this process.
pub struct RunningServer {
    /// Where it listens (the real port when port 0 was asked for).
    pub addr: SocketAddr,
    state: SharedState,
    shutdown: watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// `http://127.0.0.1:port`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's clock: tests move it forward to expire guests, invitations, sessions.
    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }

    /// Runs the periodic upkeep now (guest expiry, pruning) instead of waiting for it.
    pub async fn run_upkeep(&self) -> Result<()> {
        upkeep(&self.state).await
    }

    /// [`create_org`] on this server's database.
    pub async fn create_org(&self, new: NewOrg) -> Result<CreatedOrg> {
        let created = orgs::bootstrap(
            &self.state.store,
            &self.state.clock,
            &self.state.public_base_url(),
            new,
        )
        .await?;
        self.state.mail_wake.notify_one();
        Ok(created)
    }

    /// [`demo::seed`] on this server's database (the desktop's demo mode, tests).
    pub async fn seed_demo(&self, plan: &demo::DemoPlan) -> Result<demo::DemoSeed> {
        demo::seed(&self.state.store, &self.state.clock, plan).await
    }

    /// The database, for tests that inspect storage directly.
    pub fn store(&self) -> &store::Store {
        &self.state.store
    }

    /// Stops accepting requests, lets running ones finish, and closes the database.
    pub async fn shutdown(self) -> Result<()> {
        // A watch keeps the value: a task busy at this moment still sees it afterwards.
        let _ = self.shutdown.send(true);
        let result = self.server.await.map_err(Error::internal)?;
        result.map_err(Error::internal)?;
        self.state.store.pool.close().await;
        Ok(())
    }
}

/// Connects the database (applying migrations), starts the mail and upkeep tasks, binds
/// `settings.listen` and serves the API until [`RunningServer::shutdown`].
pub async fn start(settings: Settings) -> Result<RunningServer> {
    start_with_clock(settings, Clock::default()).await
}

pub async fn start_with_clock(mut settings: Settings, clock: Clock) -> Result<RunningServer> {
    let store = store::Store::connect(&settings.database, settings.max_connections).await?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| Error::internal(format!("cannot listen on {}: {e}", settings.listen)))?;
    let addr = listener.local_addr().map_err(Error::internal)?;
    if settings.public_base_url.is_empty() {
        settings.public_base_url = format!("http://{addr}");
    }
    let (shutdown, stop) = watch::channel(false);
    let mail = mail::MailWorker::spawn(store.clone(), &settings.mail, stop.clone())?;
    let state = Arc::new(AppState {
        store,
        settings,
        clock,
        mail_wake: mail.wake,
        dummy_hash: auth::hash_password("not a real password, only for timing".into()).await?,
    });
    spawn_upkeep(state.clone(), stop.clone());
    let app = api::router(state.clone());
    let mut server_stop = stop;
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|stopped| *stopped).await;
            })
            .await
    });
    tracing::info!(%addr, "orgdesk-server listening");
    Ok(RunningServer {
        addr,
        state,
        shutdown,
        server,
    })
}

fn spawn_upkeep(state: SharedState, mut stop: Stop) {
    tokio::spawn(async move {
        loop {
            if let Err(error) = upkeep(&state).await {
                tracing::warn!(%error, "upkeep failed");
            }
            tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => break,
                _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            }
        }
    });
}

/// Guest expiry, and pruning of tombstones, stored mutation results and dead sessions.
async fn upkeep(state: &AppState) -> Result<()> {
    members::expire_guests(state).await?;
    feed::prune(state).await?;
    Ok(())
}

/// What [`create_org`] made.
#[derive(Debug, Clone)]
pub struct CreatedOrg {
    pub org_id: i64,
    pub admin_id: i64,
    /// Where the invitation mail went (`None` when a password was given and the admin
    /// is active at once).
    pub invitation_sent_to: Option<String>,
}

/// Options of [`create_org`].
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub name: String,
    pub admin_email: String,
    pub partner: bool,
    /// Creates the admin active with this password instead of inviting them.
    pub admin_password: Option<String>,
}

/// Bootstraps an org and its first admin, without a caller (the CLI, tests, the demo).
pub async fn create_org(settings: &Settings, new: NewOrg) -> Result<CreatedOrg> {
    let store = store::Store::connect(&settings.database, 2).await?;
    let base_url = if settings.public_base_url.is_empty() {
        format!("http://{}", settings.listen)
    } else {
        settings.public_base_url.clone()
    };
    let created = orgs::bootstrap(&store, &Clock::default(), &base_url, new).await;
    // Deliver the invitation now: the CLI exits right after.
    if created.is_ok() {
        mail::deliver_all(&store, &settings.mail).await?;
    }
    store.pool.close().await;
    created
}
