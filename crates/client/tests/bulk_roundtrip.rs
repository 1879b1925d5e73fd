//! Export → edit a few cells in the file → import: exactly the edited fields come back as
//! updates, every other row as unchanged; and the push applies them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bulk_support;

use bulk_support::common;

use bulk_support::{ADMIN, Backend, World, in_days, today};
use chrono::Utc;
use orgdesk_client::cache::roster::RosterQuery;
use orgdesk_client::export::ExportFormat;
use orgdesk_client::import::{FieldChange, RowPlan, StageOptions, StagedRow, push_import};
use serde_json::json;

fn options(name: &str) -> StageOptions<'_> {
    StageOptions {
        file_name: name,
        sheet: None,
        default_role: None,
        today: today(),
        now: Utc::now(),
    }
}

/// Changes one cell of the row whose Email is `email`.
fn set_cell(
    records: &mut [csv::StringRecord],
    headers: &csv::StringRecord,
    email: &str,
    column: &str,
    value: &str,
) {
    let email_at = headers.iter().position(|h| h == "Email").unwrap();
    let at = headers
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column} in {headers:?}"));
    let record = records
        .iter_mut()
        .find(|r| &r[email_at] == email)
        .unwrap_or_else(|| panic!("no row for {email}"));
    let mut cells: Vec<String> = record.iter().map(str::to_owned).collect();
    cells[at] = value.to_owned();
    *record = csv::StringRecord::from(cells);
}

/// The update rows by email, with their changes.
fn updates(rows: &[StagedRow]) -> Vec<(String, Vec<FieldChange>)> {
    let mut updates: Vec<_> = rows
        .iter()
        .filter_map(|row| match &row.plan {
            RowPlan::Update { changes } => Some((row.email.clone(), changes.clone())),
            RowPlan::Unchanged => None,
            other => panic!("row {} ({}) is {other:?}", row.row_number, row.email),
        })
        .collect();
    updates.sort_by(|a, b| a.0.cmp(&b.0));
    updates
}

stories!(an_edited_export_imports_back_as_exactly_the_edited_updates);

