//! Reading XLSX, XLS and ODS workbooks with calamine, from bytes.
//!
//! A spreadsheet stores typed cells, so this is where numbers that are really text
//! (phone numbers, postal codes) and dates (Excel serials) become the text the row
//! reader expects; after that a sheet row goes through exactly the CSV path.

use super::collect::{Collector, map_columns};
use super::columns::{Column, ColumnMap};
use super::property::PropertyKind;
use super::{ImportError, ImportOptions, ImportWarning, ParsedImport, Source, format_number};
use calamine::{Data, Range, Reader, Sheets};
use chrono::{Days, NaiveDate};
use csv::StringRecord;
use serde::Serialize;
use std::io::Cursor;

/// The kind of workbook a file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkbookKind {
    Xlsx,
    Xls,
    Xlsb,
    Ods,
}

pub(super) fn parse_workbook(
    bytes: &[u8],
    options: &ImportOptions<'_>,
) -> Result<ParsedImport, ImportError> {
    let (kind, sheet, range) = open_sheet(bytes, options.sheet)?;
    let mut rows = sheet_rows(&range);
    let (header_row, headers) = sheet_header(&mut rows, &sheet)?;
    let map = map_columns(headers, options)?;
    let dates = date_columns(&map, options);
    let mut numbers = NumbersInTextColumns::new(&map);
    let mut collector = Collector::new(&map, options);
    collector.reserve(range.height() as u64);
    let mut record = StringRecord::new();
    for (row, cells) in rows {
        record.clear();
        for (index, cell) in cells.iter().enumerate() {
            record.push_field(&text(cell, dates.get(index).copied().unwrap_or(false)));
        }
        numbers.check(row, cells);
        collector.push(row, &record);
    }
    let source = Source::Workbook { kind, sheet };
    Ok(collector.finish(source, header_row, numbers.warnings()))
}

/// The columns whose text a number cell can spoil (a phone's `+`, a postal code's
/// leading zero), and the rows where it did.
struct NumbersInTextColumns {
    /// Per column: cell index, header, rows seen, first row.
    columns: Vec<(usize, String, usize, u32)>,
}

impl NumbersInTextColumns {
    const WATCHED: [Column; 4] = [
        Column::Phone,
        Column::PostalCode,
        Column::CellPhone,
        Column::HomePhone,
    ];

    fn new(map: &ColumnMap) -> Self {
        let mut columns: Vec<_> = Self::WATCHED
            .iter()
            .filter_map(|column| Some((map.cell(column)?, map.header_of(column), 0, 0)))
            .collect();
        columns.sort_by_key(|(index, ..)| *index);
        NumbersInTextColumns { columns }
    }

    fn check(&mut self, row: u32, cells: &[Data]) {
        for (index, _, rows, first_row) in &mut self.columns {
            if matches!(cells.get(*index), Some(Data::Int(_) | Data::Float(_))) {
                if *rows == 0 {
                    *first_row = row;
                }
                *rows += 1;
            }
        }
    }

    fn warnings(self) -> Vec<ImportWarning> {
        self.columns
            .into_iter()
            .filter(|(_, _, rows, _)| *rows > 0)
            .map(
                |(_, column, rows, first_row)| ImportWarning::StoredAsNumbers {
                    column,
                    rows,
                    first_row,
                },
            )
            .collect()
    }
}

/// The workbook's kind, and the chosen sheet's name and cells.
pub(super) fn open_sheet(
    bytes: &[u8],
    wanted: Option<&str>,
) -> Result<(WorkbookKind, String, Range<Data>), ImportError> {
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|error| ImportError::Workbook(error.to_string()))?;
    let kind = match &workbook {
        Sheets::Xlsx(_) => WorkbookKind::Xlsx,
        Sheets::Xls(_) => WorkbookKind::Xls,
        Sheets::Xlsb(_) => WorkbookKind::Xlsb,
        Sheets::Ods(_) => WorkbookKind::Ods,
    };
    let sheet = choose_sheet(workbook.sheet_names(), wanted)?;
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|error| ImportError::Workbook(error.to_string()))?;
    Ok((kind, sheet, range))
}

/// A sheet's rows with their spreadsheet row numbers.
pub(super) fn sheet_rows(range: &Range<Data>) -> impl Iterator<Item = (u32, &[Data])> {
    let first_row = range.start().map_or(0, |(row, _)| row);
    range
        .rows()
        .enumerate()
        .map(move |(i, cells)| (sheet_row(first_row, i), cells))
}

