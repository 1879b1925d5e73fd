//! The server's rules as stories over real HTTP, each run on SQLite and on PostgreSQL.

#[macro_use]
mod common;

use common::{Api, Backend, PASSWORD, assert_error, in_days};
use reqwest::StatusCode;
use serde_json::{Value, json};

stories!(an_admin_signs_in_and_sees_their_org,);

async fn an_admin_signs_in_and_sees_their_org(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (status, me) = admin.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["email"], "admin@acme.example");
    let (status, orgs) = admin.get("/api/v1/me/orgs").await;
    assert_eq!(status, StatusCode::OK, "{orgs}");
    assert_eq!(orgs[0]["id"], org);
    assert_eq!(orgs[0]["role"], "admin");
    let (status, info) = admin.get(&format!("/api/v1/orgs/{org}")).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["name"], "Acme");
    let (status, page) = admin.get(&format!("/api/v1/orgs/{org}/members")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let _ = (
        PASSWORD,
        in_days(1),
        assert_error as fn(&(StatusCode, Value), StatusCode, &str),
        None::<Api>,
    );
}
