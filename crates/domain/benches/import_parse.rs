//! How long parsing and validating a large import takes, in the release profile.
//!
//! `cargo bench -p orgdesk-domain --bench import_parse`. The staging pipeline's budget for a
//! 100,000-row file is one second; parsing must be well inside it. Figures: BENCHMARKS.md.

#![allow(
    clippy::unwrap_used,
    reason = "generated inputs; a panic is the benchmark failing"
)]

use chrono::NaiveDate;
use orgdesk_domain::Role;
use orgdesk_domain::export::{ExportColumns, ExportUser, export_csv, export_xlsx};
use orgdesk_domain::import::{ImportOptions, parse};
use orgdesk_domain::role::Status;
use std::time::{Duration, Instant};

const ROWS: usize = 100_000;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// A realistic roster: every template column filled, a few workspaces each.
fn roster(rows: usize) -> Vec<ExportUser> {
    let workspaces = ["Sales", "Support", "Engineering", "Finance", "Legal"];
    (0..rows)
        .map(|i| ExportUser {
            id: format!("u-{i}"),
            email: format!("user.{i}@example{}.com", i % 50),
            first_name: Some(format!("First{i}")),
            last_name: Some(format!("Last{i}")),
            display_name: Some(format!("First{i} Last{i}")),
            role: if i % 10 == 0 {
                Role::UserAdmin
            } else {
                Role::Member
            },
            status: Status::Active,
            workspaces: workspaces[..1 + i % 4]
                .iter()
                .map(|w| (*w).to_owned())
                .collect(),
            guest_expires: None,
            phone: Some(format!("+1415{:07}", i)),
            title: Some("Account Manager".into()),
            company: Some("Example Inc.".into()),
            office: Some(format!("B{}", i % 7)),
            street: Some(format!("{} Main St", i % 900)),
            postal_code: Some(format!("{:05}", i % 99_999)),
            city: Some("Springfield".into()),
            cell_phone: Some(format!("+1 650 {:07}", i)),
            home_phone: None,
            properties: Default::default(),
            created: "2026-01-01T00:00:00Z".parse().unwrap(),
            last_active: None,
        })
        .collect()
}

/// The fastest of `runs` runs of `f`; what `f` returns is dropped outside the timing
/// (staging keeps the parsed rows, it does not drop them at once).
fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            let result = f();
            let time = start.elapsed();
            drop(result);
            time
        })
        .min()
        .unwrap()
}

fn parse_100k_row_csv() {
    let bytes = export_csv(&roster(ROWS), ExportColumns::Full, &[]).unwrap();
    let workspaces: Vec<String> = ["Sales", "Support", "Engineering", "Finance", "Legal"]
        .map(String::from)
        .to_vec();
    let mut options = ImportOptions::new(today());
    options.workspaces = Some(&workspaces);
    let time = best_of(10, || parse(&bytes, &options).unwrap());
    let parsed = parse(&bytes, &options).unwrap();
    assert_eq!(
        parsed.valid_rows().count(),
        ROWS,
        "{:?}",
        parsed.errors().next()
    );
    println!(
        "parse+validate {ROWS} CSV rows ({:.1} MB): {time:?}",
        bytes.len() as f64 / 1e6
    );
}

/// The file most imports are: who, their role and workspaces.
fn parse_100k_row_short_csv() {
    let mut file = String::from("Email,First Name,Last Name,Role,Workspaces\r\n");
    for i in 0..ROWS {
        file.push_str(&format!(
            "user.{i}@example.com,First{i},Last{i},member,Sales;Support\r\n"
        ));
    }
    let options = ImportOptions::new(today());
    let time = best_of(10, || parse(file.as_bytes(), &options).unwrap());
    assert_eq!(
        parse(file.as_bytes(), &options)
            .unwrap()
            .valid_rows()
            .count(),
        ROWS
    );
    println!(
        "parse+validate {ROWS} short CSV rows ({:.1} MB): {time:?}",
        file.len() as f64 / 1e6
    );
}

fn parse_100k_row_xlsx() {
    let bytes = export_xlsx(&roster(ROWS), ExportColumns::Full, &[]).unwrap();
    let options = ImportOptions::new(today());
    let time = best_of(2, || parse(&bytes, &options).unwrap());
    let parsed = parse(&bytes, &options).unwrap();
    assert_eq!(parsed.valid_rows().count(), ROWS);
    println!(
        "parse+validate {ROWS} XLSX rows ({:.1} MB): {time:?}",
        bytes.len() as f64 / 1e6
    );
}

fn export_100k_rows() {
    let users = roster(ROWS);
    let csv = best_of(3, || export_csv(&users, ExportColumns::Full, &[]).unwrap());
    let xlsx = best_of(1, || export_xlsx(&users, ExportColumns::Full, &[]).unwrap());
    println!("export {ROWS} rows: CSV {csv:?}, XLSX {xlsx:?}");
}

fn main() {
    parse_100k_row_csv();
    parse_100k_row_short_csv();
    parse_100k_row_xlsx();
    export_100k_rows();
}
