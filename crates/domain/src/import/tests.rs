//! The row and header rules, one behaviour per test, on small inline files.

use super::*;
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn csv(text: &str) -> ParsedImport {
    parse_csv(text.as_bytes(), &ImportOptions::new(today())).unwrap()
}

fn messages(parsed: &ParsedImport) -> Vec<String> {
    parsed.errors().map(ToString::to_string).collect()
}

fn mapped(parsed: &ParsedImport) -> Vec<Column> {
    parsed.columns.iter().map(|m| m.column.clone()).collect()
}

#[test]
fn generic_header_aliases_are_recognised() {
    let parsed = csv(
        "E-mail,Given Name,Surname,Job Title,Organization,Zip,Mobile,User Role\n\
         a@example.com,Ann,Lee,Chef,Acme,12345,+1 555 0100,member\n",
    );
    assert_eq!(
        mapped(&parsed),
        [
            Column::Email,
            Column::FirstName,
            Column::LastName,
            Column::Title,
            Column::Company,
            Column::PostalCode,
            Column::CellPhone,
            Column::Role,
        ]
    );
    for (header, column) in [
        ("Email Address", Column::Email),
        ("mail", Column::Email),
        ("FIRST", Column::FirstName),
        ("last", Column::LastName),
        ("Postcode", Column::PostalCode),
        ("zip_code", Column::PostalCode),
        ("Street Address", Column::Street),
        ("Mobile Phone", Column::CellPhone),
        ("Employee Title", Column::Title),
        ("guest-expires", Column::GuestExpires),
        ("Last Active", Column::LastActive),
    ] {
        let file = if column == Column::Email {
            format!("{header},Role\n")
        } else {
            format!("Email,Role,{header}\n")
        };
        let parsed = csv(&file);
        let found = parsed.columns.iter().find(|m| m.header == header);
        assert_eq!(found.map(|m| &m.column), Some(&column), "{header}");
    }
}

#[test]
fn two_equally_strong_headers_for_one_column_are_refused() {
    let error = parse_csv(b"Email,E-mail,Role\n", &ImportOptions::new(today())).unwrap_err();
    assert_eq!(
        error.to_string(),
        "The columns 'Email' and 'E-mail' both mean Email; delete or rename one of them."
    );
}

#[test]
fn unknown_columns_are_listed_and_their_cells_ignored() {
    let parsed = csv("Email,Shoe Size,Role,prop:unknown\na@example.com,44,member,x\n");
    assert_eq!(parsed.unknown_columns, ["Shoe Size", "prop:unknown"]);
    assert_eq!(parsed.valid_rows().count(), 1);
}

#[test]
fn a_header_that_names_no_column_is_refused() {
    let error = parse_csv(
        b"lorem ipsum dolor\nsit amet\n",
        &ImportOptions::new(today()),
    )
    .unwrap_err();
    assert_eq!(
        error,
        ImportError::NoKnownColumns {
            found: vec!["lorem ipsum dolor".into()]
        }
    );
    assert_eq!(
        parse_csv(b" \r\n \n", &ImportOptions::new(today())).unwrap_err(),
        ImportError::Empty
    );
}

#[test]
fn an_unnamed_column_between_named_ones_is_reported() {
    let parsed = csv("Email,,Role\na@example.com,stray,member\n");
    assert_eq!(parsed.warnings, [ImportWarning::UnnamedColumn { index: 1 }]);
    assert_eq!(
        parsed.warnings[0].to_string(),
        "Column 2 has no header and was ignored."
    );
}

#[test]
fn the_same_email_twice_is_an_error_on_the_later_rows() {
    let parsed = csv(
        "Email,Role\nann@example.com,member\nbob@example.com,member\nANN@Example.com,guest\nann@example.com ,member\n",
    );
    assert_eq!(
        messages(&parsed),
        [
            "Row 4, column Email: 'ann@example.com' already appears in row 2",
            "Row 4, column Guest Expires: A guest needs an access end date.",
            "Row 5, column Email: 'ann@example.com' already appears in row 2",
        ]
    );
    assert_eq!(parsed.valid_rows().count(), 2);
}

