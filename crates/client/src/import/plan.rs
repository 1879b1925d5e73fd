//! Diffing parsed rows against the cached roster and checking each with the domain's
//! rules, as the server will: what makes a row `create`, `update` (field by field),
//! `unchanged` or `error` before anything is sent.

use super::{FieldChange, PlannedMutation, RowPlan};
use crate::cache::roster::workspaces as cached_workspaces;
use crate::error::Result;
use crate::outbox::actor;
use chrono::NaiveDate;
use orgdesk_domain::import::{Column, ImportRow, ParsedImport, PropertyDefinition, RowError};
use orgdesk_domain::invariants::{self, MembershipChange};
use orgdesk_domain::permission::{Action, Actor, OrgContext, TargetUser, can};
use orgdesk_domain::wire::{
    MemberEdit, MutationKind, NewMember, OrgId, Profile, ProfileEdit, PropertyValues, UserId,
    WorkspaceId,
};
use orgdesk_domain::{Denied, ErrorCode, Role, Status};
use rusqlite::{Connection, params};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// What the planner needs of the org, read once from the cache.
pub(crate) struct OrgFacts {
    actor: Actor,
    context: OrgContext,
    workspace_ids: HashMap<String, WorkspaceId>,
    workspace_names: HashMap<WorkspaceId, String>,
    pub properties: Vec<PropertyDefinition>,
    pub workspace_list: Vec<String>,
}

/// The org's custom property definitions as cached.
pub(crate) fn property_definitions(
    conn: &Connection,
    org: OrgId,
) -> Result<Vec<PropertyDefinition>> {
    let mut stmt =
        conn.prepare_cached("SELECT data FROM property_definitions WHERE org_id = ?1 ORDER BY id")?;
    let rows = stmt
        .query_map(params![org], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.iter()
        .map(|json| serde_json::from_str(json).map_err(Into::into))
        .collect()
}

impl OrgFacts {
    /// The org's rules context without its members (for parsing options).
    pub(crate) fn load(conn: &Connection, org: OrgId) -> Result<OrgFacts> {
        let (actor, context) = actor(conn, org)?;
        let workspaces = cached_workspaces(conn, org)?;
        Ok(OrgFacts {
            actor,
            context,
            workspace_ids: workspaces
                .iter()
                .map(|w| (w.name.to_lowercase(), w.id))
                .collect(),
            workspace_names: workspaces.iter().map(|w| (w.id, w.name.clone())).collect(),
            workspace_list: workspaces.into_iter().map(|w| w.name).collect(),
            properties: property_definitions(conn, org)?,
        })
    }

    pub(crate) fn workspace_name(&self, id: WorkspaceId) -> Option<&str> {
        self.workspace_names.get(&id).map(String::as_str)
    }
}

/// The cached members the file names, kept as their stored JSON and decoded one at a time
/// when the planner reaches their row. Decoding them all up front built a map of 100,000
/// whole `Member`s (its growth copied and page-faulted hundreds of MB) only to drop it after
/// planning; one member at a time reuses the same few allocations.
pub(crate) struct CachedMembers<'f> {
    /// The `data` column of every matching member, back to back.
    json: String,
    /// Where each member's JSON lies in `json`, by lower-cased email (borrowed from the rows).
    by_email: HashMap<&'f str, Range<usize>>,
    /// Of the whole org, not only the file's members: counted in the same scan.
    active_admins: usize,
}

impl<'f> CachedMembers<'f> {
    /// One scan of the org's rows, keeping those whose email is in `emails` and counting
    /// the active admins (a second scan of 100,000 rows cost as much as this one's test).
    pub(crate) fn load(
        conn: &Connection,
        org: OrgId,
        emails: &HashSet<&'f str>,
    ) -> Result<CachedMembers<'f>> {
        let mut stmt = conn.prepare_cached(
            "SELECT email_lc, data, role = ?2 AND status = ?3 FROM members WHERE org_id = ?1",
        )?;
        let mut rows = stmt.query(params![org, Role::Admin.as_str(), Status::Active.as_str()])?;
        let mut json = String::new();
        let mut by_email = HashMap::with_capacity(emails.len());
        let mut active_admins = 0;
        while let Some(row) = rows.next()? {
            if row.get::<_, bool>(2)? {
                active_admins += 1;
            }
            if let Some(email) = emails.get(super::str_at(row, 0)?) {
                let start = json.len();
                json.push_str(super::str_at(row, 1)?);
                by_email.insert(*email, start..json.len());
            }
        }
        Ok(CachedMembers {
            json,
            by_email,
            active_admins,
        })
    }

    fn get(&self, email: &str) -> Result<Option<CachedMember<'_>>> {
        let Some(range) = self.by_email.get(email) else {
            return Ok(None);
        };
        Ok(Some(serde_json::from_str(&self.json[range.clone()])?))
    }
}

