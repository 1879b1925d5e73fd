//! Import files like the ones users bring, each with exactly what parsing shows.
//!
//! The files in `tests/corpus/` are committed; `write_corpus` (ignored) regenerates them:
//! `cargo test -p orgdesk-domain --test import_corpus -- --ignored write_corpus`.

#![allow(
    clippy::unwrap_used,
    reason = "helpers build fixed test inputs; a panic is the test failing"
)]

use chrono::NaiveDate;
use orgdesk_domain::Role;
use orgdesk_domain::import::{
    Column, Delimiter, ImportError, ImportOptions, ImportRow, ImportWarning, Onboarding,
    ParsedImport, PropertyDefinition, PropertyKind, PropertyValue, Source, TextEncoding,
    WorkbookKind, parse, parse_csv, parse_workbook, read_table, result_report_csv,
    result_report_xlsx,
};
use std::path::PathBuf;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn messages(parsed: &ParsedImport) -> Vec<String> {
    parsed.errors().map(ToString::to_string).collect()
}

fn valid(parsed: &ParsedImport) -> Vec<&ImportRow> {
    parsed.valid_rows().collect()
}

/// A row with only what every row has; tests fill in the rest.
fn row(row_number: u32, email: &str, role: Role) -> ImportRow {
    ImportRow {
        row_number,
        email: email.into(),
        first_name: None,
        last_name: None,
        display_name: None,
        role,
        workspaces: vec![],
        guest_expires: None,
        onboarding: Onboarding::Invite,
        password: None,
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
    }
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

// ---------------------------------------------------------------------------------------
// The corpus itself.

const EXCEL_SEMICOLON: &str = "Email [Required];First Name;Last Name;Display Name;Role [Required];Workspaces;Guest Expires;Onboarding;Password;Phone;Title;Company;Office;Street;Postal Code;City;Cell Phone;Home Phone\r\n\
anna.schmidt@example.de;Anna;Schmidt;Anna Schmidt;member;\"Vertrieb; Marketing\";;invite;;+49 30 1234567;Vertriebsleiterin;Beispiel GmbH;;Hauptstraße 5;10115;Berlin;;\r\n\
juergen.gast@partner.example;Jürgen;Gast;;guest;support;2027-03-31;set_and_email;Sommer2026!Sicher;;;;;;;;'+49 170 1234567;\r\n\
bob@;Bob;;;owner;;;;;;;;;;;;;\r\n\
  Lena.Weber@Example.DE  ; Lena ;Weber;;User Admin;;;;;;;;;;;;;\r\n";

const M365: &str = "User Name,First Name,Last Name,Display Name,Job Title,Department,Office Number,Office Phone,Mobile Phone,Fax,Alternate email address,Address,City,State or Province,ZIP or Postal Code,Country or Region\r\n\
chris@contoso.com,Chris,Green,Chris Green,IT Manager,Information Technology,123451,+1 425 555 0100,+1 425 555 0101,+1 425 555 0102,chris@contoso2.com,1 Microsoft way,Redmond,Wa,98052,United States\r\n\
ben@contoso.com,Ben,Andrews,Ben Andrews,IT Manager,Information Technology,123452,123-555-1211,123-555-6641,123-555-9821,ben@contoso2.com,1 Microsoft way,Redmond,Wa,98052,United States\r\n";

const GOOGLE: &str = "First Name [Required],Last Name [Required],Email Address [Required],Password [Required],Password Hash Function [UPLOAD ONLY],Org Unit Path [Required],New Primary Email [UPLOAD ONLY],Recovery Email,Home Secondary Email,Work Secondary Email,Recovery Phone [MUST BE IN THE E.164 FORMAT],Work Phone,Home Phone,Mobile Phone,Work Address,Home Address,Employee ID,Employee Type,Employee Title,Manager Email,Department,Cost Center\n\
Ada,Lovelace,ada@example.org,Analytical-Engine-1843,,/,,,,,+442071234567,+44 20 7946 0000,,+44 7700 900123,,,,,Mathematician,,R&D,CC-100\n\
Grace,Hopper,grace@example.org,short,,/Engineering,,,,,,,,,,,,,Rear Admiral,,,\n";

const MULTILINE: &str = "Email,Display Name,Street,Title,Role\n\
a@example.com,\"Smith, Alice\",\"12 Main St\nApt 4\",Engineer,member\n\
\n\
b@example.com,\"Bob \"\"The Builder\"\" Jones\",\"1 Long Rd\nBuilding 2\nFloor 3\",\"Head of R&D, Europe\",member\n\
c@,Carl,,,member\n";

const TRAILING_BLANKS: &str =
    "Email,First Name,Role,,,\r\na@example.com,Ann,member,,,\r\n,,,,,\r\n\r\n,,,\r\n   \r\n";

const WINDOWS_1252: &[u8] = b"Email;First Name;Last Name;Role\r\n\
rene@example.fr;Ren\xe9;Fran\xe7ois;member\r\n\
jurgen@example.de;J\xfcrgen;M\xfcller;member\r\n\
nunez@example.es;Jos\xe9;N\xfa\xf1ez;guest\r\n";

const UNICODE_TEXT: &str = "Email\tFirst Name\tLast Name\tRole\r\n\
zoe@example.com\tZoë\tFaßbender\tmember\r\n\
xiaolong@example.cn\t小龙\t李\tviewer_admin\r\n";

const UTF16_NO_BOM: &str = "Email,Display Name,Role\r\nsoren@example.dk,Søren Ærø,admin\r\n";

fn utf16le(text: &str, bom: bool) -> Vec<u8> {
    let mut bytes = if bom { vec![0xFF, 0xFE] } else { vec![] };
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// Bytes that are no CSV: a ZIP header and noise, as when a file is renamed to .csv.
fn zip_blob() -> Vec<u8> {
    let mut bytes = b"PK\x03\x04\x14\x00\x06\x00\x08\x00".to_vec();
    let mut x: u32 = 0x2545_F491;
    for _ in 0..1024 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push((x >> 24) as u8);
    }
    bytes
}

/// A PNG's start and noise: binary without a workbook's magic.
fn image_blob() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    bytes.extend(zip_blob().iter().rev());
    bytes
}

