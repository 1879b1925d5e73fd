//! The demo seed (`orgdesk_server::demo`) against a real server over HTTP, on SQLite and
//! on PostgreSQL: the partner admin signs in and reaches every client, a client's change
//! feed carries every seeded row, the rows pass the server's own rules, and seeding again
//! writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::{Api, Backend, TestServer};
use orgdesk_server::demo::{DemoPlan, DemoSeed};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Instant;

stories!(
    the_partner_admin_signs_in_and_reaches_every_client,
    a_clients_feed_carries_every_seeded_row,
    seeded_members_are_edited_by_the_servers_own_rules,
    seeding_again_writes_nothing,
);

fn small_plan() -> DemoPlan {
    DemoPlan {
        clients: 3,
        members: 600,
        ..DemoPlan::standard()
    }
}

async fn seeded(s: &TestServer) -> (DemoSeed, Api) {
    let plan = small_plan();
    let seed = s.server.seed_demo(&plan).await.expect("seed");
    assert!(seed.seeded_now);
    assert_eq!(seed.client_org_ids.len(), 3);
    assert_eq!(seed.members(), 600);
    let admin = s.login(&plan.admin_email, &plan.admin_password).await;
    (seed, admin)
}

/// Every change of the org's feed from cursor 0, in small pages (paging included).
async fn pull(api: &Api, org: i64) -> (Vec<Value>, String) {
    let mut cursor = "0".to_owned();
    let mut changes = Vec::new();
    loop {
        let (status, page) = api
            .get(&format!(
                "/api/v1/orgs/{org}/changes?since={cursor}&limit=250"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        changes.extend(page["changes"].as_array().unwrap().iter().cloned());
        cursor = page["next"].as_str().unwrap().to_owned();
        if !page["has_more"].as_bool().unwrap() {
            return (changes, cursor);
        }
    }
}

fn of_kind<'c>(changes: &'c [Value], kind: &str) -> Vec<&'c Value> {
    changes.iter().filter(|c| c["kind"] == kind).collect()
}

async fn the_partner_admin_signs_in_and_reaches_every_client(backend: Backend) {
    let s = server!(backend);
    let (seed, admin) = seeded(&s).await;
    let (status, orgs) = admin.get("/api/v1/me/orgs").await;
    assert_eq!(status, StatusCode::OK, "{orgs}");
    let orgs = orgs.as_array().unwrap();
    assert_eq!(orgs.len(), 1 + seed.client_org_ids.len(), "{orgs:?}");
    let partner = orgs
        .iter()
        .find(|o| o["id"] == seed.partner_org_id)
        .unwrap();
    assert_eq!(partner["kind"], "partner");
    assert_eq!(partner["role"], "admin");
    assert_eq!(partner["via_partner"], false);
    for client in &seed.client_org_ids {
        let access = orgs.iter().find(|o| o["id"] == *client).unwrap();
        assert_eq!(access["kind"], "client");
        assert_eq!(access["via_partner"], true);
        assert_eq!(access["partner_org_id"], seed.partner_org_id);
    }
    // The partner's own staff, each role once or more.
    let (changes, _) = pull(&admin, seed.partner_org_id).await;
    let staff = of_kind(&changes, "member");
    assert_eq!(staff.len(), seed.partner_members);
    for role in [
        "admin",
        "user_admin",
        "viewer_admin",
        "billing_admin",
        "member",
    ] {
        assert!(staff.iter().any(|m| m["role"] == role), "no partner {role}");
    }
}

async fn a_clients_feed_carries_every_seeded_row(backend: Backend) {
    let s = server!(backend);
    let (seed, admin) = seeded(&s).await;
    for (org, members) in seed.client_org_ids.iter().zip(&seed.client_members) {
        let (changes, _) = pull(&admin, *org).await;
        assert_eq!(of_kind(&changes, "org").len(), 1);
        assert_eq!(of_kind(&changes, "member").len(), *members, "org {org}");
        let workspaces = of_kind(&changes, "workspace").len();
        assert!((3..=8).contains(&workspaces), "{workspaces} workspaces");
        let definitions = of_kind(&changes, "property_definition").len();
        assert!((2..=4).contains(&definitions), "{definitions} properties");
    }
    // The largest client has every kind of member.
    let (changes, _) = pull(&admin, seed.client_org_ids[0]).await;
    let members = of_kind(&changes, "member");
    let count = |f: &dyn Fn(&Value) -> bool| members.iter().filter(|m| f(m)).count();
    let guests = count(&|m| m["role"] == "guest");
    assert!(guests > 0);
    assert_eq!(
        count(&|m| m["role"] == "guest" && m["guest_expires"].is_string()),
        guests
    );
    assert!(count(&|m| m["status"] == "expired") > 0, "expired guests");
    assert!(
        count(&|m| m["status"] == "pending") > 0,
        "pending invitations"
    );
    assert!(
        count(&|m| m["status"] == "suspended") > 0,
        "suspended members"
    );
    assert!(count(&|m| m["role"] == "admin" && m["status"] == "active") >= 1);
    assert!(
        count(&|m| m["workspaces"].is_array()) > 0,
        "workspace grants"
    );
    assert!(
        count(&|m| m["properties"].is_object()) > members.len() / 2,
        "property values"
    );
    assert_eq!(
        count(&|m| m["status"] == "pending" && m["last_active_at"].is_null()),
        count(&|m| m["status"] == "pending")
    );
    // Values of the right kind for their definitions, grants of the org's workspaces.
    let kinds: HashMap<&str, &Value> = of_kind(&changes, "property_definition")
        .iter()
        .map(|d| (d["key"].as_str().unwrap(), *d))
        .collect();
    let workspaces: Vec<i64> = of_kind(&changes, "workspace")
        .iter()
        .map(|w| w["id"].as_i64().unwrap())
        .collect();
    for member in &members {
        if let Some(values) = member["properties"].as_object() {
            for (key, value) in values {
                let ok = match kinds[key.as_str()]["type"].as_str().unwrap() {
                    "text" | "date" => value.is_string(),
                    "number" => value.is_number(),
                    "bool" => value.is_boolean(),
                    "one_of" => kinds[key.as_str()]["options"]
                        .as_array()
                        .unwrap()
                        .contains(value),
                    other => panic!("unknown kind {other}"),
                };
                assert!(ok, "{key} = {value} in {member}");
            }
        }
        for id in member["workspaces"].as_array().into_iter().flatten() {
            assert!(workspaces.contains(&id.as_i64().unwrap()));
        }
    }
}