/// What the planner compares and checks of a cached member (`members.data`, a
/// `wire::Member` as JSON; the rest of its fields are skipped). Its texts are borrowed from
/// the stored JSON unless they hold an escape: decoding a whole `Member` per row (every
/// text copied, three timestamps parsed) was a third of planning.
#[derive(Deserialize)]
struct CachedMember<'j> {
    id: UserId,
    #[serde(borrow)]
    email: Cow<'j, str>,
    role: Role,
    status: Status,
    // The profile's fields, side by side with the rest as `wire::Member` writes them.
    #[serde(default, borrow, deserialize_with = "text")]
    display_name: Option<Cow<'j, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    first_name: Option<Cow<'j, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    last_name: Option<Cow<'j, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    phone: Option<Cow<'j, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    title: Option<Cow<'j, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    company: Option<Cow<'j, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    office: Option<Cow<'j, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    street: Option<Cow<'j, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    postal_code: Option<Cow<'j, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    city: Option<Cow<'j, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    cell_phone: Option<Cow<'j, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    home_phone: Option<Cow<'j, str>>,
    #[serde(default)]
    workspaces: Vec<WorkspaceId>,
    #[serde(default)]
    guest_expires: Option<NaiveDate>,
    #[serde(default)]
    properties: PropertyValues,
    version: i64,
}

/// An optional text, borrowed when it has no escape (serde borrows a `Cow` only directly
/// inside a field marked `borrow`, never inside an `Option`).
fn text<'de: 'j, 'j, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<Cow<'j, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Text<'j>>::deserialize(deserializer)?.map(|text| text.0))
}

/// One row's plan with what confirmation needs.
pub(crate) struct Planned {
    pub plan: RowPlan,
    pub user_id: Option<UserId>,
    pub mutations: Vec<PlannedMutation>,
}

impl Planned {
    fn error(errors: Vec<RowError>) -> Planned {
        Planned {
            plan: RowPlan::Error {
                errors: errors.into_iter().map(Into::into).collect(),
            },
            user_id: None,
            mutations: Vec::new(),
        }
    }
}

/// Plans the valid rows of a parse in file order; the running count of active admins
/// makes the second of two demotions of the last admins an error, as the server would.
pub(crate) struct Planner<'a> {
    facts: &'a OrgFacts,
    parsed: &'a ParsedImport,
    members: &'a CachedMembers<'a>,
    active_admins: usize,
}

impl<'a> Planner<'a> {
    pub(crate) fn new(
        facts: &'a OrgFacts,
        parsed: &'a ParsedImport,
        members: &'a CachedMembers<'a>,
    ) -> Self {
        Planner {
            facts,
            parsed,
            members,
            active_admins: members.active_admins,
        }
    }

    fn header(&self, column: &Column) -> String {
        self.parsed
            .columns
            .iter()
            .find(|c| &c.column == column)
            .map_or_else(|| column.name(), |c| c.header.clone())
    }

    fn denied(&self, row: u32, column: &Column, denied: Denied) -> RowError {
        RowError {
            row,
            column: self.header(column),
            code: denied.code,
            reason: denied.message,
        }
    }

    fn workspace_ids(&self, names: &[String]) -> Vec<WorkspaceId> {
        // The parser checked the names against the org's, so each one is found.
        names
            .iter()
            .filter_map(|name| self.facts.workspace_ids.get(&name.to_lowercase()).copied())
            .collect()
    }