#[test]
fn every_error_of_a_row_is_collected() {
    let parsed = csv("Email,Role,Phone,Workspaces,Onboarding\nbob@,owner,555-0100,,sometimes\n");
    let ParsedRow::Invalid(row) = &parsed.rows[0] else {
        panic!("row 2 is invalid");
    };
    let columns: Vec<&str> = row.errors.iter().map(|e| e.column.as_str()).collect();
    assert_eq!(columns, ["Email", "Role", "Onboarding", "Phone"]);
    assert_eq!(row.email, "bob@");
}

#[test]
fn an_empty_role_cell_takes_the_default_role_or_is_an_error() {
    let text = "Email,Role\na@example.com,\n";
    assert_eq!(
        messages(&csv(text)),
        [
            "Row 2, column Role: a role is required (admin, billing_admin, user_admin, viewer_admin, member, guest)"
        ]
    );
    let mut options = ImportOptions::new(today());
    options.default_role = Some(Role::Guest);
    let parsed = parse_csv(
        b"Email,Role,Guest Expires\na@example.com,,2027-01-01\n",
        &options,
    )
    .unwrap();
    assert_eq!(
        parsed.valid_rows().next().map(|r| r.role),
        Some(Role::Guest)
    );
    assert!(parsed.warnings.is_empty(), "the column is there");
}

#[test]
fn guest_end_dates_follow_the_invariants() {
    let parsed = csv("Email,Role,Guest Expires\n\
         a@example.com,guest,2026-11-23\n\
         b@example.com,guest,2027-11-24\n\
         c@example.com,member,2027-01-01\n\
         d@example.com,guest,31/12/2026\n\
         e@example.com,guest,2027/11/23\n");
    let codes: Vec<(u32, ErrorCode)> = parsed.errors().map(|e| (e.row, e.code)).collect();
    assert_eq!(
        codes,
        [
            (2, ErrorCode::GuestExpiryPast),
            (3, ErrorCode::InvalidState),
            (4, ErrorCode::InvalidInput),
            (5, ErrorCode::InvalidInput),
        ]
    );
    assert_eq!(
        parsed.errors().nth(3).unwrap().reason,
        "'31/12/2026' is not a date in the form YYYY-MM-DD"
    );
    assert_eq!(parsed.valid_rows().next().map(|r| r.row_number), Some(6));
}

#[test]
fn onboarding_and_password_must_agree() {
    let parsed = csv("Email,Role,Onboarding,Password\n\
         a@example.com,member,set_silently,\n\
         b@example.com,member,invite,correct-horse-battery\n\
         c@example.com,member,Set And Email,correct-horse-battery\n\
         d@example.com,member,generate-and-email,\n\
         e@example.com,member,set_and_email,short\n");
    assert_eq!(
        messages(&parsed),
        [
            "Row 2, column Password: onboarding set_silently needs a password",
            "Row 3, column Password: a password is only used with set_and_email or set_silently, not invite",
            "Row 6, column Password: a password needs at least 12 characters",
        ]
    );
    let onboarding: Vec<Onboarding> = parsed.valid_rows().map(|r| r.onboarding).collect();
    assert_eq!(
        onboarding,
        [Onboarding::SetAndEmail, Onboarding::GenerateAndEmail]
    );
}

#[test]
fn workspaces_are_checked_against_the_org_and_limited_to_ten() {
    let names: Vec<String> = (1..=11).map(|i| format!("W{i}")).collect();
    let mut options = ImportOptions::new(today());
    options.workspaces = Some(&names);
    let text = format!(
        "Email,Role,Workspaces\na@example.com,member,{}\nb@example.com,member,w1; W1 ;w2;;Nope\n",
        names.join(";")
    );
    let parsed = parse_csv(text.as_bytes(), &options).unwrap();
    let errors: Vec<(u32, ErrorCode, &str)> = parsed
        .errors()
        .map(|e| (e.row, e.code, e.reason.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (
                2,
                ErrorCode::TooManyWorkspaces,
                "At most 10 workspaces can be granted at once (11 were asked for)."
            ),
            (
                3,
                ErrorCode::InvalidInput,
                "'Nope' is not a workspace of this organization"
            ),
        ]
    );
    let parsed = parse_csv(
        b"Email,Role,Workspaces\nb@example.com,member,w1; W1 ;w2\n",
        &options,
    )
    .unwrap();
    assert_eq!(
        parsed.valid_rows().next().map(|r| r.workspaces.clone()),
        Some(vec!["W1".to_owned(), "W2".to_owned()]),
        "deduplicated, in the org's spelling"
    );
}

