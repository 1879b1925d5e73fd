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

/// Stages each listed corpus file as the admin of an empty org (bar the admin) and
/// returns what the preview shows.
async fn staged_as_admin(name: &str, default_role: Option<Role>) -> Vec<String> {
    let world = World::start().await;
    let admin = world.client(ADMIN).await;
    shown(&stage(&admin.cache, world.org, name, default_role))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_microsoft_365_export_without_roles_takes_the_default_role() {
    assert_eq!(
        staged_as_admin("m365_users.csv", Some(Role::Member)).await,
        [
            "2 create chris@contoso.com as member",
            "3 error ben@contoso.com [3/Office Phone/invalid_input]",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_google_export_names_the_short_password() {
    assert_eq!(
        staged_as_admin("google_workspace_users.csv", Some(Role::Member)).await,
        [
            "2 create ada@example.org as member",
            "3 error grace@example.org [3/Password [Required]/invalid_input]",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_1252_utf16_and_unicode_text_files_stage_like_utf8() {
    assert_eq!(
        staged_as_admin("windows1252_accents.csv", None).await,
        [
            "2 create rene@example.fr as member",
            "3 create jurgen@example.de as member",
            "4 error nunez@example.es [4/Guest Expires/guest_expiry_required]",
        ]
    );
    assert_eq!(
        staged_as_admin("utf16le_without_bom.csv", None).await,
        ["2 create soren@example.dk as admin"]
    );
    assert_eq!(
        staged_as_admin("excel_unicode_text.txt", None).await,
        [
            "2 create zoe@example.com as member",
            "3 create xiaolong@example.cn as viewer_admin",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quoted_multiline_cells_and_trailing_blank_rows_stage_cleanly() {
    assert_eq!(
        staged_as_admin("multiline_quoted.csv", None).await,
        [
            "2 create a@example.com as member",
            "4 create b@example.com as member",
            "5 error c@ [5/Email/invalid_input]",
        ]
    );
    assert_eq!(
        staged_as_admin("trailing_blank_rows_and_columns.csv", None).await,
        ["2 create a@example.com as member"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workbooks_stage_like_csv() {
    let xlsx = staged_as_admin("spreadsheet.xlsx", None).await;
    let ods = staged_as_admin("libreoffice.ods", None).await;
    assert_eq!(
        xlsx,
        [
            "2 create dana@example.com as guest",
            "3 error fox@example.com [3/Phone/invalid_input]",
            "5 create walter@example.com as viewer_admin",
        ]
    );
    assert_eq!(ods, ["2 create olga@example.ru as guest"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_are_not_imports_are_refused_whole() {
    let world = World::start().await;
    let admin = world.client(ADMIN).await;
    for name in [
        "missing_email_column.csv",
        "zip_renamed.csv",
        "image_renamed.csv",
    ] {
        let options = StageOptions {
            file_name: name,
            sheet: None,
            default_role: None,
            today: today(),
            now: Utc::now(),
        };
        let error = admin
            .cache
            .stage_import(world.org, &corpus(name), &options)
            .unwrap_err();
        assert_eq!(error.code(), "invalid_input", "{name}: {error}");
    }
    assert!(admin.cache.latest_import(world.org).unwrap().is_none());
}

fn stage_text(cache: &Cache, org: i64, text: &str) -> Vec<StagedRow> {
    let options = StageOptions {
        file_name: "people.csv",
        sheet: None,
        default_role: None,
        today: today(),
        now: Utc::now(),
    };
    let staged = cache.stage_import(org, text.as_bytes(), &options).unwrap();
    cache.import_rows(staged.id).unwrap()
}

fn codes(row: &StagedRow) -> Vec<(String, ErrorCode)> {
    match &row.plan {
        RowPlan::Error { errors } => errors.iter().map(|e| (e.column.clone(), e.code)).collect(),
        other => panic!("row {} is {other:?}, not an error", row.row_number),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_admin_importing_an_admin_row_gets_role_not_allowed_on_that_row() {
    let world = World::start().await;
    world
        .member("ua@acme.example", "user_admin", json!({}))
        .await;
    world.member("boss@acme.example", "admin", json!({})).await;
    let user_admin = world.client("ua@acme.example").await;
    let rows = stage_text(
        &user_admin.cache,
        world.org,
        "Email,Role,Title\nnew-admin@acme.example,admin,\nnew-member@acme.example,member,\nboss@acme.example,admin,Boss\n",
    );
    assert_eq!(
        codes(&rows[0]),
        [("Role".into(), ErrorCode::RoleNotAllowed)]
    );
    assert!(matches!(rows[1].plan, RowPlan::Create { .. }));
    assert_eq!(
        codes(&rows[2]),
        [("Email".into(), ErrorCode::RoleNotAllowed)],
        "editing an admin's profile"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demoting_the_last_admin_in_a_file_is_last_admin() {
    let world = World::start().await;
    world.member("other@acme.example", "admin", json!({})).await;
    let admin = world.client(ADMIN).await;
    let rows = stage_text(
        &admin.cache,
        world.org,
        "Email,Role\nother@acme.example,member\nadmin@acme.example,member\n",
    );
    assert!(
        matches!(rows[0].plan, RowPlan::Update { .. }),
        "{:?}",
        rows[0]
    );
    assert_eq!(
        codes(&rows[1]),
        [("Role".into(), ErrorCode::SelfRole)],
        "one's own role first"
    );
    // A partner-like actor (not one of the admins) meets last_admin on the second demotion.
    let world = World::start().await;
    world
        .member("second@acme.example", "admin", json!({}))
        .await;
    world.member("third@acme.example", "admin", json!({})).await;
    let second = world.client("second@acme.example").await;
    let rows = stage_text(
        &second.cache,
        world.org,
        "Email,Role\nadmin@acme.example,member\nthird@acme.example,member\n",
    );
    assert!(matches!(rows[0].plan, RowPlan::Update { .. }));
    assert!(matches!(rows[1].plan, RowPlan::Update { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_actor_adding_an_email_outside_the_scope_gets_out_of_scope() {
    let world = World::start().await;
    let ua = world
        .member("ua@acme.example", "user_admin", json!({}))
        .await;
    world
        .post(
            &format!("/api/v1/orgs/{}/mutations", world.org),
            json!({"mutations": [{"id": "scope-1", "change": {"type": "set_scope", "user_id": ua, "scope": ["@client.example"]}}]}),
        )
        .await;
    let scoped = world.client("ua@acme.example").await;
    let rows = stage_text(
        &scoped.cache,
        world.org,
        "Email,Role\nin@client.example,member\nout@elsewhere.example,member\n",
    );
    assert!(
        matches!(rows[0].plan, RowPlan::Create { .. }),
        "{:?}",
        rows[0]
    );
    assert_eq!(codes(&rows[1]), [("Email".into(), ErrorCode::OutOfScope)]);
}
