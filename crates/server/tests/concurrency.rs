//! Many writers on one org while a reader follows the change feed: the reader must end
//! with exactly the server's rows (ids and versions), so no committed change was skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::{Api, Backend};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

stories!(a_feed_reader_misses_nothing_while_eight_writers_write);

const WRITERS: usize = 8;
const WRITES: usize = 200;

/// Applies one page to the reader's copy; answers (next cursor, has_more).
fn apply(copy: &mut BTreeMap<i64, i64>, page: &Value) -> (String, bool) {
    for change in page["changes"].as_array().unwrap() {
        match change["kind"].as_str().unwrap() {
            "member" => {
                copy.insert(
                    change["id"].as_i64().unwrap(),
                    change["version"].as_i64().unwrap(),
                );
            }
            "member_removed" => {
                copy.remove(&change["id"].as_i64().unwrap());
            }
            _ => {}
        }
    }
    (
        page["next"].as_str().unwrap().to_owned(),
        page["has_more"] == true,
    )
}

async fn pull(api: &Api, org: i64, copy: &mut BTreeMap<i64, i64>, cursor: &mut String) {
    loop {
        let (status, page) = api
            .get(&format!(
                "/api/v1/orgs/{org}/changes?since={cursor}&limit=50"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let (next, more) = apply(copy, &page);
        *cursor = next;
        if !more {
            return;
        }
    }
}

async fn a_feed_reader_misses_nothing_while_eight_writers_write(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Busy", "admin@busy.example", false).await;
    let mut targets = Vec::new();
    for n in 0..WRITERS {
        let (status, added) = admin
            .post(
                &format!("/api/v1/orgs/{org}/members"),
                json!({"email": format!("t{n}@busy.example"), "role": "member"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{added}");
        targets.push(added["id"].as_i64().unwrap());
    }
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let api = admin.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut copy = BTreeMap::new();
            let mut cursor = "0".to_owned();
            let mut pulls = 0;
            while !done.load(Ordering::SeqCst) {
                pull(&api, org, &mut copy, &mut cursor).await;
                pulls += 1;
            }
            pull(&api, org, &mut copy, &mut cursor).await;
            (copy, pulls)
        })
    };
    let mut writers = Vec::new();
    for (n, target) in targets.into_iter().enumerate() {
        let api = admin.clone();
        writers.push(tokio::spawn(async move {
            for write in 0..WRITES {
                let (status, body) = if write % 5 == 0 {
                    api.post(
                        &format!("/api/v1/orgs/{org}/members"),
                        json!({"email": format!("w{n}-{write}@busy.example"), "role": "member"}),
                    )
                    .await
                } else if write % 17 == 0 {
                    let (_, page) = api
                        .get(&format!("/api/v1/orgs/{org}/members?search=w{n}-&limit=1"))
                        .await;
                    match page["items"]
                        .as_array()
                        .and_then(|items| items.first())
                        .and_then(|m| m["id"].as_i64())
                    {
                        Some(id) => {
                            api.delete(&format!("/api/v1/orgs/{org}/members/{id}"))
                                .await
                        }
                        None => (StatusCode::NO_CONTENT, Value::Null),
                    }
                } else {
                    api.patch(
                        &format!("/api/v1/orgs/{org}/members/{target}"),
                        json!({"profile": {"title": format!("write {write}")}}),
                    )
                    .await
                };
                assert!(
                    status.is_success(),
                    "writer {n} write {write}: {status} {body}"
                );
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let (copy, pulls) = reader.await.unwrap();
    assert!(
        pulls > 1,
        "the reader pulled while the writers wrote ({pulls} pulls)"
    );
    let mut server_rows = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/api/v1/orgs/{org}/members?limit=1000&after={a}"),
            None => format!("/api/v1/orgs/{org}/members?limit=1000"),
        };
        let (_, page) = admin.get(&path).await;
        for m in page["items"].as_array().unwrap() {
            server_rows.insert(m["id"].as_i64().unwrap(), m["version"].as_i64().unwrap());
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        copy.len(),
        server_rows.len(),
        "the reader has as many members as the server"
    );
    assert_eq!(
        copy, server_rows,
        "the reader's ids and versions are the server's"
    );
}
