//! Roster exports: formula neutralising in CSV and XLSX, the column sets, and that an
//! export imports back to the same users.

#![allow(
    clippy::unwrap_used,
    reason = "helpers build fixed test inputs; a panic is the test failing"
)]

use calamine::{Data, Reader};
use chrono::{DateTime, NaiveDate, Utc};
use orgdesk_domain::export::{
    ExportColumns, ExportUser, FORMULA_TRIGGERS, export_csv, export_xlsx, formula_safe,
    formula_unguarded,
};
use orgdesk_domain::import::{
    ImportOptions, ImportRow, Onboarding, ParsedImport, PropertyDefinition, PropertyKind,
    PropertyValue, parse, template_csv, template_xlsx,
};
use orgdesk_domain::{Grant, Role, Status};
use proptest::prelude::*;
use std::io::Cursor;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn properties() -> Vec<PropertyDefinition> {
    let definition = |key: &str, kind| PropertyDefinition {
        id: 0,
        version: 1,
        key: key.into(),
        label: key.replace('_', " "),
        kind,
        required: false,
    };
    vec![
        definition("cost_center", PropertyKind::Text),
        definition("desk", PropertyKind::Number),
        definition("start_date", PropertyKind::Date),
        definition("remote", PropertyKind::Bool),
        definition(
            "shirt",
            PropertyKind::OneOf {
                options: vec!["S".into(), "M".into(), "L".into()],
            },
        ),
    ]
}

fn workspaces() -> Vec<String> {
    vec!["Sales".into(), "Support".into(), "R&D Labs".into()]
}

fn user(id: &str, email: &str, role: Role, status: Status) -> ExportUser {
    ExportUser {
        id: id.into(),
        email: email.into(),
        first_name: None,
        last_name: None,
        display_name: None,
        role,
        status,
        workspaces: vec![],
        guest_expires: None,
        phone: None,
        title: None,
        company: None,
        office: None,
        street: None,
        postal_code: None,
        city: None,
        cell_phone: None,
        home_phone: None,
        properties: Default::default(),
        created: at("2026-01-05T09:30:00Z"),
        last_active: None,
    }
}

fn roster() -> Vec<ExportUser> {
    let alice = ExportUser {
        first_name: Some("Alice".into()),
        last_name: Some("O'Neil".into()),
        display_name: Some("=HYPERLINK(\"http://evil.example\",\"Alice\")".into()),
        workspaces: vec!["Sales".into(), "Support".into()],
        phone: Some("+14155550123".into()),
        title: Some("-Head of \"Sales\", EMEA".into()),
        company: Some("@Acme".into()),
        office: Some("B2; 3rd floor".into()),
        street: Some("1 Main St".into()),
        postal_code: Some("02139".into()),
        city: Some("Zürich".into()),
        cell_phone: Some("+41 79 123 45 67".into()),
        home_phone: Some("'+1 555".into()),
        properties: [
            ("cost_center".to_owned(), PropertyValue::Text("CC-7".into())),
            ("desk".to_owned(), PropertyValue::Number(-12.5)),
            (
                "start_date".to_owned(),
                PropertyValue::Date(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap()),
            ),
            ("remote".to_owned(), PropertyValue::Bool(true)),
            ("shirt".to_owned(), PropertyValue::Text("M".into())),
        ]
        .into(),
        last_active: Some(at("2026-11-20T17:45:10Z")),
        ..user("u-1", "alice@example.com", Role::Admin, Status::Active)
    };
    let guest = ExportUser {
        first_name: Some("Gus".into()),
        guest_expires: NaiveDate::from_ymd_opt(2027, 2, 28),
        workspaces: vec![workspaces()[2].clone()],
        ..user("u-2", "gus@partner.example", Role::Guest, Status::Active)
    };
    let pending = ExportUser {
        display_name: Some("Pat Pending".into()),
        ..user("u-3", "pat@example.com", Role::Member, Status::Pending)
    };
    vec![alice, guest, pending]
}

/// What importing an export of `user` must give.
fn imported(user: &ExportUser, row_number: u32) -> ImportRow {
    ImportRow {
        row_number,
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        workspaces: user.workspaces.clone(),
        guest_expires: user.guest_expires,
        onboarding: Onboarding::Invite,
        password: None,
        phone: user.phone.clone(),
        title: user.title.clone(),
        company: user.company.clone(),
        office: user.office.clone(),
        street: user.street.clone(),
        postal_code: user.postal_code.clone(),
        city: user.city.clone(),
        cell_phone: user.cell_phone.clone(),
        home_phone: user.home_phone.clone(),
        properties: user.properties.clone(),
    }
}