    pub(crate) fn plan(&mut self, row: &ImportRow) -> Result<Planned> {
        Ok(match self.members.get(&row.email)? {
            None => self.create(row),
            Some(member) => self.update(row, &member),
        })
    }

    fn create(&self, row: &ImportRow) -> Planned {
        let target = TargetUser {
            account_id: None,
            email: &row.email,
            role: row.role,
            status: Status::Pending,
        };
        if let Err(denied) = can(
            &self.facts.actor,
            &self.facts.context,
            Action::AddUser,
            Some(&target),
        ) {
            let column = if denied.code == ErrorCode::RoleNotAllowed {
                Column::Role
            } else {
                Column::Email
            };
            return Planned::error(vec![self.denied(row.row_number, &column, denied)]);
        }
        let member = NewMember {
            email: row.email.clone(),
            role: row.role,
            profile: Profile {
                display_name: row.display_name.clone(),
                first_name: row.first_name.clone(),
                last_name: row.last_name.clone(),
                phone: row.phone.clone(),
                title: row.title.clone(),
                company: row.company.clone(),
                office: row.office.clone(),
                street: row.street.clone(),
                postal_code: row.postal_code.clone(),
                city: row.city.clone(),
                cell_phone: row.cell_phone.clone(),
                home_phone: row.home_phone.clone(),
            },
            workspaces: self.workspace_ids(&row.workspaces),
            guest_expires: row.guest_expires,
            properties: row
                .properties
                .iter()
                .map(|(key, value)| (key.clone(), value.to_json()))
                .collect(),
            onboarding: row.onboarding,
            password: row.password.as_ref().map(|p| p.expose().to_owned()),
        };
        Planned {
            plan: RowPlan::Create { role: row.role },
            user_id: None,
            mutations: vec![PlannedMutation {
                base_version: None,
                change: MutationKind::AddMember { member },
            }],
        }
    }

    fn update(&mut self, row: &ImportRow, member: &CachedMember<'_>) -> Planned {
        let parsed = self.parsed;
        let mut changes: Vec<FieldChange> = Vec::new();
        let mut text = |column: Column, old: &Option<Cow<'_, str>>, new: &Option<String>| {
            let old = old.as_deref();
            if !parsed.has_column(&column) || old == new.as_deref() {
                return None;
            }
            changes.push(FieldChange {
                column: column.name(),
                old: old.unwrap_or_default().to_owned(),
                new: new.clone().unwrap_or_default(),
            });
            // The wire's rule: an empty string clears the field.
            Some(new.clone().unwrap_or_default())
        };
        let old = member;
        let profile = ProfileEdit {
            first_name: text(Column::FirstName, &old.first_name, &row.first_name),
            last_name: text(Column::LastName, &old.last_name, &row.last_name),
            display_name: text(Column::DisplayName, &old.display_name, &row.display_name),
            phone: text(Column::Phone, &old.phone, &row.phone),
            title: text(Column::Title, &old.title, &row.title),
            company: text(Column::Company, &old.company, &row.company),
            office: text(Column::Office, &old.office, &row.office),
            street: text(Column::Street, &old.street, &row.street),
            postal_code: text(Column::PostalCode, &old.postal_code, &row.postal_code),
            city: text(Column::City, &old.city, &row.city),
            cell_phone: text(Column::CellPhone, &old.cell_phone, &row.cell_phone),
            home_phone: text(Column::HomePhone, &old.home_phone, &row.home_phone),
        };
        let mut edit = MemberEdit {
            profile: (profile != ProfileEdit::default()).then_some(profile),
            ..MemberEdit::default()
        };
        for definition in &self.facts.properties {
            let column = Column::Property(definition.key.clone());
            if !parsed.has_column(&column) {
                continue;
            }
            let new = row.properties.get(&definition.key).map(|v| v.to_json());
            let old = member.properties.get(&definition.key);
            if same_property(old, new.as_ref()) {
                continue;
            }
            changes.push(FieldChange {
                column: column.name(),
                old: old.map(cell_text).unwrap_or_default(),
                new: new.as_ref().map(cell_text).unwrap_or_default(),
            });
            // JSON null clears a property.
            edit.properties.insert(
                definition.key.clone(),
                new.unwrap_or(serde_json::Value::Null),
            );
        }

