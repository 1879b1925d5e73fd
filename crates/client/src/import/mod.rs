//! Bulk import, the client side (SPEC.md §6): a file (or the multi-row form) is parsed by
//! `domain::import`, diffed against the cached roster and checked row by row with the
//! domain's rules, then kept in the cache as a [`StagedImport`] until the user confirms it.
//!
//! Confirmation writes every mutation of the import into the outbox in one transaction,
//! with its mutation id fixed at that moment: the push after it, however often it is
//! interrupted and restarted, applies each row exactly once (a replayed id gets its stored
//! result). The result report is read back through those ids.

pub(crate) mod plan;

use crate::api::Api;
use crate::cache::Cache;
use crate::cache::feed::timestamp;
use crate::cache::roster::{member, member_by_email};
use crate::error::{Error, Result};
use crate::outbox::{OutboxState, insert_staged};
use crate::seal::{Seal, is_sealed};
use crate::sync::{self, SyncProgress};
use chrono::{DateTime, NaiveDate, Utc};
use orgdesk_domain::ErrorCode;
use orgdesk_domain::Role;
use orgdesk_domain::import::{
    Column, ImportOptions, ParsedRow, RawRow, RawTable, RowError, parse, parse_form, read_table,
    result_report_csv, result_report_xlsx,
};
use orgdesk_domain::wire::{MutationKind, OrgId, UserId};
use plan::{CachedMembers, OrgFacts, Planned, Planner, duplicate};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

pub(crate) use plan::property_definitions;

pub type ImportId = i64;

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportState {
    /// Staged: can be reviewed, edited and dropped row by row; nothing is in the outbox.
    Staged,
    /// Its mutations are in the outbox with their ids; push sends them.
    Confirmed,
}

impl ImportState {
    const fn as_str(self) -> &'static str {
        match self {
            ImportState::Staged => "staged",
            ImportState::Confirmed => "confirmed",
        }
    }

    /// The state as `imports.state` stores it (anything but confirmed is still staged).
    fn from_stored(text: &str) -> ImportState {
        if text == ImportState::Confirmed.as_str() {
            ImportState::Confirmed
        } else {
            ImportState::Staged
        }
    }
}

/// A staged import as the preview shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StagedImport {
    pub id: ImportId,
    pub org_id: OrgId,
    pub file_name: String,
    pub state: ImportState,
    pub staged_at: String,
    pub confirmed_at: Option<String>,
    /// Every header of the file, as written.
    pub headers: Vec<String>,
    /// Headers Orgdesk does not know; their cells are ignored.
    pub unknown_columns: Vec<String>,
    /// What the user should know that does not stop the import.
    pub warnings: Vec<String>,
    pub counts: PlanCounts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PlanCounts {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub error: usize,
    pub dropped: usize,
}

impl PlanCounts {
    /// Counts `count` rows of a plan kind ([`RowPlan`]'s `kind`, as `import_rows.plan`
    /// stores it).
    fn add(&mut self, kind: &str, count: usize) {
        let counter = match kind {
            "create" => &mut self.create,
            "update" => &mut self.update,
            "unchanged" => &mut self.unchanged,
            "error" => &mut self.error,
            _ => &mut self.dropped,
        };
        *counter += count;
    }
}

/// One data row of a staged import and what it will do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StagedRow {
    /// The row as the user's spreadsheet numbers it.
    pub row_number: u32,
    pub email: String,
    pub plan: RowPlan,
    /// The cached member an update or unchanged row matched.
    pub user_id: Option<UserId>,
    /// The user edited this row's cells after staging.
    pub edited: bool,
}

/// What a row will do. Never carries a password (it is shown and printed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "plan", rename_all = "snake_case")]
pub enum RowPlan {
    Create {
        role: Role,
    },
    /// Only the fields that change, in template order.
    Update {
        changes: Vec<FieldChange>,
    },
    Unchanged,
    /// Every reason the row cannot be imported, with its row and column.
    Error {
        errors: Vec<RowProblem>,
    },
    /// The user dropped the row from the import.
    Dropped,
}

impl RowPlan {
    fn kind(&self) -> &'static str {
        match self {
            RowPlan::Create { .. } => "create",
            RowPlan::Update { .. } => "update",
            RowPlan::Unchanged => "unchanged",
            RowPlan::Error { .. } => "error",
            RowPlan::Dropped => "dropped",
        }
    }
}

/// One reason a row cannot be imported: the parser's [`RowError`] or a rule the actor's
/// rights or the roster break, named by row and column as the file shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    pub row: u32,
    /// The header as written in the file.
    pub column: String,
    pub code: ErrorCode,
    pub reason: String,
}

impl From<RowError> for RowProblem {
    fn from(error: RowError) -> Self {
        RowProblem {
            row: error.row,
            column: error.column,
            code: error.code,
            reason: error.reason,
        }
    }
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Row {}, column {}: {}",
            self.row, self.column, self.reason
        )
    }
}

/// A text column without a copy.
pub(crate) fn str_at<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(index)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// One field an update row changes: old → new, as cells (empty for none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub column: String,
    pub old: String,
    pub new: String,
}

/// One mutation a confirmed row puts in the outbox, based on the cached row's version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PlannedMutation {
    pub base_version: Option<i64>,
    pub change: MutationKind,
}