/// A workbook laid out as a spreadsheet program saves one: typed cells (numbers for
/// phones and postal codes, date cells), a blank row, a second sheet.
fn spreadsheet_xlsx() -> Vec<u8> {
    use rust_xlsxwriter::{DocProperties, Format, Workbook};
    let mut workbook = Workbook::new();
    // A fixed creation time keeps the regenerated file byte-identical.
    let properties = DocProperties::new()
        .set_author("HR")
        .set_creation_datetime(&day("2026-09-01"));
    workbook.set_properties(&properties);
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let sheet = workbook.add_worksheet();
    sheet.set_name("Staff").unwrap();
    let headers = [
        "Email",
        "First Name",
        "Last Name",
        "Role",
        "Guest Expires",
        "Phone",
        "Postal Code",
        "Cell Phone",
        "prop:start_date",
        "prop:badge",
    ];
    for (col, header) in headers.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, *header, &bold)
            .unwrap();
    }
    // Row 2: a guest with a date cell, a phone typed as text, numbers elsewhere.
    sheet.write_string(1, 0, "dana@example.com").unwrap();
    sheet.write_string(1, 1, "Dana").unwrap();
    sheet.write_string(1, 2, "Scully").unwrap();
    sheet.write_string(1, 3, "guest").unwrap();
    sheet
        .write_datetime_with_format(1, 4, day("2027-01-15"), &date)
        .unwrap();
    sheet.write_string(1, 5, "+1 202 555 0143").unwrap();
    sheet.write_number(1, 6, 2139).unwrap();
    sheet.write_number(1, 7, 14155550123.0).unwrap();
    sheet
        .write_datetime_with_format(1, 8, day("2026-09-01"), &date)
        .unwrap();
    sheet.write_number(1, 9, 42).unwrap();
    // Row 3: a phone typed as a number (lost its +), a date typed as a serial number.
    sheet.write_string(2, 0, "fox@example.com").unwrap();
    sheet.write_string(2, 1, "Fox").unwrap();
    sheet.write_string(2, 2, "Mulder").unwrap();
    sheet.write_string(2, 3, "member").unwrap();
    sheet.write_number(2, 5, 12025550199.0).unwrap();
    sheet.write_number(2, 6, 20500).unwrap();
    sheet.write_number(2, 8, 46000).unwrap();
    sheet.write_number(2, 9, 7.5).unwrap();
    // Row 4 blank; row 5 a role by its document name.
    sheet.write_string(4, 0, "walter@example.com").unwrap();
    sheet.write_string(4, 3, "View Only Admin").unwrap();
    sheet.write_string(4, 6, "02139").unwrap();
    let notes = workbook.add_worksheet();
    notes.set_name("Notes").unwrap();
    notes.write_string(0, 0, "Imported from HR, Q3").unwrap();
    workbook.save_to_buffer().unwrap()
}

