//! What every file kind shares once its header row is read: the column rules of the
//! whole file, and the data rows read one by one with duplicate emails flagged.

use super::columns::{Column, ColumnMap};
use super::row::{RowReader, clean_cell};
use super::{
    ImportError, ImportOptions, ImportWarning, InvalidRow, ParsedImport, ParsedRow, RowError,
    Source,
};
use crate::error::ErrorCode;
use csv::StringRecord;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};

/// A row with nothing but spaces: skipped wherever it is.
pub(super) fn is_blank(record: &StringRecord) -> bool {
    record.iter().all(|cell| cell.trim().is_empty())
}

/// The header mapped, and the file-level rules on required columns applied.
pub(super) fn map_columns(
    headers: Vec<String>,
    options: &ImportOptions<'_>,
) -> Result<ColumnMap, ImportError> {
    let mut map = ColumnMap::new(headers, options.properties, options.columns)?;
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
pub(super) struct Collector<'a> {
    map: &'a ColumnMap,
    reader: RowReader<'a>,
    first_row_of: HashMap<String, u32, BuildHasherDefault<Fnv1a>>,
    rows: Vec<ParsedRow>,
}

/// FNV-1a: several times faster than the default SipHash on short keys like emails. The
/// keys come from the user's own file, so flooding the table gains an attacker nothing.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl<'a> Collector<'a> {
    pub(super) fn new(map: &'a ColumnMap, options: &'a ImportOptions<'a>) -> Self {
        Collector {
            map,
            reader: RowReader::new(map, options),
            first_row_of: HashMap::default(),
            rows: Vec::new(),
        }
    }

    /// Room for about `rows` rows, so that a large file's rows are not moved as they grow.
    pub(super) fn reserve(&mut self, rows: u64) {
        let rows = usize::try_from(rows).unwrap_or(0);
        self.rows.reserve(rows);
        self.first_row_of.reserve(rows);
    }

    pub(super) fn push(&mut self, row: u32, record: &StringRecord) {
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
            .map(|cell| clean_cell(cell).to_owned())
            .unwrap_or_default()
    }

    pub(super) fn finish(
        self,
        source: Source,
        header_row: u32,
        extra_warnings: Vec<ImportWarning>,
    ) -> ParsedImport {
        let ColumnMap {
            mapped,
            unknown,
            mut warnings,
            headers,
            ..
        } = self.map.clone();
        warnings.extend(extra_warnings);
        ParsedImport {
            source,
            header_row,
            headers,
            columns: mapped,
            unknown_columns: unknown,
            warnings,
            rows: self.rows,
        }
    }
}
