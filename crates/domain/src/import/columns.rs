//! The import template's columns and how a file's header row maps onto them.
//!
//! Real files come from Orgdesk's own template and exports, from Microsoft 365 and Google
//! Workspace, and from hand-made spreadsheets, so a header is folded (case, `[...]` and
//! `(...)` hints, spaces and punctuation dropped) and looked up in one alias table.

use super::property::PropertyDefinition;
use super::{ImportError, ImportWarning};

/// One column Orgdesk knows, in the template's order.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Email,
    FirstName,
    LastName,
    DisplayName,
    Role,
    Workspaces,
    GuestExpires,
    Onboarding,
    Password,
    Phone,
    Title,
    Company,
    Office,
    Street,
    PostalCode,
    City,
    CellPhone,
    HomePhone,
    /// A custom property, by its key.
    Property(String),
    /// Export-only columns: recognised so an export re-imports cleanly, never imported.
    Id,
    Status,
    Created,
    LastActive,
}

/// The built-in columns of the template, in order (custom properties follow them).
pub const TEMPLATE_COLUMNS: [Column; 18] = [
    Column::Email,
    Column::FirstName,
    Column::LastName,
    Column::DisplayName,
    Column::Role,
    Column::Workspaces,
    Column::GuestExpires,
    Column::Onboarding,
    Column::Password,
    Column::Phone,
    Column::Title,
    Column::Company,
    Column::Office,
    Column::Street,
    Column::PostalCode,
    Column::City,
    Column::CellPhone,
    Column::HomePhone,
];

impl Column {
    /// The header Orgdesk writes, without hints.
    pub fn name(&self) -> String {
        match self {
            Column::Property(key) => format!("prop:{key}"),
            other => other.builtin_name().to_owned(),
        }
    }

    fn builtin_name(&self) -> &'static str {
        match self {
            Column::Email => "Email",
            Column::FirstName => "First Name",
            Column::LastName => "Last Name",
            Column::DisplayName => "Display Name",
            Column::Role => "Role",
            Column::Workspaces => "Workspaces",
            Column::GuestExpires => "Guest Expires",
            Column::Onboarding => "Onboarding",
            Column::Password => "Password",
            Column::Phone => "Phone",
            Column::Title => "Title",
            Column::Company => "Company",
            Column::Office => "Office",
            Column::Street => "Street",
            Column::PostalCode => "Postal Code",
            Column::City => "City",
            Column::CellPhone => "Cell Phone",
            Column::HomePhone => "Home Phone",
            Column::Property(_) => "prop:",
            Column::Id => "Id",
            Column::Status => "Status",
            Column::Created => "Created",
            Column::LastActive => "Last Active",
        }
    }

    /// Whether the column is read for import (the export-only ones are not).
    pub fn is_imported(&self) -> bool {
        !matches!(
            self,
            Column::Id | Column::Status | Column::Created | Column::LastActive
        )
    }

    /// Position in [`TEMPLATE_COLUMNS`] (looked up for every cell, so a `match`).
    pub(super) const fn slot(&self) -> Option<usize> {
        let slot = match self {
            Column::Email => 0,
            Column::FirstName => 1,
            Column::LastName => 2,
            Column::DisplayName => 3,
            Column::Role => 4,
            Column::Workspaces => 5,
            Column::GuestExpires => 6,
            Column::Onboarding => 7,
            Column::Password => 8,
            Column::Phone => 9,
            Column::Title => 10,
            Column::Company => 11,
            Column::Office => 12,
            Column::Street => 13,
            Column::PostalCode => 14,
            Column::City => 15,
            Column::CellPhone => 16,
            Column::HomePhone => 17,
            Column::Property(_)
            | Column::Id
            | Column::Status
            | Column::Created
            | Column::LastActive => return None,
        };
        Some(slot)
    }
}

/// How strongly a header names its column: the template's own name beats a common
/// alias, which beats a loose one, so `Recovery Phone` wins over `Work Phone`.
/// The user's own choice in the import wizard beats them all.
type Rank = u8;
const CHOSEN: Rank = 0;
const CANONICAL: Rank = 1;
const ALIAS: Rank = 2;
const LOOSE: Rank = 3;

