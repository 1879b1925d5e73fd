//! Export of the cached roster view (SPEC.md §6): the rows the user is looking at (tab,
//! search, filters; the server already left out what their scope hides) to CSV or XLSX in
//! the import template's columns, so an export can be edited and imported back.

use crate::cache::roster::{RosterQuery, list};
use crate::cache::{Cache, roster::workspaces};
use crate::error::{Error, Result};
use crate::import::property_definitions;
use crate::outbox::actor;
use orgdesk_domain::export::{ExportColumns, ExportUser, export_csv, export_xlsx};
use orgdesk_domain::import::{PropertyDefinition, PropertyKind, PropertyValue};
use orgdesk_domain::permission::{Action, can};
use orgdesk_domain::wire::{Member, OrgId, WorkspaceId};
use serde::Serialize;
use std::collections::HashMap;

/// The file an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

/// An export's bytes and what is in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterExport {
    pub bytes: Vec<u8>,
    pub users: usize,
    /// The billing admin's reduced columns.
    pub limited: bool,
}

impl Cache {
    /// Exports every cached member the query selects (its limit and offset are ignored:
    /// an export is the whole view), with the columns the actor's grant allows.
    pub fn export_roster(
        &self,
        org: OrgId,
        query: &RosterQuery,
        format: ExportFormat,
    ) -> Result<RosterExport> {
        let conn = self.lock();
        let (actor, context) = actor(&conn, org)?;
        let columns = ExportColumns::for_grant(can(&actor, &context, Action::ExportUsers, None)?);
        let query = RosterQuery {
            limit: Some(u32::MAX),
            offset: 0,
            ..query.clone()
        };
        let members = list(&conn, org, &query)?;
        let names: HashMap<WorkspaceId, String> = workspaces(&conn, org)?
            .into_iter()
            .map(|w| (w.id, w.name))
            .collect();
        let properties = property_definitions(&conn, org)?;
        drop(conn);
        let users: Vec<ExportUser> = members
            .iter()
            .map(|m| export_user(m, &names, &properties))
            .collect();
        let bytes = match format {
            ExportFormat::Csv => export_csv(&users, columns, &properties),
            ExportFormat::Xlsx => export_xlsx(&users, columns, &properties),
        }
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
        Ok(RosterExport {
            bytes,
            users: users.len(),
            limited: columns == ExportColumns::Billing,
        })
    }
}

fn export_user(
    member: &Member,
    workspace_names: &HashMap<WorkspaceId, String>,
    properties: &[PropertyDefinition],
) -> ExportUser {
    let p = &member.profile;
    ExportUser {
        id: member.id.to_string(),
        email: member.email.clone(),
        first_name: p.first_name.clone(),
        last_name: p.last_name.clone(),
        display_name: p.display_name.clone(),
        role: member.role,
        status: member.status,
        workspaces: member
            .workspaces
            .iter()
            .filter_map(|id| workspace_names.get(id).cloned())
            .collect(),
        guest_expires: member.guest_expires,
        phone: p.phone.clone(),
        title: p.title.clone(),
        company: p.company.clone(),
        office: p.office.clone(),
        street: p.street.clone(),
        postal_code: p.postal_code.clone(),
        city: p.city.clone(),
        cell_phone: p.cell_phone.clone(),
        home_phone: p.home_phone.clone(),
        properties: properties
            .iter()
            .filter_map(|definition| {
                let value = member.properties.get(&definition.key)?;
                Some((
                    definition.key.clone(),
                    property_value(&definition.kind, value)?,
                ))
            })
            .collect(),
        created: member.created_at,
        last_active: member.last_active_at,
    }
}

/// A stored property value typed by its definition; a value of the wrong type (the
/// definition changed) is exported as the text it is.
fn property_value(kind: &PropertyKind, value: &serde_json::Value) -> Option<PropertyValue> {
    match (kind, value) {
        (_, serde_json::Value::Null) => None,
        (PropertyKind::Number, serde_json::Value::Number(n)) => {
            n.as_f64().map(PropertyValue::Number)
        }
        (PropertyKind::Bool, serde_json::Value::Bool(b)) => Some(PropertyValue::Bool(*b)),
        (PropertyKind::Date, serde_json::Value::String(s)) => Some(
            s.parse()
                .map_or_else(|_| PropertyValue::Text(s.clone()), PropertyValue::Date),
        ),
        (_, serde_json::Value::String(s)) => Some(PropertyValue::Text(s.clone())),
        (_, other) => Some(PropertyValue::Text(other.to_string())),
    }
}