fn reimport(bytes: &[u8], properties: &[PropertyDefinition]) -> ParsedImport {
    let workspaces = workspaces();
    let mut options = ImportOptions::new(today());
    options.properties = properties;
    options.workspaces = Some(&workspaces);
    parse(bytes, &options).unwrap()
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap()).unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn xlsx_rows(bytes: Vec<u8>, sheet: &str) -> Vec<Vec<Data>> {
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).unwrap();
    let range = workbook.worksheet_range(sheet).unwrap();
    range.rows().map(<[Data]>::to_vec).collect()
}

#[test]
fn every_formula_trigger_is_neutralised_in_csv() {
    for trigger in FORMULA_TRIGGERS {
        let value = format!("{trigger}cmd|' /C calc'!A0");
        let users = [ExportUser {
            display_name: Some(value.clone()),
            ..user("u-1", "a@example.com", Role::Member, Status::Active)
        }];
        let bytes = export_csv(&users, ExportColumns::Full, &[]).unwrap();
        let rows = csv_rows(&bytes);
        assert_eq!(rows[1][4], format!("'{value}"), "trigger {trigger:?}");
    }
}

#[test]
fn every_formula_trigger_is_a_neutralised_string_in_xlsx() {
    for trigger in FORMULA_TRIGGERS {
        let value = format!("{trigger}SUM(1+1)");
        let users = [ExportUser {
            title: Some(value.clone()),
            ..user("u-1", "a@example.com", Role::Member, Status::Active)
        }];
        let bytes = export_xlsx(&users, ExportColumns::Full, &[]).unwrap();
        let rows = xlsx_rows(bytes, "Users");
        assert_eq!(
            rows[1][11],
            Data::String(format!("'{value}")),
            "trigger {trigger:?}"
        );
    }
}

#[test]
fn the_guard_comes_off_exactly_once() {
    for value in ["+1415", "'+1415", "''=x", "plain", "'quoted", "-", "'"] {
        assert_eq!(formula_unguarded(&formula_safe(value)), value, "{value:?}");
    }
    assert_eq!(
        formula_safe("'quoted"),
        "'quoted",
        "no trigger after the quote"
    );
}

#[test]
fn csv_export_has_a_bom_crlf_and_the_full_columns() {
    let bytes = export_csv(&roster(), ExportColumns::Full, &properties()).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFId,Email,First Name,"));
    let text = String::from_utf8(bytes).unwrap();
    let header = text.lines().next().unwrap().trim_start_matches('\u{FEFF}');
    assert_eq!(
        header,
        "Id,Email,First Name,Last Name,Display Name,Role,Status,Workspaces,Guest Expires,Onboarding,Phone,Title,Company,Office,Street,Postal Code,City,Cell Phone,Home Phone,prop:cost_center,prop:desk,prop:start_date,prop:remote,prop:shirt,Created,Last Active"
    );
    assert!(text.contains("\r\n"));
    assert!(!text.replace("\r\n", "").contains('\n'));
    let rows = csv_rows(text.as_bytes());
    assert_eq!(rows[1][10], "'+14155550123");
    assert_eq!(rows[1][20], "'-12.5");
    assert_eq!(rows[1][24], "2026-01-05 09:30:00");
    assert_eq!(rows[1][25], "2026-11-20 17:45:10");
    assert_eq!(rows[3][25], "Pending", "a pending user shows Pending");
}