/// Folded header → column. Folding keeps only lower-cased letters, digits and `:`.
const ALIASES: &[(&str, Column, Rank)] = &[
    ("email", Column::Email, CANONICAL),
    ("emailaddress", Column::Email, ALIAS),
    ("mail", Column::Email, ALIAS),
    ("username", Column::Email, ALIAS),
    ("userprincipalname", Column::Email, ALIAS),
    ("upn", Column::Email, ALIAS),
    ("primaryemail", Column::Email, ALIAS),
    ("login", Column::Email, LOOSE),
    ("firstname", Column::FirstName, CANONICAL),
    ("first", Column::FirstName, ALIAS),
    ("givenname", Column::FirstName, ALIAS),
    ("forename", Column::FirstName, ALIAS),
    ("lastname", Column::LastName, CANONICAL),
    ("last", Column::LastName, ALIAS),
    ("surname", Column::LastName, ALIAS),
    ("familyname", Column::LastName, ALIAS),
    ("displayname", Column::DisplayName, CANONICAL),
    ("fullname", Column::DisplayName, ALIAS),
    ("name", Column::DisplayName, LOOSE),
    ("role", Column::Role, CANONICAL),
    ("userrole", Column::Role, ALIAS),
    ("workspaces", Column::Workspaces, CANONICAL),
    ("workspace", Column::Workspaces, ALIAS),
    ("spaces", Column::Workspaces, ALIAS),
    ("guestexpires", Column::GuestExpires, CANONICAL),
    ("guestexpiry", Column::GuestExpires, ALIAS),
    ("accessends", Column::GuestExpires, ALIAS),
    ("accessenddate", Column::GuestExpires, ALIAS),
    ("expires", Column::GuestExpires, LOOSE),
    ("expirationdate", Column::GuestExpires, LOOSE),
    ("onboarding", Column::Onboarding, CANONICAL),
    ("password", Column::Password, CANONICAL),
    ("initialpassword", Column::Password, ALIAS),
    ("phone", Column::Phone, CANONICAL),
    ("phonenumber", Column::Phone, ALIAS),
    ("mfaphone", Column::Phone, ALIAS),
    ("recoveryphone", Column::Phone, ALIAS),
    ("telephone", Column::Phone, LOOSE),
    ("officephone", Column::Phone, LOOSE),
    ("workphone", Column::Phone, LOOSE),
    ("businessphone", Column::Phone, LOOSE),
    ("title", Column::Title, CANONICAL),
    ("jobtitle", Column::Title, ALIAS),
    ("employeetitle", Column::Title, ALIAS),
    ("company", Column::Company, CANONICAL),
    ("companyname", Column::Company, ALIAS),
    ("organization", Column::Company, ALIAS),
    ("organisation", Column::Company, ALIAS),
    ("office", Column::Office, CANONICAL),
    ("officenumber", Column::Office, ALIAS),
    ("officelocation", Column::Office, ALIAS),
    ("street", Column::Street, CANONICAL),
    ("streetaddress", Column::Street, ALIAS),
    ("address", Column::Street, LOOSE),
    ("postalcode", Column::PostalCode, CANONICAL),
    ("ziporpostalcode", Column::PostalCode, ALIAS),
    ("zippostalcode", Column::PostalCode, ALIAS),
    ("zip", Column::PostalCode, ALIAS),
    ("zipcode", Column::PostalCode, ALIAS),
    ("postcode", Column::PostalCode, ALIAS),
    ("city", Column::City, CANONICAL),
    ("town", Column::City, ALIAS),
    ("cellphone", Column::CellPhone, CANONICAL),
    ("mobilephone", Column::CellPhone, ALIAS),
    ("mobile", Column::CellPhone, ALIAS),
    ("cell", Column::CellPhone, ALIAS),
    ("mobilenumber", Column::CellPhone, ALIAS),
    ("homephone", Column::HomePhone, CANONICAL),
    ("id", Column::Id, CANONICAL),
    ("userid", Column::Id, ALIAS),
    ("status", Column::Status, CANONICAL),
    ("created", Column::Created, CANONICAL),
    ("createdat", Column::Created, ALIAS),
    ("lastactive", Column::LastActive, CANONICAL),
    ("lastsignin", Column::LastActive, ALIAS),
    ("lastlogin", Column::LastActive, ALIAS),
];

