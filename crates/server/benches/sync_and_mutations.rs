//! The sync protocol's performance targets, measured end to end over HTTP: a first sync
//! (snapshot) of a large org, edit mutations, add-member (invite) mutations and their replay.
//!
//! `cargo bench -p orgdesk-server --bench sync_and_mutations`
//! - `ORGDESK_BENCH_MEMBERS`: members seeded (default 100,000; a tenth as many edits, as
//!   many adds as members);
//! - `ORGDESK_BENCH_POSTGRES_URL`: a PostgreSQL server (a fresh database is made and dropped);
//!   SQLite in a temporary directory otherwise;
//! - `ORGDESK_BENCH_DRAIN_MAIL=1`: wait for the mail task to deliver every invitation before
//!   the replay (which otherwise runs beside it).
//!
//! Figures measured are in `benches/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Api, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Instant;

/// Seeds `count` active members straight into the database (the API path is what the
/// other measurements time).
async fn seed_members(s: &TestServer, org: i64, count: usize) {
    let pool = &s.server.store().pool;
    let mut tx = pool.begin().await.unwrap();
    // As if each member had been added by its own change: one change number each.
    let seq: i64 = sqlx::query_scalar(
        "UPDATE orgs SET change_seq = change_seq + $2 WHERE id = $1 RETURNING change_seq",
    )
    .bind(org)
    .bind(count as i64)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    for chunk in (0..count).collect::<Vec<_>>().chunks(200) {
        let mut accounts = String::from(
            "INSERT INTO accounts (email, email_domain, sort_name, display_name, title, created_at) VALUES ",
        );
        let values: Vec<String> = chunk
            .iter()
            .map(|n| format!("('user{n}@seed.example', 'seed.example', 'user {n:06}', 'User {n:06}', 'Engineer', 0)"))
            .collect();
        accounts.push_str(&values.join(", "));
        sqlx::query(sqlx::AssertSqlSafe(accounts))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO memberships (org_id, account_id, role, status, created_at, seq, version) \
         SELECT $1, id, 'member', 'active', 0, $2 - $3 + id, 1 FROM accounts WHERE email_domain = 'seed.example'",
    )
    .bind(org)
    .bind(seq)
    .bind(count as i64 + 1)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// What the bench reads of a feed page: the client's own decoding is measured by the
/// client's benches, so this one skips the changes (a `serde_json::Value` of a 10,000-member
/// page took about as long as the server's part).
#[derive(serde::Deserialize)]
struct PageSummary {
    changes: Vec<serde::de::IgnoredAny>,
    next: String,
    has_more: bool,
}

#[derive(serde::Deserialize)]
struct Results {
    results: Vec<Outcome>,
}

#[derive(serde::Deserialize)]
struct Outcome {
    outcome: String,
}

async fn pull_everything(api: &Api, org: i64) -> usize {
    let mut cursor = "0".to_owned();
    let mut rows = 0;
    loop {
        let answer = api
            .http
            .get(format!(
                "{}/api/v1/orgs/{org}/changes?since={cursor}&limit=10000",
                api.base
            ))
            .bearer_auth(api.token.clone().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        let page: PageSummary = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
        rows += page.changes.len();
        cursor = page.next;
        if !page.has_more {
            return rows;
        }
    }
}

/// The request bodies of `mutations` in batches of 1000, made before the clock starts (the
/// server's part is what this bench measures; a `serde_json::Value` per mutation, cloned
/// and written, cost a tenth of a replay).
fn batches(mutations: &[Value]) -> Vec<(usize, Vec<u8>)> {
    mutations
        .chunks(1000)
        .map(|batch| {
            let body = serde_json::to_vec(&json!({"mutations": batch})).unwrap();
            (batch.len(), body)
        })
        .collect()
}

async fn push(api: &Api, org: i64, batches: &[(usize, Vec<u8>)]) {
    for (count, body) in batches {
        let answer = api
            .http
            .post(format!("{}/api/v1/orgs/{org}/mutations", api.base))
            .bearer_auth(api.token.clone().unwrap())
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let bytes = answer.bytes().await.unwrap();
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        let results: Results = serde_json::from_slice(&bytes).unwrap();
        let applied = results
            .results
            .iter()
            .filter(|r| r.outcome == "applied")
            .count();
        assert_eq!(
            applied,
            *count,
            "{}",
            String::from_utf8_lossy(&bytes[..200.min(bytes.len())])
        );
    }
}

async fn measure(postgres: Option<String>) {
    let backend = if postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let s = TestServer::start_on(postgres).await;
    let (org, admin) = s.org_with_admin("Big", "admin@big.example", false).await;
    let members: usize = std::env::var("ORGDESK_BENCH_MEMBERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    seed_members(&s, org, members).await;
    println!("{backend}: {members} members seeded");
    let started = Instant::now();
    let rows = pull_everything(&admin, org).await;
    println!(
        "{backend}: snapshot of {rows} rows in {:?}",
        started.elapsed()
    );

    let (_, page) = admin
        .get(&format!("/api/v1/orgs/{org}/members?limit=1000&sort=email"))
        .await;
    let ids: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    let edits: Vec<Value> = (0..members / 10)
        .map(|n| json!({"id": format!("edit-{n}"), "change": {"type": "edit_member", "user_id": ids[n % ids.len()], "edit": {"profile": {"title": format!("t{n}")}}}}))
        .collect();
    let edits = batches(&edits);
    let started = Instant::now();
    push(&admin, org, &edits).await;
    println!(
        "{backend}: {} edit mutations in batches of 1000 in {:?}",
        members / 10,
        started.elapsed()
    );

    // The client's push: one edit each to a tenth of the members, scattered over the org's
    // rows, each on its current version.
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT account_id, version FROM memberships WHERE org_id = $1 \
         ORDER BY (account_id * 7919) % 100003 LIMIT $2",
    )
    .bind(org)
    .bind((members / 10) as i64)
    .fetch_all(&s.server.store().pool)
    .await
    .unwrap();
    let edits: Vec<Value> = rows
        .iter()
        .map(|(user, version)| json!({"id": format!("spread-{user}"), "base_version": version, "change": {"type": "edit_member", "user_id": user, "edit": {"profile": {"title": format!("Spread {user}")}}}}))
        .collect();
    let edits = batches(&edits);
    let started = Instant::now();
    push(&admin, org, &edits).await;
    println!(
        "{backend}: {} edit mutations to as many members, on their versions, in {:?}",
        rows.len(),
        started.elapsed()
    );

    let adds: Vec<Value> = (0..members)
        .map(|n| json!({"id": format!("add-{n}"), "change": {"type": "add_member", "member": {"email": format!("new{n}@added.example"), "role": "member"}}}))
        .collect();
    let adds = batches(&adds);
    let started = Instant::now();
    push(&admin, org, &adds).await;
    println!(
        "{backend}: {members} add-member mutations (invite) in {:?}",
        started.elapsed()
    );
    if std::env::var("ORGDESK_BENCH_DRAIN_MAIL").is_ok_and(|v| v == "1") {
        // The replay alone, without the mail task writing the invitations beside it.
        let started = Instant::now();
        loop {
            let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox")
                .fetch_one(&s.server.store().pool)
                .await
                .unwrap();
            if queued == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        println!(
            "{backend}: the mail task delivered the last invitations {:?} later",
            started.elapsed()
        );
    }
    let started = Instant::now();
    push(&admin, org, &adds).await;
    println!("{backend}: their replay in {:?}", started.elapsed());
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this without it: skip then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let postgres = std::env::var("ORGDESK_BENCH_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(measure(postgres));
}
