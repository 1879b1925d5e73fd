//! The domain's import corpus staged against a cached org on a real server: what the
//! preview shows for each kind of file a user brings, and the rights checks per row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bulk_support;

use bulk_support::{ADMIN, World, today};
use chrono::Utc;
use orgdesk_client::Cache;
use orgdesk_client::import::{FieldChange, RowPlan, StageOptions, StagedRow};
use orgdesk_domain::{ErrorCode, Role};
use serde_json::json;
use std::path::PathBuf;

fn corpus(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../domain/tests/corpus")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn stage(cache: &Cache, org: i64, name: &str, default_role: Option<Role>) -> Vec<StagedRow> {
    let options = StageOptions {
        file_name: name,
        sheet: None,
        default_role,
        today: today(),
        now: Utc::now(),
    };
    let staged = cache
        .stage_import(org, &corpus(name), &options)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    cache.import_rows(staged.id).unwrap()
}

/// Each row as `row plan email`, and each error as `row column code`.
fn shown(rows: &[StagedRow]) -> Vec<String> {
    rows.iter()
        .map(|row| match &row.plan {
            RowPlan::Error { errors } => {
                let errors: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}/{}/{}", e.row, e.column, e.code))
                    .collect();
                format!(
                    "{} error {} [{}]",
                    row.row_number,
                    row.email,
                    errors.join(" ")
                )
            }
            RowPlan::Update { changes } => {
                let fields: Vec<&str> = changes.iter().map(|c| c.column.as_str()).collect();
                format!(
                    "{} update {} ({})",
                    row.row_number,
                    row.email,
                    fields.join(", ")
                )
            }
            RowPlan::Create { role } => {
                format!("{} create {} as {role}", row.row_number, row.email)
            }
            RowPlan::Unchanged => format!("{} unchanged {}", row.row_number, row.email),
            RowPlan::Dropped => format!("{} dropped {}", row.row_number, row.email),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_excel_semicolon_file_shows_creates_updates_and_errors_by_row_and_column() {
    let world = World::start().await;
    world
        .member(
            "lena.weber@example.de",
            "member",
            json!({"profile": {"first_name": "Lena", "last_name": "Weber"}}),
        )
        .await;
    let admin = world.client(ADMIN).await;
    let rows = stage(&admin.cache, world.org, "excel_semicolon_bom.csv", None);
    assert_eq!(
        shown(&rows),
        [
            "2 error anna.schmidt@example.de [2/Workspaces/invalid_input 2/Workspaces/invalid_input]",
            "3 create juergen.gast@partner.example as guest",
            "4 error bob@ [4/Email [Required]/invalid_input 4/Role [Required]/invalid_input]",
            "5 update lena.weber@example.de (Role)",
        ]
    );
    let RowPlan::Update { changes } = &rows[3].plan else {
        unreachable!()
    };
    assert_eq!(
        changes,
        &[FieldChange {
            column: "Role".into(),
            old: "member".into(),
            new: "user_admin".into()
        }]
    );
}
