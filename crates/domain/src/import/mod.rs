//! Bulk import (SPEC.md §6): a CSV or spreadsheet file's bytes → typed, validated rows.
//!
//! Everything a user's file can get wrong is found here, before staging, and named by
//! row and column as the user's spreadsheet shows them. Pure functions over bytes: the
//! client reads the file, passes `today`, and stages what comes back.

mod columns;
mod decode;
mod property;
mod row;
mod template;
mod workbook;

pub use columns::{Column, MappedColumn, TEMPLATE_COLUMNS, fold_header};
pub use decode::{Delimiter, TextEncoding};
pub use property::{PropertyDefinition, PropertyKind, PropertyValue};
pub use row::{ImportRow, Onboarding, Password};
pub use template::{template_csv, template_xlsx};
pub use workbook::WorkbookKind;

pub(crate) use property::format_number;

use crate::error::{Denied, ErrorCode};
use crate::role::Role;
use chrono::NaiveDate;
use columns::ColumnMap;
use csv::StringRecord;
use row::RowReader;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

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
}

impl<'a> ImportOptions<'a> {
    /// No properties, no workspace check, Role required, first sheet.
    pub fn new(today: NaiveDate) -> Self {
        ImportOptions {
            today,
            properties: &[],
            workspaces: None,
            default_role: None,
            sheet: None,
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
}

/// A file read and checked, ready for staging.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedImport {
    pub source: Source,
    /// The spreadsheet row of the header (1 unless blank rows precede it).
    pub header_row: u32,
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
#[derive(Debug, Clone, PartialEq)]
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
    /// Postal codes stored as numbers have lost any leading zero.
    PostalCodesAsNumbers { rows: usize, first_row: u32 },
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
            ImportWarning::PostalCodesAsNumbers { rows, first_row } => write!(
                f,
                "{rows} postal codes are stored as numbers (first in row {first_row}); a leading zero may have been lost. Format the column as text in the spreadsheet if so."
            ),
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
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty);
    }
    let (text, encoding) = decode::decode(bytes)?;
    let text = mac_line_ends(text);
    let delimiter = decode::detect_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter.as_byte())
        .from_reader(text.as_bytes());
    let mut record = StringRecord::new();
    let mut lines = SpreadsheetRows::new(&text);
    let header = loop {
        if !read_record(&mut reader, &mut record, &lines)? {
            return Err(ImportError::Empty);
        }
        let row = lines.row_of(&record);
        if !is_blank(&record) {
            break (row, record.iter().map(|h| h.trim().to_owned()).collect());
        }
    };
    let (header_row, headers): (u32, Vec<String>) = header;
    let map = map_columns(headers, options)?;
    let mut collector = Collector::new(&map, options);
    collector.reserve(line_breaks(text.as_bytes()));
    while read_record(&mut reader, &mut record, &lines)? {
        let row = lines.row_of(&record);
        collector.push(row, &record);
    }
    let source = Source::Csv {
        encoding,
        delimiter,
    };
    Ok(collector.finish(source, header_row, Vec::new()))
}

/// Reads an XLSX, XLS or ODS workbook's first sheet, or the one named in the options.
pub fn parse_workbook(
    bytes: &[u8],
    options: &ImportOptions<'_>,
) -> Result<ParsedImport, ImportError> {
    workbook::parse_workbook(bytes, options)
}

fn read_record(
    reader: &mut csv::Reader<&[u8]>,
    record: &mut StringRecord,
    lines: &SpreadsheetRows,
) -> Result<bool, ImportError> {
    reader
        .read_record(record)
        .map_err(|error| ImportError::Malformed {
            row: lines.next_row(),
            reason: error.to_string(),
        })
}

/// Spreadsheet row numbers for CSV records: a line break starts a row, except inside a
/// quoted cell, where it is part of the cell. (csv's own line numbers point before
/// skipped blank lines and CRLF ends, so they are not used.)
struct SpreadsheetRows<'t> {
    text: &'t [u8],
    /// Bytes before this have been counted.
    counted_to: usize,
    line_breaks: u64,
    /// Line breaks inside the quoted cells of records before the current one.
    embedded: u64,
}

impl<'t> SpreadsheetRows<'t> {
    fn new(text: &'t str) -> Self {
        SpreadsheetRows {
            text: text.as_bytes(),
            counted_to: 0,
            line_breaks: 0,
            embedded: 0,
        }
    }

    fn row_of(&mut self, record: &StringRecord) -> u32 {
        let mut start = record
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .min(self.text.len());
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if let Some(skipped) = self.text.get(self.counted_to..start) {
            self.line_breaks += line_breaks(skipped);
            self.counted_to = start;
        }
        let row = self.next_row();
        self.embedded += line_breaks(record.as_slice().as_bytes());
        row
    }

