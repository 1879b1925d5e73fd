//! One data row of an import file read into an [`ImportRow`], or every reason it is not one.
//!
//! The rules are the domain's own (`crate::validate`, `crate::invariants`); this module
//! only decides which cell feeds which rule and names the file's column in each error.

use super::columns::{Column, ColumnMap};
use super::property::{PropertyValue, parse_date, parse_value};
use super::{ImportOptions, RowError};
use crate::error::{Denied, ErrorCode};
use crate::role::Role;
use crate::wire::Onboarding;
use crate::{invariants, validate};
use chrono::NaiveDate;
use csv::StringRecord;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

impl fmt::Display for Onboarding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Onboarding {
    type Err = String;

    /// Accepts the key in any case, with spaces or `-` for `_`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let folded: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect();
        Onboarding::ALL
            .into_iter()
            .find(|o| o.as_str().replace('_', "") == folded)
            .ok_or_else(|| {
                format!(
                    "'{}' is not an onboarding option (invite, generate_and_email, set_and_email, set_silently)",
                    s.trim()
                )
            })
    }
}

/// A password from a file: kept out of `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A valid data row of an import file, with every value normalised (emails lower-cased,
/// phones compact, workspace names in the org's spelling when the caller gave them).
///
/// A field is `None` both when its cell is empty and when the file has no such column;
/// [`super::ParsedImport::columns`] tells the two apart for staging updates. Serialised
/// (for the preview) without the password.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportRow {
    /// The row as a spreadsheet numbers it: the header is row 1 (when it is the first line).
    pub row_number: u32,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub role: Role,
    pub workspaces: Vec<String>,
    pub guest_expires: Option<NaiveDate>,
    pub onboarding: Onboarding,
    #[serde(skip)]
    pub password: Option<Password>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub office: Option<String>,
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub cell_phone: Option<String>,
    pub home_phone: Option<String>,
    /// Custom property values by key; only the non-empty cells.
    pub properties: BTreeMap<String, PropertyValue>,
}

/// Reads data rows once the header is mapped; holds what every row needs.
pub(super) struct RowReader<'a> {
    map: &'a ColumnMap,
    options: &'a ImportOptions<'a>,
    /// Lower-cased name → the org's spelling.
    workspaces: Option<HashMap<String, &'a str>>,
}

impl<'a> RowReader<'a> {
    pub fn new(map: &'a ColumnMap, options: &'a ImportOptions<'a>) -> Self {
        let workspaces = options.workspaces.map(|names| {
            names
                .iter()
                .map(|name| (name.trim().to_lowercase(), name.as_str()))
                .collect()
        });
        RowReader {
            map,
            options,
            workspaces,
        }
    }

    /// The row, or its errors; and its normalised email when that cell is valid, for the
    /// caller's duplicate check.
    pub fn read(
        &self,
        row: u32,
        record: &StringRecord,
    ) -> (Option<String>, Result<ImportRow, Vec<RowError>>) {
        let mut cells = Cells {
            record,
            map: self.map,
            row,
            errors: Vec::new(),
        };
        let email = self.email(&mut cells);
        let role = self.role(&mut cells);
        let guest_expires = self.guest_expires(&mut cells, role);
        let (onboarding, password) = onboarding_and_password(&mut cells);
        let workspaces = self.workspaces(&mut cells);
        let properties = self.properties(&mut cells);
        let imported = ImportRow {
            row_number: row,
            first_name: name(&mut cells, Column::FirstName),
            last_name: name(&mut cells, Column::LastName),
            display_name: name(&mut cells, Column::DisplayName),
            workspaces,
            guest_expires,
            onboarding,
            password,
            phone: phone(&mut cells),
            title: profile(&mut cells, Column::Title),
            company: profile(&mut cells, Column::Company),
            office: profile(&mut cells, Column::Office),
            street: street(&mut cells),
            postal_code: profile(&mut cells, Column::PostalCode),
            city: profile(&mut cells, Column::City),
            cell_phone: profile(&mut cells, Column::CellPhone),
            home_phone: profile(&mut cells, Column::HomePhone),
            properties,
            email: email.clone().unwrap_or_default(),
            // Only read when there are no errors, and then the role was valid.
            role: role.unwrap_or(Role::Member),
        };
        if cells.errors.is_empty() {
            (email, Ok(imported))
        } else {
            (email, Err(cells.errors))
        }
    }

