//! The harness of the client-against-real-server stories: the real server in-process on
//! port 0 (SQLite file, or a fresh PostgreSQL database) with a mailbox directory, and
//! clients that each have their own data directory (profile, cache, keyring entry).
#![allow(dead_code, clippy::unwrap_used)]

use chrono::Utc;
use orgdesk_client::sync::{self, SyncOptions, SyncProgress, SyncReport};
use orgdesk_client::{Api, Profile, RetryPolicy, StagedChange};
use orgdesk_domain::Role;
use orgdesk_domain::wire::{
    Member, MemberEdit, Mutation, MutationBatch, MutationKind, MutationOutcome, NewMember,
    Onboarding, OrgId, Profile as MemberProfile, ProfileEdit, UserId,
};
use orgdesk_server::{NewOrg, RunningServer, Settings};
use std::path::PathBuf;
use std::time::Duration;

#[path = "../../../server/tests/common/postgres.rs"]
mod postgres;
pub use postgres::{TestDatabase, postgres_url};

pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct World {
    pub server: Option<RunningServer>,
    pub settings: Settings,
    pub url: String,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database, dropped with the world.
    pub database: Option<TestDatabase>,
}

impl World {
    /// `None` when the backend is not available here (PostgreSQL outside CI).
    pub async fn start(backend: Backend) -> Option<World> {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let (database, postgres) = match backend {
            Backend::Sqlite => (dir.path().join("server.db").display().to_string(), None),
            Backend::Postgres => {
                let database = TestDatabase::create(&postgres_url()?).await;
                (database.url.clone(), Some(database))
            }
        };
        let mut settings = Settings::local(database, dir.path().join("mailbox"));
        let server = orgdesk_server::start(settings.clone())
            .await
            .expect("server starts");
        // Keep the port: a restarted server must be the same URL for the clients.
        settings.listen = server.addr;
        settings.public_base_url = server.base_url();
        Some(World {
            url: server.base_url(),
            server: Some(server),
            settings,
            dir,
            database: postgres,
        })
    }

    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("the server is running")
    }

    /// Stops the server (the clients are now offline).
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("server stops");
        }
    }

    /// Starts the server again on the same port and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let server = orgdesk_server::start(self.settings.clone())
            .await
            .expect("server restarts on the same port");
        self.server = Some(server);
    }

    /// A new org whose first admin is active with [`PASSWORD`].
    pub async fn org(&self, name: &str, admin: &str) -> (OrgId, UserId) {
        let created = self
            .server()
            .create_org(NewOrg {
                name: name.into(),
                admin_email: admin.into(),
                partner: false,
                admin_password: Some(PASSWORD.into()),
            })
            .await
            .expect("create org");
        (created.org_id, created.admin_id)
    }

    /// A signed-in API client, for acting on the server as another person would.
    pub async fn api(&self, email: &str) -> Api {
        let api = Api::new(&self.url).expect("url");
        let answer = api
            .login(&orgdesk_domain::wire::LoginRequest {
                email: email.into(),
                password: PASSWORD.into(),
                totp: None,
            })
            .await
            .expect("sign in");
        api.with_token(answer.token)
    }

    /// A desktop client with its own data directory, signed in as `email`.
    pub async fn client(&self, email: &str) -> Client {
        let dir = tempfile::tempdir().expect("client dir");
        let profile = Profile::open(dir.path(), "default").expect("profile");
        profile
            .login(Some(&self.url), email, PASSWORD, None)
            .await
            .expect("client signs in");
        Client { dir, profile }
    }
}

pub struct Client {
    pub dir: tempfile::TempDir,
    pub profile: Profile,
}

impl Client {
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    pub fn api(&self) -> Api {
        self.profile
            .api()
            .expect("signed in")
            .with_retry(RetryPolicy {
                attempts: 2,
                first_delay: Duration::from_millis(20),
            })
    }

    /// Syncs `org` (opening it), collecting the progress events.
    pub async fn sync(
        &self,
        org: OrgId,
    ) -> orgdesk_client::Result<(SyncReport, Vec<SyncProgress>)> {
        let mut events = Vec::new();
        let options = SyncOptions {
            orgs: Some(vec![org]),
            pull_only: false,
        };
        let report = sync::sync(&self.api(), &self.profile.cache, &options, &mut |event| {
            events.push(event)
        })
        .await?;
        Ok((report, events))
    }

    pub fn member(&self, org: OrgId, user: UserId) -> Option<Member> {
        self.profile.cache.member(org, user).expect("cache read")
    }

    /// The org's changes still to send or to resolve.
    pub fn open_changes(&self, org: OrgId) -> Vec<StagedChange> {
        self.profile
            .cache
            .outbox()
            .open_changes(Some(org))
            .expect("outbox read")
    }

    pub fn stage(
        &self,
        org: OrgId,
        change: MutationKind,
    ) -> orgdesk_client::Result<orgdesk_client::StagedChange> {
        self.profile
            .cache
            .outbox()
            .stage(org, change, Utc::now().date_naive(), Utc::now())
    }
}

/// Applies one change on the server as `api`'s account, whatever the row's version.
pub async fn on_server(api: &Api, org: OrgId, change: MutationKind) -> MutationOutcome {
    let batch = MutationBatch {
        mutations: vec![Mutation {
            id: uuid::Uuid::now_v7().to_string(),
            base_version: None,
            change,
        }],
    };
    let mut results = api.push(org, &batch).await.expect("push").results;
    results.pop().expect("one result").outcome
}

/// Adds a member on the server; returns their id. With `password`, they can sign in.
pub async fn add_member(
    api: &Api,
    org: OrgId,
    email: &str,
    first: &str,
    last: &str,
    role: Role,
    can_sign_in: bool,
) -> UserId {
    let change = add_change(email, first, last, role, can_sign_in);
    match on_server(api, org, change).await {
        MutationOutcome::Applied { user_id, .. } => user_id,
        other => panic!("adding {email}: {other:?}"),
    }
}

/// The change that adds a member: invited, or with `PASSWORD` set silently so that they can
/// sign in.
pub fn add_change(
    email: &str,
    first: &str,
    last: &str,
    role: Role,
    can_sign_in: bool,
) -> MutationKind {
    MutationKind::AddMember {
        member: NewMember {
            email: email.into(),
            role,
            profile: MemberProfile {
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                ..MemberProfile::default()
            },
            workspaces: vec![],
            guest_expires: None,
            properties: Default::default(),
            onboarding: if can_sign_in {
                Onboarding::SetSilently
            } else {
                Onboarding::Invite
            },
            password: can_sign_in.then(|| PASSWORD.to_owned()),
        },
    }
}

pub fn title_edit(user_id: UserId, title: &str) -> MutationKind {
    MutationKind::EditMember {
        user_id,
        edit: MemberEdit {
            profile: Some(ProfileEdit {
                title: Some(title.into()),
                ..ProfileEdit::default()
            }),
            ..MemberEdit::default()
        },
    }
}

/// Instantiates each story (an `async fn(Backend)`) once per backend.
#[macro_export]
macro_rules! stories {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// Starts the world for a story, or returns from it (skipped) when the backend is absent.
#[macro_export]
macro_rules! world {
    ($backend:expr) => {
        match $crate::common::World::start($backend).await {
            Some(world) => world,
            None => return,
        }
    };
}