        let role_changes = parsed.has_column(&Column::Role) && row.role != member.role;
        if role_changes {
            changes.push(FieldChange {
                column: Column::Role.name(),
                old: member.role.as_str().to_owned(),
                new: row.role.as_str().to_owned(),
            });
        }
        let date_present = parsed.has_column(&Column::GuestExpires);
        if date_present && row.guest_expires != member.guest_expires {
            changes.push(FieldChange {
                column: Column::GuestExpires.name(),
                old: member
                    .guest_expires
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                new: row.guest_expires.map(|d| d.to_string()).unwrap_or_default(),
            });
            // A new guest gets its date with the role change; a guest staying one gets
            // it as an edit; a guest becoming another role loses it with the change.
            if !role_changes && member.role == Role::Guest {
                edit.guest_expires = row.guest_expires;
            }
        }

        let mut workspaces = None;
        if parsed.has_column(&Column::Workspaces) {
            let new = self.workspace_ids(&row.workspaces);
            let mut sorted_new = new.clone();
            sorted_new.sort_unstable();
            let mut sorted_old = member.workspaces.clone();
            sorted_old.sort_unstable();
            if sorted_new != sorted_old {
                let names = |ids: &[WorkspaceId]| {
                    ids.iter()
                        .filter_map(|id| self.facts.workspace_name(*id))
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                changes.push(FieldChange {
                    column: Column::Workspaces.name(),
                    old: names(&member.workspaces),
                    new: names(&new),
                });
                workspaces = Some(new);
            }
        }

        if changes.is_empty() {
            return Planned {
                plan: RowPlan::Unchanged,
                user_id: Some(member.id),
                mutations: Vec::new(),
            };
        }

        let target = TargetUser {
            account_id: Some(member.id),
            email: &member.email,
            role: member.role,
            status: member.status,
        };
        let facts = self.facts;
        let check = |action: Action| can(&facts.actor, &facts.context, action, Some(&target));
        let row_number = row.row_number;
        let mut errors = Vec::new();
        let mut mutations = Vec::new();
        let base_version = Some(member.version);
        if role_changes {
            let checked = check(Action::ChangeRole { to: row.role }).and_then(|_| {
                invariants::keeps_an_active_admin(
                    member.role,
                    member.status,
                    MembershipChange::RoleChanged(row.role),
                    self.active_admins,
                )
            });
            match checked {
                Ok(()) => mutations.push(PlannedMutation {
                    base_version,
                    change: MutationKind::ChangeRole {
                        user_id: member.id,
                        role: row.role,
                        guest_expires: (row.role == Role::Guest)
                            .then_some(row.guest_expires)
                            .flatten(),
                    },
                }),
                Err(denied) => errors.push(self.denied(row_number, &Column::Role, denied)),
            }
        }
        if edit != MemberEdit::default() {
            match check(Action::EditProfile) {
                Ok(_) => mutations.push(PlannedMutation {
                    base_version,
                    change: MutationKind::EditMember {
                        user_id: member.id,
                        edit,
                    },
                }),
                Err(denied) => errors.push(self.denied(row_number, &Column::Email, denied)),
            }
        }
        if let Some(workspaces) = workspaces {
            match check(Action::AssignWorkspaces) {
                Ok(_) => mutations.push(PlannedMutation {
                    base_version,
                    change: MutationKind::AssignWorkspaces {
                        user_id: member.id,
                        workspaces,
                    },
                }),
                Err(denied) => errors.push(self.denied(row_number, &Column::Workspaces, denied)),
            }
        }
        if !errors.is_empty() {
            // A row is imported whole or not at all: half an update is a surprise.
            return Planned {
                user_id: Some(member.id),
                ..Planned::error(errors)
            };
        }
        if role_changes && member.status == Status::Active {
            match (member.role == Role::Admin, row.role == Role::Admin) {
                (true, false) => self.active_admins = self.active_admins.saturating_sub(1),
                (false, true) => self.active_admins += 1,
                _ => {}
            }
        }
        Planned {
            plan: RowPlan::Update { changes },
            user_id: Some(member.id),
            mutations,
        }
    }
}

