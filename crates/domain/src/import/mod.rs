//! Bulk import (SPEC.md §6): a CSV or spreadsheet file's bytes → typed, validated rows.
//!
//! Everything a user's file can get wrong is found here, before staging, and named by
//! row and column as the user's spreadsheet shows them. Pure functions over bytes: the
//! client reads the file, passes `today`, and stages what comes back.

mod collect;
mod columns;
mod decode;
mod delimited;
mod property;
mod report;
mod row;
mod template;
mod workbook;

pub use crate::wire::Onboarding;
pub use columns::{Column, ColumnChoice, MappedColumn, TEMPLATE_COLUMNS, fold_header};
pub use decode::{Delimiter, TextEncoding};
pub use property::{PropertyDefinition, PropertyKind, PropertyValue};
pub use report::{RawRow, RawTable, read_table, result_report_csv, result_report_xlsx};
pub use row::{ImportRow, Password};
pub use template::{template_csv, template_headers, template_xlsx};
pub use workbook::WorkbookKind;

pub(crate) use property::format_number;

use crate::error::{Denied, ErrorCode};
use crate::role::Role;
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt;

/// What the importer needs to know of the organization and the moment.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions<'a> {
    /// Guest end dates must be after this day.
    pub today: NaiveDate,
    /// The org's custom property definitions (`prop:<key>` columns).
    pub properties: &'a [PropertyDefinition],
    /// The org's workspace names; when given, names in the file must be among them.
    pub workspaces: Option<&'a [String]>,
    /// The role for rows of a file without a Role column (Microsoft 365 and Google
    /// exports have none) and for empty Role cells. `None`: the column is required.
    pub default_role: Option<Role>,
    /// The worksheet of a workbook to read; the first one when `None`.
    pub sheet: Option<&'a str>,
    /// The user's mapping choices from the import wizard, overriding header matching.
    pub columns: &'a [ColumnChoice],
}

impl<'a> ImportOptions<'a> {
    /// No properties, no workspace check, Role required, first sheet, headers matched
    /// by name.
    pub fn new(today: NaiveDate) -> Self {
        ImportOptions {
            today,
            properties: &[],
            workspaces: None,
            default_role: None,
            sheet: None,
            columns: &[],
        }
    }
}

/// Where the rows came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "format")]
pub enum Source {
    Csv {
        encoding: TextEncoding,
        delimiter: Delimiter,
    },
    Workbook {
        kind: WorkbookKind,
        sheet: String,
    },
    /// Rows typed into the multi-row form.
    Form,
}

/// A file read and checked, ready for staging.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedImport {
    pub source: Source,
    /// The spreadsheet row of the header (1 unless blank rows precede it; 0 for the form).
    pub header_row: u32,
    /// Every header as written (trimmed), by position, for the wizard's mapping step.
    pub headers: Vec<String>,
    /// The recognised columns, in file order.
    pub columns: Vec<MappedColumn>,
    /// Headers Orgdesk does not know; their cells are ignored.
    pub unknown_columns: Vec<String>,
    pub warnings: Vec<ImportWarning>,
    /// Every non-blank data row, in file order.
    pub rows: Vec<ParsedRow>,
}

impl ParsedImport {
    pub fn valid_rows(&self) -> impl Iterator<Item = &ImportRow> {
        self.rows.iter().filter_map(|row| match row {
            ParsedRow::Valid(row) => Some(row),
            ParsedRow::Invalid(_) => None,
        })
    }

    /// Every row error, in row order.
    pub fn errors(&self) -> impl Iterator<Item = &RowError> {
        self.rows.iter().flat_map(|row| match row {
            ParsedRow::Valid(_) => [].iter(),
            ParsedRow::Invalid(invalid) => invalid.errors.iter(),
        })
    }

    /// Whether the file has this column (an absent column leaves a field unchanged on
    /// update; an empty cell in a present one clears it).
    pub fn has_column(&self, column: &Column) -> bool {
        self.columns.iter().any(|mapped| &mapped.column == column)
    }
}

/// One data row: valid, or with every reason it is not.
#[allow(
    clippy::large_enum_variant,
    reason = "most rows are valid; boxing them would allocate once more per row"
)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ParsedRow {
    Valid(ImportRow),
    Invalid(InvalidRow),
}

impl ParsedRow {
    pub fn row_number(&self) -> u32 {
        match self {
            ParsedRow::Valid(row) => row.row_number,
            ParsedRow::Invalid(row) => row.row_number,
        }
    }
}

/// A row that cannot be imported as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidRow {
    pub row_number: u32,
    /// The Email cell as written, to show beside the errors.
    pub email: String,
    pub errors: Vec<RowError>,
}

/// One reason a row cannot be imported: where, a stable code, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("Row {row}, column {column}: {reason}")]
pub struct RowError {
    pub row: u32,
    /// The header as written in the file.
    pub column: String,
    pub code: ErrorCode,
    pub reason: String,
}