/// How to read a file for staging.
#[derive(Debug, Clone, Copy)]
pub struct StageOptions<'a> {
    /// Shown in the preview and listings.
    pub file_name: &'a str,
    /// The worksheet of a workbook; the first one when `None`.
    pub sheet: Option<&'a str>,
    /// The role for a file without a Role column (and empty Role cells).
    pub default_role: Option<Role>,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

/// The file-name stored for rows typed into the multi-row form.
pub const FORM_FILE_NAME: &str = "(form)";

/// What became of each row after a push, and the report file to save.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    pub import_id: ImportId,
    pub counts: ReportCounts,
    /// The `Result` cell of each row, by row number.
    pub results: BTreeMap<u32, String>,
    #[serde(skip)]
    pub table: RawTable,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReportCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Errors at staging, rejections and conflicts.
    pub failed: usize,
    pub dropped: usize,
    /// Confirmed but without a result yet (push again).
    pub not_sent: usize,
}

impl ImportReport {
    /// Whether every row has its final result.
    pub fn complete(&self) -> bool {
        self.counts.not_sent == 0
    }

    /// The user's rows with a `Result` column, as CSV (passwords left out).
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        result_report_csv(&self.table, &self.results).map_err(write_error)
    }

    /// The same as an XLSX workbook.
    pub fn to_xlsx(&self) -> Result<Vec<u8>> {
        result_report_xlsx(&self.table, &self.results).map_err(write_error)
    }
}

fn write_error(error: impl std::fmt::Display) -> Error {
    Error::Io(std::io::Error::other(error.to_string()))
}

/// The preview's facts about the file, kept with the import.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Summary {
    headers: Vec<String>,
    unknown_columns: Vec<String>,
    warnings: Vec<String>,
    /// The rows came from the multi-row form (no file: the cells are the source).
    form: bool,
    /// The import has a Password column: its file and stored cells are sealed.
    #[serde(default)]
    passwords: bool,
}

/// A row of the import as stored.
struct RowRecord {
    row_number: u32,
    email: String,
    /// `None`: the file's row as read (see `KeptRow::cells`).
    cells: Option<Vec<String>>,
    edited: bool,
    dropped: bool,
    planned: Planned,
}

/// A row's cells as stored (as written, or as the user edited them) and its marks.
#[derive(Debug, Clone)]
struct KeptRow {
    /// The cells of an edited row or a form row. `None` for a file row the user did not
    /// edit: its cells are the file's, kept once in `imports.file` and read from there when
    /// needed (an edit, the result report) rather than copied into every row at staging
    /// (stored as '' in `import_rows.cells`).
    cells: Option<Vec<String>>,
    edited: bool,
    dropped: bool,
}

/// The stored rows of an import by row number.
type Kept = BTreeMap<u32, KeptRow>;

/// One of a confirmed row's mutations as the outbox has it now.
struct Outcome {
    state: OutboxState,
    code: Option<String>,
    message: Option<String>,
}

/// The import as stored, for re-planning.
struct Stored {
    org: OrgId,
    file: Vec<u8>,
    sheet: Option<String>,
    default_role: Option<Role>,
    state: ImportState,
    summary: Summary,
}

