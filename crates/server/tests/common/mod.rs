//! The test harness: a real server on port 0 over SQLite or a fresh PostgreSQL database,
//! a mailbox directory, and a small HTTP client that signs in.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use orgdesk_server::{NewOrg, RunningServer, Settings};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

mod postgres;
pub use postgres::{TestDatabase, postgres_url};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub server: RunningServer,
    pub mailbox: PathBuf,
    pub http: reqwest::Client,
    /// The test's PostgreSQL database, dropped with the test.
    postgres: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestServer {
    /// `None` when the backend is not available here (PostgreSQL outside CI).
    pub async fn start(backend: Backend) -> Option<TestServer> {
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(postgres_url()?),
        };
        Some(TestServer::start_on(postgres).await)
    }

    /// On SQLite, or on a fresh database of the given PostgreSQL server.
    pub async fn start_on(postgres_server: Option<String>) -> TestServer {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let (database, postgres) = match postgres_server {
            None => (dir.path().join("orgdesk.db").display().to_string(), None),
            Some(server) => {
                let database = TestDatabase::create(&server).await;
                (database.url.clone(), Some(database))
            }
        };
        let mailbox = dir.path().join("mailbox");
        let settings = Settings::local(database, &mailbox);
        let server = orgdesk_server::start(settings)
            .await
            .expect("server starts");
        TestServer {
            server,
            mailbox,
            http: reqwest::Client::new(),
            postgres,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base_url(), path)
    }

    /// A new org whose first admin can sign in; returns (org id, the admin's client).
    pub async fn org_with_admin(&self, name: &str, admin: &str, partner: bool) -> (i64, Api) {
        let created = self
            .server
            .create_org(NewOrg {
                name: name.into(),
                admin_email: admin.into(),
                partner,
                admin_password: Some(PASSWORD.into()),
            })
            .await
            .expect("create org");
        (created.org_id, self.login(admin, PASSWORD).await)
    }

    pub async fn login(&self, email: &str, password: &str) -> Api {
        let (status, body) = self
            .anonymous()
            .post(
                "/api/v1/auth/login",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login of {email}: {body}");
        let token = body["token"].as_str().expect("token").to_owned();
        Api {
            base: self.server.base_url(),
            http: self.http.clone(),
            token: Some(token),
            user_id: body["account"]["id"].as_i64().unwrap_or_default(),
        }
    }

    pub fn anonymous(&self) -> Api {
        Api {
            base: self.server.base_url(),
            http: self.http.clone(),
            token: None,
            user_id: 0,
        }
    }

    /// Adds a member with a password (set silently) and signs them in.
    pub async fn member(&self, admin: &Api, org: i64, email: &str, role: &str) -> (i64, Api) {
        let mut body = json!({"email": email, "role": role, "onboarding": "set_silently", "password": PASSWORD});
        if role == "guest" {
            body["guest_expires"] = json!(in_days(30));
        }
        let (status, member) = admin
            .post(&format!("/api/v1/orgs/{org}/members"), body)
            .await;
        assert_eq!(status, StatusCode::CREATED, "adding {email}: {member}");
        let id = member["id"].as_i64().expect("member id");
        (id, self.login(email, PASSWORD).await)
    }

    /// The newest mail to `to`, waiting for the mail task.
    pub async fn mail_to(&self, to: &str) -> String {
        for _ in 0..100 {
            if let Some(mail) = self.mails_to(to).pop() {
                return mail;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let all: Vec<String> = std::fs::read_dir(&self.mailbox)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        panic!(
            "no mail to {to} arrived in {}; there are: {all:#?}",
            self.mailbox.display()
        );
    }

    pub fn mails_to(&self, to: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.mailbox) else {
            return Vec::new();
        };
        let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        names
            .into_iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .filter(|mail| {
                mail.lines()
                    .any(|line| line.starts_with("To: ") && line.contains(to))
            })
            .collect()
    }

    /// Follows an invitation link: the page, then its form with `password`.
    pub async fn accept_invitation(
        &self,
        link: &str,
        password: Option<&str>,
    ) -> (StatusCode, String) {
        let page = self.http.get(link).send().await.expect("invitation page");
        assert_eq!(page.status(), StatusCode::OK, "invitation page {link}");
        let html = page.text().await.expect("page body");
        assert!(html.contains("<form method=\"post\""), "{html}");
        let body = password
            .map(|p| format!("password={p}"))
            .unwrap_or_default();
        let answer = self
            .http
            .post(link)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("accept");
        let status = answer.status();
        (status, answer.text().await.expect("answer body"))
    }

    pub async fn invitation_link(&self, to: &str) -> String {
        let mail = self.mail_to(to).await;
        mail.lines()
            .find(|line| line.contains("/invite/"))
            .map(|line| line.trim().to_owned())
            .unwrap_or_else(|| panic!("no invitation link in {mail}"))
    }
}

pub fn in_days(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

/// A signed-in (or anonymous) HTTP client.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
    pub user_id: i64,
}

impl Api {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value, headers)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, v, _) = self.send(Method::GET, path, None, &[]).await;
        (s, v)
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, v, _) = self.send(Method::POST, path, Some(body), &[]).await;
        (s, v)
    }

    pub async fn post_empty(&self, path: &str) -> (StatusCode, Value) {
        let (s, v, _) = self.send(Method::POST, path, None, &[]).await;
        (s, v)
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, v, _) = self.send(Method::PATCH, path, Some(body), &[]).await;
        (s, v)
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, v, _) = self.send(Method::PUT, path, Some(body), &[]).await;
        (s, v)
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let (s, v, _) = self.send(Method::DELETE, path, None, &[]).await;
        (s, v)
    }
}

/// Asserts an error answer's status and code.
#[track_caller]
pub fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(answer.0, status, "expected {status} {code}, got {answer:?}");
    assert_eq!(answer.1["code"], code, "expected {code}, got {answer:?}");
    assert!(
        answer.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a message: {answer:?}"
    );
}

/// Instantiates each story (an `async fn(Backend)`) once per backend.
#[allow(unused_macros)]
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

/// Starts the server for a story, or returns from it (skipped) when the backend is absent.
#[allow(unused_macros)]
macro_rules! server {
    ($backend:expr) => {
        match crate::common::TestServer::start($backend).await {
            Some(server) => server,
            None => return,
        }
    };
}
