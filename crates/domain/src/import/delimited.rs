//! CSV and tab-separated text: decoded, split by the `csv` crate, and numbered by row as
//! a spreadsheet would show the file.

use super::collect::{Collector, is_blank, map_columns};
use super::{Delimiter, ImportError, ImportOptions, ParsedImport, Source, TextEncoding, decode};
use csv::StringRecord;
use std::borrow::Cow;

/// Reads a CSV (or tab-separated) file: encoding and delimiter detected, cells trimmed,
/// blank rows skipped.
pub(super) fn parse_csv(
    bytes: &[u8],
    options: &ImportOptions<'_>,
) -> Result<ParsedImport, ImportError> {
    let (text, encoding) = decode_text(bytes)?;
    let (delimiter, text) = delimiter_and_body(&text);
    let mut rows = CsvRows::new(text, delimiter);
    let (header_row, headers) = rows.header()?;
    let map = map_columns(headers, options)?;
    let mut collector = Collector::new(&map, options);
    collector.reserve(line_breaks(text.as_bytes()));
    while let Some(row) = rows.next_row()? {
        collector.push(row, &rows.record);
    }
    let source = Source::Csv {
        encoding,
        delimiter,
    };
    Ok(collector.finish(source, header_row, Vec::new()))
}

/// The file's text, with lines ending in `\n` or `\r\n`.
pub(super) fn decode_text(bytes: &[u8]) -> Result<(Cow<'_, str>, TextEncoding), ImportError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty);
    }
    let (text, encoding) = decode::decode(bytes)?;
    Ok((mac_line_ends(text), encoding))
}

/// The delimiter, and the text to read: Excel's `sep=;` first line names the delimiter
/// and is not a row (Excel hides it, so the header is row 1); otherwise the header line
/// tells.
pub(super) fn delimiter_and_body(text: &str) -> (Delimiter, &str) {
    let (first_line, rest) = text.split_once('\n').unwrap_or((text, ""));
    let hint = first_line.trim_end_matches('\r');
    let named = match hint.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("sep=") => match &hint[4..] {
            "," => Some(Delimiter::Comma),
            ";" => Some(Delimiter::Semicolon),
            "\t" => Some(Delimiter::Tab),
            _ => None,
        },
        _ => None,
    };
    match named {
        Some(delimiter) => (delimiter, rest),
        None => (decode::detect_delimiter(text), text),
    }
}

/// The records of a CSV text one by one, each with its spreadsheet row.
pub(super) struct CsvRows<'t> {
    reader: csv::Reader<&'t [u8]>,
    rows: SpreadsheetRows<'t>,
    /// The record [`CsvRows::next_row`] last read.
    pub record: StringRecord,
}

impl<'t> CsvRows<'t> {
    pub fn new(text: &'t str, delimiter: Delimiter) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter.as_byte())
            .from_reader(text.as_bytes());
        CsvRows {
            reader,
            rows: SpreadsheetRows::new(text),
            record: StringRecord::new(),
        }
    }

    /// Reads the next record into `record` and answers its row, or `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<u32>, ImportError> {
        let more =
            self.reader
                .read_record(&mut self.record)
                .map_err(|error| ImportError::Malformed {
                    row: self.rows.next_row(),
                    reason: error.to_string(),
                })?;
        Ok(more.then(|| self.rows.row_of(&self.record)))
    }

    /// The first non-blank record, trimmed, and its row.
    pub fn header(&mut self) -> Result<(u32, Vec<String>), ImportError> {
        while let Some(row) = self.next_row()? {
            if !is_blank(&self.record) {
                let headers = self.record.iter().map(|h| h.trim().to_owned()).collect();
                return Ok((row, headers));
            }
        }
        Err(ImportError::Empty)
    }
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
