//! Pushing a 100,000-row import to the real server on SQLite (in this process, over
//! loopback), then replaying it: the same mutation ids sent again, as after a crash that
//! lost every recorded result, each answered from the server's stored results. The replay
//! starts once the server's mail task has delivered the invitations, as after a restart.
//! Both go through `push_import` (the CLI's and the app's push); the replay is also timed
//! in steps, one after the other, to tell the client's part from the server's.
//!
//! The data generator is the file: 100,000 new members (email, names, role, a workspace,
//! a title), invited (the default onboarding: no password hashing on the server).
//!
//! Run: `cargo bench -p orgdesk-client --bench bulk_push` (`ORGDESK_BENCH_ROWS` overrides
//! 100,000). Figures go to `benches/README.md` by hand, with the machine.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: failing loudly is the point

use chrono::{NaiveDate, Utc};
use orgdesk_client::cache::META_ACCOUNT_ID;
use orgdesk_client::import::{StageOptions, push_import};
use orgdesk_client::sync::{self, SyncOptions};
use orgdesk_client::{Api, Cache};
use orgdesk_domain::wire::{LoginRequest, MAX_MUTATIONS_PER_BATCH};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const ADMIN: &str = "admin@bench.example";

fn file(rows: usize) -> Vec<u8> {
    let mut text = String::from("Email,First Name,Last Name,Role,Workspaces,Title\n");
    let names = ["Sales", "Support", "Engineering"];
    for i in 0..rows {
        text.push_str(&format!(
            "new{i:06}@bench.example,First{i},Last{i},member,{},Engineer\n",
            names[i % 3]
        ));
    }
    text.into_bytes()
}

fn main() {
    let rows: usize = std::env::var("ORGDESK_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench(rows));
}

async fn bench(rows: usize) {
    let dir = tempfile::tempdir().unwrap();
    let settings = orgdesk_server::Settings::local(
        dir.path().join("server.db").display().to_string(),
        dir.path().join("mailbox"),
    );
    let server = orgdesk_server::start(settings).await.unwrap();
    let created = server
        .create_org(orgdesk_server::NewOrg {
            name: "Bench".into(),
            admin_email: ADMIN.into(),
            partner: false,
            admin_password: Some(PASSWORD.into()),
        })
        .await
        .unwrap();
    let org = created.org_id;
    let http = reqwest::Client::new();
    let api = Api::new(&server.base_url()).unwrap();
    let login = api
        .login(&LoginRequest {
            email: ADMIN.into(),
            password: PASSWORD.into(),
            totp: None,
        })
        .await
        .unwrap();
    for name in ["Sales", "Support", "Engineering"] {
        let status = http
            .post(format!(
                "{}/api/v1/orgs/{org}/workspaces",
                server.base_url()
            ))
            .bearer_auth(&login.token)
            .json(&serde_json::json!({"name": name}))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success());
    }
    let api = api.with_token(login.token);
    let cache = Cache::open(&dir.path().join("cache.sqlite3")).unwrap();
    cache
        .set_meta(META_ACCOUNT_ID, &login.account.id.to_string())
        .unwrap();
    let options = SyncOptions {
        orgs: Some(vec![org]),
        pull_only: false,
    };
    sync::sync(&api, &cache, &options, &mut |_| {})
        .await
        .unwrap();

    let bytes = file(rows);
    let today: NaiveDate = Utc::now().date_naive();
    let started = Instant::now();
    let staged = cache
        .stage_import(
            org,
            &bytes,
            &StageOptions {
                file_name: "bench.csv",
                sheet: None,
                default_role: None,
                today,
                now: Utc::now(),
            },
        )
        .unwrap();
    assert_eq!(staged.counts.create, rows);
    let stage = started.elapsed();
    let started = Instant::now();
    cache.confirm_import(staged.id, Utc::now()).unwrap();
    let confirm = started.elapsed();

    // The push as the CLI and the app make it: each batch's results are recorded while the
    // next batch is on its way.
    let started = Instant::now();
    let pushed = push_import(&api, &cache, staged.id, &mut |_| {})
        .await
        .unwrap();
    let push = started.elapsed();
    assert_eq!(pushed.counts.created, rows, "{:?}", pushed.counts);
    let report = cache.import_report(staged.id).unwrap();
    assert_eq!(report.counts.created, rows, "{:?}", report.counts);

    // The server sends the 100,000 invitations from its mail queue in the background, still
    // at it when the push ends. A replay comes after a crash and a restart: measure it once
    // the queue is delivered, so that its figure is the replay's work alone.
    let started = Instant::now();
    let mailbox = dir.path().join("mailbox");
    while std::fs::read_dir(&mailbox).unwrap().count() < rows {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the invitations were not delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivery = started.elapsed();

    // The replay: every result forgotten, every id sent again.
    let outbox = dir.path().join("cache.sqlite3");
    drop(cache);
    {
        let conn = rusqlite::Connection::open(&outbox).unwrap();
        conn.execute(
            "UPDATE outbox SET state = 'pending', applied_version = NULL",
            [],
        )
        .unwrap();
    }
    let cache = Cache::open(&outbox).unwrap();
    let started = Instant::now();
    let replayed = push_import(&api, &cache, staged.id, &mut |_| {})
        .await
        .unwrap();
    let replay = started.elapsed();
    assert_eq!(replayed.counts.created, rows, "{:?}", replayed.counts);

    // The replay again, its steps one after the other and timed apart, to tell the client's
    // part from the server's stored answers.
    drop(cache);
    {
        let conn = rusqlite::Connection::open(&outbox).unwrap();
        conn.execute(
            "UPDATE outbox SET state = 'pending', applied_version = NULL",
            [],
        )
        .unwrap();
    }
    let cache = Cache::open(&outbox).unwrap();
    let (mut replay_read, mut replay_send, mut replay_record) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    loop {
        let t = Instant::now();
        let batch = cache
            .outbox()
            .take_batch(org, MAX_MUTATIONS_PER_BATCH)
            .unwrap();
        if batch.is_empty() {
            break;
        }
        replay_read += t.elapsed();
        let t = Instant::now();
        let results = api.push_batch(org, &batch).await.unwrap();
        replay_send += t.elapsed();
        let t = Instant::now();
        cache
            .outbox()
            .record_results(org, &results.results, Utc::now())
            .unwrap();
        replay_record += t.elapsed();
    }
    let t = Instant::now();
    cache.finish_bulk().unwrap();
    replay_record += t.elapsed();
    let t = Instant::now();
    let report = cache.import_report(staged.id).unwrap();
    let replay_report = t.elapsed();
    assert_eq!(report.counts.created, rows, "{:?}", report.counts);

    println!("stage {rows} new rows: {:.3} s", stage.as_secs_f64());
    println!(
        "confirm (outbox, one transaction): {:.3} s",
        confirm.as_secs_f64()
    );
    println!(
        "push {rows} rows in {} batches: {:.3} s",
        rows.div_ceil(MAX_MUTATIONS_PER_BATCH),
        push.as_secs_f64(),
    );
    println!(
        "the invitations' delivery to the mailbox went on {:.3} s after the push",
        delivery.as_secs_f64()
    );
    println!("replay of the same ids: {:.3} s", replay.as_secs_f64());
    println!(
        "  again in steps, one after the other: client reads {:.3} s, server answers {:.3} s, client records {:.3} s, report {:.3} s",
        replay_read.as_secs_f64(),
        replay_send.as_secs_f64(),
        replay_record.as_secs_f64(),
        replay_report.as_secs_f64()
    );
    server.shutdown().await.unwrap();
}