async fn seeded_members_are_edited_by_the_servers_own_rules(backend: Backend) {
    let s = server!(backend);
    let (seed, admin) = seeded(&s).await;
    let org = seed.client_org_ids[0];
    let (changes, cursor) = pull(&admin, org).await;
    let members = of_kind(&changes, "member");
    let member = members
        .iter()
        .find(|m| m["role"] == "member" && m["status"] == "active" && m["properties"].is_object())
        .unwrap();
    let guest = members.iter().find(|m| m["status"] == "expired").unwrap();
    // Writing a member's stored property values back has the server check every one.
    let edits = json!({"mutations": [
        {"id": "demo-edit-1", "base_version": member["version"], "change": {"type": "edit_member",
            "user_id": member["id"], "edit": {"profile": {"title": "Head of Demos"},
            "properties": member["properties"]}}},
        {"id": "demo-edit-2", "base_version": guest["version"], "change": {"type": "edit_member",
            "user_id": guest["id"], "edit": {"guest_expires": common::in_days(30)}}},
    ]});
    let (status, results) = admin
        .post(&format!("/api/v1/orgs/{org}/mutations"), edits)
        .await;
    assert_eq!(status, StatusCode::OK, "{results}");
    for result in results["results"].as_array().unwrap() {
        assert_eq!(result["outcome"], "applied", "{results}");
    }
    let (status, page) = admin
        .get(&format!("/api/v1/orgs/{org}/changes?since={cursor}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let changed = page["changes"].as_array().unwrap();
    let edited = changed.iter().find(|c| c["id"] == member["id"]).unwrap();
    assert_eq!(edited["title"], "Head of Demos");
    let extended = changed.iter().find(|c| c["id"] == guest["id"]).unwrap();
    assert_eq!(extended["status"], "active");

    // A seeded invitation can be resent: it gets a link that is mailed.
    let pending = members.iter().find(|m| m["status"] == "pending").unwrap();
    let (status, answer) = admin
        .post_empty(&format!(
            "/api/v1/orgs/{org}/members/{}/invitation/resend",
            pending["id"]
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let link = s.invitation_link(pending["email"].as_str().unwrap()).await;
    assert!(link.contains("/invite/"));
}

async fn seeding_again_writes_nothing(backend: Backend) {
    let s = server!(backend);
    let (first, _) = seeded(&s).await;
    let pool = &s.server.store().pool;
    let totals = || async {
        let mut totals = Vec::new();
        for sql in [
            "SELECT COUNT(*) FROM accounts",
            "SELECT COUNT(*) FROM memberships",
            "SELECT COUNT(*) FROM audit_events",
            "SELECT COUNT(*) FROM orgs",
            "SELECT CAST(COALESCE(SUM(change_seq), 0) AS BIGINT) FROM orgs",
            "SELECT COUNT(*) FROM mail_outbox",
        ] {
            let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await.unwrap();
            totals.push(n);
        }
        totals
    };
    let before = totals().await;
    assert_eq!(before[5], 0, "seeding mails nobody");
    let again = s.server.seed_demo(&small_plan()).await.unwrap();
    assert!(!again.seeded_now);
    assert_eq!(
        again,
        DemoSeed {
            seeded_now: false,
            ..first
        }
    );
    assert_eq!(totals().await, before);
}

/// How long the desktop's standard demo (20 clients, 50,000 members) takes to seed, on
/// SQLite and (when configured) PostgreSQL; a print, not an assertion
/// (`cargo test -p orgdesk-server --test demo -- --nocapture standard`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_demo_seeds_in_seconds() {
    time_the_standard_demo(Backend::Sqlite).await;
    time_the_standard_demo(Backend::Postgres).await;
}

async fn time_the_standard_demo(backend: Backend) {
    let s = server!(backend);
    let started = Instant::now();
    let seed = s.server.seed_demo(&DemoPlan::standard()).await.unwrap();
    let took = started.elapsed();
    println!(
        "{backend:?}: standard demo ({} clients, {} members) seeded in {took:?}; client sizes {:?}",
        seed.client_org_ids.len(),
        seed.members(),
        seed.client_members
    );
    assert_eq!(seed.members(), 50_000);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships")
        .fetch_one(&s.server.store().pool)
        .await
        .unwrap();
    assert_eq!(stored as usize, seed.members() + seed.partner_members);
}