fn load_stored(conn: &Connection, id: ImportId) -> Result<Stored> {
    let stored = conn
        .query_row(
            "SELECT org_id, file, sheet, default_role, state, summary FROM imports WHERE id = ?1",
            params![id],
            |row| {
                Ok((
                    row.get::<_, OrgId>(0)?,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no staged import {id}")))?;
    let (org, file, sheet, default_role, state, summary) = stored;
    Ok(Stored {
        org,
        file: Seal::of(conn)?.open_file(file)??,
        sheet,
        default_role: default_role
            .map(|r| r.parse::<Role>().map_err(|e| Error::Invalid(e.to_string())))
            .transpose()?,
        state: ImportState::from_stored(&state),
        summary: serde_json::from_str(&summary)?,
    })
}

/// The cells of every data row of an import's file, by row number.
fn file_cells(stored: &Stored) -> Result<HashMap<u32, Vec<String>>> {
    if stored.summary.form {
        return Ok(HashMap::new());
    }
    let table = read_table(&stored.file, stored.sheet.as_deref())
        .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(table
        .rows
        .into_iter()
        .map(|row| (row.row_number, row.cells))
        .collect())
}

/// The stored cells, edit and drop marks of an import's rows.
fn stored_rows(conn: &Connection, id: ImportId) -> Result<Kept> {
    let mut stmt = conn.prepare_cached(
        "SELECT row_number, cells, edited, dropped FROM import_rows WHERE import_id = ?1",
    )?;
    let mut rows = stmt.query(params![id])?;
    let mut out = BTreeMap::new();
    let seal = Seal::of(conn)?;
    while let Some(row) = rows.next()? {
        let cells = stored_cells(&seal, str_at(row, 1)?)?;
        let kept = KeptRow {
            cells,
            edited: row.get(2)?,
            dropped: row.get(3)?,
        };
        out.insert(row.get(0)?, kept);
    }
    Ok(out)
}

/// A row's `import_rows.cells` as written by `write_rows`: '' (the file's), a JSON array,
/// or one sealed (an import with passwords).
fn stored_cells(seal: &Seal, stored: &str) -> Result<Option<Vec<String>>> {
    Ok(match stored {
        "" => None,
        sealed if is_sealed(sealed) => Some(serde_json::from_str(&seal.open_text(sealed)??)?),
        json => Some(serde_json::from_str(json)?),
    })
}

/// A row's planned mutations as stored: an add's password sealed (see `crate::seal`).
fn mutations_json(seal: &Seal, mutations: &[PlannedMutation]) -> Result<String> {
    let mut sealed: Option<Vec<PlannedMutation>> = None;
    for (index, planned) in mutations.iter().enumerate() {
        if let Some(change) = seal.seal_password(&planned.change)? {
            sealed.get_or_insert_with(|| mutations.to_vec())[index].change = change;
        }
    }
    Ok(serde_json::to_string(
        sealed.as_deref().unwrap_or(mutations),
    )?)
}

/// Parses (the file, or the form's cells), applies the user's edits and plans every row.
/// `kept` holds the stored cells and marks of a re-plan (empty at first staging).
fn plan_import(
    conn: &Connection,
    org: OrgId,
    stored: &Stored,
    kept: &Kept,
    today: NaiveDate,
) -> Result<(Summary, Vec<RowRecord>)> {
    let facts = OrgFacts::load(conn, org)?;
    let options = ImportOptions {
        properties: &facts.properties,
        workspaces: Some(&facts.workspace_list),
        default_role: stored.default_role,
        sheet: stored.sheet.as_deref(),
        ..ImportOptions::new(today)
    };
    let invalid = |e: orgdesk_domain::import::ImportError| Error::Invalid(e.to_string());
    let mut parsed = if stored.summary.form {
        let rows: Vec<Vec<String>> = kept
            .values()
            .map(|k| k.cells.clone().unwrap_or_default())
            .collect();
        let numbers: Vec<u32> = kept.keys().copied().collect();
        let mut parsed = parse_form(&stored.summary.headers, &rows, &options).map_err(invalid)?;
        // The form numbers rows 1..N by position among the rows passed; blank form rows
        // were never stored, so positions are mapped back to the numbers the user saw.
        for row in &mut parsed.rows {
            let position = row.row_number() as usize;
            if let Some(number) = position.checked_sub(1).and_then(|i| numbers.get(i)) {
                renumber(row, *number);
            }
        }
        parsed
    } else {
        parse(&stored.file, &options).map_err(invalid)?
    };

    // Rows the user edited are read again from their edited cells, by the same rules.
    let edited: Vec<(u32, &Vec<String>)> = kept
        .iter()
        .filter(|(_, k)| k.edited && !stored.summary.form)
        .filter_map(|(number, k)| Some((*number, k.cells.as_ref()?)))
        .collect();
    for (number, cells) in &edited {
        let again =
            parse_form(&parsed.headers, std::slice::from_ref(*cells), &options).map_err(invalid)?;
        if let Some(mut row) = again.rows.into_iter().next() {
            renumber(&mut row, *number);
            if let Some(slot) = parsed.rows.iter_mut().find(|r| r.row_number() == *number) {
                *slot = row;
            }
        }
    }

    let mut emails: HashSet<&str> = HashSet::with_capacity(parsed.rows.len());
    emails.extend(parsed.valid_rows().map(|r| r.email.as_str()));
    let members = CachedMembers::load(conn, org, &emails)?;
    let mut planner = Planner::new(&facts, &parsed, &members);
    let email_header = parsed
        .columns
        .iter()
        .find(|c| c.column == Column::Email)
        .map_or_else(|| Column::Email.name(), |c| c.header.clone());
    let mut seen = HashMap::with_capacity(parsed.rows.len());
    let mut records = Vec::with_capacity(parsed.rows.len());
    for row in &parsed.rows {
        let number = row.row_number();
        let (cells, edited, dropped) = match kept.get(&number) {
            // An unedited file row's cells are the file's: not copied (see `KeptRow`).
            Some(k) if k.edited || stored.summary.form => (k.cells.clone(), k.edited, k.dropped),
            Some(k) => (None, k.edited, k.dropped),
            None => (None, false, false),
        };
        let (email, planned) = match row {
            _ if dropped => (row_email(row), dropped_plan()),
            ParsedRow::Invalid(invalid) => (
                invalid.email.clone(),
                Planned {
                    plan: RowPlan::Error {
                        errors: invalid.errors.iter().cloned().map(Into::into).collect(),
                    },
                    user_id: None,
                    mutations: Vec::new(),
                },
            ),
            ParsedRow::Valid(valid) => match duplicate(&mut seen, valid, &email_header) {
                Some(error) => (
                    valid.email.clone(),
                    Planned {
                        plan: RowPlan::Error {
                            errors: vec![error.into()],
                        },
                        user_id: None,
                        mutations: Vec::new(),
                    },
                ),
                None => (valid.email.clone(), planner.plan(valid)?),
            },
        };
        records.push(RowRecord {
            row_number: number,
            email,
            cells,
            edited,
            dropped,
            planned,
        });
    }
    let summary = Summary {
        headers: parsed.headers.clone(),
        unknown_columns: parsed.unknown_columns.clone(),
        warnings: parsed.warnings.iter().map(ToString::to_string).collect(),
        form: stored.summary.form,
        passwords: parsed.has_column(&Column::Password),
    };
    Ok((summary, records))
}

fn dropped_plan() -> Planned {
    Planned {
        plan: RowPlan::Dropped,
        user_id: None,
        mutations: Vec::new(),
    }
}

fn row_email(row: &ParsedRow) -> String {
    match row {
        ParsedRow::Valid(valid) => valid.email.clone(),
        ParsedRow::Invalid(invalid) => invalid.email.clone(),
    }
}

fn renumber(row: &mut ParsedRow, number: u32) {
    match row {
        ParsedRow::Valid(valid) => valid.row_number = number,
        ParsedRow::Invalid(invalid) => {
            invalid.row_number = number;
            for error in &mut invalid.errors {
                error.row = number;
            }
        }
    }
}

/// Variables per row of `import_rows` after the import id, which every row shares (`?1`).
const ROW_VALUES: usize = 9;
/// Rows per multi-row insert: 1,000 × 9 variables, well below SQLite's limit of 32,766.
/// A statement per row cost more in statement overhead than the rows took to write.
const ROWS_PER_INSERT: usize = 1_000;

/// Writes the rows of an import; with `passwords` (a Password column) their cells sealed.
fn write_rows(
    conn: &Connection,
    id: ImportId,
    records: &[RowRecord],
    passwords: bool,
) -> Result<()> {
    let seal = Seal::of(conn)?;
    conn.execute("DELETE FROM import_rows WHERE import_id = ?1", params![id])?;
    for chunk in records.chunks(ROWS_PER_INSERT) {
        // Full chunks share one cached statement; only the last one is prepared apart.
        let mut stmt = conn.prepare_cached(&insert_rows_sql(chunk.len()))?;
        stmt.raw_bind_parameter(1, id)?;
        for (n, record) in chunk.iter().enumerate() {
            bind_row(&mut stmt, 2 + n * ROW_VALUES, record, &seal, passwords)?;
        }
        stmt.raw_execute()?;
    }
    Ok(())
}

/// Binds one record's values from variable `first` on, in `insert_rows_sql`'s column order;
/// with `passwords`, its cells sealed, and an add's password always.
fn bind_row(
    stmt: &mut rusqlite::Statement<'_>,
    first: usize,
    record: &RowRecord,
    seal: &Seal,
    passwords: bool,
) -> Result<()> {
    let mut cells = record
        .cells
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?
        .unwrap_or_default();
    if passwords && !cells.is_empty() {
        cells = seal.seal_text(&cells)?;
    }
    stmt.raw_bind_parameter(first, record.row_number)?;
    stmt.raw_bind_parameter(first + 1, &record.email)?;
    stmt.raw_bind_parameter(first + 2, cells)?;
    stmt.raw_bind_parameter(first + 3, record.edited)?;
    stmt.raw_bind_parameter(first + 4, record.dropped)?;
    stmt.raw_bind_parameter(first + 5, record.planned.plan.kind())?;
    stmt.raw_bind_parameter(first + 6, serde_json::to_string(&record.planned.plan)?)?;
    stmt.raw_bind_parameter(first + 7, record.planned.user_id)?;
    stmt.raw_bind_parameter(first + 8, mutations_json(seal, &record.planned.mutations)?)?;
    Ok(())
}

/// The insert of `rows` rows of `import_rows`, all of import `?1`.
fn insert_rows_sql(rows: usize) -> String {
    let row = (0..ROW_VALUES).fold(String::from("(?1"), |row, _| row + ", ?") + ")";
    format!(
        "INSERT INTO import_rows
             (import_id, row_number, email, cells, edited, dropped, plan, detail, user_id, mutations)
         VALUES {}",
        vec![row; rows].join(", ")
    )
}

fn import_header(conn: &Connection, id: ImportId) -> Result<StagedImport> {
    let counts = plan_counts(conn, id)?;
    header_with_counts(conn, id, counts)
}

/// How many of an import's rows each plan has, as stored.
fn plan_counts(conn: &Connection, id: ImportId) -> Result<PlanCounts> {
    let mut counts = PlanCounts::default();
    let mut stmt = conn.prepare_cached(
        "SELECT plan, count(*) FROM import_rows WHERE import_id = ?1 GROUP BY plan",
    )?;
    let mut rows = stmt.query(params![id])?;
    while let Some(row) = rows.next()? {
        let count = usize::try_from(row.get::<_, i64>(1)?).unwrap_or(0);
        counts.add(str_at(row, 0)?, count);
    }
    Ok(counts)
}

/// The same counts from the records just written: staging need not read them back.
fn counted(records: &[RowRecord]) -> PlanCounts {
    let mut counts = PlanCounts::default();
    for record in records {
        counts.add(record.planned.plan.kind(), 1);
    }
    counts
}

fn header_with_counts(conn: &Connection, id: ImportId, counts: PlanCounts) -> Result<StagedImport> {
    let (org_id, file_name, state, staged_at, confirmed_at, summary) = conn
        .query_row(
            "SELECT org_id, file_name, state, staged_at, confirmed_at, summary
             FROM imports WHERE id = ?1",
            params![id],
            |row| {
                Ok((
                    row.get::<_, OrgId>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, String>(5)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no staged import {id}")))?;
    let summary: Summary = serde_json::from_str(&summary)?;
    Ok(StagedImport {
        id,
        org_id,
        file_name,
        state: ImportState::from_stored(&state),
        staged_at,
        confirmed_at,
        headers: summary.headers,
        unknown_columns: summary.unknown_columns,
        warnings: summary.warnings,
        counts,
    })
}

impl Cache {
    /// Reads a CSV or workbook, diffs and checks every row against the cached roster and
    /// the actor's rights, and saves the plan. Nothing goes to the outbox.
    pub fn stage_import(
        &self,
        org: OrgId,
        bytes: &[u8],
        options: &StageOptions<'_>,
    ) -> Result<StagedImport> {
        let stored = Stored {
            org,
            file: bytes.to_vec(),
            sheet: options.sheet.map(str::to_owned),
            default_role: options.default_role,
            state: ImportState::Staged,
            summary: Summary::default(),
        };
        self.save_new_import(stored, options.file_name, &BTreeMap::new(), options)
    }

    /// Stages rows typed into the multi-row form: the same checks as a file. `headers`
    /// name the form's columns as the template does (`template_headers`).
    pub fn stage_form(
        &self,
        org: OrgId,
        headers: &[String],
        rows: &[Vec<String>],
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<StagedImport> {
        let stored = Stored {
            org,
            file: Vec::new(),
            sheet: None,
            default_role: None,
            state: ImportState::Staged,
            summary: Summary {
                headers: headers.to_vec(),
                form: true,
                ..Summary::default()
            },
        };
        // Blank form rows are skipped by the parser but keep their numbers.
        let kept = (1u32..)
            .zip(rows)
            .map(|(number, cells)| {
                let kept = KeptRow {
                    cells: Some(cells.clone()),
                    edited: false,
                    dropped: false,
                };
                (number, kept)
            })
            .collect();
        let options = StageOptions {
            file_name: FORM_FILE_NAME,
            sheet: None,
            default_role: None,
            today,
            now,
        };
        self.save_new_import(stored, FORM_FILE_NAME, &kept, &options)
    }

    fn save_new_import(
        &self,
        stored: Stored,
        file_name: &str,
        kept: &Kept,
        options: &StageOptions<'_>,
    ) -> Result<StagedImport> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let (summary, records) = plan_import(&tx, stored.org, &stored, kept, options.today)?;
        let file = if summary.passwords {
            Seal::of(&tx)?.seal_file(&stored.file)?
        } else {
            stored.file
        };
        tx.execute(
            "INSERT INTO imports (org_id, file_name, file, sheet, default_role, staged_at, summary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                stored.org,
                file_name,
                file,
                stored.sheet,
                stored.default_role.map(Role::as_str),
                timestamp(options.now),
                serde_json::to_string(&summary)?,
            ],
        )?;
        let id = tx.last_insert_rowid();
        write_rows(&tx, id, &records, summary.passwords)?;
        let header = header_with_counts(&tx, id, counted(&records))?;
        tx.commit()?;
        Ok(header)
    }

    pub fn staged_import(&self, id: ImportId) -> Result<StagedImport> {
        import_header(&self.lock(), id)
    }

    /// The org's newest import, staged or confirmed.
    pub fn latest_import(&self, org: OrgId) -> Result<Option<StagedImport>> {
        let conn = self.lock();
        let id: Option<ImportId> = conn
            .query_row(
                "SELECT id FROM imports WHERE org_id = ?1 ORDER BY id DESC LIMIT 1",
                params![org],
                |row| row.get(0),
            )
            .optional()?;
        id.map(|id| import_header(&conn, id)).transpose()
    }

    /// Every row of an import with its plan, in row order.
    pub fn import_rows(&self, id: ImportId) -> Result<Vec<StagedRow>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT row_number, email, detail, user_id, edited FROM import_rows
             WHERE import_id = ?1 ORDER BY row_number",
        )?;
        let mut rows = stmt.query(params![id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(StagedRow {
                row_number: row.get(0)?,
                email: row.get(1)?,
                plan: serde_json::from_str(str_at(row, 2)?)?,
                user_id: row.get(3)?,
                edited: row.get(4)?,
            });
        }
        Ok(out)
    }

    /// Changes cells of one row (`(header, value)`, the header as written in the file,
    /// matched ignoring case) and re-plans the import, so duplicates and `last_admin` are
    /// judged over the whole file again.
    pub fn edit_import_row(
        &self,
        id: ImportId,
        row_number: u32,
        edits: &[(String, String)],
        today: NaiveDate,
    ) -> Result<StagedRow> {
        self.replan(id, today, Some(row_number), |summary, kept| {
            let KeptRow { cells, edited, .. } = kept
                .get_mut(&row_number)
                .ok_or_else(|| Error::NotFound(format!("no row {row_number} in import {id}")))?;
            // `replan` read the row's cells from the file if they were not stored.
            let cells = cells.get_or_insert_with(Vec::new);
            for (header, value) in edits {
                let index = summary
                    .headers
                    .iter()
                    .position(|h| h.trim().eq_ignore_ascii_case(header.trim()))
                    .ok_or_else(|| {
                        Error::Invalid(format!(
                            "the file has no column '{header}' (its columns: {})",
                            summary.headers.join(", ")
                        ))
                    })?;
                if cells.len() <= index {
                    cells.resize(index + 1, String::new());
                }
                cells[index] = value.clone();
            }
            *edited = true;
            Ok(())
        })?;
        self.import_rows(id)?
            .into_iter()
            .find(|row| row.row_number == row_number)
            .ok_or_else(|| Error::NotFound(format!("no row {row_number} in import {id}")))
    }

    /// Drops a row from the import (or takes it back with `dropped = false`).
    pub fn drop_import_row(
        &self,
        id: ImportId,
        row_number: u32,
        dropped: bool,
        today: NaiveDate,
    ) -> Result<()> {
        self.replan(id, today, None, |_, kept| {
            kept.get_mut(&row_number)
                .ok_or_else(|| Error::NotFound(format!("no row {row_number} in import {id}")))?
                .dropped = dropped;
            Ok(())
        })
    }

    /// Re-plans an import after `change` to its kept rows. `cells_of`: a row whose cells
    /// `change` needs (an edit): read from the file if they are not stored.
    fn replan(
        &self,
        id: ImportId,
        today: NaiveDate,
        cells_of: Option<u32>,
        change: impl FnOnce(&Summary, &mut Kept) -> Result<()>,
    ) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let stored = load_stored(&tx, id)?;
        if stored.state != ImportState::Staged {
            return Err(Error::Invalid(format!(
                "import {id} is confirmed; its rows are in the outbox"
            )));
        }
        let mut kept = stored_rows(&tx, id)?;
        if let Some(number) = cells_of
            && let Some(row) = kept.get_mut(&number)
            && row.cells.is_none()
        {
            row.cells = Some(file_cells(&stored)?.remove(&number).unwrap_or_default());
        }
        change(&stored.summary, &mut kept)?;
        let (summary, records) = plan_import(&tx, stored.org, &stored, &kept, today)?;
        tx.execute(
            "UPDATE imports SET summary = ?2 WHERE id = ?1",
            params![id, serde_json::to_string(&summary)?],
        )?;
        write_rows(&tx, id, &records, summary.passwords)?;
        tx.commit()?;
        Ok(())
    }

    /// Puts every create and update row's mutations into the outbox in one transaction,
    /// their ids fixed now. Refused when a row's member changed in the cache since staging
    /// (a sync came in between): stage the file again to see the new plan.
    pub fn confirm_import(&self, id: ImportId, now: DateTime<Utc>) -> Result<usize> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let stored = load_stored(&tx, id)?;
        if stored.state != ImportState::Staged {
            return Err(Error::Invalid(format!("import {id} is already confirmed")));
        }
        let org = stored.org;
        let planned: Vec<(u32, String, Option<UserId>, String)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT row_number, email, user_id, mutations FROM import_rows
                 WHERE import_id = ?1 AND dropped = 0 AND plan IN ('create', 'update')
                 ORDER BY row_number",
            )?;
            stmt.query_map(params![id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let mut staged = 0;
        let seal = Seal::of(&tx)?;
        {
            let mut link = tx.prepare_cached(
                "INSERT INTO import_mutations (import_id, row_number, mutation_id) VALUES (?1, ?2, ?3)",
            )?;
            for (row_number, email, user_id, mutations) in planned {
                let mutations: Vec<PlannedMutation> = serde_json::from_str(&mutations)?;
                let base = match user_id {
                    Some(user) => member(&tx, org, user)?,
                    None => None,
                };
                let moved = match (&base, user_id) {
                    (Some(base), Some(_)) => mutations
                        .first()
                        .is_some_and(|m| m.base_version != Some(base.version)),
                    (None, Some(_)) => true,
                    (_, None) => member_by_email(&tx, org, &email)?.is_some(),
                };
                if moved {
                    return Err(Error::Invalid(format!(
                        "row {row_number} ({email}) changed in the roster since the import was staged; stage the file again"
                    )));
                }
                for planned in &mutations {
                    let mutation_id =
                        insert_staged(&tx, org, &planned.change, base.as_ref(), now, &seal)?;
                    link.execute(params![id, row_number, mutation_id])?;
                    staged += 1;
                }
            }
        }
        tx.execute(
            "UPDATE imports SET state = 'confirmed', confirmed_at = ?2 WHERE id = ?1",
            params![id, timestamp(now)],
        )?;
        tx.commit()?;
        Ok(staged)
    }

    /// The result of every row as the outbox knows it now: the report to save.
    pub fn import_report(&self, id: ImportId) -> Result<ImportReport> {
        let conn = self.lock();
        let stored = load_stored(&conn, id)?;
        let confirmed = stored.state == ImportState::Confirmed;
        let mut counts = ReportCounts::default();
        let mut results = BTreeMap::new();
        let mut kept: Vec<(u32, Option<Vec<String>>)> = Vec::new();
        // One pass over the rows with their mutations' outbox states (a row with several
        // mutations on consecutive lines). The stored plan's kind says what a row is; its
        // JSON is decoded only for an error's reasons.
        let mut stmt = conn.prepare_cached(
            "SELECT r.row_number, r.plan, r.detail, r.cells, o.state, o.result_code,
                    o.result_message
             FROM import_rows r
             LEFT JOIN import_mutations m
                    ON m.import_id = r.import_id AND m.row_number = r.row_number
             LEFT JOIN outbox o ON o.id = m.mutation_id
             WHERE r.import_id = ?1
             ORDER BY r.row_number",
        )?;
        let mut rows = stmt.query(params![id])?;
        let seal = Seal::of(&conn)?;
        let mut row: Option<(u32, String, Vec<Outcome>)> = None;
        let mut finish = |(number, result, outcomes): (u32, String, Vec<Outcome>),
                          counts: &mut ReportCounts| {
            let done = match result.as_str() {
                "create" => "created",
                "update" => "updated",
                _ => {
                    results.insert(number, result);
                    return;
                }
            };
            let result = if confirmed && !outcomes.is_empty() {
                row_result(&outcomes, done, counts)
            } else {
                counts.not_sent += 1;
                String::new()
            };
            results.insert(number, result);
        };
        while let Some(line) = rows.next()? {
            let number: u32 = line.get(0)?;
            let outcome = match line.get_ref(4)?.as_str_or_null().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    4,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })? {
                Some(state) => Some(Outcome {
                    state: OutboxState::parse(state)
                        .ok_or_else(|| Error::Invalid(format!("outbox state '{state}'")))?,
                    code: line.get(5)?,
                    message: line.get(6)?,
                }),
                None => None,
            };
            if let Some((current, _, outcomes)) = &mut row
                && *current == number
            {
                outcomes.extend(outcome);
                continue;
            }
            if let Some(done) = row.take() {
                finish(done, &mut counts);
            }
            // What the row's result cell says before any outcome: the plan, or for a create
            // or update its kind (`finish` replaces it).
            let result = match str_at(line, 1)? {
                "unchanged" => {
                    counts.unchanged += 1;
                    "unchanged".to_owned()
                }
                "dropped" => {
                    counts.dropped += 1;
                    "dropped".to_owned()
                }
                kind @ ("create" | "update") => kind.to_owned(),
                _ => match serde_json::from_str::<RowPlan>(str_at(line, 2)?)? {
                    RowPlan::Error { errors } => {
                        counts.failed += 1;
                        errors
                            .iter()
                            .map(|e| format!("{}: column {}: {}", e.code, e.column, e.reason))
                            .collect::<Vec<_>>()
                            .join("; ")
                    }
                    plan => {
                        return Err(Error::Invalid(format!(
                            "import {id} row {number}: plan '{}' stored as {plan:?}",
                            str_at(line, 1)?
                        )));
                    }
                },
            };
            let cells = stored_cells(&seal, str_at(line, 3)?)?;
            kept.push((number, cells));
            row = Some((number, result, outcome.into_iter().collect()));
        }
        if let Some(done) = row.take() {
            finish(done, &mut counts);
        }
        let mut from_file = if kept.iter().any(|(_, cells)| cells.is_none()) {
            file_cells(&stored)?
        } else {
            HashMap::new()
        };
        let table = RawTable {
            headers: stored.summary.headers.clone(),
            rows: kept
                .into_iter()
                .map(|(row_number, cells)| RawRow {
                    row_number,
                    cells: cells
                        .or_else(|| from_file.remove(&row_number))
                        .unwrap_or_default(),
                })
                .collect(),
        };
        Ok(ImportReport {
            import_id: id,
            counts,
            results,
            table,
        })
    }
}

/// One confirmed row's result from its mutations' outbox states.
fn row_result(outcomes: &[Outcome], done: &str, counts: &mut ReportCounts) -> String {
    let has = |state: OutboxState| outcomes.iter().any(|o| o.state == state);
    if let Some(rejected) = outcomes.iter().find(|o| o.state == OutboxState::Rejected) {
        counts.failed += 1;
        let code = rejected
            .code
            .as_deref()
            .unwrap_or(ErrorCode::Internal.as_str());
        return format!(
            "{code}: {}",
            rejected.message.as_deref().unwrap_or_default()
        );
    }
    if has(OutboxState::Conflict) {
        counts.failed += 1;
        return "conflict: the user was changed on the server after this import was staged; resolve it in the outbox".to_owned();
    }
    if has(OutboxState::Pending) {
        counts.not_sent += 1;
        return String::new();
    }
    if outcomes.iter().all(|o| o.state == OutboxState::Applied) {
        if done == "created" {
            counts.created += 1;
        } else {
            counts.updated += 1;
        }
        return done.to_owned();
    }
    counts.failed += 1;
    "resolved in the outbox".to_owned()
}

/// What a push left of an import: the report's counts, without its rows (the report file
/// is [`Cache::import_report`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PushedImport {
    pub import_id: ImportId,
    pub counts: ReportCounts,
}

impl PushedImport {
    /// Whether every row has its final result.
    pub fn complete(&self) -> bool {
        self.counts.not_sent == 0
    }
}

/// Sends the org's pending changes (the import's among them, in staging order) and
/// returns what became of the import's rows. Safe to run again after any interruption:
/// ids were fixed at confirmation, so a resent row gets its stored result.
pub async fn push_import(
    api: &Api,
    cache: &Cache,
    id: ImportId,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> Result<PushedImport> {
    let (org, state) = cache.run(move |c| import_state(&c.lock(), id)).await?;
    if state != ImportState::Confirmed {
        return Err(Error::Invalid(format!(
            "import {id} is not confirmed yet: review it and confirm it first"
        )));
    }
    sync::push(api, cache, org, progress).await?;
    let counts = cache.run(move |c| c.import_counts(id)).await?;
    Ok(PushedImport {
        import_id: id,
        counts,
    })
}

/// An import's org and state, without its rows.
fn import_state(conn: &Connection, id: ImportId) -> Result<(OrgId, ImportState)> {
    let (org, state) = conn
        .query_row(
            "SELECT org_id, state FROM imports WHERE id = ?1",
            params![id],
            |row| Ok((row.get::<_, OrgId>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no staged import {id}")))?;
    Ok((org, ImportState::from_stored(&state)))
}

/// The counts of [`Cache::import_report`] in one aggregate query: each create or update
/// row's outcome from its mutations' outbox states, by `row_result`'s rules (rejected or
/// in conflict: failed; else any pending: not sent; all applied: done; else resolved in
/// the outbox: failed).
const IMPORT_COUNTS: &str = "
SELECT plan, outcome, count(*) FROM (
    SELECT r.plan AS plan,
           CASE WHEN r.plan NOT IN ('create', 'update') THEN NULL
                WHEN count(o.id) = 0 OR ?2 = 0 THEN 'not_sent'
                WHEN sum(o.state IN ('rejected', 'conflict')) > 0 THEN 'failed'
                WHEN sum(o.state = 'pending') > 0 THEN 'not_sent'
                WHEN sum(o.state = 'applied') = count(o.id) THEN 'done'
                ELSE 'failed'
           END AS outcome
    FROM import_rows r
    LEFT JOIN import_mutations m ON m.import_id = r.import_id AND m.row_number = r.row_number
    LEFT JOIN outbox o ON o.id = m.mutation_id
    WHERE r.import_id = ?1
    GROUP BY r.row_number
)
GROUP BY plan, outcome";

impl Cache {
    /// The org's custom property definitions (the template's `prop:` columns).
    pub fn property_definitions(
        &self,
        org: OrgId,
    ) -> Result<Vec<orgdesk_domain::import::PropertyDefinition>> {
        property_definitions(&self.lock(), org)
    }

    /// What became of an import's rows so far: the counts of [`Cache::import_report`],
    /// without reading the rows' cells or building the report.
    pub fn import_counts(&self, id: ImportId) -> Result<ReportCounts> {
        let conn = self.lock();
        let (_, state) = import_state(&conn, id)?;
        let mut counts = ReportCounts::default();
        let mut stmt = conn.prepare_cached(IMPORT_COUNTS)?;
        let mut rows = stmt.query(params![id, state == ImportState::Confirmed])?;
        while let Some(row) = rows.next()? {
            let count = usize::try_from(row.get::<_, i64>(2)?).unwrap_or(0);
            let outcome: Option<String> = row.get(1)?;
            let counter = match (str_at(row, 0)?, outcome.as_deref()) {
                ("unchanged", _) => &mut counts.unchanged,
                ("dropped", _) => &mut counts.dropped,
                ("create", Some("done")) => &mut counts.created,
                ("update", Some("done")) => &mut counts.updated,
                (_, Some("not_sent")) => &mut counts.not_sent,
                _ => &mut counts.failed,
            };
            *counter += count;
        }
        Ok(counts)
    }

    /// An import's mutations in the outbox, and how many still wait for a result: the
    /// push's progress.
    pub fn import_mutations(&self, id: ImportId) -> Result<(usize, usize)> {
        let conn = self.lock();
        let (total, open): (i64, i64) = conn.query_row(
            "SELECT count(*), coalesce(sum(o.state = 'pending'), 0)
             FROM import_mutations m JOIN outbox o ON o.id = m.mutation_id
             WHERE m.import_id = ?1",
            params![id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok((
            usize::try_from(total).unwrap_or(0),
            usize::try_from(open).unwrap_or(0),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::META_ACCOUNT_ID;
    use crate::cache::feed::tests::{access, member, page};
    use crate::cache::tests::temp_cache;
    use orgdesk_domain::import::template_headers;
    use orgdesk_domain::wire::Change;

    fn now() -> DateTime<Utc> {
        "2026-11-23T06:00:00Z".parse().unwrap()
    }

    /// An org 9 where I (1) am the admin, with a form import of five new members and one
    /// bad row staged.
    fn staged_form() -> (tempfile::TempDir, Cache, ImportId) {
        let (dir, cache) = temp_cache();
        cache.set_meta(META_ACCOUNT_ID, "1").unwrap();
        cache
            .replace_org_list(&[access(9, Role::Admin, 1)], now())
            .unwrap();
        let me = Change::Member(Box::new(member(1, "Me", "Admin", Role::Admin)));
        cache
            .apply_page(9, &page(vec![me], "c1", false), now())
            .unwrap();
        let headers = template_headers(&[]);
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h.starts_with(name))
                .unwrap_or_else(|| panic!("{name} in {headers:?}"))
        };
        let row = |email: &str| {
            let mut cells = vec![String::new(); headers.len()];
            cells[column("Email")] = email.to_owned();
            cells[column("Role")] = "member".to_owned();
            cells
        };
        let rows: Vec<Vec<String>> = ["a", "b", "c", "d", "e", "not an email"]
            .iter()
            .map(|name| row(&format!("{name}@client.example")))
            .collect();
        let staged = cache
            .stage_form(9, &headers, &rows, now().date_naive(), now())
            .unwrap();
        (dir, cache, staged.id)
    }

    #[test]
    fn the_counts_of_a_push_are_the_report_s_in_every_outbox_state() {
        let (_dir, cache, id) = staged_form();
        let staged = cache.import_report(id).unwrap().counts;
        assert_eq!(
            (staged.not_sent, staged.failed),
            (5, 1),
            "{:?}",
            cache.import_report(id).unwrap().results
        );
        assert_eq!(cache.import_counts(id).unwrap(), staged);

        cache.confirm_import(id, now()).unwrap();
        // The five mutations, in staging order: applied, rejected, in conflict, resolved
        // by the user, still pending.
        cache
            .lock()
            .execute_batch(
                "UPDATE outbox SET state = 'applied' WHERE seq = (SELECT min(seq) FROM outbox);
                 UPDATE outbox SET state = 'rejected', result_code = 'email_taken'
                     WHERE seq = (SELECT min(seq) + 1 FROM outbox);
                 UPDATE outbox SET state = 'conflict' WHERE seq = (SELECT min(seq) + 2 FROM outbox);
                 UPDATE outbox SET state = 'resolved' WHERE seq = (SELECT min(seq) + 3 FROM outbox);",
            )
            .unwrap();
        let counts = cache.import_counts(id).unwrap();
        assert_eq!(
            counts,
            ReportCounts {
                created: 1,
                failed: 4,
                not_sent: 1,
                ..ReportCounts::default()
            }
        );
        assert_eq!(cache.import_report(id).unwrap().counts, counts);
    }
}