/// An OpenDocument spreadsheet as LibreOffice lays one out (typed cells: a date, a float),
/// zipped by hand with stored entries: the test needs no office suite.
fn spreadsheet_ods() -> Vec<u8> {
    let cell = |value: &str| {
        format!(
            "<table:table-cell office:value-type=\"string\"><text:p>{value}</text:p></table:table-cell>"
        )
    };
    let header: String = [
        "Email",
        "First Name",
        "Role",
        "Guest Expires",
        "Postal Code",
    ]
    .map(cell)
    .concat();
    let olga = [
        cell("olga@example.ru"),
        cell("Ольга"),
        cell("guest"),
        "<table:table-cell office:value-type=\"date\" office:date-value=\"2027-06-30\"><text:p>30.06.27</text:p></table:table-cell>".into(),
        "<table:table-cell office:value-type=\"float\" office:value=\"10117\"><text:p>10117</text:p></table:table-cell>".into(),
    ]
    .concat();
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.2\"><office:body><office:spreadsheet><table:table table:name=\"Users\"><table:table-row>{header}</table:table-row><table:table-row>{olga}</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>\n"
    );
    let manifest = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.2\"><manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"application/vnd.oasis.opendocument.spreadsheet\"/><manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/></manifest:manifest>\n";
    stored_zip(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        ),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", content.as_bytes()),
    ])
}

/// A ZIP archive with uncompressed entries (PKWARE APPNOTE 4.3).
fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut zip = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = zip.len() as u32;
        let (crc, size, name_len) = (crc32(data), data.len() as u32, name.len() as u16);
        // Version 2.0, no flags, stored, 1980-01-01 00:00.
        let common = |out: &mut Vec<u8>| {
            for v in [20u16, 0, 0, 0, 0x21] {
                out.extend(v.to_le_bytes());
            }
            for v in [crc, size, size] {
                out.extend(v.to_le_bytes());
            }
            out.extend(name_len.to_le_bytes());
            out.extend(0u16.to_le_bytes());
        };
        zip.extend(0x0403_4b50u32.to_le_bytes());
        common(&mut zip);
        zip.extend(name.as_bytes());
        zip.extend(*data);
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes());
        common(&mut central);
        for v in [0u16, 0, 0] {
            central.extend(v.to_le_bytes());
        }
        central.extend(0u32.to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let (central_offset, central_size) = (zip.len() as u32, central.len() as u32);
    zip.extend(central);
    zip.extend(0x0605_4b50u32.to_le_bytes());
    let count = entries.len() as u16;
    for v in [0u16, 0, count, count] {
        zip.extend(v.to_le_bytes());
    }
    zip.extend(central_size.to_le_bytes());
    zip.extend(central_offset.to_le_bytes());
    zip.extend(0u16.to_le_bytes());
    zip
}

const MISSING_EMAIL: &str = "First Name,Last Name,Role\r\nAnn,Lee,member\r\n";