/// Property values compare as their cells do: a number typed `3` equals a stored `3.0`.
fn same_property(old: Option<&serde_json::Value>, new: Option<&serde_json::Value>) -> bool {
    match (old, new) {
        (None, None) => true,
        (Some(a), Some(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        _ => false,
    }
}

fn cell_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Rows are planned against each other too: an email twice among edited rows is caught
/// here (the parser catches it within the file as read).
pub(crate) fn duplicate<'r>(
    seen: &mut HashMap<&'r str, u32>,
    row: &'r ImportRow,
    header: &str,
) -> Option<RowError> {
    match seen.get(row.email.as_str()) {
        Some(first) if *first != row.row_number => Some(RowError {
            row: row.row_number,
            column: header.to_owned(),
            code: ErrorCode::InvalidInput,
            reason: format!("{} is already in row {first}", row.email),
        }),
        Some(_) => None,
        None => {
            seen.insert(&row.email, row.row_number);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use orgdesk_domain::wire::Member;

    fn stored(profile: Profile) -> Member {
        Member {
            id: 7,
            email: "ann@example.com".into(),
            role: Role::Guest,
            status: Status::Active,
            profile,
            workspaces: vec![3, 1],
            scope: None,
            guest_expires: NaiveDate::from_ymd_opt(2027, 1, 31),
            properties: [("badge".to_owned(), serde_json::json!(12))].into(),
            invited_by: Some(2),
            invited_at: Some(Utc::now()),
            invitation_expires_at: None,
            created_at: Utc::now(),
            last_active_at: Some(Utc::now()),
            last_sign_in_at: None,
            version: 4,
        }
    }

    #[test]
    fn a_cached_member_reads_back_every_field_the_planner_compares() {
        let profile = Profile {
            display_name: Some("Ann \"the boss\" Lee".into()),
            first_name: Some("Ann".into()),
            last_name: Some("Lee".into()),
            phone: Some("+4930123".into()),
            title: Some("C:\\ops\tlead".into()),
            company: Some("Ünïcode GmbH".into()),
            office: Some("2.14".into()),
            street: Some("Main St 1".into()),
            postal_code: Some("10115".into()),
            city: Some("Berlin".into()),
            cell_phone: Some("+4917".into()),
            home_phone: Some("+4930".into()),
        };
        let member = stored(profile.clone());
        let json = serde_json::to_string(&member).unwrap();
        let cached: CachedMember<'_> = serde_json::from_str(&json).unwrap();
        let texts = |p: &Profile| {
            [
                &p.display_name,
                &p.first_name,
                &p.last_name,
                &p.phone,
                &p.title,
                &p.company,
                &p.office,
                &p.street,
                &p.postal_code,
                &p.city,
                &p.cell_phone,
                &p.home_phone,
            ]
            .map(|t| t.as_deref().map(str::to_owned))
        };
        let read = [
            &cached.display_name,
            &cached.first_name,
            &cached.last_name,
            &cached.phone,
            &cached.title,
            &cached.company,
            &cached.office,
            &cached.street,
            &cached.postal_code,
            &cached.city,
            &cached.cell_phone,
            &cached.home_phone,
        ]
        .map(|t| t.as_deref().map(str::to_owned));
        assert_eq!(
            read,
            texts(&profile),
            "profile texts, escaped ones included"
        );
        assert_eq!(
            (cached.id, cached.email.as_ref(), cached.role, cached.status),
            (7, "ann@example.com", Role::Guest, Status::Active)
        );
        assert_eq!(cached.workspaces, vec![3, 1]);
        assert_eq!(cached.guest_expires, member.guest_expires);
        assert_eq!(cached.properties, member.properties);
        assert_eq!(cached.version, 4);
    }

    #[test]
    fn a_cached_member_without_a_profile_reads_as_empty_fields() {
        let json = serde_json::to_string(&stored(Profile::default())).unwrap();
        let cached: CachedMember<'_> = serde_json::from_str(&json).unwrap();
        assert!(cached.display_name.is_none() && cached.title.is_none());
    }
}