#[test]
fn the_billing_admin_export_has_only_the_limited_columns() {
    let columns = ExportColumns::for_grant(Grant::Limited);
    assert_eq!(columns, ExportColumns::Billing);
    let bytes = export_csv(&roster(), columns, &properties()).unwrap();
    let rows = csv_rows(&bytes);
    assert_eq!(
        rows[0],
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
    assert_eq!(
        rows[1],
        [
            "u-1",
            "Alice",
            "O'Neil",
            "'=HYPERLINK(\"http://evil.example\",\"Alice\")",
            "alice@example.com",
            "admin",
            "active",
            "2026-01-05 09:30:00",
            "2026-11-20 17:45:10"
        ]
    );
    let xlsx = export_xlsx(&roster(), columns, &properties()).unwrap();
    assert_eq!(xlsx_rows(xlsx, "Users")[0].len(), 9);
}

#[test]
fn a_csv_export_imports_back_to_the_same_users() {
    let properties = properties();
    let users = roster();
    let bytes = export_csv(&users, ExportColumns::Full, &properties).unwrap();
    let parsed = reimport(&bytes, &properties);
    assert!(
        parsed.unknown_columns.is_empty(),
        "{:?}",
        parsed.unknown_columns
    );
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(
        parsed.errors().count(),
        0,
        "{:?}",
        parsed.errors().collect::<Vec<_>>()
    );
    let expected: Vec<ImportRow> = (2..).zip(&users).map(|(n, u)| imported(u, n)).collect();
    assert_eq!(parsed.valid_rows().cloned().collect::<Vec<_>>(), expected);
}

#[test]
fn an_xlsx_export_imports_back_to_the_same_users() {
    let properties = properties();
    let users = roster();
    let bytes = export_xlsx(&users, ExportColumns::Full, &properties).unwrap();
    let parsed = reimport(&bytes, &properties);
    assert!(
        parsed.unknown_columns.is_empty(),
        "{:?}",
        parsed.unknown_columns
    );
    assert_eq!(
        parsed.errors().count(),
        0,
        "{:?}",
        parsed.errors().collect::<Vec<_>>()
    );
    let expected: Vec<ImportRow> = (2..).zip(&users).map(|(n, u)| imported(u, n)).collect();
    assert_eq!(parsed.valid_rows().cloned().collect::<Vec<_>>(), expected);
}

#[test]
fn xlsx_exports_keep_dates_and_numbers_typed() {
    let bytes = export_xlsx(&roster(), ExportColumns::Full, &properties()).unwrap();
    let rows = xlsx_rows(bytes, "Users");
    assert!(
        matches!(rows[2][8], Data::DateTime(_)),
        "Guest Expires: {:?}",
        rows[2][8]
    );
    assert_eq!(rows[1][20], Data::Float(-12.5), "a number stays a number");
    assert_eq!(rows[1][22], Data::Bool(true));
    assert_eq!(rows[1][10], Data::String("'+14155550123".into()));
}

#[test]
fn the_csv_template_has_hints_and_an_example_row_that_imports() {
    let properties = properties();
    let bytes = template_csv(&properties, &workspaces()).unwrap();
    let rows = csv_rows(&bytes);
    assert_eq!(rows[0][0], "Email [Required]");
    assert_eq!(rows[0][4], "Role [Required]");
    assert_eq!(rows[0][18], "prop:cost_center");
    assert_eq!(rows.len(), 2);
    let parsed = reimport(&bytes, &properties);
    assert_eq!(
        parsed.errors().count(),
        0,
        "{:?}",
        parsed.errors().collect::<Vec<_>>()
    );
    let example = parsed.valid_rows().next().unwrap();
    assert_eq!(example.email, "alex.example@example.com");
    assert_eq!(example.workspaces, ["Sales", "Support"]);
    assert_eq!(example.phone.as_deref(), Some("+14155550123"));
    assert_eq!(
        example.properties.get("shirt"),
        Some(&PropertyValue::Text("S".into()))
    );
}

#[test]
fn the_xlsx_template_imports_and_lists_the_orgs_values() {
    let properties = properties();
    let bytes = template_xlsx(&properties, &workspaces()).unwrap();
    let parsed = reimport(&bytes, &properties);
    assert_eq!(
        parsed.errors().count(),
        0,
        "{:?}",
        parsed.errors().collect::<Vec<_>>()
    );
    assert_eq!(parsed.valid_rows().count(), 1);
    let lists = xlsx_rows(bytes, "Lists");
    let column = |i: usize| -> Vec<String> {
        lists
            .iter()
            .filter_map(|row| match &row[i] {
                Data::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(column(0), ["Workspaces", "Sales", "Support", "R&D Labs"]);
    assert_eq!(
        column(1),
        [
            "Roles",
            "admin",
            "billing_admin",
            "user_admin",
            "viewer_admin",
            "member",
            "guest"
        ]
    );
    assert_eq!(
        column(2),
        [
            "Onboarding",
            "invite",
            "generate_and_email",
            "set_and_email",
            "set_silently"
        ]
    );
}

/// Text people type into name and profile fields, formula triggers and CSV's own
/// characters included.
fn field() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("['=+@-]?[A-Za-zÀ-ÿ0-9 ,;\"'@+=-]{0,20}")
        .prop_map(|value| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_exported_names_and_profile_fields_import_back_unchanged(
        first_name in field(), display_name in field(), title in field(), office in field(),
    ) {
        let users = [ExportUser {
            first_name, display_name, title, office,
            ..user("u-9", "any@example.com", Role::Member, Status::Active)
        }];
        let csv = export_csv(&users, ExportColumns::Full, &[]).unwrap();
        let parsed = reimport(&csv, &[]);
        prop_assert_eq!(parsed.valid_rows().next(), Some(&imported(&users[0], 2)));
        let xlsx = export_xlsx(&users, ExportColumns::Full, &[]).unwrap();
        let parsed = reimport(&xlsx, &[]);
        prop_assert_eq!(parsed.valid_rows().next(), Some(&imported(&users[0], 2)));
    }
}