#[test]
fn custom_properties_are_typed_and_required_ones_need_a_value() {
    let properties = [
        PropertyDefinition {
            id: 0,
            version: 1,
            key: "cost_center".into(),
            label: "Cost Center".into(),
            kind: PropertyKind::Text,
            required: true,
        },
        PropertyDefinition {
            id: 0,
            version: 1,
            key: "level".into(),
            label: "Level".into(),
            kind: PropertyKind::OneOf {
                options: vec!["Junior".into(), "Senior".into()],
            },
            required: false,
        },
        PropertyDefinition {
            id: 0,
            version: 1,
            key: "badge".into(),
            label: "Badge".into(),
            kind: PropertyKind::Number,
            required: false,
        },
    ];
    let mut options = ImportOptions::new(today());
    options.properties = &properties;
    let parsed = parse_csv(
        b"Email,Role,prop:cost_center [Required],Level,prop:badge\n\
          a@example.com,member,CC-1,senior,7\n\
          b@example.com,member,,Lead,seven\n",
        &options,
    )
    .unwrap();
    let a = parsed.valid_rows().next().unwrap();
    assert_eq!(
        a.properties,
        [
            ("badge".to_owned(), PropertyValue::Number(7.0)),
            ("cost_center".to_owned(), PropertyValue::Text("CC-1".into())),
            ("level".to_owned(), PropertyValue::Text("Senior".into())),
        ]
        .into()
    );
    assert_eq!(
        messages(&parsed),
        [
            "Row 3, column prop:cost_center [Required]: a value for Cost Center is required",
            "Row 3, column Level: 'Lead' is not one of: Junior, Senior",
            "Row 3, column prop:badge: 'seven' is not a number (use a dot for decimals, e.g. 3.5)",
        ]
    );
}

#[test]
fn a_required_property_without_a_column_is_a_warning() {
    let properties = [PropertyDefinition {
        id: 0,
        version: 1,
        key: "cost_center".into(),
        label: "Cost Center".into(),
        kind: PropertyKind::Text,
        required: true,
    }];
    let mut options = ImportOptions::new(today());
    options.properties = &properties;
    let parsed = parse_csv(b"Email,Role\na@example.com,member\n", &options).unwrap();
    assert_eq!(
        parsed.warnings,
        [ImportWarning::RequiredPropertyMissing {
            key: "cost_center".into(),
            label: "Cost Center".into()
        }]
    );
}

#[test]
fn a_spreadsheet_error_value_is_reported_not_imported() {
    let parsed = csv("Email,Role,Title\na@example.com,member,#REF!\n");
    assert_eq!(
        messages(&parsed),
        ["Row 2, column Title: the cell shows the spreadsheet error #REF!"]
    );
}

#[test]
fn old_mac_line_ends_count_rows() {
    let parsed = csv("Email,Role\rgood@example.com,member\rbad@,member\r");
    assert_eq!(parsed.valid_rows().count(), 1);
    assert_eq!(parsed.errors().next().map(|e| e.row), Some(3));
}

#[test]
fn excels_sep_line_names_the_delimiter_and_is_not_a_row() {
    let parsed = csv("sep=;\r\nEmail;Role;Title\r\nbad@;member;a,b\r\n");
    assert_eq!(
        parsed.source,
        Source::Csv {
            encoding: TextEncoding::Utf8,
            delimiter: Delimiter::Semicolon
        }
    );
    assert_eq!(parsed.header_row, 1);
    assert_eq!(parsed.errors().next().map(|e| e.row), Some(2));
}

#[test]
fn blank_rows_before_the_header_move_it_down() {
    let parsed = csv("\n\nEmail,Role\nbad@,member\n");
    assert_eq!(parsed.header_row, 3);
    assert_eq!(parsed.errors().next().map(|e| e.row), Some(4));
}

#[test]
fn a_parsed_file_serialises_for_the_preview_without_passwords() {
    let parsed = csv(
        "Email,Role,Onboarding,Password\na@example.com,member,set_silently,correct-horse-battery\nbad@,member,,\n",
    );
    let json = serde_json::to_value(&parsed).unwrap();
    assert_eq!(json["source"]["format"], "csv");
    assert_eq!(json["rows"][0]["status"], "valid");
    assert_eq!(json["rows"][0]["email"], "a@example.com");
    assert_eq!(json["rows"][0]["onboarding"], "set_silently");
    assert_eq!(json["rows"][1]["status"], "invalid");
    assert_eq!(json["rows"][1]["errors"][0]["column"], "Email");
    assert!(!json.to_string().contains("correct-horse-battery"));
}