    fn email(&self, cells: &mut Cells<'_>) -> Option<String> {
        let cell = cells.get(&Column::Email);
        validate::email(cell)
            .map_err(|invalid| cells.invalid(&Column::Email, invalid.reason))
            .ok()
    }

    fn role(&self, cells: &mut Cells<'_>) -> Option<Role> {
        let cell = cells.get(&Column::Role);
        if cell.is_empty() {
            if self.options.default_role.is_none() {
                cells.invalid(
                    &Column::Role,
                    "a role is required (admin, billing_admin, user_admin, viewer_admin, member, guest)",
                );
            }
            return self.options.default_role;
        }
        cell.parse::<Role>()
            .map_err(|unknown| cells.invalid(&Column::Role, unknown.to_string()))
            .ok()
    }

    fn guest_expires(&self, cells: &mut Cells<'_>, role: Option<Role>) -> Option<NaiveDate> {
        let cell = cells.get(&Column::GuestExpires);
        let date = if cell.is_empty() {
            None
        } else {
            match parse_date(cell) {
                Some(date) => Some(date),
                None => {
                    let reason = format!("'{cell}' is not a date in the form YYYY-MM-DD");
                    cells.invalid(&Column::GuestExpires, reason);
                    return None;
                }
            }
        };
        if let Some(role) = role
            && let Err(denied) = invariants::guest_expiry(role, date, self.options.today)
        {
            cells.denied(&Column::GuestExpires, denied);
        }
        date
    }

    fn workspaces(&self, cells: &mut Cells<'_>) -> Vec<String> {
        let cell = cells.get(&Column::Workspaces);
        let mut names: Vec<String> = Vec::new();
        for name in cell.split(';').map(str::trim).filter(|n| !n.is_empty()) {
            let name = match &self.workspaces {
                None => name,
                Some(known) => match known.get(&name.to_lowercase()) {
                    Some(spelling) => spelling,
                    None => {
                        let reason = format!("'{name}' is not a workspace of this organization");
                        cells.invalid(&Column::Workspaces, reason);
                        continue;
                    }
                },
            };
            if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                names.push(name.to_owned());
            }
        }
        if let Err(denied) = invariants::workspace_grant(names.len()) {
            cells.denied(&Column::Workspaces, denied);
        }
        names
    }

    fn properties(&self, cells: &mut Cells<'_>) -> BTreeMap<String, PropertyValue> {
        let mut values = BTreeMap::new();
        let definitions = self.options.properties.iter();
        for (definition, index) in definitions.zip(&self.map.properties) {
            let Some(index) = *index else { continue };
            let cell = cells.at(index);
            if cell.is_empty() {
                if definition.required {
                    let reason = format!("a value for {} is required", definition.label);
                    cells.invalid_at(index, reason);
                }
                continue;
            }
            match parse_value(&definition.kind, cell) {
                Ok(value) => {
                    values.insert(definition.key.clone(), value);
                }
                Err(reason) => cells.invalid_at(index, reason),
            }
        }
        values
    }
}

fn onboarding_and_password(cells: &mut Cells<'_>) -> (Onboarding, Option<Password>) {
    let password_cell = cells.get(&Column::Password);
    let onboarding_cell = cells.get(&Column::Onboarding);
    let onboarding = match (onboarding_cell.is_empty(), password_cell.is_empty()) {
        (true, true) => Onboarding::Invite,
        // A password with no onboarding: the admin distributes it, as Google's bulk upload does.
        (true, false) => Onboarding::SetSilently,
        (false, _) => match onboarding_cell.parse() {
            Ok(onboarding) => onboarding,
            Err(reason) => {
                cells.invalid(&Column::Onboarding, reason);
                return (Onboarding::Invite, None);
            }
        },
    };
    if password_cell.is_empty() {
        if onboarding.needs_password() {
            let reason = format!("onboarding {onboarding} needs a password");
            cells.invalid(&Column::Password, reason);
        }
        return (onboarding, None);
    }
    if !onboarding.needs_password() {
        let reason =
            format!("a password is only used with set_and_email or set_silently, not {onboarding}");
        cells.invalid(&Column::Password, reason);
        return (onboarding, None);
    }
    match validate::password(password_cell) {
        Ok(()) => (onboarding, Some(Password(password_cell.to_owned()))),
        Err(invalid) => {
            cells.invalid(&Column::Password, invalid.reason);
            (onboarding, None)
        }
    }
}

