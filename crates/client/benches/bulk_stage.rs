//! Staging a 100,000-row CSV against a cached 100,000-member org (SPEC.md §6 staging), with
//! its data generator: the cache is filled through the change-feed path the sync uses, the
//! file is the org's roster with one row in ten edited (a title) and the rest as they are.
//!
//! Run: `cargo bench -p orgdesk-client --bench bulk_stage` (`ORGDESK_BENCH_ROWS` overrides
//! 100,000). Figures go to `benches/README.md` by hand, with the machine.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: failing loudly is the point

use chrono::{NaiveDate, Utc};
use orgdesk_client::Cache;
use orgdesk_client::cache::META_ACCOUNT_ID;
use orgdesk_client::import::StageOptions;
use orgdesk_domain::wire::{
    Change, ChangesPage, Member, OrgAccess, OrgInfo, OrgSettings, Profile, Workspace,
};
use orgdesk_domain::{OrgKind, Role, Status};
use std::time::{Duration, Instant};

const ORG: i64 = 1;

fn member(i: usize) -> Member {
    Member {
        id: i as i64 + 2,
        email: format!("user{i:06}@bench.example"),
        role: if i.is_multiple_of(50) {
            Role::UserAdmin
        } else {
            Role::Member
        },
        status: Status::Active,
        profile: Profile {
            first_name: Some(format!("First{i}")),
            last_name: Some(format!("Last{i}")),
            title: Some("Engineer".into()),
            company: Some("Bench Ltd".into()),
            city: Some("Berlin".into()),
            ..Profile::default()
        },
        workspaces: vec![(i % 3) as i64 + 1],
        scope: None,
        guest_expires: None,
        properties: Default::default(),
        invited_by: None,
        invited_at: None,
        invitation_expires_at: None,
        created_at: Utc::now(),
        last_active_at: None,
        last_sign_in_at: None,
        version: 1,
    }
}

/// A cache with the org, its three workspaces and `rows` members, signed in as admin 1.
fn cached_org(dir: &std::path::Path, rows: usize) -> Cache {
    let cache = Cache::open(&dir.join("cache.sqlite3")).unwrap();
    cache.set_meta(META_ACCOUNT_ID, "1").unwrap();
    let access = OrgAccess {
        id: ORG,
        name: "Bench".into(),
        kind: OrgKind::Standard,
        role: Role::Admin,
        via_partner: false,
        partner_org_id: None,
        scope_version: 1,
    };
    cache.replace_org_list(&[access], Utc::now()).unwrap();
    let mut changes = vec![Change::Org {
        org: OrgInfo {
            id: ORG,
            name: "Bench".into(),
            kind: OrgKind::Standard,
            domains: vec![],
            settings: OrgSettings::default(),
            partner_org_id: None,
            created_at: Utc::now(),
            version: 1,
        },
    }];
    for (id, name) in [(1, "Sales"), (2, "Support"), (3, "Engineering")] {
        changes.push(Change::Workspace(Workspace {
            id,
            name: name.into(),
            version: 1,
        }));
    }
    cache.begin_bulk().unwrap();
    for chunk in (0..rows).collect::<Vec<_>>().chunks(5_000) {
        let mut page = std::mem::take(&mut changes);
        page.extend(chunk.iter().map(|&i| Change::Member(Box::new(member(i)))));
        let page = ChangesPage {
            changes: page,
            next: "1".into(),
            has_more: false,
        };
        cache.apply_page(ORG, &page, Utc::now()).unwrap();
    }
    cache.finish_bulk().unwrap();
    cache
}

/// The roster as a file: one row in ten with a new title.
fn file(rows: usize) -> Vec<u8> {
    let mut text = String::from("Email,First Name,Last Name,Role,Workspaces,Title,Company,City\n");
    let names = ["Sales", "Support", "Engineering"];
    for i in 0..rows {
        let m = member(i);
        let title = if i.is_multiple_of(10) {
            "Senior Engineer"
        } else {
            "Engineer"
        };
        text.push_str(&format!(
            "{},First{i},Last{i},{},{},{title},Bench Ltd,Berlin\n",
            m.email,
            m.role.as_str(),
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
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let cache = cached_org(dir.path(), rows);
    let bytes = file(rows);
    eprintln!(
        "generated: {rows} cached members and a {:.1} MB file in {:.1} s",
        bytes.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..5 {
        let options = StageOptions {
            file_name: "bench.csv",
            sheet: None,
            default_role: None,
            today,
            now: Utc::now(),
        };
        let started = Instant::now();
        let staged = cache.stage_import(ORG, &bytes, &options).unwrap();
        times.push(started.elapsed());
        let c = staged.counts;
        assert_eq!(
            (c.update, c.unchanged, c.error),
            (rows.div_ceil(10), rows - rows.div_ceil(10), 0),
            "{c:?}"
        );
    }
    times.sort();
    // Where the time goes: the domain's two reads of the file, apart.
    let workspaces = vec![
        "Sales".to_owned(),
        "Support".to_owned(),
        "Engineering".to_owned(),
    ];
    let options = orgdesk_domain::import::ImportOptions {
        workspaces: Some(&workspaces),
        ..orgdesk_domain::import::ImportOptions::new(today)
    };
    let started = Instant::now();
    orgdesk_domain::import::parse(&bytes, &options).unwrap();
    let parse = started.elapsed();
    let started = Instant::now();
    orgdesk_domain::import::read_table(&bytes, None).unwrap();
    let table = started.elapsed();
    println!(
        "of which domain::import::parse {:.3} s, read_table (the report's cells) {:.3} s",
        parse.as_secs_f64(),
        table.as_secs_f64()
    );
    println!(
        "stage {rows} rows against {rows} cached members: best {:.3} s, median {:.3} s (5 runs)",
        times[0].as_secs_f64(),
        times[2].as_secs_f64()
    );
}