#[test]
fn errors_cross_ipc_as_code_and_message() {
    let row_error = RowError {
        row: 14,
        column: "Email".into(),
        code: ErrorCode::InvalidInput,
        reason: "'bob@' is not an email address".into(),
    };
    assert_eq!(
        row_error.to_string(),
        "Row 14, column Email: 'bob@' is not an email address"
    );
    let json = serde_json::to_value(&row_error).unwrap();
    assert_eq!(json["code"], "invalid_input");
    let denied = Denied::from(ImportError::Empty);
    assert_eq!(denied.code, ErrorCode::InvalidInput);
    assert_eq!(denied.message, "The file is empty.");
}

#[test]
fn form_rows_go_through_the_same_rules_numbered_from_one() {
    let headers: Vec<String> = ["Email", "Role", "Display Name"].map(String::from).to_vec();
    let rows = vec![
        vec!["ann@example.com".to_owned(), "member".into(), "Ann".into()],
        vec![String::new(), String::new(), String::new()],
        vec!["ann@example.com".to_owned(), "admin".into(), String::new()],
    ];
    let parsed = parse_form(&headers, &rows, &ImportOptions::new(today())).unwrap();
    assert_eq!(parsed.source, Source::Form);
    assert_eq!(parsed.valid_rows().next().map(|r| r.row_number), Some(1));
    assert_eq!(
        messages(&parsed),
        ["Row 3, column Email: 'ann@example.com' already appears in row 1"],
        "the empty row 2 is skipped"
    );
}

#[test]
fn the_users_column_choices_override_header_matching() {
    let choices = [
        ColumnChoice {
            header: "Mail".into(),
            column: None,
        },
        ColumnChoice {
            header: "Login Name".into(),
            column: Some(Column::Email),
        },
        ColumnChoice {
            header: "Access".into(),
            column: Some(Column::Role),
        },
    ];
    let mut options = ImportOptions::new(today());
    options.columns = &choices;
    let parsed = parse_csv(
        b"Login Name,Mail,Access
ann@example.com,old@example.com,member
",
        &options,
    )
    .unwrap();
    assert_eq!(parsed.headers, ["Login Name", "Mail", "Access"]);
    assert_eq!(mapped(&parsed), [Column::Email, Column::Role]);
    assert!(
        parsed.unknown_columns.is_empty(),
        "an ignored header is not unknown"
    );
    assert_eq!(
        parsed.valid_rows().next().map(|r| r.email.as_str()),
        Some("ann@example.com")
    );
}

#[test]
fn a_chosen_column_beats_a_header_with_the_same_meaning() {
    let choices = [ColumnChoice {
        header: "Work Email".into(),
        column: Some(Column::Email),
    }];
    let mut options = ImportOptions::new(today());
    options.columns = &choices;
    let parsed = parse_csv(
        b"Email,Work Email,Role
private@example.com,ann@example.com,member
",
        &options,
    )
    .unwrap();
    assert_eq!(
        parsed.warnings,
        [ImportWarning::ColumnIgnored {
            ignored: "Email".into(),
            used: "Work Email".into(),
            column: "Email".into()
        }]
    );
    assert_eq!(
        parsed.valid_rows().next().map(|r| r.email.as_str()),
        Some("ann@example.com")
    );
}

proptest! {
    #[test]
    fn no_bytes_make_the_importer_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let options = ImportOptions::new(today());
        let _ = parse(&bytes, &options);
        let _ = parse_csv(&bytes, &options);
        let _ = parse_workbook(&bytes, &options);
    }

    #[test]
    fn no_rows_under_a_good_header_make_the_importer_panic(
        body in "[a-z@.,;\t\"'=+\\-#\r\n 0-9é]{0,400}"
    ) {
        let options = ImportOptions::new(today());
        let file = format!("Email,Role,Workspaces,Guest Expires,Phone,Password,Onboarding\n{body}");
        let parsed = parse_csv(file.as_bytes(), &options).unwrap();
        for row in &parsed.rows {
            prop_assert!(row.row_number() >= 2);
        }
    }
}