async fn an_edited_export_imports_back_as_exactly_the_edited_updates(backend: Backend) {
    let Some(world) = World::start_on(backend).await else {
        return;
    };
    let admin = world.client(ADMIN).await;
    let workspaces = admin.cache.workspaces(world.org).unwrap();
    let id = |name: &str| workspaces.iter().find(|w| w.name == name).unwrap().id;
    world
        .member(
            "ada@acme.example",
            "member",
            json!({"profile": {"first_name": "Ada", "last_name": "Lovelace", "title": "Analyst", "phone": "+442071234567"},
                   "workspaces": [id("Sales")], "properties": {"cost_center": "CC-1"}}),
        )
        .await;
    world
        .member(
            "bob@acme.example",
            "user_admin",
            json!({"profile": {"display_name": "=Bob", "city": "Berlin"}, "properties": {"cost_center": "CC-2"}}),
        )
        .await;
    world
        .member(
            "carol@acme.example",
            "guest",
            json!({"profile": {"first_name": "Carol"}, "workspaces": [id("Support"), id("Engineering")]}),
        )
        .await;
    for i in 0..20 {
        world
            .member(
                &format!("m{i}@acme.example"),
                "member",
                json!({"profile": {"title": format!("-{i}")}}),
            )
            .await;
    }
    admin.sync(world.org).await;

    let export = admin
        .cache
        .export_roster(world.org, &RosterQuery::default(), ExportFormat::Csv)
        .unwrap();
    assert_eq!(export.users, 24);
    let staged = admin
        .cache
        .stage_import(world.org, &export.bytes, &options("export.csv"))
        .unwrap();
    assert_eq!(
        (
            staged.counts.unchanged,
            staged.counts.update,
            staged.counts.error
        ),
        (24, 0, 0),
        "an untouched export is all unchanged: {:?}",
        updates(&admin.cache.import_rows(staged.id).unwrap())
    );
    let xlsx = admin
        .cache
        .export_roster(world.org, &RosterQuery::default(), ExportFormat::Xlsx)
        .unwrap();
    let staged = admin
        .cache
        .stage_import(world.org, &xlsx.bytes, &options("export.xlsx"))
        .unwrap();
    assert_eq!(
        (
            staged.counts.unchanged,
            staged.counts.update,
            staged.counts.error
        ),
        (24, 0, 0),
        "xlsx too"
    );

    // Edit three cells in the file, as a spreadsheet user would.
    let mut reader = csv::Reader::from_reader(export.bytes.as_slice());
    let headers = reader.headers().unwrap().clone();
    let mut records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let plain: csv::StringRecord = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}'))
        .collect();
    set_cell(
        &mut records,
        &plain,
        "ada@acme.example",
        "Title",
        "Chief Analyst",
    );
    set_cell(
        &mut records,
        &plain,
        "bob@acme.example",
        "prop:cost_center",
        "CC-9",
    );
    set_cell(
        &mut records,
        &plain,
        "carol@acme.example",
        "Workspaces",
        "Support",
    );
    set_cell(
        &mut records,
        &plain,
        "carol@acme.example",
        "Guest Expires",
        &in_days(60),
    );
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&headers).unwrap();
    for record in &records {
        writer.write_record(record).unwrap();
    }
    let edited = writer.into_inner().unwrap();

    let staged = admin
        .cache
        .stage_import(world.org, &edited, &options("edited.csv"))
        .unwrap();
    let rows = admin.cache.import_rows(staged.id).unwrap();
    let change = |column: &str, old: &str, new: &str| FieldChange {
        column: column.into(),
        old: old.into(),
        new: new.into(),
    };
    let carol_old_date = admin
        .cache
        .member_by_email(world.org, "carol@acme.example")
        .unwrap()
        .unwrap()
        .guest_expires
        .unwrap()
        .to_string();
    assert_eq!(
        updates(&rows),
        [
            (
                "ada@acme.example".to_owned(),
                vec![change("Title", "Analyst", "Chief Analyst")]
            ),
            (
                "bob@acme.example".to_owned(),
                vec![change("prop:cost_center", "CC-2", "CC-9")]
            ),
            (
                "carol@acme.example".to_owned(),
                vec![
                    change("Guest Expires", &carol_old_date, &in_days(60)),
                    change("Workspaces", "Support; Engineering", "Support"),
                ]
            ),
        ]
    );
    assert_eq!(staged.counts.unchanged, 21);

    admin.cache.confirm_import(staged.id, Utc::now()).unwrap();
    let pushed = push_import(&admin.api, &admin.cache, staged.id, &mut |_| {})
        .await
        .unwrap();
    assert!(pushed.complete());
    let report = admin.cache.import_report(staged.id).unwrap();
    assert_eq!(pushed.counts, report.counts);
    assert_eq!(
        (
            report.counts.updated,
            report.counts.unchanged,
            report.counts.failed
        ),
        (3, 21, 0),
        "{:?}",
        report.results
    );
    let ada = admin
        .cache
        .member_by_email(world.org, "ada@acme.example")
        .unwrap()
        .unwrap();
    assert_eq!(ada.profile.title.as_deref(), Some("Chief Analyst"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_is_the_filtered_view_and_the_billing_admin_gets_fewer_columns() {
    let world = World::start().await;
    world
        .member("bill@acme.example", "billing_admin", json!({}))
        .await;
    world
        .member(
            "gus@acme.example",
            "guest",
            json!({"profile": {"title": "Auditor"}}),
        )
        .await;
    world.member("mia@acme.example", "member", json!({})).await;
    let admin = world.client(ADMIN).await;
    let guests = RosterQuery {
        tab: Some(orgdesk_domain::RosterTab::Guest),
        ..RosterQuery::default()
    };
    let export = admin
        .cache
        .export_roster(world.org, &guests, ExportFormat::Csv)
        .unwrap();
    assert_eq!(export.users, 1, "the Guest tab only");
    let searched = RosterQuery {
        search: Some("mia".into()),
        ..RosterQuery::default()
    };
    let export = admin
        .cache
        .export_roster(world.org, &searched, ExportFormat::Csv)
        .unwrap();
    assert_eq!(export.users, 1, "the search only");

    let billing = world.client("bill@acme.example").await;
    let export = billing
        .cache
        .export_roster(world.org, &RosterQuery::default(), ExportFormat::Csv)
        .unwrap();
    assert!(export.limited);
    let mut reader = csv::Reader::from_reader(export.bytes.as_slice());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    assert_eq!(
        headers,
        [
            "Id",
            "First Name",
            "Last Name",
            "Display Name",
            "Email",
            "Role",
            "Status",
            "Created",
            "Last Active"
        ]
    );
    assert_eq!(export.users, 4);
}
