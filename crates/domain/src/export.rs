//! Export of a roster to CSV or XLSX (SPEC.md §6), in the import template's columns so an
//! export can be edited and imported back.
//!
//! An exported cell is data a stranger may have typed (a display name, a title), so
//! every cell a spreadsheet would run as a formula is neutralised with a leading `'`,
//! which the importer removes again.

use crate::import::{Column, PropertyDefinition, PropertyValue, format_number};
use crate::permission::Grant;
use crate::role::{Role, Status};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The characters that make a spreadsheet read a cell as a formula (OWASP's list).
pub const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell a spreadsheet will show as text: one starting with a formula trigger gets a
/// leading `'` (`+14155550123` → `'+14155550123`). So that the importer can always take
/// the guard off again, a value that already starts with `'`s before a trigger gets one
/// more.
pub fn formula_safe(cell: &str) -> Cow<'_, str> {
    if cell.trim_start_matches('\'').starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Takes off the guard [`formula_safe`] put on: one `'` before (more `'`s and) a trigger.
pub fn formula_unguarded(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA_TRIGGERS) => rest,
        _ => cell,
    }
}

/// A user as the roster export shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportUser {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub role: Role,
    pub status: Status,
    pub workspaces: Vec<String>,
    pub guest_expires: Option<NaiveDate>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub office: Option<String>,
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub cell_phone: Option<String>,
    pub home_phone: Option<String>,
    /// Custom property values by key.
    pub properties: BTreeMap<String, PropertyValue>,
    pub created: DateTime<Utc>,
    /// `None` for a user never active; pending users show "Pending" whatever this is.
    pub last_active: Option<DateTime<Utc>>,
}

/// Which columns an export has: the full set, or the billing admin's reduced one
/// (the matrix's `Grant::Limited` for `ExportUsers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportColumns {
    Full,
    Billing,
}

impl ExportColumns {
    pub fn for_grant(grant: Grant) -> Self {
        match grant {
            Grant::Full => ExportColumns::Full,
            Grant::Limited => ExportColumns::Billing,
        }
    }

    /// The columns in order; custom properties only in the full set.
    pub fn columns(self, properties: &[PropertyDefinition]) -> Vec<Column> {
        use Column::*;
        match self {
            ExportColumns::Billing => vec![
                Id,
                FirstName,
                LastName,
                DisplayName,
                Email,
                Role,
                Status,
                Created,
                LastActive,
            ],
            ExportColumns::Full => {
                let mut columns = vec![
                    Id,
                    Email,
                    FirstName,
                    LastName,
                    DisplayName,
                    Role,
                    Status,
                    Workspaces,
                    GuestExpires,
                    Onboarding,
                    Phone,
                    Title,
                    Company,
                    Office,
                    Street,
                    PostalCode,
                    City,
                    CellPhone,
                    HomePhone,
                ];
                columns.extend(properties.iter().map(|d| Property(d.key.clone())));
                columns.extend([Created, LastActive]);
                columns
            }
        }
    }
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("The CSV file could not be written: {0}")]
    Csv(String),
    #[error("The XLSX file could not be written: {0}")]
    Xlsx(#[from] XlsxError),
}

impl From<csv::Error> for ExportError {
    fn from(error: csv::Error) -> Self {
        ExportError::Csv(error.to_string())
    }
}

/// One exported cell, typed so XLSX can keep numbers and dates as such.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<'a> {
    Text(Cow<'a, str>),
    Number(f64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

impl Cell<'_> {
    /// The cell as CSV text, neutralised.
    pub(crate) fn to_csv(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(text) => formula_safe(text),
            Cell::Number(n) => Cow::Owned(formula_safe(&format_number(*n)).into_owned()),
            Cell::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Cell::Date(date) => Cow::Owned(date.to_string()),
            Cell::DateTime(at) => Cow::Owned(at.format(DATE_TIME).to_string()),
        }
    }
}

const DATE_TIME: &str = "%Y-%m-%d %H:%M:%S";

fn text(value: Option<&str>) -> Cell<'_> {
    Cell::Text(Cow::Borrowed(value.unwrap_or("")))
}