/// A header folded for matching: hints in `[...]` or `(...)` dropped, then only letters,
/// digits and `:` kept, lower-cased. `Email Address [Required]` → `emailaddress`.
pub fn fold_header(header: &str) -> String {
    let mut folded = String::with_capacity(header.len());
    let mut depth = 0usize;
    for c in header.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            c if c.is_alphanumeric() || c == ':' => folded.extend(c.to_lowercase()),
            _ => {}
        }
    }
    folded
}

/// What a header names, and how strongly.
pub(super) fn recognise(folded: &str, properties: &[PropertyDefinition]) -> Option<(Column, Rank)> {
    if let Some((_, column, rank)) = ALIASES.iter().find(|(alias, ..)| *alias == folded) {
        return Some((column.clone(), *rank));
    }
    if let Some(key) = folded.strip_prefix("prop:") {
        return properties
            .iter()
            .find(|definition| fold_header(&definition.key) == key)
            .map(|definition| (Column::Property(definition.key.clone()), CANONICAL));
    }
    properties
        .iter()
        .find(|definition| fold_header(&definition.label) == folded)
        .map(|definition| (Column::Property(definition.key.clone()), ALIAS))
}

/// The user's mapping of one header in the import wizard: a column, or `None` to ignore
/// the header's cells. It overrides what the header would otherwise mean.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnChoice {
    /// The header as written in the file (compared trimmed).
    pub header: String,
    pub column: Option<Column>,
}

/// A column of the file that Orgdesk recognised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MappedColumn {
    /// 0-based position in the row.
    pub index: usize,
    /// The header as written in the file (trimmed).
    pub header: String,
    pub column: Column,
}

/// The header row resolved: which cell holds which field.
#[derive(Debug, Clone)]
pub(super) struct ColumnMap {
    pub mapped: Vec<MappedColumn>,
    pub unknown: Vec<String>,
    pub warnings: Vec<ImportWarning>,
    /// Cell index per built-in column slot (see [`TEMPLATE_COLUMNS`]).
    pub builtin: [Option<usize>; TEMPLATE_COLUMNS.len()],
    /// Cell index per property definition, aligned with the caller's definitions.
    pub properties: Vec<Option<usize>>,
    /// Header text per cell index.
    pub headers: Vec<String>,
}

impl ColumnMap {
    /// Maps a header row. Fails when it names no column at all (the file is not a user
    /// list, or decoded to garbage) or when two columns mean the same thing equally.
    pub fn new(
        headers: Vec<String>,
        properties: &[PropertyDefinition],
        choices: &[ColumnChoice],
    ) -> Result<ColumnMap, ImportError> {
        let last_named = headers.iter().rposition(|h| !h.is_empty());
        let mut chosen: Vec<(MappedColumn, Rank)> = Vec::new();
        let mut unknown = Vec::new();
        let mut warnings = Vec::new();
        for (index, header) in headers.iter().enumerate() {
            if header.is_empty() {
                if last_named.is_some_and(|last| index < last) {
                    warnings.push(ImportWarning::UnnamedColumn { index });
                }
                continue;
            }
            let choice = choices.iter().find(|c| c.header.trim() == header);
            let meaning = match choice {
                Some(ColumnChoice { column: None, .. }) => continue,
                Some(ColumnChoice {
                    column: Some(column),
                    ..
                }) => is_known(column, properties).then(|| (column.clone(), CHOSEN)),
                None => recognise(&fold_header(header), properties),
            };
            let Some((column, rank)) = meaning else {
                unknown.push(header.clone());
                continue;
            };
            let candidate = MappedColumn {
                index,
                header: header.clone(),
                column,
            };
            choose(&mut chosen, candidate, rank, &mut warnings)?;
        }
        if chosen.is_empty() {
            return Err(ImportError::NoKnownColumns {
                found: headers.into_iter().filter(|h| !h.is_empty()).collect(),
            });
        }
        let mut mapped: Vec<MappedColumn> = chosen.into_iter().map(|(m, _)| m).collect();
        mapped.sort_by_key(|m| m.index);
        Ok(Self::index(mapped, unknown, warnings, headers, properties))
    }

