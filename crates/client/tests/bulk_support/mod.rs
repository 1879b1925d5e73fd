//! The bulk tests' world: a real server in-process (port 0, on a temp SQLite file or a fresh
//! PostgreSQL database, and a mailbox directory), an org with workspaces and a custom property, and a client cache
//! synced from it as a signed-in account.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, Utc};
use orgdesk_client::cache::META_ACCOUNT_ID;
use orgdesk_client::sync::{self, SyncOptions};
use orgdesk_client::{Api, Cache};
use orgdesk_domain::wire::{LoginRequest, OrgId};
use orgdesk_server::{NewOrg, RunningServer, Settings};
use serde_json::{Value, json};

#[path = "../common/mod.rs"]
pub mod common;
pub use common::Backend;

pub const PASSWORD: &str = "correct horse battery staple";
pub const ADMIN: &str = "admin@acme.example";

pub struct World {
    pub server: RunningServer,
    pub org: OrgId,
    pub http: reqwest::Client,
    pub admin_token: String,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database, dropped with the world.
    pub database: Option<common::TestDatabase>,
}

/// A signed-in client: its API and its own cache.
pub struct Client {
    pub api: Api,
    pub cache: Cache,
    pub account_id: i64,
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

pub fn in_days(days: u64) -> String {
    (today() + chrono::Days::new(days)).to_string()
}

impl World {
    /// The server and an org "Acme" (admin admin@acme.example) with the workspaces Sales,
    /// Support and Engineering and a text property `cost_center`.
    pub async fn start() -> World {
        World::start_on(Backend::Sqlite)
            .await
            .expect("SQLite is always there")
    }

    /// [`World::start`] on the given backend; `None` when it is not available here
    /// (PostgreSQL outside CI).
    pub async fn start_on(backend: Backend) -> Option<World> {
        let dir = tempfile::tempdir().unwrap();
        let (database, postgres) = match backend {
            Backend::Sqlite => (dir.path().join("server.db").display().to_string(), None),
            Backend::Postgres => {
                let database = common::TestDatabase::create(&common::postgres_url()?).await;
                (database.url.clone(), Some(database))
            }
        };
        let settings = Settings::local(database, dir.path().join("mailbox"));
        let server = orgdesk_server::start(settings)
            .await
            .expect("server starts");
        let created = server
            .create_org(NewOrg {
                name: "Acme".into(),
                admin_email: ADMIN.into(),
                partner: false,
                admin_password: Some(PASSWORD.into()),
            })
            .await
            .expect("org");
        let http = reqwest::Client::new();
        let mut world = World {
            server,
            org: created.org_id,
            http,
            admin_token: String::new(),
            dir,
            database: postgres,
        };
        world.admin_token = world.token(ADMIN).await;
        for name in ["Sales", "Support", "Engineering"] {
            world
                .post(
                    &format!("/api/v1/orgs/{}/workspaces", world.org),
                    json!({"name": name}),
                )
                .await;
        }
        world
            .post(
                &format!("/api/v1/orgs/{}/properties", world.org),
                json!({"key": "cost_center", "label": "Cost Center", "type": "text"}),
            )
            .await;
        Some(world)
    }

    pub fn url(&self) -> String {
        self.server.base_url()
    }

    async fn token(&self, email: &str) -> String {
        let answer: Value = self
            .http
            .post(format!("{}/api/v1/auth/login", self.url()))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["token"].as_str().expect("token").to_owned()
    }

    /// POST as the org's admin; panics unless 2xx.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.url()))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    /// Adds a member (active, with the shared password) and returns its id.
    pub async fn member(&self, email: &str, role: &str, extra: Value) -> i64 {
        let mut body = json!({"email": email, "role": role, "onboarding": "set_silently", "password": PASSWORD});
        if role == "guest" {
            body["guest_expires"] = json!(in_days(30));
        }
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        let member = self
            .post(&format!("/api/v1/orgs/{}/members", self.org), body)
            .await;
        member["id"].as_i64().expect("member id")
    }

    /// Signs `email` in with a fresh cache and syncs the org into it.
    pub async fn client(&self, email: &str) -> Client {
        let api = Api::new(&self.url()).unwrap();
        let answer = api
            .login(&LoginRequest {
                email: email.into(),
                password: PASSWORD.into(),
                totp: None,
            })
            .await
            .expect("login");
        let api = api.with_token(answer.token);
        let path =
            self.dir
                .path()
                .join(format!("cache-{}-{}.sqlite3", email, uuid::Uuid::new_v4()));
        let cache = Cache::open(&path).unwrap();
        cache
            .set_meta(META_ACCOUNT_ID, &answer.account.id.to_string())
            .unwrap();
        let client = Client {
            api,
            cache,
            account_id: answer.account.id,
        };
        client.sync(self.org).await;
        client
    }
}

impl Client {
    pub async fn sync(&self, org: OrgId) {
        let options = SyncOptions {
            orgs: Some(vec![org]),
            pull_only: false,
        };
        sync::sync(&self.api, &self.cache, &options, &mut |_| {})
            .await
            .expect("sync");
    }
}