/// The first non-blank row, as trimmed text, and its row number.
pub(super) fn sheet_header<'r>(
    rows: &mut impl Iterator<Item = (u32, &'r [Data])>,
    sheet: &str,
) -> Result<(u32, Vec<String>), ImportError> {
    rows.find(|(_, cells)| {
        cells
            .iter()
            .any(|cell| !text(cell, false).trim().is_empty())
    })
    .map(|(row, cells)| {
        let headers = cells.iter().map(|c| text(c, false).trim().to_owned());
        (row, headers.collect())
    })
    .ok_or_else(|| ImportError::EmptySheet {
        sheet: sheet.to_owned(),
    })
}

fn sheet_row(first_row: u32, index: usize) -> u32 {
    let index = u32::try_from(index).unwrap_or(u32::MAX);
    first_row.saturating_add(index).saturating_add(1)
}

fn choose_sheet(names: Vec<String>, wanted: Option<&str>) -> Result<String, ImportError> {
    match wanted {
        None => names.into_iter().next().ok_or(ImportError::Empty),
        Some(wanted) => match names
            .iter()
            .find(|name| name.trim().eq_ignore_ascii_case(wanted.trim()))
        {
            Some(name) => Ok(name.clone()),
            None => Err(ImportError::NoSuchSheet {
                name: wanted.to_owned(),
                sheets: names,
            }),
        },
    }
}

/// Which cell indexes hold dates (Guest Expires and date properties).
fn date_columns(map: &ColumnMap, options: &ImportOptions<'_>) -> Vec<bool> {
    let mut dates = vec![false; map.headers.len()];
    let date_properties = options
        .properties
        .iter()
        .zip(&map.properties)
        .filter(|(definition, _)| definition.kind == PropertyKind::Date)
        .filter_map(|(_, cell)| *cell);
    for index in map
        .cell(&Column::GuestExpires)
        .into_iter()
        .chain(date_properties)
    {
        if let Some(is_date) = dates.get_mut(index) {
            *is_date = true;
        }
    }
    dates
}

/// A cell as the text a person sees: whole numbers without `.0` (a phone or postal code
/// typed into a number cell), dates as YYYY-MM-DD, and in date columns a plain number as
/// the Excel serial date it is.
pub(super) fn text(cell: &Data, is_date: bool) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) if is_date => serial_date(*i as f64).unwrap_or_else(|| i.to_string()),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if is_date => serial_date(*f).unwrap_or_else(|| format_number(*f)),
        Data::Float(f) => format_number(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, hh, mm, ss, _) = dt.to_ymd_hms_milli();
            if is_date || (hh, mm, ss) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
            }
        }
        Data::DateTime(duration) => format_number(duration.as_f64()),
        Data::Error(error) => error.to_string(),
    }
}

/// Excel's 1900 date system: serial 1 is 1900-01-01, counted from 1899-12-30 because
/// of Excel's phantom 1900-02-29 (exact from March 1900 on).
fn serial_date(serial: f64) -> Option<String> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = Days::new(serial.trunc() as u64);
    NaiveDate::from_ymd_opt(1899, 12, 30)
        .and_then(|epoch| epoch.checked_add_days(days))
        .map(|date| date.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_the_text_a_person_typed() {
        assert_eq!(text(&Data::Float(14155550123.0), false), "14155550123");
        assert_eq!(text(&Data::Float(2139.0), false), "2139");
        assert_eq!(text(&Data::Float(2.5), false), "2.5");
        assert_eq!(text(&Data::Int(7), false), "7");
    }

    #[test]
    fn numbers_in_date_columns_are_excel_serial_dates() {
        assert_eq!(text(&Data::Float(46387.0), true), "2026-12-31");
        assert_eq!(text(&Data::Int(61), true), "1900-03-01");
        assert_eq!(text(&Data::Float(-3.0), true), "-3");
    }

    #[test]
    fn a_missing_sheet_lists_the_sheets_there_are() {
        let error = choose_sheet(vec!["Users".into(), "Lists".into()], Some("Staff")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "The workbook has no sheet named 'Staff'; its sheets are: Users, Lists."
        );
        assert_eq!(
            choose_sheet(vec!["Users".into()], Some(" users ")),
            Ok("Users".into())
        );
    }
}
