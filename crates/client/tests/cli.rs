//! The real `orgdesk` binary against the real server, one process per command: sign in in
//! one process and sync in another (the session is in the OS keyring), and exactly-once
//! delivery when the process dies between sending a batch and recording its results.
//!
//! The crash is made with the test-only hook `ORGDESK_TEST_CRASH_AFTER_SEND=1`: the
//! process aborts (SIGABRT: no destructors, no flush, like SIGKILL) right after the
//! mutation batch's HTTP answer arrives and before its results are written to the outbox.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Backend, PASSWORD, add_member};
use orgdesk_client::Cache;
use orgdesk_client::cache::roster::RosterQuery;
use orgdesk_domain::Role;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

stories!(
    login_in_one_process_and_sync_in_another,
    a_crash_between_sending_and_recording_applies_every_change_exactly_once,
);

fn orgdesk(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orgdesk"));
    command
        .args(args)
        .env("ORGDESK_DATA_DIR", data_dir)
        .env("ORGDESK_PASSWORD", PASSWORD)
        .env_remove("ORGDESK_TEST_CRASH_AFTER_SEND")
        .env_remove("ORGDESK_PROFILE");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run orgdesk")
}

#[track_caller]
fn ok(output: Output) -> Value {
    assert!(
        output.status.success(),
        "orgdesk failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

async fn login_in_one_process_and_sync_in_another(backend: Backend) {
    let world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let admin = world.api("admin@acme.example").await;
    add_member(
        &admin,
        org,
        "ada@acme.example",
        "Ada",
        "Lovelace",
        Role::Member,
        false,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    let account = ok(orgdesk(
        data,
        &[
            "--json",
            "login",
            "--server",
            &world.url,
            "--email",
            "admin@acme.example",
        ],
        &[],
    ));
    assert_eq!(account["email"], "admin@acme.example");
    ok(orgdesk(data, &["--json", "orgs"], &[]));
    ok(orgdesk(data, &["--json", "switch", "Acme"], &[]));
    ok(orgdesk(data, &["--json", "sync"], &[]));
    let users = ok(orgdesk(
        data,
        &["--json", "users", "--search", "lovelace"],
        &[],
    ));
    assert_eq!(users[0]["email"], "ada@acme.example", "{users}");

    // The token is in the keyring, and in no file of the data directory.
    let profile_id = Cache::open(&Cache::path_for(data, "default"))
        .unwrap()
        .profile_id()
        .unwrap();
    let token = orgdesk_client::secrets::load_token(&profile_id)
        .unwrap()
        .expect("a session");
    for file in ["cache.sqlite3", "cache.sqlite3-wal"] {
        let path = Cache::path_for(data, "default").with_file_name(file);
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token is not in {}",
            path.display()
        );
    }

    ok(orgdesk(data, &["--json", "logout"], &[]));
    let output = orgdesk(data, &["--json", "sync"], &[]);
    assert!(!output.status.success(), "signed out: no session left");
    let error: Value = serde_json::from_slice(&output.stderr).unwrap_or(Value::Null);
    assert_eq!(error["error"]["code"], "unauthenticated", "{error}");
}

async fn a_crash_between_sending_and_recording_applies_every_change_exactly_once(backend: Backend) {
    let world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let admin = world.api("admin@acme.example").await;
    let mut users = Vec::new();
    for i in 0..3 {
        let email = format!("user{i}@acme.example");
        users.push(
            add_member(
                &admin,
                org,
                &email,
                "User",
                &i.to_string(),
                Role::Member,
                false,
            )
            .await,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(orgdesk(
        data,
        &[
            "--json",
            "login",
            "--server",
            &world.url,
            "--email",
            "admin@acme.example",
        ],
        &[],
    ));
    ok(orgdesk(data, &["--json", "orgs"], &[]));
    ok(orgdesk(data, &["--json", "switch", "Acme"], &[]));
    ok(orgdesk(data, &["--json", "sync"], &[]));
    let mut versions = Vec::new();
    for &user in &users {
        versions.push(admin.member(org, user).await.unwrap().version);
        ok(orgdesk(
            data,
            &[
                "--json",
                "user",
                "edit",
                &user.to_string(),
                "--title",
                "Once",
            ],
            &[],
        ));
    }
    ok(orgdesk(
        data,
        &[
            "--json",
            "user",
            "add",
            "new@acme.example",
            "--first-name",
            "New",
        ],
        &[],
    ));

    let crashed = orgdesk(
        data,
        &["--json", "outbox", "push"],
        &[("ORGDESK_TEST_CRASH_AFTER_SEND", "1")],
    );
    assert!(!crashed.status.success(), "the hook aborted the process");
    {
        let cache = Cache::open(&Cache::path_for(data, "default")).unwrap();
        let pending = cache.outbox().open_changes(Some(org)).unwrap();
        assert_eq!(pending.len(), 4, "the results were never recorded");
    }
    for (&user, &version) in users.iter().zip(&versions) {
        let row = admin.member(org, user).await.unwrap();
        assert_eq!(
            row.profile.title.as_deref(),
            Some("Once"),
            "the server applied it"
        );
        assert_eq!(row.version, version + 1);
    }

    let outcome = ok(orgdesk(data, &["--json", "outbox", "push"], &[]));
    assert_eq!(
        outcome["applied"], 4,
        "the resend got the stored results: {outcome}"
    );
    assert_eq!(
        outcome["rejected"], 0,
        "the add was not made twice (no email_taken): {outcome}"
    );
    for (&user, &version) in users.iter().zip(&versions) {
        let row = admin.member(org, user).await.unwrap();
        assert_eq!(row.version, version + 1, "applied exactly once");
    }
    ok(orgdesk(data, &["--json", "sync"], &[]));
    let cache = Cache::open(&Cache::path_for(data, "default")).unwrap();
    assert!(cache.outbox().open_changes(Some(org)).unwrap().is_empty());
    let added = cache
        .roster(
            org,
            &RosterQuery {
                search: Some("new@acme.example".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(added.len(), 1);
}
