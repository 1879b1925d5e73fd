//! `orgdesk import ...` and `orgdesk export`: the bulk import wizard and the roster
//! export for scripts and terminals, over `orgdesk_client::import` and `export`.

use crate::{Tab, current_org, print, progress_bar, today};
use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use clap::{Args, Subcommand, ValueEnum};
use orgdesk_client::cache::roster::RosterQuery;
use orgdesk_client::export::ExportFormat;
use orgdesk_client::import::{
    FieldChange, ImportId, ImportReport, ReportCounts, RowPlan, StageOptions, StagedImport,
    StagedRow, push_import,
};
use orgdesk_client::sync::SyncProgress;
use orgdesk_client::{CachedOrg, Profile};
use orgdesk_domain::import::{template_csv, template_xlsx};
use orgdesk_domain::{Role, RosterTab};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Write the import template (with the org's workspaces and custom properties).
    Template {
        #[arg(long, value_enum, default_value = "csv")]
        format: FileFormat,
        #[arg(long)]
        out: PathBuf,
    },
    /// Read a CSV or workbook and stage it: every row checked against the cached roster.
    Stage {
        file: PathBuf,
        /// The worksheet of a workbook (default: the first).
        #[arg(long)]
        sheet: Option<String>,
        /// The role for a file without a Role column, and for empty Role cells.
        #[arg(long, value_parser = parse_role)]
        default_role: Option<Role>,
    },
    /// Show the staged import: every row as create, update, unchanged or error.
    Show {
        /// Another import than the newest.
        #[arg(long)]
        import: Option<ImportId>,
        /// Only rows with this plan.
        #[arg(long)]
        only: Option<String>,
    },
    /// Change cells of one row (`--set "Column=value"`, repeatable) and re-check it.
    Edit {
        row: u32,
        #[arg(long = "set", value_name = "COLUMN=VALUE", required = true)]
        cells: Vec<String>,
        #[arg(long)]
        import: Option<ImportId>,
    },
    /// Leave a row out of the import (--undo takes it back).
    Drop {
        row: u32,
        #[arg(long)]
        undo: bool,
        #[arg(long)]
        import: Option<ImportId>,
    },
    /// Put the import's changes into the outbox (ids fixed now); nothing is sent yet.
    Confirm {
        #[arg(long)]
        import: Option<ImportId>,
    },
    /// Send a confirmed import; run it again after any interruption.
    Push {
        #[arg(long)]
        import: Option<ImportId>,
        /// Also write the result report here (CSV, or XLSX by the extension).
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Write the result report: the file's rows with a Result column.
    Report {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        import: Option<ImportId>,
    },
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "csv")]
    format: FileFormat,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum)]
    tab: Option<Tab>,
    #[arg(long)]
    search: Option<String>,
    #[arg(long, value_parser = parse_role)]
    role: Option<Role>,
    /// A workspace id.
    #[arg(long)]
    workspace: Option<i64>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse::<Role>().map_err(|e| e.to_string())
}