fn cell<'a>(user: &'a ExportUser, column: &Column) -> Cell<'a> {
    match column {
        Column::Id => text(Some(&user.id)),
        Column::Email => text(Some(&user.email)),
        Column::FirstName => text(user.first_name.as_deref()),
        Column::LastName => text(user.last_name.as_deref()),
        Column::DisplayName => text(user.display_name.as_deref()),
        Column::Role => text(Some(user.role.as_str())),
        Column::Status => text(Some(user.status.as_str())),
        Column::Workspaces => Cell::Text(Cow::Owned(user.workspaces.join("; "))),
        Column::GuestExpires => user.guest_expires.map_or(text(None), Cell::Date),
        Column::Onboarding | Column::Password => text(None),
        Column::Phone => text(user.phone.as_deref()),
        Column::Title => text(user.title.as_deref()),
        Column::Company => text(user.company.as_deref()),
        Column::Office => text(user.office.as_deref()),
        Column::Street => text(user.street.as_deref()),
        Column::PostalCode => text(user.postal_code.as_deref()),
        Column::City => text(user.city.as_deref()),
        Column::CellPhone => text(user.cell_phone.as_deref()),
        Column::HomePhone => text(user.home_phone.as_deref()),
        Column::Property(key) => match user.properties.get(key) {
            None => text(None),
            Some(PropertyValue::Text(value)) => text(Some(value)),
            Some(PropertyValue::Number(n)) => Cell::Number(*n),
            Some(PropertyValue::Bool(b)) => Cell::Bool(*b),
            Some(PropertyValue::Date(date)) => Cell::Date(*date),
        },
        Column::Created => Cell::DateTime(user.created.naive_utc()),
        Column::LastActive => match (user.status, user.last_active) {
            (Status::Pending, _) => text(Some("Pending")),
            (_, None) => text(None),
            (_, Some(at)) => Cell::DateTime(at.naive_utc()),
        },
    }
}

/// The roster as CSV: UTF-8 with a BOM (so Excel reads it as UTF-8), CRLF line ends,
/// times in UTC.
pub fn export_csv(
    users: &[ExportUser],
    columns: ExportColumns,
    properties: &[PropertyDefinition],
) -> Result<Vec<u8>, ExportError> {
    let columns = columns.columns(properties);
    let headers = columns.iter().map(Column::name);
    write_csv(
        headers,
        users
            .iter()
            .map(|user| columns.iter().map(move |column| cell(user, column))),
    )
}

/// Writes a header and rows of cells as Excel-friendly CSV; shared with the template.
pub(crate) fn write_csv<'a, H, R, C>(headers: H, rows: R) -> Result<Vec<u8>, ExportError>
where
    H: IntoIterator<Item = String>,
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = Cell<'a>>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(headers.into_iter().map(|h| formula_safe(&h).into_owned()))?;
    for row in rows {
        for value in row {
            writer.write_field(value.to_csv().as_bytes())?;
        }
        writer.write_record(None::<&[u8]>)?;
    }
    writer
        .into_inner()
        .map_err(|error| ExportError::Csv(error.to_string()))
}

/// The roster as an XLSX workbook: one "Users" sheet, bold frozen header, text cells
/// always written as strings (never formulas), dates and numbers as such.
pub fn export_xlsx(
    users: &[ExportUser],
    columns: ExportColumns,
    properties: &[PropertyDefinition],
) -> Result<Vec<u8>, ExportError> {
    let columns = columns.columns(properties);
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Users")?;
    let headers: Vec<String> = columns.iter().map(Column::name).collect();
    write_header(sheet, &headers)?;
    let styles = XlsxStyles::new();
    for (i, user) in users.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (col, column) in columns.iter().enumerate() {
            write_cell(sheet, row, col_num(col)?, &cell(user, column), &styles)?;
        }
    }
    Ok(workbook.save_to_buffer()?)
}

/// Bold header row, frozen, with columns wide enough to read.
pub(crate) fn write_header(sheet: &mut Worksheet, headers: &[String]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    for (col, header) in headers.iter().enumerate() {
        let col = col_num(col)?;
        sheet.write_string_with_format(0, col, formula_safe(header), &bold)?;
        let width = header.chars().count().clamp(12, 40) as f64 + 2.0;
        sheet.set_column_width(col, width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

pub(crate) fn col_num(col: usize) -> Result<u16, XlsxError> {
    u16::try_from(col).map_err(|_| XlsxError::RowColumnLimitError)
}

pub(crate) struct XlsxStyles {
    date: Format,
    date_time: Format,
}

impl XlsxStyles {
    pub(crate) fn new() -> Self {
        XlsxStyles {
            date: Format::new().set_num_format("yyyy-mm-dd"),
            date_time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        }
    }
}

pub(crate) fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    value: &Cell<'_>,
    styles: &XlsxStyles,
) -> Result<(), XlsxError> {
    match value {
        Cell::Text(text) if text.is_empty() => {}
        Cell::Text(text) => {
            sheet.write_string(row, col, formula_safe(text))?;
        }
        Cell::Number(n) => {
            sheet.write_number(row, col, *n)?;
        }
        Cell::Bool(b) => {
            sheet.write_boolean(row, col, *b)?;
        }
        Cell::Date(date) => {
            sheet.write_datetime_with_format(row, col, date, &styles.date)?;
        }
        Cell::DateTime(at) => {
            sheet.write_datetime_with_format(row, col, at, &styles.date_time)?;
        }
    }
    Ok(())
}
