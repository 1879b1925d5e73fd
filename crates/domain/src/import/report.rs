//! The result report (SPEC.md §6): the user's own rows, as they wrote them, with a
//! `Result` column saying what became of each, to save beside the original file.
//!
//! Passwords are never written back: the report is a file people keep and mail around.

use super::columns::{Column, fold_header, recognise};
use super::delimited::{CsvRows, decode_text, delimiter_and_body};
use super::workbook::{open_sheet, sheet_header, sheet_rows, text};
use super::{ImportError, collect::is_blank, decode};
use crate::export::{Cell, ExportError, XlsxStyles, col_num, write_cell, write_csv, write_header};
use rust_xlsxwriter::{Workbook, XlsxError};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A file's header and non-blank rows, cell by cell as written (trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTable {
    pub headers: Vec<String>,
    pub rows: Vec<RawRow>,
}

/// One non-blank row of a file, numbered as [`super::ImportRow::row_number`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    pub row_number: u32,
    pub cells: Vec<String>,
}

/// Reads a CSV or workbook (the sheet named, or the first) as it is, without mapping or
/// checking anything.
pub fn read_table(bytes: &[u8], sheet: Option<&str>) -> Result<RawTable, ImportError> {
    if decode::is_workbook(bytes) {
        read_sheet(bytes, sheet)
    } else {
        read_csv(bytes)
    }
}

fn read_csv(bytes: &[u8]) -> Result<RawTable, ImportError> {
    let (text, _) = decode_text(bytes)?;
    let (delimiter, text) = delimiter_and_body(&text);
    let mut csv = CsvRows::new(text, delimiter);
    let (_, headers) = csv.header()?;
    let mut rows = Vec::new();
    while let Some(row_number) = csv.next_row()? {
        if !is_blank(&csv.record) {
            let cells = csv.record.iter().map(|c| c.trim().to_owned()).collect();
            rows.push(RawRow { row_number, cells });
        }
    }
    Ok(RawTable { headers, rows })
}

fn read_sheet(bytes: &[u8], sheet: Option<&str>) -> Result<RawTable, ImportError> {
    let (_, sheet, range) = open_sheet(bytes, sheet)?;
    let mut sheet_rows = sheet_rows(&range);
    let (_, headers) = sheet_header(&mut sheet_rows, &sheet)?;
    let rows = sheet_rows
        .map(|(row_number, cells)| RawRow {
            row_number,
            cells: cells
                .iter()
                .map(|c| text(c, false).trim().to_owned())
                .collect(),
        })
        .filter(|row| row.cells.iter().any(|c| !c.is_empty()))
        .collect();
    Ok(RawTable { headers, rows })
}

/// The report as CSV: the table's columns plus `Result`, password cells left empty.
/// `results` maps a row number to what happened to it ("created", "Row 4, column
/// Email: ..."); rows without an entry get an empty Result.
pub fn result_report_csv(
    table: &RawTable,
    results: &BTreeMap<u32, String>,
) -> Result<Vec<u8>, ExportError> {
    write_csv(report_headers(table), report_rows(table, results))
}

/// The report as an XLSX workbook with one "Result" sheet.
pub fn result_report_xlsx(
    table: &RawTable,
    results: &BTreeMap<u32, String>,
) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Result")?;
    let headers: Vec<String> = report_headers(table).collect();
    write_header(sheet, &headers)?;
    let styles = XlsxStyles::new();
    for (i, cells) in report_rows(table, results).enumerate() {
        let row = u32::try_from(i + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (col, cell) in cells.enumerate() {
            write_cell(sheet, row, col_num(col)?, &cell, &styles)?;
        }
    }
    Ok(workbook.save_to_buffer()?)
}

fn report_headers(table: &RawTable) -> impl Iterator<Item = String> + '_ {
    table
        .headers
        .iter()
        .cloned()
        .chain(std::iter::once("Result".to_owned()))
}

fn report_rows<'a>(
    table: &'a RawTable,
    results: &'a BTreeMap<u32, String>,
) -> impl Iterator<Item = impl Iterator<Item = Cell<'a>>> + 'a {
    let width = table.headers.len();
    let password = table
        .headers
        .iter()
        .position(|h| recognise(&fold_header(h), &[]).is_some_and(|(c, _)| c == Column::Password));
    table.rows.iter().map(move |row| {
        let cells = (0..width).map(move |i| {
            let value = row.cells.get(i).map_or("", String::as_str);
            Cell::Text(Cow::Borrowed(if Some(i) == password { "" } else { value }))
        });
        let result = results.get(&row.row_number).map_or("", String::as_str);
        cells.chain(std::iter::once(Cell::Text(Cow::Borrowed(result))))
    })
}
