//! Reviewing a staged import before it is sent: it survives a restart, a row is fixed in
//! place and re-checked, another dropped, the multi-row form goes through the same
//! staging, and the result report carries every row's outcome.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bulk_support;

use bulk_support::common;

use bulk_support::{ADMIN, Backend, World, today};
use chrono::Utc;
use orgdesk_client::Cache;
use orgdesk_client::import::{ImportState, RowPlan, StageOptions, push_import};
use orgdesk_domain::ErrorCode;
use orgdesk_domain::import::template_headers;
use serde_json::json;

const FILE: &str = "Email,First Name,Role,Password\n\
ann@acme.example,Ann,member,\n\
bad@,Bad,member,\n\
carl@acme.example,Carl,member,\n\
dora@acme.example,Dora,member,\n";

stories!(a_staged_import_is_fixed_row_by_row_confirmed_pushed_and_reported);

async fn a_staged_import_is_fixed_row_by_row_confirmed_pushed_and_reported(backend: Backend) {
    let Some(world) = World::start_on(backend).await else {
        return;
    };
    world
        .member(
            "dora@acme.example",
            "member",
            json!({"profile": {"first_name": "Dorothea"}}),
        )
        .await;
    let admin = world.client(ADMIN).await;
    let options = StageOptions {
        file_name: "people.csv",
        sheet: None,
        default_role: None,
        today: today(),
        now: Utc::now(),
    };
    let staged = admin
        .cache
        .stage_import(world.org, FILE.as_bytes(), &options)
        .unwrap();
    assert_eq!(
        (
            staged.counts.create,
            staged.counts.update,
            staged.counts.error
        ),
        (2, 1, 1)
    );

    // The staged import is in the cache file: a restarted client finds it as it was.
    let path = admin.cache.path().to_owned();
    let reopened = Cache::open(&path).unwrap();
    let again = reopened.latest_import(world.org).unwrap().unwrap();
    assert_eq!(again.id, staged.id);
    assert_eq!(again.counts, staged.counts);

    let fixed = reopened
        .edit_import_row(
            staged.id,
            3,
            &[("Email".into(), "bea@acme.example".into())],
            today(),
        )
        .unwrap();
    assert!(matches!(fixed.plan, RowPlan::Create { .. }), "{fixed:?}");
    assert!(fixed.edited);
    let weak = reopened
        .edit_import_row(
            staged.id,
            4,
            &[("password".into(), "short".into())],
            today(),
        )
        .unwrap();
    let RowPlan::Error { errors } = &weak.plan else {
        panic!("{weak:?}")
    };
    assert_eq!(
        (errors[0].row, errors[0].column.as_str(), errors[0].code),
        (4, "Password", ErrorCode::InvalidInput)
    );
    reopened
        .drop_import_row(staged.id, 4, true, today())
        .unwrap();
    let counts = reopened.staged_import(staged.id).unwrap().counts;
    assert_eq!(
        (counts.create, counts.update, counts.error, counts.dropped),
        (2, 1, 0, 1)
    );

    assert_eq!(reopened.confirm_import(staged.id, Utc::now()).unwrap(), 3);
    assert_eq!(
        reopened.staged_import(staged.id).unwrap().state,
        ImportState::Confirmed
    );
    assert!(
        reopened.confirm_import(staged.id, Utc::now()).is_err(),
        "confirmed once"
    );
    assert!(
        reopened
            .drop_import_row(staged.id, 2, true, today())
            .is_err()
    );
    let before = reopened.import_report(staged.id).unwrap();
    assert_eq!(before.counts.not_sent, 3);
    assert_eq!(reopened.import_counts(staged.id).unwrap(), before.counts);

    let pushed = push_import(&admin.api, &reopened, staged.id, &mut |_| {})
        .await
        .unwrap();
    assert!(pushed.complete());
    let report = reopened.import_report(staged.id).unwrap();
    assert_eq!(
        pushed.counts, report.counts,
        "the push's counts are the report's"
    );
    assert_eq!(
        report
            .results
            .values()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["created", "created", "dropped", "updated"]
    );
    let csv = String::from_utf8(report.to_csv().unwrap()).unwrap();
    assert!(
        csv.contains("bea@acme.example,Bad,member,,created"),
        "{csv}"
    );
    assert!(!csv.contains("short"), "no password in the report: {csv}");
    assert!(!report.to_xlsx().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_multi_row_form_goes_through_the_same_staging() {
    let world = World::start().await;
    world
        .member("ua@acme.example", "user_admin", json!({}))
        .await;
    let user_admin = world.client("ua@acme.example").await;
    let properties = user_admin.cache.property_definitions(world.org).unwrap();
    let headers = template_headers(&properties);
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {headers:?}"))
    };
    let row = |email: &str, role: &str, workspaces: &str| {
        let mut cells = vec![String::new(); headers.len()];
        cells[column("Email")] = email.into();
        cells[column("Role")] = role.into();
        cells[column("Workspaces")] = workspaces.into();
        cells
    };
    let rows = vec![
        row("new@acme.example", "member", "sales; Support"),
        vec![String::new(); headers.len()],
        row("boss@acme.example", "admin", ""),
        row("x@acme.example", "member", "Marketing"),
    ];
    let staged = user_admin
        .cache
        .stage_form(world.org, &headers, &rows, today(), Utc::now())
        .unwrap();
    let rows = user_admin.cache.import_rows(staged.id).unwrap();
    let shown: Vec<(u32, &str)> = rows
        .iter()
        .map(|r| {
            let what = match &r.plan {
                RowPlan::Create { .. } => "create",
                RowPlan::Error { errors } => errors[0].code.as_str(),
                _ => "other",
            };
            (r.row_number, what)
        })
        .collect();
    assert_eq!(
        shown,
        [(1, "create"), (3, "role_not_allowed"), (4, "invalid_input")]
    );
    user_admin
        .cache
        .confirm_import(staged.id, Utc::now())
        .unwrap();
    let pushed = push_import(&user_admin.api, &user_admin.cache, staged.id, &mut |_| {})
        .await
        .unwrap();
    assert_eq!((pushed.counts.created, pushed.counts.failed), (1, 2));
    assert_eq!(
        pushed.counts,
        user_admin.cache.import_report(staged.id).unwrap().counts
    );
    let new = world.client(ADMIN).await;
    let member = new
        .cache
        .member_by_email(world.org, "new@acme.example")
        .unwrap()
        .unwrap();
    assert_eq!(member.workspaces.len(), 2, "workspace names became ids");
}