#[test]
#[ignore = "regenerates the committed corpus files"]
fn write_corpus() {
    let dir = corpus_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let mut bom_semicolon = b"\xEF\xBB\xBF".to_vec();
    bom_semicolon.extend(EXCEL_SEMICOLON.as_bytes());
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("excel_semicolon_bom.csv", bom_semicolon),
        ("excel_unicode_text.txt", utf16le(UNICODE_TEXT, true)),
        ("utf16le_without_bom.csv", utf16le(UTF16_NO_BOM, false)),
        ("windows1252_accents.csv", WINDOWS_1252.to_vec()),
        ("multiline_quoted.csv", MULTILINE.as_bytes().to_vec()),
        (
            "trailing_blank_rows_and_columns.csv",
            TRAILING_BLANKS.as_bytes().to_vec(),
        ),
        ("m365_users.csv", M365.as_bytes().to_vec()),
        ("google_workspace_users.csv", GOOGLE.as_bytes().to_vec()),
        ("spreadsheet.xlsx", spreadsheet_xlsx()),
        ("libreoffice.ods", spreadsheet_ods()),
        ("zip_renamed.csv", zip_blob()),
        ("image_renamed.csv", image_blob()),
        (
            "missing_email_column.csv",
            MISSING_EMAIL.as_bytes().to_vec(),
        ),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// What each file shows.

#[test]
fn excel_semicolon_csv_with_bom_reads_every_row_and_names_bad_cells() {
    let workspaces = ["Vertrieb".to_owned(), "Marketing".into(), "Support".into()];
    let mut options = ImportOptions::new(today());
    options.workspaces = Some(&workspaces);
    let parsed = parse_csv(&corpus("excel_semicolon_bom.csv"), &options).unwrap();

    assert_eq!(
        parsed.source,
        Source::Csv {
            encoding: TextEncoding::Utf8WithBom,
            delimiter: Delimiter::Semicolon
        }
    );
    assert_eq!(parsed.header_row, 1);
    assert_eq!(
        parsed.columns.len(),
        18,
        "every template column is recognised"
    );
    assert!(parsed.unknown_columns.is_empty());
    assert!(parsed.warnings.is_empty());

    let anna = ImportRow {
        first_name: some("Anna"),
        last_name: some("Schmidt"),
        display_name: some("Anna Schmidt"),
        workspaces: vec!["Vertrieb".into(), "Marketing".into()],
        phone: some("+49301234567"),
        title: some("Vertriebsleiterin"),
        company: some("Beispiel GmbH"),
        street: some("Hauptstraße 5"),
        postal_code: some("10115"),
        city: some("Berlin"),
        ..row(2, "anna.schmidt@example.de", Role::Member)
    };
    let rows = valid(&parsed);
    assert_eq!(rows[0], &anna);

    let juergen = rows[1];
    assert_eq!(juergen.row_number, 3);
    assert_eq!(juergen.role, Role::Guest);
    assert_eq!(juergen.workspaces, ["Support"], "the org's spelling");
    assert_eq!(juergen.guest_expires, Some(day("2027-03-31")));
    assert_eq!(juergen.onboarding, Onboarding::SetAndEmail);
    assert_eq!(
        juergen.password.as_ref().map(|p| p.expose()),
        Some("Sommer2026!Sicher")
    );
    assert_eq!(
        juergen.cell_phone,
        some("+49 170 1234567"),
        "the export's formula guard is removed"
    );
    assert!(
        !format!("{juergen:?}").contains("Sommer2026"),
        "no password in Debug"
    );

    let lena = rows[2];
    assert_eq!(
        (
            lena.row_number,
            lena.email.as_str(),
            lena.first_name.as_deref(),
            lena.role
        ),
        (5, "lena.weber@example.de", Some("Lena"), Role::UserAdmin)
    );

    assert_eq!(
        messages(&parsed),
        [
            "Row 4, column Email [Required]: 'bob@' is not an email address (Domain is empty.)",
            "Row 4, column Role [Required]: 'owner' is not a role (admin, billing_admin, user_admin, viewer_admin, member, guest)",
        ]
    );
}

#[test]
fn excel_unicode_text_is_utf16_with_tabs() {
    let parsed = parse_csv(
        &corpus("excel_unicode_text.txt"),
        &ImportOptions::new(today()),
    )
    .unwrap();
    assert_eq!(
        parsed.source,
        Source::Csv {
            encoding: TextEncoding::Utf16LeWithBom,
            delimiter: Delimiter::Tab
        }
    );
    let expected = [
        ImportRow {
            first_name: some("Zoë"),
            last_name: some("Faßbender"),
            ..row(2, "zoe@example.com", Role::Member)
        },
        ImportRow {
            first_name: some("小龙"),
            last_name: some("李"),
            ..row(3, "xiaolong@example.cn", Role::ViewerAdmin)
        },
    ];
    assert_eq!(valid(&parsed), expected.iter().collect::<Vec<_>>());
    assert_eq!(parsed.errors().count(), 0);
}

#[test]
fn utf16_without_bom_is_recognised() {
    let parsed = parse_csv(
        &corpus("utf16le_without_bom.csv"),
        &ImportOptions::new(today()),
    )
    .unwrap();
    assert_eq!(
        parsed.source,
        Source::Csv {
            encoding: TextEncoding::Utf16Le,
            delimiter: Delimiter::Comma
        }
    );
    let expected = ImportRow {
        display_name: some("Søren Ærø"),
        ..row(2, "soren@example.dk", Role::Admin)
    };
    assert_eq!(valid(&parsed), [&expected]);
}

#[test]
fn windows_1252_accents_are_decoded_and_a_guest_needs_an_end_date() {
    let parsed = parse_csv(
        &corpus("windows1252_accents.csv"),
        &ImportOptions::new(today()),
    )
    .unwrap();
    assert_eq!(
        parsed.source,
        Source::Csv {
            encoding: TextEncoding::Windows1252,
            delimiter: Delimiter::Semicolon
        }
    );
    let names: Vec<_> = parsed
        .valid_rows()
        .map(|r| {
            (
                r.row_number,
                r.first_name.as_deref(),
                r.last_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            (2, Some("René"), Some("François")),
            (3, Some("Jürgen"), Some("Müller"))
        ]
    );
    assert_eq!(
        messages(&parsed),
        ["Row 4, column Guest Expires: A guest needs an access end date."]
    );
    let error = parsed.errors().next().unwrap();
    assert_eq!(error.code, orgdesk_domain::ErrorCode::GuestExpiryRequired);
}

#[test]
fn quoted_cells_keep_delimiters_quotes_and_line_breaks_and_rows_count_as_on_screen() {
    let parsed = parse_csv(
        &corpus("multiline_quoted.csv"),
        &ImportOptions::new(today()),
    )
    .unwrap();
    let expected = [
        ImportRow {
            display_name: some("Smith, Alice"),
            street: some("12 Main St, Apt 4"),
            title: some("Engineer"),
            ..row(2, "a@example.com", Role::Member)
        },
        ImportRow {
            display_name: some("Bob \"The Builder\" Jones"),
            street: some("1 Long Rd, Building 2, Floor 3"),
            title: some("Head of R&D, Europe"),
            ..row(4, "b@example.com", Role::Member)
        },
    ];
    assert_eq!(valid(&parsed), expected.iter().collect::<Vec<_>>());
    assert_eq!(
        messages(&parsed),
        ["Row 5, column Email: 'c@' is not an email address (Domain is empty.)"],
        "row 3 is the blank line; Bob's three-line cell is one row"
    );
}

#[test]
fn trailing_blank_rows_and_columns_are_ignored() {
    let parsed = parse_csv(
        &corpus("trailing_blank_rows_and_columns.csv"),
        &ImportOptions::new(today()),
    )
    .unwrap();
    let expected = ImportRow {
        first_name: some("Ann"),
        ..row(2, "a@example.com", Role::Member)
    };
    assert_eq!(parsed.rows.len(), 1);
    assert_eq!(valid(&parsed), [&expected]);
    assert!(parsed.unknown_columns.is_empty());
    assert!(parsed.warnings.is_empty());
}

#[test]
fn microsoft_365_headers_map_and_the_missing_role_column_takes_the_default() {
    let mut options = ImportOptions::new(today());
    options.default_role = Some(Role::Member);
    let parsed = parse_csv(&corpus("m365_users.csv"), &options).unwrap();
    assert_eq!(
        parsed.warnings,
        [ImportWarning::DefaultRole { role: Role::Member }]
    );
    assert_eq!(
        parsed.warnings[0].to_string(),
        "The file has no Role column; every user will be imported as Member."
    );
    assert_eq!(
        parsed.unknown_columns,
        [
            "Department",
            "Fax",
            "Alternate email address",
            "State or Province",
            "Country or Region"
        ]
    );
    let mapped: Vec<(&str, Column)> = parsed
        .columns
        .iter()
        .map(|m| (m.header.as_str(), m.column.clone()))
        .collect();
    assert_eq!(
        mapped,
        [
            ("User Name", Column::Email),
            ("First Name", Column::FirstName),
            ("Last Name", Column::LastName),
            ("Display Name", Column::DisplayName),
            ("Job Title", Column::Title),
            ("Office Number", Column::Office),
            ("Office Phone", Column::Phone),
            ("Mobile Phone", Column::CellPhone),
            ("Address", Column::Street),
            ("City", Column::City),
            ("ZIP or Postal Code", Column::PostalCode),
        ]
    );
    let chris = ImportRow {
        first_name: some("Chris"),
        last_name: some("Green"),
        display_name: some("Chris Green"),
        title: some("IT Manager"),
        office: some("123451"),
        phone: some("+14255550100"),
        cell_phone: some("+1 425 555 0101"),
        street: some("1 Microsoft way"),
        city: some("Redmond"),
        postal_code: some("98052"),
        ..row(2, "chris@contoso.com", Role::Member)
    };
    assert_eq!(valid(&parsed), [&chris]);
    assert_eq!(
        messages(&parsed),
        [
            "Row 3, column Office Phone: '123-555-1211' must start with + and the country code, e.g. +14155550123"
        ]
    );
}

#[test]
fn without_a_default_role_a_file_without_role_column_is_refused() {
    let error = parse_csv(&corpus("m365_users.csv"), &ImportOptions::new(today())).unwrap_err();
    assert_eq!(
        error,
        ImportError::MissingColumn {
            column: "Role".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "The file has no Role column; it is required."
    );
}

#[test]
fn google_workspace_headers_map_with_passwords_set_silently() {
    let properties = [PropertyDefinition {
        id: 0,
        version: 1,
        key: "cost_center".into(),
        label: "Cost Center".into(),
        kind: PropertyKind::Text,
        required: false,
    }];
    let mut options = ImportOptions::new(today());
    options.default_role = Some(Role::Member);
    options.properties = &properties;
    let parsed = parse_csv(&corpus("google_workspace_users.csv"), &options).unwrap();
    assert_eq!(
        parsed.warnings,
        [
            ImportWarning::ColumnIgnored {
                ignored: "Work Phone".into(),
                used: "Recovery Phone [MUST BE IN THE E.164 FORMAT]".into(),
                column: "Phone".into(),
            },
            ImportWarning::DefaultRole { role: Role::Member },
        ]
    );
    assert_eq!(parsed.unknown_columns.len(), 12);
    assert!(
        parsed.has_column(&Column::Property("cost_center".into())),
        "matched by label"
    );

    let ada = valid(&parsed)[0];
    assert_eq!(ada.row_number, 2);
    assert_eq!(ada.email, "ada@example.org");
    assert_eq!(ada.title.as_deref(), Some("Mathematician"));
    assert_eq!(ada.phone.as_deref(), Some("+442071234567"));
    assert_eq!(ada.cell_phone.as_deref(), Some("+44 7700 900123"));
    assert_eq!(ada.onboarding, Onboarding::SetSilently);
    assert_eq!(
        ada.password.as_ref().map(|p| p.expose()),
        Some("Analytical-Engine-1843")
    );
    assert_eq!(
        ada.properties.get("cost_center"),
        Some(&PropertyValue::Text("CC-100".into()))
    );
    assert_eq!(
        messages(&parsed),
        ["Row 3, column Password [Required]: a password needs at least 12 characters"]
    );
}

fn spreadsheet_properties() -> [PropertyDefinition; 2] {
    [
        PropertyDefinition {
            id: 0,
            version: 1,
            key: "start_date".into(),
            label: "Start Date".into(),
            kind: PropertyKind::Date,
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
    ]
}

#[test]
fn an_xlsx_workbook_reads_typed_cells_as_text_and_dates() {
    let properties = spreadsheet_properties();
    let mut options = ImportOptions::new(today());
    options.properties = &properties;
    let parsed = parse(&corpus("spreadsheet.xlsx"), &options).unwrap();
    assert_eq!(
        parsed.source,
        Source::Workbook {
            kind: WorkbookKind::Xlsx,
            sheet: "Staff".into()
        }
    );
    let stored_as_numbers = |column: &str, rows, first_row| ImportWarning::StoredAsNumbers {
        column: column.into(),
        rows,
        first_row,
    };
    assert_eq!(
        parsed.warnings,
        [
            stored_as_numbers("Phone", 1, 3),
            stored_as_numbers("Postal Code", 2, 2),
            stored_as_numbers("Cell Phone", 1, 2),
        ]
    );
    assert_eq!(
        parsed.warnings[0].to_string(),
        "Phone is stored as a number in 1 row (first in row 3); a spreadsheet drops a leading + or 0 from numbers. Format the column as text if that happened."
    );
    let dana = ImportRow {
        first_name: some("Dana"),
        last_name: some("Scully"),
        guest_expires: Some(day("2027-01-15")),
        phone: some("+12025550143"),
        postal_code: some("2139"),
        cell_phone: some("14155550123"),
        properties: [
            ("badge".to_owned(), PropertyValue::Number(42.0)),
            (
                "start_date".to_owned(),
                PropertyValue::Date(day("2026-09-01")),
            ),
        ]
        .into(),
        ..row(2, "dana@example.com", Role::Guest)
    };
    let walter = ImportRow {
        postal_code: some("02139"),
        ..row(5, "walter@example.com", Role::ViewerAdmin)
    };
    assert_eq!(valid(&parsed), [&dana, &walter]);
    assert_eq!(
        messages(&parsed),
        [
            "Row 3, column Phone: '12025550199' must start with + and the country code, e.g. +14155550123"
        ]
    );
}

#[test]
fn a_serial_number_in_a_date_column_is_read_as_a_date() {
    let properties = spreadsheet_properties();
    let mut options = ImportOptions::new(today());
    options.properties = &properties;
    // Fox's row has 46000 (2025-12-09) in the date property and 7.5 in the number one;
    // only the phone typed as a number is wrong.
    let parsed = parse_workbook(&corpus("spreadsheet.xlsx"), &options).unwrap();
    let fox_errors: Vec<_> = parsed.errors().filter(|e| e.row == 3).collect();
    assert_eq!(fox_errors.len(), 1, "{fox_errors:?}");
    assert_eq!(fox_errors[0].column, "Phone");
}

#[test]
fn an_ods_workbook_reads_dates_and_numbers() {
    let parsed = parse(&corpus("libreoffice.ods"), &ImportOptions::new(today())).unwrap();
    assert_eq!(
        parsed.source,
        Source::Workbook {
            kind: WorkbookKind::Ods,
            sheet: "Users".into()
        }
    );
    let olga = ImportRow {
        first_name: some("Ольга"),
        guest_expires: Some(day("2027-06-30")),
        postal_code: some("10117"),
        ..row(2, "olga@example.ru", Role::Guest)
    };
    assert_eq!(valid(&parsed), [&olga]);
    assert_eq!(
        parsed.warnings,
        [ImportWarning::StoredAsNumbers {
            column: "Postal Code".into(),
            rows: 1,
            first_row: 2
        }]
    );
}

#[test]
fn a_named_sheet_is_read_and_a_missing_one_lists_the_sheets() {
    let mut options = ImportOptions::new(today());
    options.sheet = Some("Missing");
    let error = parse(&corpus("spreadsheet.xlsx"), &options).unwrap_err();
    assert_eq!(
        error.to_string(),
        "The workbook has no sheet named 'Missing'; its sheets are: Staff, Notes."
    );
    options.sheet = Some("notes");
    let error = parse(&corpus("spreadsheet.xlsx"), &options).unwrap_err();
    assert_eq!(
        error,
        ImportError::NoKnownColumns {
            found: vec!["Imported from HR, Q3".into()]
        }
    );
}

#[test]
fn a_zip_renamed_to_csv_is_not_text_and_not_a_workbook() {
    let bytes = corpus("zip_renamed.csv");
    assert_eq!(
        parse_csv(&bytes, &ImportOptions::new(today())).unwrap_err(),
        ImportError::NotText
    );
    let error = parse(&bytes, &ImportOptions::new(today())).unwrap_err();
    assert!(matches!(error, ImportError::Workbook(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("The file could not be read as an XLSX, XLS or ODS workbook")
    );
}

#[test]
fn binary_bytes_are_not_text() {
    let error = parse(&corpus("image_renamed.csv"), &ImportOptions::new(today())).unwrap_err();
    assert_eq!(error, ImportError::NotText);
    assert_eq!(
        error.to_string(),
        "The file is not text: save it from your spreadsheet as CSV (or upload the XLSX, XLS or ODS file itself)."
    );
}

#[test]
fn a_file_without_an_email_column_is_refused() {
    let error = parse(
        &corpus("missing_email_column.csv"),
        &ImportOptions::new(today()),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "The file has no Email column; it is required."
    );
}

#[test]
fn ten_thousand_bad_rows_are_each_reported_with_their_row_number() {
    let mut file = String::from("Email,First Name,Role\r\n");
    for i in 0..10_000 {
        file.push_str(&format!("user{i}@,Name {i},member\r\n"));
    }
    let parsed = parse_csv(file.as_bytes(), &ImportOptions::new(today())).unwrap();
    assert_eq!(parsed.rows.len(), 10_000);
    assert_eq!(parsed.valid_rows().count(), 0);
    let messages = messages(&parsed);
    assert_eq!(messages.len(), 10_000);
    assert_eq!(
        messages[0],
        "Row 2, column Email: 'user0@' is not an email address (Domain is empty.)"
    );
    assert_eq!(
        messages[4_998],
        "Row 5000, column Email: 'user4998@' is not an email address (Domain is empty.)"
    );
    assert_eq!(
        messages[9_999],
        "Row 10001, column Email: 'user9999@' is not an email address (Domain is empty.)"
    );
}

// ---------------------------------------------------------------------------------------
// The result report: the user's rows back, with what became of each.

fn report_results(parsed: &ParsedImport) -> std::collections::BTreeMap<u32, String> {
    parsed
        .rows
        .iter()
        .map(|row| {
            let result = match row {
                orgdesk_domain::import::ParsedRow::Valid(_) => "created".to_owned(),
                orgdesk_domain::import::ParsedRow::Invalid(invalid) => invalid
                    .errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            (row.row_number(), result)
        })
        .collect()
}

#[test]
fn the_result_report_gives_back_every_row_with_its_result_and_no_passwords() {
    let bytes = corpus("google_workspace_users.csv");
    let mut options = ImportOptions::new(today());
    options.default_role = Some(Role::Member);
    let parsed = parse(&bytes, &options).unwrap();
    let table = read_table(&bytes, None).unwrap();
    assert_eq!(
        table.rows.iter().map(|r| r.row_number).collect::<Vec<_>>(),
        [2, 3]
    );

    let report = result_report_csv(&table, &report_results(&parsed)).unwrap();
    assert!(!String::from_utf8_lossy(&report).contains("Analytical-Engine-1843"));
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(report.strip_prefix(b"\xEF\xBB\xBF").unwrap())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows[0].len(), 23, "the file's 22 columns and Result");
    assert_eq!(rows[0][22], "Result");
    assert_eq!(
        rows[1][..4],
        ["Ada", "Lovelace", "ada@example.org", ""],
        "no password"
    );
    assert_eq!(rows[1][21..], ["CC-100", "created"]);
    assert_eq!(rows[2][3], "");
    assert_eq!(
        rows[2][22],
        "Row 3, column Password [Required]: a password needs at least 12 characters"
    );
}

#[test]
fn a_workbook_result_report_is_an_xlsx_with_the_rows_as_written() {
    use calamine::{Data, Reader};
    let bytes = corpus("spreadsheet.xlsx");
    let table = read_table(&bytes, None).unwrap();
    assert_eq!(
        table.rows.iter().map(|r| r.row_number).collect::<Vec<_>>(),
        [2, 3, 5],
        "the blank row 4 is left out"
    );
    let results = [(3, "=not a formula".to_owned())].into();
    let report = result_report_xlsx(&table, &results).unwrap();
    let mut workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(report)).unwrap();
    let range = workbook.worksheet_range("Result").unwrap();
    let rows: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
    assert_eq!(rows[0][10], Data::String("Result".into()));
    assert_eq!(rows[1][0], Data::String("dana@example.com".into()));
    assert_eq!(rows[1][4], Data::String("2027-01-15".into()));
    assert_eq!(rows[2][10], Data::String("'=not a formula".into()));
}