fn name(cells: &mut Cells<'_>, column: Column) -> Option<String> {
    let cell = cells.get(&column);
    validate::name("name", cell)
        .map_err(|invalid| cells.invalid(&column, invalid.reason))
        .ok()
        .flatten()
}

fn profile(cells: &mut Cells<'_>, column: Column) -> Option<String> {
    let cell = cells.get(&column);
    validate::text("profile", cell, validate::PROFILE_FIELD_MAX_CHARS)
        .map_err(|invalid| cells.invalid(&column, invalid.reason))
        .ok()
        .flatten()
}

/// A street written on several lines in one cell becomes one line, `, `-separated: the
/// profile field holds a single line.
fn street(cells: &mut Cells<'_>) -> Option<String> {
    let cell = cells.get(&Column::Street);
    if !cell.contains(['\n', '\r']) {
        return profile(cells, Column::Street);
    }
    let joined = cell
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    validate::text("street", &joined, validate::PROFILE_FIELD_MAX_CHARS)
        .map_err(|invalid| cells.invalid(&Column::Street, invalid.reason))
        .ok()
        .flatten()
}

fn phone(cells: &mut Cells<'_>) -> Option<String> {
    let cell = cells.get(&Column::Phone);
    if cell.is_empty() {
        return None;
    }
    validate::phone("phone", cell)
        .map_err(|invalid| cells.invalid(&Column::Phone, invalid.reason))
        .ok()
}

/// One record's cells, cleaned, and the errors found in them so far.
struct Cells<'r> {
    record: &'r StringRecord,
    map: &'r ColumnMap,
    row: u32,
    errors: Vec<RowError>,
}

impl<'r> Cells<'r> {
    /// A built-in column's cleaned cell; empty when the file has no such column.
    fn get(&mut self, column: &Column) -> &'r str {
        match self.map.cell(column) {
            Some(index) => self.at(index),
            None => "",
        }
    }

    /// The cell at `index`: trimmed, an export's formula guard removed; a spreadsheet
    /// error value (`#REF!`) is reported and read as empty.
    fn at(&mut self, index: usize) -> &'r str {
        let cell = clean_cell(self.record.get(index).unwrap_or(""));
        if cell.starts_with('#') && SPREADSHEET_ERRORS.contains(&cell) {
            let reason = format!("the cell shows the spreadsheet error {cell}");
            self.invalid_at(index, reason);
            return "";
        }
        cell
    }

    fn invalid(&mut self, column: &Column, reason: impl Into<String>) {
        self.push(
            self.map.header_of(column),
            ErrorCode::InvalidInput,
            reason.into(),
        );
    }

    fn invalid_at(&mut self, index: usize, reason: impl Into<String>) {
        let header = self.map.headers.get(index).cloned().unwrap_or_default();
        self.push(header, ErrorCode::InvalidInput, reason.into());
    }

    fn denied(&mut self, column: &Column, denied: Denied) {
        self.push(self.map.header_of(column), denied.code, denied.message);
    }

    fn push(&mut self, column: String, code: ErrorCode, reason: String) {
        self.errors.push(RowError {
            row: self.row,
            column,
            code,
            reason,
        });
    }
}

const SPREADSHEET_ERRORS: [&str; 10] = [
    "#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
    "#DATA!",
];

/// A cell as imported: trimmed, and without the `'` an export put before a formula
/// trigger (`'+14155550123` → `+14155550123`).
pub(crate) fn clean_cell(cell: &str) -> &str {
    crate::export::formula_unguarded(cell.trim()).trim()
}
