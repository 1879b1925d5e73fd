//! The import templates users download (SPEC.md §6): the template's columns with
//! `[Required]` hints, one example row, and in XLSX the org's valid values beside them.

use super::columns::{Column, TEMPLATE_COLUMNS};
use super::property::{PropertyDefinition, PropertyKind};
use crate::export::{
    Cell, ExportError, XlsxStyles, col_num, formula_safe, write_cell, write_csv, write_header,
};
use crate::role::Role;
use crate::wire::Onboarding;
use rust_xlsxwriter::{DataValidation, Workbook, Worksheet, XlsxError};
use std::borrow::Cow;

/// Rows of the Users sheet that get the Role and Onboarding drop-downs.
const VALIDATED_ROWS: u32 = 10_000;

/// The template's headers: `Email [Required]`, ..., `prop:<key>` per property.
pub fn template_headers(properties: &[PropertyDefinition]) -> Vec<String> {
    let builtin = TEMPLATE_COLUMNS.iter().map(|column| match column {
        Column::Email | Column::Role => format!("{} [Required]", column.name()),
        other => other.name(),
    });
    let custom = properties.iter().map(|d| {
        let header = Column::Property(d.key.clone()).name();
        if d.required {
            format!("{header} [Required]")
        } else {
            header
        }
    });
    builtin.chain(custom).collect()
}

/// The example row, in the headers' order.
fn example_row<'a>(properties: &'a [PropertyDefinition], workspaces: &[String]) -> Vec<Cell<'a>> {
    let example_workspaces = workspaces
        .iter()
        .take(2)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    let builtin = TEMPLATE_COLUMNS.iter().map(|column| {
        let value = match column {
            Column::Email => "alex.example@example.com",
            Column::FirstName => "Alex",
            Column::LastName => "Example",
            Column::DisplayName => "Alex Example",
            Column::Role => Role::Member.as_str(),
            Column::Workspaces => return Cell::Text(Cow::Owned(example_workspaces.clone())),
            Column::Onboarding => Onboarding::Invite.as_str(),
            Column::Phone => "+14155550123",
            Column::Title => "Analyst",
            Column::Company => "Example Inc.",
            Column::City => "Springfield",
            _ => "",
        };
        Cell::Text(Cow::Borrowed(value))
    });
    let custom = properties.iter().map(|d| match &d.kind {
        PropertyKind::OneOf { options } => {
            Cell::Text(Cow::Borrowed(options.first().map_or("", String::as_str)))
        }
        PropertyKind::Number => Cell::Number(1.0),
        PropertyKind::Bool => Cell::Bool(false),
        PropertyKind::Text | PropertyKind::Date => Cell::Text(Cow::Borrowed("")),
    });
    builtin.chain(custom).collect()
}

/// The CSV template: UTF-8 with BOM, CRLF, the headers and one example row.
pub fn template_csv(
    properties: &[PropertyDefinition],
    workspaces: &[String],
) -> Result<Vec<u8>, ExportError> {
    write_csv(
        template_headers(properties),
        [example_row(properties, workspaces)],
    )
}

/// The XLSX template: a "Users" sheet (bold headers, an example row, drop-downs for Role
/// and Onboarding) and a "Lists" sheet with the org's workspaces, the roles and the
/// onboarding options.
pub fn template_xlsx(
    properties: &[PropertyDefinition],
    workspaces: &[String],
) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let users = workbook.add_worksheet();
    users.set_name("Users")?;
    write_header(users, &template_headers(properties))?;
    let styles = XlsxStyles::new();
    for (col, value) in example_row(properties, workspaces).iter().enumerate() {
        write_cell(users, 1, col_num(col)?, value, &styles)?;
    }
    add_drop_down(users, &Column::Role, &Role::ALL.map(Role::as_str))?;
    add_drop_down(
        users,
        &Column::Onboarding,
        &Onboarding::ALL.map(Onboarding::as_str),
    )?;
    let lists = workbook.add_worksheet();
    lists.set_name("Lists")?;
    write_lists(lists, workspaces)?;
    Ok(workbook.save_to_buffer()?)
}

fn add_drop_down(sheet: &mut Worksheet, column: &Column, values: &[&str]) -> Result<(), XlsxError> {
    let Some(col) = column.slot() else {
        return Ok(());
    };
    let validation = DataValidation::new()
        .allow_list_strings(values)?
        .set_error_message(format!("Choose one of: {}", values.join(", ")))?;
    sheet.add_data_validation(1, col_num(col)?, VALIDATED_ROWS, col_num(col)?, &validation)?;
    Ok(())
}

fn write_lists(sheet: &mut Worksheet, workspaces: &[String]) -> Result<(), XlsxError> {
    let headers = ["Workspaces", "Roles", "Onboarding"].map(String::from);
    write_header(sheet, &headers)?;
    let roles = Role::ALL.map(Role::as_str);
    let onboarding = Onboarding::ALL.map(Onboarding::as_str);
    let columns: [Vec<&str>; 3] = [
        workspaces.iter().map(String::as_str).collect(),
        roles.to_vec(),
        onboarding.to_vec(),
    ];
    for (col, values) in columns.iter().enumerate() {
        for (i, value) in values.iter().enumerate() {
            let row = u32::try_from(i + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
            sheet.write_string(row, col_num(col)?, formula_safe(value))?;
        }
    }
    Ok(())
}