/// Something the user should know that does not stop the import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "warning")]
pub enum ImportWarning {
    /// The file has no Role column; every row gets the caller's default role.
    DefaultRole { role: Role },
    /// Two headers mean the same column; the stronger one is used.
    ColumnIgnored {
        ignored: String,
        used: String,
        column: String,
    },
    /// A column with data but no header (0-based index).
    UnnamedColumn { index: usize },
    /// A workbook stores phones or postal codes as numbers, which drops a leading `+` or
    /// zero; `column` is the header.
    StoredAsNumbers {
        column: String,
        rows: usize,
        first_row: u32,
    },
    /// A required custom property has no column, so new users will lack it.
    RequiredPropertyMissing { key: String, label: String },
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportWarning::DefaultRole { role } => write!(
                f,
                "The file has no Role column; every user will be imported as {}.",
                role.label()
            ),
            ImportWarning::ColumnIgnored {
                ignored,
                used,
                column,
            } => write!(
                f,
                "Column '{ignored}' was ignored: '{used}' is used for {column}."
            ),
            ImportWarning::UnnamedColumn { index } => {
                write!(f, "Column {} has no header and was ignored.", index + 1)
            }
            ImportWarning::StoredAsNumbers {
                column,
                rows,
                first_row,
            } => {
                let rows = if *rows == 1 {
                    "1 row".to_owned()
                } else {
                    format!("{rows} rows")
                };
                write!(
                    f,
                    "{column} is stored as a number in {rows} (first in row {first_row}); a spreadsheet drops a leading + or 0 from numbers. Format the column as text if that happened."
                )
            }
            ImportWarning::RequiredPropertyMissing { key, label } => write!(
                f,
                "The file has no column for the required property {label} (prop:{key}); new users need a value."
            ),
        }
    }
}

/// Why a whole file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("The file is empty.")]
    Empty,
    #[error(
        "The file is not text: save it from your spreadsheet as CSV (or upload the XLSX, XLS or ODS file itself)."
    )]
    NotText,
    #[error("The file could not be read as an XLSX, XLS or ODS workbook ({0}).")]
    Workbook(String),
    #[error("The sheet '{sheet}' is empty.")]
    EmptySheet { sheet: String },
    #[error("The workbook has no sheet named '{name}'; its sheets are: {}.", sheets.join(", "))]
    NoSuchSheet { name: String, sheets: Vec<String> },
    #[error(
        "The first row names none of the import columns (it has: {}). The first row must be the header, e.g. Email, First Name, Last Name, Role.",
        found.join(", ")
    )]
    NoKnownColumns { found: Vec<String> },
    #[error("The file has no {column} column; it is required.")]
    MissingColumn { column: String },
    #[error(
        "The columns '{first}' and '{second}' both mean {column}; delete or rename one of them."
    )]
    AmbiguousColumns {
        column: String,
        first: String,
        second: String,
    },
    #[error("Row {row} could not be read: {reason}")]
    Malformed { row: u32, reason: String },
}

impl From<ImportError> for Denied {
    fn from(error: ImportError) -> Self {
        Denied::with_message(ErrorCode::InvalidInput, error.to_string())
    }
}

/// Reads a file of either kind: workbooks are recognised by their magic bytes, anything
/// else is read as CSV.
pub fn parse(bytes: &[u8], options: &ImportOptions<'_>) -> Result<ParsedImport, ImportError> {
    if decode::is_workbook(bytes) {
        workbook::parse_workbook(bytes, options)
    } else {
        parse_csv(bytes, options)
    }
}
/// Reads a CSV (or tab-separated) file: encoding and delimiter detected, cells trimmed,
/// blank rows skipped.
pub fn parse_csv(bytes: &[u8], options: &ImportOptions<'_>) -> Result<ParsedImport, ImportError> {
    delimited::parse_csv(bytes, options)
}

/// Reads an XLSX, XLS or ODS workbook's first sheet, or the one named in the options.
pub fn parse_workbook(
    bytes: &[u8],
    options: &ImportOptions<'_>,
) -> Result<ParsedImport, ImportError> {
    workbook::parse_workbook(bytes, options)
}

/// Reads rows typed into the multi-row form (SPEC.md §6) through the same rules as a
/// file. `headers` name the form's columns as the template does; the form's first row is
/// row 1 in errors.
pub fn parse_form(
    headers: &[String],
    rows: &[Vec<String>],
    options: &ImportOptions<'_>,
) -> Result<ParsedImport, ImportError> {
    let headers: Vec<String> = headers.iter().map(|h| h.trim().to_owned()).collect();
    let map = collect::map_columns(headers, options)?;
    let mut collector = collect::Collector::new(&map, options);
    collector.reserve(rows.len() as u64);
    let mut record = csv::StringRecord::new();
    for (row, cells) in (1u32..).zip(rows) {
        record.clear();
        for cell in cells {
            record.push_field(cell);
        }
        collector.push(row, &record);
    }
    Ok(collector.finish(Source::Form, 0, Vec::new()))
}

#[cfg(test)]
mod tests;