    fn index(
        mapped: Vec<MappedColumn>,
        unknown: Vec<String>,
        warnings: Vec<ImportWarning>,
        headers: Vec<String>,
        properties: &[PropertyDefinition],
    ) -> ColumnMap {
        let mut builtin = [None; TEMPLATE_COLUMNS.len()];
        let mut property_cells = vec![None; properties.len()];
        for m in &mapped {
            if let Some(slot) = m.column.slot() {
                builtin[slot] = Some(m.index);
            } else if let Column::Property(key) = &m.column
                && let Some(i) = properties.iter().position(|d| &d.key == key)
            {
                property_cells[i] = Some(m.index);
            }
        }
        ColumnMap {
            mapped,
            unknown,
            warnings,
            builtin,
            properties: property_cells,
            headers,
        }
    }

    /// The cell index of a built-in column, if the file has it.
    pub fn cell(&self, column: &Column) -> Option<usize> {
        column.slot().and_then(|slot| self.builtin[slot])
    }

    pub fn has(&self, column: &Column) -> bool {
        self.cell(column).is_some()
    }

    /// The header to name in an error: the file's own, or the template's when the file
    /// has no such column.
    pub fn header_of(&self, column: &Column) -> String {
        self.cell(column)
            .and_then(|index| self.headers.get(index))
            .cloned()
            .unwrap_or_else(|| column.name())
    }
}

/// A property column must name one of the org's properties.
fn is_known(column: &Column, properties: &[PropertyDefinition]) -> bool {
    match column {
        Column::Property(key) => properties.iter().any(|d| &d.key == key),
        _ => true,
    }
}

/// Keeps the strongest header per column; equal strength is ambiguous.
fn choose(
    chosen: &mut Vec<(MappedColumn, Rank)>,
    candidate: MappedColumn,
    rank: Rank,
    warnings: &mut Vec<ImportWarning>,
) -> Result<(), ImportError> {
    let Some(existing) = chosen
        .iter_mut()
        .find(|(m, _)| m.column == candidate.column)
    else {
        chosen.push((candidate, rank));
        return Ok(());
    };
    if existing.1 == rank {
        return Err(ImportError::AmbiguousColumns {
            column: candidate.column.name(),
            first: existing.0.header.clone(),
            second: candidate.header,
        });
    }
    let (used, ignored) = if rank < existing.1 {
        let replaced = std::mem::replace(existing, (candidate, rank));
        (existing.0.header.clone(), replaced.0.header)
    } else {
        (existing.0.header.clone(), candidate.header)
    };
    warnings.push(ImportWarning::ColumnIgnored {
        ignored,
        used,
        column: existing.0.column.name(),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_hints_case_spaces_and_punctuation() {
        assert_eq!(fold_header("Email [Required]"), "email");
        assert_eq!(fold_header(" E-mail "), "email");
        assert_eq!(fold_header("Postal_Code"), "postalcode");
        assert_eq!(
            fold_header("Recovery Phone [MUST BE IN THE E.164 FORMAT]"),
            "recoveryphone"
        );
        assert_eq!(fold_header("prop:Cost_Center"), "prop:costcenter");
        assert_eq!(fold_header("Guest Expires (YYYY-MM-DD)"), "guestexpires");
    }

    #[test]
    fn slots_follow_the_template_order() {
        for (i, column) in TEMPLATE_COLUMNS.iter().enumerate() {
            assert_eq!(column.slot(), Some(i), "{column:?}");
        }
        assert_eq!(Column::Id.slot(), None);
    }

    #[test]
    fn every_template_column_is_recognised_by_its_own_name() {
        for column in TEMPLATE_COLUMNS {
            let found = recognise(&fold_header(&column.name()), &[]);
            assert_eq!(found, Some((column.clone(), CANONICAL)), "{column:?}");
        }
    }
}
