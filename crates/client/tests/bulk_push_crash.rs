//! A 20,000-row import pushed by the real `orgdesk` binary, killed twice on the way, ends
//! with exactly 20,000 new users on the server and a complete result report.
//!
//! The first interruption is the test-only hook `ORGDESK_TEST_CRASH_AFTER_SEND=1` (the
//! process aborts with a batch's answer in hand, unrecorded: deterministic). The second is
//! a real SIGKILL once the cache shows a few batches recorded; the row count is large
//! enough that the push is still running then (the test says so if it was not).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bulk_support;

use bulk_support::common;

use bulk_support::{ADMIN, Backend, PASSWORD, World};
use orgdesk_client::Cache;
use orgdesk_client::cache::roster::RosterQuery;
use rusqlite::OpenFlags;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const ROWS: usize = 20_000;

fn orgdesk(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orgdesk"));
    command
        .env("ORGDESK_DATA_DIR", data_dir)
        .env("ORGDESK_PASSWORD", PASSWORD)
        .env_remove("ORGDESK_TEST_CRASH_AFTER_SEND")
        .env_remove("ORGDESK_PROFILE")
        .env_remove("ORGDESK_LOG");
    command
}

#[track_caller]
fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "orgdesk failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Rows of the profile's outbox with a recorded result, read beside the running push.
fn recorded(cache_file: &Path) -> i64 {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(cache_file, OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row(
        "SELECT count(*) FROM outbox WHERE state = 'applied'",
        [],
        |row| row.get(0),
    )
    .unwrap_or(0)
}

stories!(a_push_killed_twice_creates_every_row_exactly_once);

async fn a_push_killed_twice_creates_every_row_exactly_once(backend: Backend) {
    let Some(world) = World::start_on(backend).await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let url = world.url();
    let file = dir.join("people.csv");
    let mut csv = String::from("Email,First Name,Last Name,Role\n");
    for i in 0..ROWS {
        csv.push_str(&format!("user{i:05}@bulk.example,User,Number {i},member\n"));
    }
    std::fs::write(&file, csv).unwrap();
    let file = file.display().to_string();
    let org = world.org.to_string();

    let run = |args: Vec<String>| {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || orgdesk(&dir).args(&args).output().unwrap())
    };
    let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    ok(run(args(&["login", "--server", &url, "--email", ADMIN]))
        .await
        .unwrap());
    ok(run(args(&["orgs"])).await.unwrap());
    ok(run(args(&["switch", &org])).await.unwrap());
    ok(run(args(&["sync"])).await.unwrap());
    let template = dir.join("template.csv").display().to_string();
    ok(run(args(&["import", "template", "--out", &template]))
        .await
        .unwrap());
    let header = std::fs::read_to_string(&template).unwrap();
    assert!(
        header.contains("prop:cost_center"),
        "the org's property: {header}"
    );
    let workbook = dir.join("template.xlsx").display().to_string();
    ok(run(args(&[
        "import", "template", "--format", "xlsx", "--out", &workbook,
    ]))
    .await
    .unwrap());
    assert!(std::fs::read(&workbook).unwrap().starts_with(b"PK"));
    let shown = ok(run(args(&["import", "stage", &file])).await.unwrap());
    assert!(shown.contains(&format!("{ROWS} to create")), "{shown}");
    ok(run(args(&["import", "confirm"])).await.unwrap());

    // 1. Abort with the first batch's answer unrecorded.
    let dir_owned = dir.to_owned();
    let crashed = tokio::task::spawn_blocking(move || {
        orgdesk(&dir_owned)
            .args(["import", "push"])
            .env("ORGDESK_TEST_CRASH_AFTER_SEND", "1")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!crashed.status.success(), "the hook aborts the push");

    // 2. SIGKILL once a few batches are recorded.
    let cache_file = Cache::path_for(dir, "default");
    let mut child = orgdesk(dir)
        .args(["import", "push"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while recorded(&cache_file) < 3_000 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the push finished before it could be killed; raise ROWS"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the push stalled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the push finished before it could be killed; raise ROWS"
    );
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let at_kill = recorded(&cache_file);
    assert!(
        (at_kill as usize) < ROWS,
        "killed half-way ({at_kill} recorded)"
    );

    // 3. Run to the end, with the report.
    let report = dir.join("result.csv").display().to_string();
    let out = ok(run(args(&["import", "push", "--report", &report]))
        .await
        .unwrap());
    assert!(out.contains(&format!("{ROWS} created")), "{out}");

    let mut reader = csv::Reader::from_path(&report).unwrap();
    let headers = reader.headers().unwrap().clone();
    let result = headers
        .iter()
        .position(|h| h == "Result")
        .expect("a Result column");
    let mut rows = 0;
    for record in reader.records() {
        let record = record.unwrap();
        assert_eq!(&record[result], "created", "{record:?}");
        rows += 1;
    }
    assert_eq!(rows, ROWS, "every row in the report");

    // The CLI's own cache knows the new users too: its export has every one of them.
    let export = dir.join("export.csv").display().to_string();
    ok(run(args(&["export", "--out", &export])).await.unwrap());
    let exported = csv::Reader::from_path(&export).unwrap().records().count();
    assert_eq!(exported, ROWS + 1);

    // The server's truth, through a fresh sync: the admin plus exactly ROWS users.
    let fresh = world.client(ADMIN).await;
    let count = fresh
        .cache
        .roster_count(world.org, &RosterQuery::default())
        .unwrap();
    assert_eq!(count, ROWS as u64 + 1, "no row lost, none duplicated");
}