    /// The row the next record would be on, as far as counted.
    fn next_row(&self) -> u32 {
        let row = (self.line_breaks + 1).saturating_sub(self.embedded);
        u32::try_from(row).unwrap_or(u32::MAX)
    }
}

/// Lines end in `\n` or `\r\n` (old Mac files, ending lines in `\r` alone, have been
/// given `\n`s by [`mac_line_ends`]).
fn line_breaks(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// A file whose lines end in a lone `\r` (classic Mac OS, still written by some tools)
/// gets `\n`s, so that rows can be counted by `\n`.
fn mac_line_ends(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.contains('\r') && !text.contains('\n') {
        Cow::Owned(text.replace('\r', "\n"))
    } else {
        text
    }
}

fn is_blank(record: &StringRecord) -> bool {
    record.iter().all(|cell| cell.trim().is_empty())
}

/// The header mapped, and the file-level rules on required columns applied.
fn map_columns(
    headers: Vec<String>,
    options: &ImportOptions<'_>,
) -> Result<ColumnMap, ImportError> {
    let mut map = ColumnMap::new(headers, options.properties)?;
    if !map.has(&Column::Email) {
        return Err(ImportError::MissingColumn {
            column: Column::Email.name(),
        });
    }
    if !map.has(&Column::Role) {
        let role = options.default_role.ok_or(ImportError::MissingColumn {
            column: Column::Role.name(),
        })?;
        map.warnings.push(ImportWarning::DefaultRole { role });
    }
    for (definition, cell) in options.properties.iter().zip(&map.properties) {
        if definition.required && cell.is_none() {
            map.warnings.push(ImportWarning::RequiredPropertyMissing {
                key: definition.key.clone(),
                label: definition.label.clone(),
            });
        }
    }
    Ok(map)
}

/// Reads data rows one by one and flags emails seen in an earlier row.
struct Collector<'a> {
    map: &'a ColumnMap,
    reader: RowReader<'a>,
    first_row_of: HashMap<String, u32, BuildHasherDefault<Fnv1a>>,
    rows: Vec<ParsedRow>,
}

/// FNV-1a: several times faster than the default SipHash on short keys like emails. The
/// keys come from the user's own file, so flooding the table gains an attacker nothing.
#[derive(Default)]
struct Fnv1a(u64);

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

impl<'a> Collector<'a> {
    fn new(map: &'a ColumnMap, options: &'a ImportOptions<'a>) -> Self {
        Collector {
            map,
            reader: RowReader::new(map, options),
            first_row_of: HashMap::default(),
            rows: Vec::new(),
        }
    }

    /// Room for about `rows` rows, so that a large file's rows are not moved as they grow.
    fn reserve(&mut self, rows: u64) {
        let rows = usize::try_from(rows).unwrap_or(0);
        self.rows.reserve(rows);
        self.first_row_of.reserve(rows);
    }

    fn push(&mut self, row: u32, record: &StringRecord) {
        if is_blank(record) {
            return;
        }
        let (email, mut result) = self.reader.read(row, record);
        if let Some(email) = email {
            match self.first_row_of.entry(email) {
                Entry::Vacant(vacant) => {
                    vacant.insert(row);
                }
                Entry::Occupied(first) => {
                    let error = RowError {
                        row,
                        column: self.map.header_of(&Column::Email),
                        code: ErrorCode::InvalidInput,
                        reason: format!("'{}' already appears in row {}", first.key(), first.get()),
                    };
                    match &mut result {
                        Ok(_) => result = Err(vec![error]),
                        Err(errors) => errors.insert(0, error),
                    }
                }
            }
        }
        self.rows.push(match result {
            Ok(imported) => ParsedRow::Valid(imported),
            Err(errors) => ParsedRow::Invalid(InvalidRow {
                row_number: row,
                email: self.email_cell(record),
                errors,
            }),
        });
    }

    fn email_cell(&self, record: &StringRecord) -> String {
        self.map
            .cell(&Column::Email)
            .and_then(|index| record.get(index))
            .map(|cell| row::clean_cell(cell).to_owned())
            .unwrap_or_default()
    }

    fn finish(
        self,
        source: Source,
        header_row: u32,
        extra_warnings: Vec<ImportWarning>,
    ) -> ParsedImport {
        let ColumnMap {
            mapped,
            unknown,
            mut warnings,
            ..
        } = self.map.clone();
        warnings.extend(extra_warnings);
        ParsedImport {
            source,
            header_row,
            columns: mapped,
            unknown_columns: unknown,
            warnings,
            rows: self.rows,
        }
    }
}

#[cfg(test)]
mod tests;