fn import_id(profile: &Profile, org: &CachedOrg, asked: Option<ImportId>) -> Result<ImportId> {
    match asked {
        Some(id) => Ok(id),
        None => Ok(profile
            .cache
            .latest_import(org.id)?
            .context("no import staged in this organization: run `orgdesk import stage FILE`")?
            .id),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn report_bytes(report: &ImportReport, path: &Path) -> Result<Vec<u8>> {
    let xlsx = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    Ok(if xlsx {
        report.to_xlsx()?
    } else {
        report.to_csv()?
    })
}

pub async fn run(
    profile: &Profile,
    org: Option<&str>,
    command: ImportCommand,
    json: bool,
) -> Result<()> {
    let org = current_org(profile, org)?;
    let cache = &profile.cache;
    match command {
        ImportCommand::Template { format, out } => {
            let properties = cache.property_definitions(org.id)?;
            let workspaces: Vec<String> = cache
                .workspaces(org.id)?
                .into_iter()
                .map(|w| w.name)
                .collect();
            let bytes = match format {
                FileFormat::Csv => template_csv(&properties, &workspaces),
                FileFormat::Xlsx => template_xlsx(&properties, &workspaces),
            }
            .map_err(|e| anyhow!("{e}"))?;
            write_file(&out, &bytes)?;
            print(json, &serde_json::json!({"written": out}), || {
                format!("Template written to {}\n", out.display())
            })
        }
        ImportCommand::Stage {
            file,
            sheet,
            default_role,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let name = file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into(),
            );
            let options = StageOptions {
                file_name: &name,
                sheet: sheet.as_deref(),
                default_role,
                today: today(),
                now: Utc::now(),
            };
            let staged = cache.stage_import(org.id, &bytes, &options)?;
            print(json, &staged, || describe_import(&staged))
        }
        ImportCommand::Show { import, only } => {
            let id = import_id(profile, &org, import)?;
            let staged = cache.staged_import(id)?;
            let rows: Vec<StagedRow> = cache
                .import_rows(id)?
                .into_iter()
                .filter(|row| only.as_deref().is_none_or(|o| plan_name(&row.plan) == o))
                .collect();
            let shown = serde_json::json!({"import": staged, "rows": rows});
            print(json, &shown, || {
                let mut text = describe_import(&staged);
                for row in &rows {
                    text.push_str(&describe_row(row));
                }
                text
            })
        }
        ImportCommand::Edit { row, cells, import } => {
            let id = import_id(profile, &org, import)?;
            let edits = cells
                .iter()
                .map(|pair| {
                    pair.split_once('=')
                        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                        .ok_or_else(|| anyhow!("--set wants COLUMN=VALUE, got '{pair}'"))
                })
                .collect::<Result<Vec<_>>>()?;
            let row = cache.edit_import_row(id, row, &edits, today())?;
            print(json, &row, || describe_row(&row))
        }
        ImportCommand::Drop { row, undo, import } => {
            let id = import_id(profile, &org, import)?;
            cache.drop_import_row(id, row, !undo, today())?;
            let staged = cache.staged_import(id)?;
            print(json, &staged, || describe_import(&staged))
        }
        ImportCommand::Confirm { import } => {
            let id = import_id(profile, &org, import)?;
            let staged = cache.confirm_import(id, Utc::now())?;
            print(
                json,
                &serde_json::json!({"import": id, "staged": staged}),
                || {
                    format!(
                        "Import {id}: {staged} changes are in the outbox. Send them with `orgdesk import push`.\n"
                    )
                },
            )
        }
        ImportCommand::Push { import, report } => {
            let id = import_id(profile, &org, import)?;
            let api = profile.api()?;
            let (total, open) = cache.import_mutations(id)?;
            let bar = progress_bar(json);
            let mut done = total - open;
            let mut report_progress = |event: SyncProgress| {
                if let SyncProgress::Pushed { outcome, .. } = &event {
                    done += outcome.applied + outcome.conflicts + outcome.rejected;
                }
                if let Some(bar) = &bar {
                    bar.set_message(format!("import {id}: {done} of {total} changes sent"));
                    bar.tick();
                }
            };
            let pushed = push_import(&api, cache, id, &mut report_progress).await;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            let pushed = pushed?;
            if let Some(path) = &report {
                write_file(path, &report_bytes(&cache.import_report(id)?, path)?)?;
            }
            print(json, &pushed, || describe_counts(&pushed.counts))
        }
        ImportCommand::Report { out, import } => {
            let id = import_id(profile, &org, import)?;
            let report = cache.import_report(id)?;
            write_file(&out, &report_bytes(&report, &out)?)?;
            print(json, &report, || {
                format!(
                    "{}Report written to {}\n",
                    describe_report(&report),
                    out.display()
                )
            })
        }
    }
}

pub fn export(profile: &Profile, org: Option<&str>, args: ExportArgs, json: bool) -> Result<()> {
    let org = current_org(profile, org)?;
    let query = RosterQuery {
        tab: args.tab.map(|tab| match tab {
            Tab::Pending => RosterTab::Pending,
            Tab::Active => RosterTab::Active,
            Tab::Guest => RosterTab::Guest,
        }),
        search: args.search,
        role: args.role,
        workspace: args.workspace,
        ..RosterQuery::default()
    };
    let format = match args.format {
        FileFormat::Csv => ExportFormat::Csv,
        FileFormat::Xlsx => ExportFormat::Xlsx,
    };
    let export = profile.cache.export_roster(org.id, &query, format)?;
    write_file(&args.out, &export.bytes)?;
    let answer =
        serde_json::json!({"written": args.out, "users": export.users, "limited": export.limited});
    print(json, &answer, || {
        let limited = if export.limited {
            " (the billing admin's columns)"
        } else {
            ""
        };
        format!(
            "{} users exported to {}{limited}\n",
            export.users,
            args.out.display()
        )
    })
}

fn plan_name(plan: &RowPlan) -> &'static str {
    match plan {
        RowPlan::Create { .. } => "create",
        RowPlan::Update { .. } => "update",
        RowPlan::Unchanged => "unchanged",
        RowPlan::Error { .. } => "error",
        RowPlan::Dropped => "dropped",
    }
}

fn describe_import(import: &StagedImport) -> String {
    let c = &import.counts;
    let mut text = format!(
        "Import {} of {} ({}): {} to create, {} to update, {} unchanged, {} with errors, {} dropped\n",
        import.id,
        import.file_name,
        match import.state {
            orgdesk_client::import::ImportState::Staged => "staged",
            orgdesk_client::import::ImportState::Confirmed => "confirmed",
        },
        c.create,
        c.update,
        c.unchanged,
        c.error,
        c.dropped
    );
    for warning in &import.warnings {
        text.push_str(&format!("  note: {warning}\n"));
    }
    if !import.unknown_columns.is_empty() {
        text.push_str(&format!(
            "  ignored columns: {}\n",
            import.unknown_columns.join(", ")
        ));
    }
    text
}

fn describe_row(row: &StagedRow) -> String {
    let head = format!(
        "row {:>6}  {:<9}  {}",
        row.row_number,
        plan_name(&row.plan),
        row.email
    );
    match &row.plan {
        RowPlan::Update { changes } => {
            let fields: Vec<String> = changes.iter().map(describe_change).collect();
            format!("{head}: {}\n", fields.join(", "))
        }
        RowPlan::Error { errors } => {
            let mut text = format!("{head}\n");
            for error in errors {
                text.push_str(&format!("             {error} [{}]\n", error.code));
            }
            text
        }
        _ => format!("{head}\n"),
    }
}

fn describe_change(change: &FieldChange) -> String {
    format!("{}: '{}' → '{}'", change.column, change.old, change.new)
}

fn describe_report(report: &ImportReport) -> String {
    describe_counts(&report.counts)
}

fn describe_counts(c: &ReportCounts) -> String {
    let mut text = format!(
        "{} created, {} updated, {} unchanged, {} failed, {} dropped\n",
        c.created, c.updated, c.unchanged, c.failed, c.dropped
    );
    if c.not_sent > 0 {
        text.push_str(&format!(
            "{} rows are not sent yet: run `orgdesk import push` again.\n",
            c.not_sent
        ));
    }
    text
}
