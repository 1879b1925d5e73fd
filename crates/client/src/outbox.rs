//! The outbox: every staged change, persisted in the cache before anything is sent.
//!
//! A change is checked offline with `domain::can` and `domain::invariants` against the
//! cached roster (as the pending changes before it will leave it), gets its mutation id
//! (UUID v7) at staging, and keeps that id until the server's result is recorded: a client
//! killed between sending and recording simply resends and gets the stored results.

use crate::cache::feed::{
    IndexedColumns, delete_member, timestamp, update_members_in_place, upsert_member,
    upsert_members,
};
use crate::cache::orgs::{bad_column, org as cached_org};
use crate::cache::roster::{active_admins, decode_member, member, member_by_email};
use crate::cache::{Cache, META_ACCOUNT_ID};
use crate::error::{Error, Result};
use crate::seal::{Seal, UNREADABLE, Unreadable};
use chrono::{DateTime, NaiveDate, Utc};
use orgdesk_domain::invariants::{self, MembershipChange};
use orgdesk_domain::permission::{Action, Actor, OrgContext, TargetUser, can};
use orgdesk_domain::wire::{
    Member, MemberEdit, MutationId, MutationKind, MutationOutcome, MutationResult, OrgId, UserId,
};
use orgdesk_domain::{Denied, ErrorCode, Role, Status, validate};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

pub(crate) mod checked;
pub use checked::{Checked, Refusal, Verdict};

/// Where a staged change stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Not yet answered by the server (possibly sent; a resend is safe).
    Pending,
    Applied,
    /// The row changed on the server since the change was staged: resolve it.
    Conflict,
    /// The server (or access loss) refused it: resolve it.
    Rejected,
    /// The user resolved a conflict or rejection.
    Resolved,
}

impl OutboxState {
    pub const fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Applied => "applied",
            OutboxState::Conflict => "conflict",
            OutboxState::Rejected => "rejected",
            OutboxState::Resolved => "resolved",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<OutboxState> {
        [
            OutboxState::Pending,
            OutboxState::Applied,
            OutboxState::Conflict,
            OutboxState::Rejected,
            OutboxState::Resolved,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

/// How the user resolves a conflict or a rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Re-stage the same change on the server's current row (new base version, new id).
    KeepMine,
    /// Drop the change and write the server's row to the cache.
    TakeTheirs,
    /// Drop the change.
    Drop,
}

impl Resolution {
    const fn as_str(self) -> &'static str {
        match self {
            Resolution::KeepMine => "keep_mine",
            Resolution::TakeTheirs => "take_theirs",
            Resolution::Drop => "drop",
        }
    }
}

/// One change in the outbox, with both versions of the row for a conflict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StagedChange {
    /// Staging order; changes are sent in this order.
    pub seq: i64,
    pub id: MutationId,
    pub org_id: OrgId,
    pub user_id: Option<UserId>,
    pub base_version: Option<i64>,
    pub change: MutationKind,
    pub staged_at: DateTime<Utc>,
    pub state: OutboxState,
    /// The cached row the change was staged on.
    pub base_row: Option<Member>,
    /// The row as this change would leave it (`None` for a removal).
    pub mine: Option<Member>,
    /// For a conflict, the server's current row (`None` if it was removed there).
    pub theirs: Option<Member>,
    pub applied_version: Option<i64>,
    /// For a rejection, the server's (or the access loss's) refusal.
    pub refusal: Option<Denied>,
    pub resolution: Option<String>,
}

/// The answer of [`Outbox::record_results`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchOutcome {
    pub applied: usize,
    pub conflicts: usize,
    pub rejected: usize,
}

/// The outbox of one cache.
pub struct Outbox<'a> {
    cache: &'a Cache,
}

impl Cache {
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox { cache: self }
    }
}

const COLUMNS: &str = "seq, id, org_id, user_id, base_version, change, staged_at, state, base_row, \
                       applied_version, result_code, result_message, server_row, resolution";

fn json_column<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<T>> {
    let text: Option<String> = row.get(index)?;
    text.map(|json| serde_json::from_str(&json).map_err(|e| bad_column(index, e)))
        .transpose()
}

fn member_column(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<Member>> {
    let text: Option<&str> = row.get_ref(index)?.as_str_or_null().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })?;
    text.map(|json| decode_member(json).map_err(|e| bad_column(index, e)))
        .transpose()
}

fn staged_from_row(row: &Row<'_>) -> rusqlite::Result<StagedChange> {
    let change: MutationKind = json_column(row, 5)?.ok_or_else(|| bad_column(5, "no change"))?;
    let staged_at: String = row.get(6)?;
    let state: String = row.get(7)?;
    let base_row = member_column(row, 8)?;
    let code: Option<String> = row.get(10)?;
    let message: Option<String> = row.get(11)?;
    let refusal = match code {
        Some(code) => Some(Denied::with_message(
            code.parse::<ErrorCode>().map_err(|e| bad_column(10, e))?,
            message.unwrap_or_default(),
        )),
        None => None,
    };
    let staged_at = DateTime::parse_from_rfc3339(&staged_at)
        .map_err(|e| bad_column(6, e))?
        .to_utc();
    let mine = match &base_row {
        Some(base) => project(base.clone(), &change),
        None => added_member(&change, 0, 0, staged_at),
    };
    Ok(StagedChange {
        seq: row.get(0)?,
        id: row.get(1)?,
        org_id: row.get(2)?,
        user_id: row.get(3)?,
        base_version: row.get(4)?,
        change,
        staged_at,
        state: OutboxState::parse(&state).ok_or_else(|| bad_column(7, state.clone()))?,
        base_row,
        mine,
        theirs: member_column(row, 12)?,
        applied_version: row.get(9)?,
        refusal,
        resolution: row.get(13)?,
    })
}

fn apply_edit(member: &mut Member, edit: &MemberEdit) {
    if let Some(profile) = &edit.profile {
        let fields = [
            (&profile.display_name, &mut member.profile.display_name),
            (&profile.first_name, &mut member.profile.first_name),
            (&profile.last_name, &mut member.profile.last_name),
            (&profile.phone, &mut member.profile.phone),
            (&profile.title, &mut member.profile.title),
            (&profile.company, &mut member.profile.company),
            (&profile.office, &mut member.profile.office),
            (&profile.street, &mut member.profile.street),
            (&profile.postal_code, &mut member.profile.postal_code),
            (&profile.city, &mut member.profile.city),
            (&profile.cell_phone, &mut member.profile.cell_phone),
            (&profile.home_phone, &mut member.profile.home_phone),
        ];
        for (new, old) in fields {
            if let Some(value) = new {
                // The wire's rule: an empty string clears the field.
                *old = (!value.is_empty()).then(|| value.clone());
            }
        }
    }
    for (key, value) in &edit.properties {
        if value.is_null() {
            member.properties.remove(key);
        } else {
            member.properties.insert(key.clone(), value.clone());
        }
    }
    if edit.guest_expires.is_some() {
        member.guest_expires = edit.guest_expires;
    }
}

/// The row as `change` would leave it; `None` when the change ends the membership.
pub fn project(mut member: Member, change: &MutationKind) -> Option<Member> {
    match change {
        MutationKind::AddMember { .. } => return None,
        MutationKind::EditMember { edit, .. } => apply_edit(&mut member, edit),
        MutationKind::ChangeRole {
            role,
            guest_expires,
            ..
        } => {
            member.role = *role;
            member.guest_expires = if *role == Role::Guest {
                *guest_expires
            } else {
                None
            };
        }
        MutationKind::AssignWorkspaces { workspaces, .. } => member.workspaces = workspaces.clone(),
        MutationKind::SetScope { scope, .. } => member.scope = scope.clone(),
        MutationKind::Suspend { .. } => member.status = Status::Suspended,
        MutationKind::Restore { .. } => member.status = Status::Active,
        MutationKind::Remove { .. } | MutationKind::CancelInvitation { .. } => return None,
        MutationKind::ResendInvitation { .. } => {}
    }
    Some(member)
}

/// The member an applied add created, as far as the client knows it until the next pull.
fn added_member(
    change: &MutationKind,
    id: UserId,
    version: i64,
    now: DateTime<Utc>,
) -> Option<Member> {
    let MutationKind::AddMember { member } = change else {
        return None;
    };
    Some(Member {
        id,
        email: member.email.clone(),
        role: member.role,
        // An invitation is pending until accepted; the next pull corrects the others.
        status: Status::Pending,
        profile: member.profile.clone(),
        workspaces: member.workspaces.clone(),
        scope: None,
        guest_expires: member.guest_expires,
        properties: member.properties.clone(),
        invited_by: None,
        invited_at: Some(now),
        invitation_expires_at: None,
        created_at: now,
        last_active_at: None,
        last_sign_in_at: None,
        version,
    })
}

fn pending_in_org(conn: &Connection, org: OrgId) -> Result<Vec<StagedChange>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE org_id = ?1 AND state = 'pending' ORDER BY seq"
    ))?;
    let rows = stmt
        .query_map(params![org], staged_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The cached roster as the pending changes will leave it: the rows a new change is
/// checked against. Loaded once per staging transaction and extended as changes are
/// staged, so staging an import of 10,000 rows stays linear.
struct Projection {
    by_user: HashMap<UserId, Vec<MutationKind>>,
    /// Members whose pending changes could make them an active admin (role change,
    /// restore): with today's active admins, the candidates of `last_admin`'s count.
    promoted: HashSet<UserId>,
}

impl Projection {
    fn load(conn: &Connection, org: OrgId) -> Result<Projection> {
        let mut projection = Projection {
            by_user: HashMap::new(),
            promoted: HashSet::new(),
        };
        for staged in pending_in_org(conn, org)? {
            projection.add(&staged.change);
        }
        Ok(projection)
    }

    fn add(&mut self, change: &MutationKind) {
        if let Some(user) = change.target() {
            if matches!(
                change,
                MutationKind::ChangeRole { .. } | MutationKind::Restore { .. }
            ) {
                self.promoted.insert(user);
            }
            self.by_user.entry(user).or_default().push(change.clone());
        }
    }

    fn member(&self, conn: &Connection, org: OrgId, user: UserId) -> Result<Option<Member>> {
        let mut current = member(conn, org, user)?;
        for change in self.by_user.get(&user).into_iter().flatten() {
            current = current.and_then(|m| project(m, change));
        }
        Ok(current)
    }

    fn active_admins(&self, conn: &Connection, org: OrgId) -> Result<usize> {
        let mut candidates: HashSet<UserId> = active_admins(conn, org)?.into_iter().collect();
        candidates.extend(self.promoted.iter().copied());
        let mut count = 0;
        for user in candidates {
            if self
                .member(conn, org, user)?
                .is_some_and(|m| m.role == Role::Admin && m.status == Status::Active)
            {
                count += 1;
            }
        }
        Ok(count)
    }
}

pub(crate) fn actor(conn: &Connection, org: OrgId) -> Result<(Actor, OrgContext)> {
    let account_id: i64 = conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            params![META_ACCOUNT_ID],
            |row| row.get::<_, String>(0),
        )
        .optional()?
        .and_then(|text| text.parse().ok())
        .ok_or(Error::NotSignedIn)?;
    let cached = cached_org(conn, org)?
        .ok_or_else(|| Error::NotFound(format!("organization {org} is not in the cache")))?;
    // The actor's own scope is on their own membership row (partner access has none).
    let scope = if cached.via_partner {
        None
    } else {
        member(conn, org, account_id)?.and_then(|m| m.scope)
    };
    let actor = Actor {
        account_id,
        role: cached.role,
        via_partner: cached.via_partner,
        scope,
    };
    let member_directory = cached
        .info
        .as_ref()
        .is_some_and(|info| info.settings.member_directory);
    Ok((
        actor,
        OrgContext {
            kind: cached.kind,
            member_directory,
        },
    ))
}

fn target(member: &Member) -> TargetUser<'_> {
    TargetUser {
        account_id: Some(member.id),
        email: &member.email,
        role: member.role,
        status: member.status,
    }
}

/// Checks a change with the domain's rules against the projected roster, as the server
/// will; returns the cached (unprojected) row it is based on.
fn check(
    conn: &Connection,
    org: OrgId,
    change: &MutationKind,
    today: NaiveDate,
    projection: &Projection,
) -> Result<Option<Member>> {
    let (actor, context) = actor(conn, org)?;
    let Some(user) = change.target() else {
        let MutationKind::AddMember { member: new } = change else {
            return Ok(None);
        };
        let email = validate::email(&new.email).map_err(Denied::from)?;
        let target = TargetUser {
            account_id: None,
            email: &email,
            role: new.role,
            status: Status::Pending,
        };
        can(&actor, &context, Action::AddUser, Some(&target))?;
        invariants::email_free(member_by_email(conn, org, &email)?.is_some())?;
        invariants::workspace_grant(new.workspaces.len())?;
        invariants::guest_expiry(new.role, new.guest_expires, today)?;
        if new.onboarding.needs_password() {
            validate::password(new.password.as_deref().unwrap_or_default())
                .map_err(Denied::from)?;
        }
        return Ok(None);
    };
    let cached = member(conn, org, user)?;
    let current = projection.member(conn, org, user)?.ok_or_else(|| {
        Error::NotFound(format!("user {user} is not in organization {org}'s roster"))
    })?;
    let target = target(&current);
    let allowed = |action: Action| -> Result<()> {
        can(&actor, &context, action, Some(&target))?;
        invariants::status_allows(action, current.status)?;
        Ok(())
    };
    let last_admin = |change: MembershipChange| -> Result<()> {
        let admins = projection.active_admins(conn, org)?;
        invariants::keeps_an_active_admin(current.role, current.status, change, admins)?;
        Ok(())
    };
    match change {
        MutationKind::AddMember { .. } => {}
        MutationKind::EditMember { edit, .. } => {
            allowed(Action::EditProfile)?;
            if let Some(date) = edit.guest_expires {
                invariants::guest_expiry(current.role, Some(date), today)?;
            }
        }
        MutationKind::ChangeRole {
            role,
            guest_expires,
            ..
        } => {
            allowed(Action::ChangeRole { to: *role })?;
            last_admin(MembershipChange::RoleChanged(*role))?;
            invariants::guest_expiry(*role, *guest_expires, today)?;
        }
        MutationKind::AssignWorkspaces { workspaces, .. } => {
            allowed(Action::AssignWorkspaces)?;
            invariants::workspace_grant(workspaces.len())?;
        }
        MutationKind::SetScope { .. } => allowed(Action::SetScope)?,
        MutationKind::Suspend { .. } => {
            allowed(Action::SuspendUser)?;
            last_admin(MembershipChange::Suspended)?;
        }
        MutationKind::Restore { .. } => allowed(Action::RestoreUser)?,
        MutationKind::Remove { .. } => {
            allowed(Action::RemoveUser)?;
            last_admin(MembershipChange::Removed)?;
        }
        MutationKind::ResendInvitation { .. } => allowed(Action::ResendInvitation)?,
        MutationKind::CancelInvitation { .. } => allowed(Action::CancelInvitation)?,
    }
    Ok(cached)
}

pub(crate) fn insert_staged(
    conn: &Connection,
    org: OrgId,
    change: &MutationKind,
    base: Option<&Member>,
    now: DateTime<Utc>,
    seal: &Seal,
) -> Result<MutationId> {
    // UUID v7: unique without coordination, and time-ordered, which keeps the server's
    // idempotency index append-mostly.
    let id = uuid::Uuid::now_v7().to_string();
    // A password the admin chose is never stored in clear (see `crate::seal`).
    let sealed = seal.seal_password(change)?;
    let change = sealed.as_ref().unwrap_or(change);
    conn.prepare_cached(
        "INSERT INTO outbox (id, org_id, user_id, base_version, change, staged_at, base_row)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        id,
        org,
        change.target(),
        base.map(|m| m.version),
        serde_json::to_string(change)?,
        timestamp(now),
        base.map(serde_json::to_string).transpose()?,
    ])?;
    Ok(id)
}

/// The pending changes of `org` in staging order, at most `max` and at most one per member
/// (`user_id` is column 3 of `sql`), each read with `read`.
///
/// Changes `in_flight` (sent, their results not recorded yet) are left out, and so are the
/// later changes to their members, which wait for the rebase their results bring.
fn choose_batch<T>(
    conn: &Connection,
    org: OrgId,
    max: usize,
    in_flight: &InFlight,
    sql: &str,
    mut read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params![org])?;
    let mut batch = Vec::new();
    let mut users: HashSet<UserId> = HashSet::new();
    let mut held: HashSet<UserId> = in_flight.members.clone();
    while let Some(row) = rows.next()? {
        if batch.len() >= max {
            break;
        }
        if in_flight.seqs.contains(&row.get::<_, i64>(0)?) {
            continue;
        }
        match row.get::<_, Option<UserId>>(3)? {
            Some(user) if held.contains(&user) => {}
            Some(user) if !users.insert(user) => {
                held.insert(user);
            }
            _ => batch.push(read(row)?),
        }
    }
    Ok(batch)
}

/// A batch of results adding at least this many members switches the cache to bulk mode.
const BULK_ADDS: usize = 500;

/// What a batch to send is read with: `choose_batch`'s columns (`seq` is column 0,
/// `user_id` column 3).
const NEXT_MUTATIONS: &str = "SELECT seq, id, base_version, user_id, change FROM outbox
                              WHERE org_id = ?1 AND state = 'pending' ORDER BY seq";

/// A batch as [`crate::Api::push_batch`] sends it: `wire::MutationBatch`'s JSON, written with
/// each change as it was stored at staging (`insert_staged` wrote it from `MutationKind`)
/// rather than decoded and encoded again, which was most of the cost of reading a batch.
#[derive(Debug, Clone, Default)]
pub struct OutgoingBatch {
    len: usize,
    body: String,
    /// Changes refused while the batch was read (sealed passwords that cannot be opened):
    /// marked rejected in the outbox, never sent.
    refused: usize,
    in_flight: InFlight,
}

/// The changes of a batch that was sent and whose results are not recorded yet, and the
/// members they change. A push takes the next batch while it records the last one's
/// results ([`Outbox::take_batch_besides`]): that batch must not hold these changes again,
/// nor a later change to one of their members, which is based on the version the change
/// in flight creates and is rebased only when its result is recorded.
#[derive(Debug, Clone, Default)]
pub struct InFlight {
    seqs: HashSet<i64>,
    members: HashSet<UserId>,
}

impl OutgoingBatch {
    fn push(&mut self, change: &Chosen, opened: &str) -> Result<()> {
        use std::fmt::Write as _;
        self.in_flight.seqs.insert(change.seq);
        if let Some(user) = change.user_id {
            self.in_flight.members.insert(user);
        }
        let (id, base_version) = (change.id.as_str(), change.base_version);
        self.body.push_str(if self.len == 0 {
            "{\"mutations\":["
        } else {
            ","
        });
        self.body.push_str("{\"id\":");
        self.body.push_str(&serde_json::to_string(id)?);
        if let Some(version) = base_version {
            // Writing to a String cannot fail.
            let _ = write!(self.body, ",\"base_version\":{version}");
        }
        self.body.push_str(",\"change\":");
        self.body.push_str(opened);
        self.body.push('}');
        self.len += 1;
        Ok(())
    }

    fn finish(mut self) -> OutgoingBatch {
        if self.len > 0 {
            self.body.push_str("]}");
        }
        self
    }

    /// How many changes were refused instead of sent (see [`Outbox::take_batch`]).
    pub fn refused(&self) -> usize {
        self.refused
    }

    /// How many mutations the batch holds.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The request body (JSON); empty for an empty batch.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The batch's changes, once sent: what the next batch leaves out until their results
    /// are recorded.
    pub fn in_flight(&self) -> &InFlight {
        &self.in_flight
    }
}

/// A pending change as `take_batch` reads it (the columns of [`NEXT_MUTATIONS`]).
struct Chosen {
    seq: i64,
    id: MutationId,
    base_version: Option<i64>,
    user_id: Option<UserId>,
    change: String,
}

/// Runs `f` with `synchronous = NORMAL`: its commits are atomic and survive the process
/// being killed, but not a power loss. Only for writes that a resend recovers: the server
/// answers a replayed mutation id with its stored result, so a result lost that way is
/// recorded again at the next push, as after a crash between sending and recording.
/// Staging keeps FULL: a staged change exists nowhere else.
fn with_relaxed_sync<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> Result<T>,
) -> Result<T> {
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let result = f(conn);
    conn.pragma_update(None, "synchronous", "FULL")?;
    result
}

/// The query of [`Outbox::list`] (`?1`: the org or NULL), one part per index: pending
/// changes through `outbox_pending`, conflicts and rejections through `outbox_unresolved`
/// (the partial indexes of migration 0005, used only when a query repeats their `WHERE`),
/// and the history (applied, resolved), which is not indexed, by a scan. `None` for no
/// states.
fn list_sql(states: &[OutboxState]) -> Option<String> {
    let quoted = |wanted: &[OutboxState]| -> Vec<String> {
        wanted
            .iter()
            .filter(|state| states.contains(state))
            .map(|state| format!("'{}'", state.as_str()))
            .collect()
    };
    let mut parts = Vec::new();
    let part = |table: &str, condition: String| {
        format!("SELECT {COLUMNS} FROM {table} WHERE {condition} AND (?1 IS NULL OR org_id = ?1)")
    };
    // INDEXED BY: without statistics, SQLite preferred a scan of the table in `seq` order
    // (no sort) to the index.
    if states.contains(&OutboxState::Pending) {
        parts.push(part(
            "outbox INDEXED BY outbox_pending",
            "state = 'pending'".to_owned(),
        ));
    }
    let unresolved = quoted(&[OutboxState::Conflict, OutboxState::Rejected]);
    if !unresolved.is_empty() {
        parts.push(part(
            "outbox INDEXED BY outbox_unresolved",
            format!(
                "state IN ('conflict', 'rejected') AND state IN ({})",
                unresolved.join(", ")
            ),
        ));
    }
    let settled = quoted(&[OutboxState::Applied, OutboxState::Resolved]);
    if !settled.is_empty() {
        parts.push(part("outbox", format!("state IN ({})", settled.join(", "))));
    }
    (!parts.is_empty()).then(|| format!("{} ORDER BY seq", parts.join(" UNION ALL ")))
}

/// Rejects a staged add whose sealed password cannot be opened, so that the admin sees why
/// and enters the password again: it is never sent without it.
fn refuse_unreadable(conn: &Connection, id: &str, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET state = 'rejected', result_code = ?2, result_message = ?3,
                result_at = ?4
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        ErrorCode::InvalidInput.as_str(),
        UNREADABLE,
        timestamp(now)
    ])?;
    Ok(())
}

fn get(conn: &Connection, id: &str) -> Result<Option<StagedChange>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"))?
        .query_row(params![id], staged_from_row)
        .optional()?)
}

impl Outbox<'_> {
    /// Checks `change` offline and, if the rules allow it, persists it with a fresh
    /// mutation id. Nothing is sent.
    pub fn stage(
        &self,
        org: OrgId,
        change: MutationKind,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<StagedChange> {
        let ids = self.stage_many(org, vec![change], today, now)?;
        let id = ids
            .first()
            .ok_or_else(|| Error::Task("nothing was staged".into()))?;
        self.get(id)?
            .ok_or_else(|| Error::NotFound(format!("staged change {id}")))
    }

    /// Stages several changes in one transaction (an import, a bulk edit): all or none.
    pub fn stage_many(
        &self,
        org: OrgId,
        changes: Vec<MutationKind>,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<MutationId>> {
        let mut conn = self.cache.lock();
        let tx = conn.transaction()?;
        let mut ids = Vec::with_capacity(changes.len());
        let mut projection = Projection::load(&tx, org)?;
        let seal = Seal::of(&tx)?;
        for change in &changes {
            let base = check(&tx, org, change, today, &projection)?;
            ids.push(insert_staged(&tx, org, change, base.as_ref(), now, &seal)?);
            projection.add(change);
        }
        tx.commit()?;
        Ok(ids)
    }

    pub fn get(&self, id: &str) -> Result<Option<StagedChange>> {
        get(&self.cache.lock(), id)
    }

    /// The changes that need the user: pending, conflicts and rejections, oldest first.
    pub fn open_changes(&self, org: Option<OrgId>) -> Result<Vec<StagedChange>> {
        self.list(
            org,
            &[
                OutboxState::Pending,
                OutboxState::Conflict,
                OutboxState::Rejected,
            ],
        )
    }

    pub fn list(&self, org: Option<OrgId>, states: &[OutboxState]) -> Result<Vec<StagedChange>> {
        let Some(sql) = list_sql(states) else {
            return Ok(Vec::new());
        };
        let conn = self.cache.lock();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt
            .query_map(params![org], staged_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The orgs with changes waiting to be sent.
    pub fn orgs_with_pending(&self) -> Result<Vec<OrgId>> {
        let conn = self.cache.lock();
        let mut stmt = conn.prepare(
            "SELECT DISTINCT org_id FROM outbox WHERE state = 'pending' ORDER BY org_id",
        )?;
        let rows = stmt
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The next batch to send for `org`: pending changes in staging order, at most `max`,
    /// and at most one per member, because a second change to the same member is based on
    /// the version the first one will create (it is rebased when the first is applied).
    pub fn next_batch(&self, org: OrgId, max: usize) -> Result<Vec<StagedChange>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE org_id = ?1 AND state = 'pending' ORDER BY seq"
        );
        let none = InFlight::default();
        choose_batch(&self.cache.lock(), org, max, &none, &sql, staged_from_row)
    }

    /// The next batch to send (the choice of [`Outbox::next_batch`]), with each change as
    /// stored (see [`OutgoingBatch`]) and its sealed password opened. Reads only: a change
    /// stays pending until its result is recorded, and sending it again is safe. An add whose
    /// password cannot be opened any more (the keyring lost the cache key) is never sent: it
    /// is rejected in the outbox with a message asking for the password again, and the rest
    /// of the batch goes.
    pub fn take_batch(&self, org: OrgId, max: usize) -> Result<OutgoingBatch> {
        self.take_batch_besides(org, max, &InFlight::default())
    }

    /// The next batch to send (as [`Outbox::take_batch`]) while the changes `in_flight`
    /// were sent and their results are not recorded yet: it holds none of them, and no
    /// change to their members. Empty when everything pending waits for them.
    pub fn take_batch_besides(
        &self,
        org: OrgId,
        max: usize,
        in_flight: &InFlight,
    ) -> Result<OutgoingBatch> {
        let conn = self.cache.lock();
        let seal = Seal::of(&conn)?;
        // Refused changes leave the pending ones: choose again rather than answer an empty
        // batch, which ends the push.
        let mut refused = 0;
        loop {
            let chosen = choose_batch(&conn, org, max, in_flight, NEXT_MUTATIONS, |row| {
                Ok(Chosen {
                    seq: row.get(0)?,
                    id: row.get(1)?,
                    base_version: row.get(2)?,
                    user_id: row.get(3)?,
                    change: row.get(4)?,
                })
            })?;
            let mut batch = OutgoingBatch::default();
            let refused_before = refused;
            for change in &chosen {
                match seal.open_passwords_json(&change.change)? {
                    Ok(opened) => batch.push(change, &opened)?,
                    Err(Unreadable) => {
                        // Rare (once per lost key): the time of the refusal is for display.
                        refuse_unreadable(&conn, &change.id, Utc::now())?;
                        refused += 1;
                    }
                }
            }
            if !batch.is_empty() || refused == refused_before {
                batch.refused = refused;
                return Ok(batch.finish());
            }
        }
    }

    /// Records a batch's results in one transaction: applied changes update the cached row
    /// (and its version) and rebase later changes to the same member; conflicts keep the
    /// server's row; rejections keep the refusal. A result for a change already recorded
    /// (or of another org, or twice in the batch) changes nothing.
    pub fn record_results(
        &self,
        org: OrgId,
        results: &[MutationResult],
        now: DateTime<Utc>,
    ) -> Result<BatchOutcome> {
        let mut conn = self.cache.lock();
        // A result lost to a power cut is answered again by the server (see
        // `with_relaxed_sync`): it needs atomicity, not the fsync per batch.
        with_relaxed_sync(&mut conn, |conn| {
            let tx = conn.transaction()?;
            let outcome = record_results(&tx, org, results, now)?;
            tx.commit()?;
            Ok(outcome)
        })
    }

    /// Resolves a conflict or a rejection. `KeepMine` returns the re-staged change.
    pub fn resolve(
        &self,
        id: &str,
        resolution: Resolution,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Option<StagedChange>> {
        let mut conn = self.cache.lock();
        let tx = conn.transaction()?;
        let staged =
            get(&tx, id)?.ok_or_else(|| Error::NotFound(format!("no staged change {id}")))?;
        if !matches!(staged.state, OutboxState::Conflict | OutboxState::Rejected) {
            return Err(Error::Invalid(format!(
                "change {id} is {}; only conflicts and rejections are resolved",
                staged.state.as_str()
            )));
        }
        let org = staged.org_id;
        // The server's row is the truth for both "take theirs" and "keep mine" (which is
        // re-checked and re-based on it).
        if staged.state == OutboxState::Conflict && resolution != Resolution::Drop {
            match (&staged.theirs, staged.user_id) {
                (Some(theirs), _) => store_if_newer(&tx, org, theirs)?,
                (None, Some(user)) => {
                    delete_member(&tx, org, user)?;
                }
                (None, None) => {}
            }
        }
        let restaged = if resolution == Resolution::KeepMine {
            if staged.state == OutboxState::Conflict
                && staged.theirs.is_none()
                && staged.user_id.is_some()
            {
                return Err(Error::Invalid(
                    "the user was removed on the server; take theirs or drop the change".into(),
                ));
            }
            let projection = Projection::load(&tx, org)?;
            // The checks read the password: one that cannot be opened must be entered again.
            let seal = Seal::of(&tx)?;
            let change = seal.open_password(&staged.change)??;
            let base = check(&tx, org, &change, today, &projection)?;
            Some(insert_staged(&tx, org, &change, base.as_ref(), now, &seal)?)
        } else {
            None
        };
        tx.execute(
            "UPDATE outbox SET state = 'resolved', resolution = ?2 WHERE id = ?1",
            params![id, resolution.as_str()],
        )?;
        tx.commit()?;
        drop(conn);
        restaged
            .map(|id| self.get(&id))
            .transpose()
            .map(Option::flatten)
    }
}

fn store_if_newer(conn: &Connection, org: OrgId, member_row: &Member) -> Result<()> {
    let cached = member(conn, org, member_row.id)?;
    if cached.is_none_or(|c| c.version <= member_row.version) {
        upsert_member(conn, org, member_row)?;
    }
    Ok(())
}

/// What recording a result needs of a staged change. Not its rows: the base row and the
/// projected one (`StagedChange`) cost two member decodes per result and are not used;
/// the change itself is decoded only when the cache needs it.
struct Sent {
    seq: i64,
    id: MutationId,
    org_id: OrgId,
    user_id: Option<UserId>,
    base_version: Option<i64>,
    state: OutboxState,
    change: String,
}

impl Sent {
    fn change(&self) -> Result<MutationKind> {
        Ok(serde_json::from_str(&self.change)?)
    }
}

/// The staged changes the results name, by id (absent: never staged).
fn sent_rows(conn: &Connection, results: &[MutationResult]) -> Result<HashMap<MutationId, Sent>> {
    let ids = serde_json::to_string(&results.iter().map(|r| &r.id).collect::<Vec<_>>())?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, org_id, user_id, base_version, state, change, seq FROM outbox
         WHERE id IN (SELECT value FROM json_each(?1))",
    )?;
    let rows = stmt.query_map(params![ids], |row| {
        let state: String = row.get(4)?;
        Ok(Sent {
            seq: row.get(6)?,
            id: row.get(0)?,
            org_id: row.get(1)?,
            user_id: row.get(2)?,
            base_version: row.get(3)?,
            state: OutboxState::parse(&state).ok_or_else(|| bad_column(4, state.clone()))?,
            change: row.get(5)?,
        })
    })?;
    let mut out = HashMap::with_capacity(results.len());
    for sent in rows {
        let sent = sent?;
        out.insert(sent.id.clone(), sent);
    }
    Ok(out)
}

/// The cached members among `users`: row id and version, by user.
fn cached_members(
    conn: &Connection,
    org: OrgId,
    users: impl Iterator<Item = UserId>,
) -> Result<HashMap<UserId, (i64, i64)>> {
    let users = serde_json::to_string(&users.collect::<Vec<_>>())?;
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, rowid, version FROM members
         WHERE org_id = ?1 AND user_id IN (SELECT value FROM json_each(?2))",
    )?;
    let rows = stmt
        .query_map(params![org, users], |row| {
            Ok((row.get(0)?, (row.get(1)?, row.get(2)?)))
        })?
        .collect::<rusqlite::Result<HashMap<_, _>>>()?;
    Ok(rows)
}

/// An add as staged: `MutationKind::AddMember`'s JSON read without the tagged enum, which
/// serde decodes by buffering the whole object first.
#[derive(serde::Deserialize)]
struct StagedAdd {
    #[serde(rename = "type")]
    kind: String,
    member: orgdesk_domain::wire::NewMember,
}

/// The member an applied add created (see `added_member`), from the staged add's JSON.
fn added_from_json(sent: &Sent, id: UserId, version: i64, now: DateTime<Utc>) -> Result<Member> {
    let add: StagedAdd = serde_json::from_str(&sent.change)?;
    if add.kind != "add_member" {
        return Err(Error::Invalid(format!(
            "staged change {} has no member and is not an add",
            sent.id
        )));
    }
    let change = MutationKind::AddMember { member: add.member };
    added_member(&change, id, version, now)
        .ok_or_else(|| Error::Invalid(format!("staged change {} is not an add", sent.id)))
}

const MARK_APPLIED: &str = "
UPDATE outbox SET state = 'applied', applied_version = r.value ->> 1, result_at = ?2,
                  user_id = coalesce(outbox.user_id, r.value ->> 2)
FROM json_each(?1) AS r
WHERE outbox.seq = r.value ->> 0";

/// Marks applied changes applied: one statement for the batch. `applied` holds
/// (staging order `seq`, new version, member): found by row id, not through the text ids'
/// index.
fn mark_applied(conn: &Connection, applied: &[(i64, i64, UserId)], at: &str) -> Result<()> {
    if applied.is_empty() {
        return Ok(());
    }
    let applied = serde_json::to_string(applied)?;
    conn.prepare_cached(MARK_APPLIED)?
        .execute(params![applied, at])?;
    Ok(())
}

fn record_results(
    tx: &Connection,
    org: OrgId,
    results: &[MutationResult],
    now: DateTime<Utc>,
) -> Result<BatchOutcome> {
    let at = timestamp(now);
    // Everything is read before anything is written, in a few statements for the batch
    // rather than a few per result.
    let staged = sent_rows(tx, results)?;
    let mut seen = HashSet::new();
    let mut answered = Vec::with_capacity(results.len());
    for result in results {
        let Some(sent) = staged.get(&result.id) else {
            return Err(Error::Protocol(format!(
                "a result for mutation {} that was never staged",
                result.id
            )));
        };
        if sent.state == OutboxState::Pending
            && sent.org_id == org
            && seen.insert(result.id.as_str())
        {
            answered.push((result, sent));
        }
    }
    let cached = cached_members(
        tx,
        org,
        answered
            .iter()
            .filter_map(|(result, _)| match result.outcome {
                MutationOutcome::Applied { user_id, .. } => Some(user_id),
                _ => None,
            }),
    )?;
    let mut outcome = BatchOutcome::default();
    let mut applied = Vec::new();
    // Changes to cached rows, by row id; new members; changes to members not cached.
    let mut changed = Vec::new();
    let mut added = Vec::new();
    let mut uncached = Vec::new();
    for (result, sent) in answered {
        match &result.outcome {
            MutationOutcome::Applied { user_id, version } => {
                outcome.applied += 1;
                applied.push((sent.seq, *version, *user_id));
                let cached = cached.get(user_id).copied();
                // The cache already has the row at this version or later (a replayed
                // result, or a pull that came first): an add finds its member there, any
                // other change is in that row and later changes were rebased when it was
                // written. Nothing to decode or write.
                if cached.is_some_and(|(_, cached)| cached >= *version) {
                    continue;
                }
                match (sent.user_id, cached) {
                    // An add (the only change staged without a member) whose member is not
                    // cached yet; an older cached row is left for the next pull.
                    (None, None) => added.push(added_from_json(sent, *user_id, *version, now)?),
                    (None, Some(_)) => {}
                    (Some(_), Some((rowid, _))) => changed.push((rowid, sent, *user_id, *version)),
                    (Some(_), None) => uncached.push((sent, *user_id, *version)),
                }
            }
            MutationOutcome::Conflict { current } => {
                tx.prepare_cached(
                    "UPDATE outbox SET state = 'conflict', server_row = ?2, result_at = ?3
                     WHERE id = ?1",
                )?
                .execute(params![
                    sent.id,
                    current.as_deref().map(serde_json::to_string).transpose()?,
                    at
                ])?;
                outcome.conflicts += 1;
            }
            MutationOutcome::Rejected { code, message } => {
                tx.prepare_cached(
                    "UPDATE outbox SET state = 'rejected', result_code = ?2, result_message = ?3,
                            result_at = ?4
                     WHERE id = ?1",
                )?
                .execute(params![sent.id, code.as_str(), message, at])?;
                outcome.rejected += 1;
            }
        }
    }
    // Applied before the rebases below, which move only the changes still pending.
    mark_applied(tx, &applied, &at)?;
    let mut rebases = Rebases::default();
    apply_to_cached(tx, org, &changed, &mut rebases)?;
    for (sent, user, version) in uncached {
        if let Some(old) = sent.base_version {
            rebases.push(user, old, version);
        }
    }
    rebases.write(tx, org)?;
    // A batch of many new members (an import) is written like a first sync's page: the
    // search and roster indexes are dropped once and rebuilt when the push ends
    // (`sync::push` calls `finish_bulk`), rather than kept in step row by row, where each
    // new name lands on its own index page.
    if added.len() >= BULK_ADDS && !crate::cache::in_bulk(tx)? {
        crate::cache::begin_bulk(tx)?;
    }
    upsert_members(tx, org, &added)?;
    Ok(outcome)
}

/// The statement of [`Rebases::write`]: `?1` the org, `?2` the moves as JSON.
const REBASE: &str = "
WITH moved AS MATERIALIZED (
    SELECT o.seq AS seq, m.value ->> 2 AS new_version
    FROM json_each(?2) AS m CROSS JOIN outbox AS o
    WHERE o.org_id = ?1 AND o.user_id = m.value ->> 0 AND o.state = 'pending'
      AND o.base_version = m.value ->> 1
)
UPDATE outbox SET base_version = moved.new_version FROM moved WHERE outbox.seq = moved.seq";

/// The rebases that applied changes call for: a member's later changes were staged on the
/// version an applied change replaced, and move to the version it created.
#[derive(Default)]
struct Rebases {
    /// Per member, (old version, new version), with chains folded: two applied changes to
    /// one member (v1 → v2, v2 → v3) move a change staged on v1 or v2 to v3, as two UPDATEs
    /// in order would.
    moves: HashMap<UserId, Vec<(i64, i64)>>,
}

impl Rebases {
    fn push(&mut self, user: UserId, old: i64, new: i64) {
        let moves = self.moves.entry(user).or_default();
        for moved in moves.iter_mut().filter(|(_, to)| *to == old) {
            moved.1 = new;
        }
        if !moves.iter().any(|(from, _)| *from == old) {
            moves.push((old, new));
        }
    }

    /// One statement for the batch. The changes to move are found first, from the moves
    /// through `outbox_by_member` (a materialized CTE, with the moves as the outer loop of a
    /// CROSS JOIN): as a plain `UPDATE … FROM json_each`, SQLite scanned every pending change
    /// of the org for each move, 10 million rows per batch of a 10,000-change push.
    fn write(&self, conn: &Connection, org: OrgId) -> Result<()> {
        if self.moves.is_empty() {
            return Ok(());
        }
        let moves: Vec<(UserId, i64, i64)> = self
            .moves
            .iter()
            .flat_map(|(user, moves)| moves.iter().map(|&(old, new)| (*user, old, new)))
            .collect();
        conn.prepare_cached(REBASE)?
            .execute(params![org, serde_json::to_string(&moves)?])?;
        Ok(())
    }
}

/// The cached rows `rowids` point at, decoded, with their indexed columns, by row id.
fn cached_rows(
    conn: &Connection,
    rowids: &[i64],
) -> Result<HashMap<i64, (Member, IndexedColumns)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT rowid, data, email_lc, name_lc, last_name_lc FROM members
         WHERE rowid IN (SELECT value FROM json_each(?1))",
    )?;
    let mut rows = stmt.query(params![serde_json::to_string(rowids)?])?;
    let mut members = HashMap::with_capacity(rowids.len());
    while let Some(row) = rows.next()? {
        let json = crate::import::str_at(row, 1)?;
        let member = decode_member(json).map_err(|e| bad_column(1, e))?;
        members.insert(row.get(0)?, (member, IndexedColumns::read(row, 2)?));
    }
    Ok(members)
}

/// Writes applied changes into their members' cached rows (each older than the change's
/// version) and notes the rebases they call for. Set-wise, like a pulled page: one read,
/// the projections in memory, then the rows written in row id order (see
/// `feed::index_order`) by multi-row statements, so 1,000 results cost a few statements
/// rather than four per result. Most changes leave the roster's sort keys alone (a title,
/// a role, a suspension): those rows are updated in place.
fn apply_to_cached(
    conn: &Connection,
    org: OrgId,
    changed: &[(i64, &Sent, UserId, i64)],
    rebases: &mut Rebases,
) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let rowids: Vec<i64> = changed.iter().map(|(rowid, ..)| *rowid).collect();
    let mut indexed = HashMap::with_capacity(rowids.len());
    // Projected in result order, so that two changes to one member apply in their order.
    let mut rows: BTreeMap<i64, Option<Member>> = BTreeMap::new();
    for (rowid, (member, columns)) in cached_rows(conn, &rowids)? {
        indexed.insert(rowid, columns);
        rows.insert(rowid, Some(member));
    }
    for (rowid, sent, user, version) in changed {
        let Some(slot) = rows.get_mut(rowid) else {
            continue;
        };
        let Some(cached) = slot.take() else {
            continue;
        };
        rebases.push(*user, cached.version, *version);
        *slot = project(cached, &sent.change()?).map(|mut next| {
            next.version = *version;
            next
        });
    }
    let mut removed = Vec::new();
    let mut in_place = Vec::with_capacity(rows.len());
    let mut rewritten = Vec::new();
    for (rowid, row) in rows {
        match row {
            Some(member) if indexed.get(&rowid) == Some(&IndexedColumns::of(&member)) => {
                in_place.push((rowid, member));
            }
            Some(member) => rewritten.push(member),
            None => removed.push(rowid),
        }
    }
    delete_rows(conn, &removed)?;
    update_members_in_place(conn, &in_place)?;
    upsert_members(conn, org, &rewritten)
}

fn delete_rows(conn: &Connection, rowids: &[i64]) -> Result<()> {
    if rowids.is_empty() {
        return Ok(());
    }
    conn.prepare_cached("DELETE FROM members WHERE rowid IN (SELECT value FROM json_each(?1))")?
        .execute(params![serde_json::to_string(rowids)?])?;
    Ok(())
}

/// The staged changes per member, for showing pending edits beside the roster.
pub fn by_member(changes: &[StagedChange]) -> BTreeMap<UserId, Vec<&StagedChange>> {
    let mut map: BTreeMap<UserId, Vec<&StagedChange>> = BTreeMap::new();
    for change in changes {
        if let Some(user) = change.user_id {
            map.entry(user).or_default().push(change);
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::feed::tests::{access, member, page};
    use crate::cache::tests::temp_cache;
    use orgdesk_domain::wire::{Change, Mutation, ProfileEdit};

    fn today() -> NaiveDate {
        "2026-11-23".parse().unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-11-23T06:00:00Z".parse().unwrap()
    }

    /// An org with two active admins (1 is me, 2 is another) and a member 3.
    fn roster() -> (tempfile::TempDir, Cache) {
        let (dir, cache) = temp_cache();
        cache.set_meta(META_ACCOUNT_ID, "1").unwrap();
        cache
            .replace_org_list(&[access(9, Role::Admin, 1)], now())
            .unwrap();
        let changes = vec![
            member(1, "Me", "Admin", Role::Admin),
            member(2, "Other", "Admin", Role::Admin),
            member(3, "Some", "Member", Role::Member),
        ]
        .into_iter()
        .map(|m| Change::Member(Box::new(m)))
        .collect();
        cache
            .apply_page(9, &page(changes, "c1", false), now())
            .unwrap();
        (dir, cache)
    }

    #[test]
    fn a_staged_change_is_persisted_with_a_v7_id_and_its_base_version() {
        let (_dir, cache) = roster();
        let staged = cache
            .outbox()
            .stage(9, MutationKind::Suspend { user_id: 3 }, today(), now())
            .unwrap();
        let id = uuid::Uuid::parse_str(&staged.id).unwrap();
        assert_eq!(id.get_version_num(), 7);
        assert_eq!(staged.base_version, Some(1));
        assert_eq!(staged.state, OutboxState::Pending);
        assert_eq!(staged.mine.unwrap().status, Status::Suspended);
    }

    #[test]
    fn the_rules_are_checked_before_staging() {
        let (_dir, cache) = roster();
        let error = cache
            .outbox()
            .stage(9, MutationKind::Suspend { user_id: 1 }, today(), now())
            .unwrap_err();
        assert_eq!(error.code(), "self_remove");
        cache.set_meta(META_ACCOUNT_ID, "3").unwrap();
        cache
            .replace_org_list(&[access(9, Role::Member, 2)], now())
            .unwrap();
        let error = cache
            .outbox()
            .stage(9, MutationKind::Restore { user_id: 2 }, today(), now())
            .unwrap_err();
        assert_eq!(
            error.code(),
            "not_found",
            "a rebuilt org has no rows until synced"
        );
    }

    #[test]
    fn the_second_of_two_admin_removals_would_leave_no_admin() {
        let (_dir, cache) = roster();
        // Act as a partner admin so that neither admin is "me".
        cache.set_meta(META_ACCOUNT_ID, "77").unwrap();
        let outbox = cache.outbox();
        outbox
            .stage(9, MutationKind::Remove { user_id: 2 }, today(), now())
            .unwrap();
        let error = outbox
            .stage(9, MutationKind::Remove { user_id: 1 }, today(), now())
            .unwrap_err();
        assert_eq!(error.code(), "last_admin", "{error}");
        assert_eq!(
            outbox.open_changes(None).unwrap().len(),
            1,
            "the refused one was not staged"
        );
    }

    #[test]
    fn an_applied_result_updates_the_cached_row_and_rebases_the_next_change() {
        let (_dir, cache) = roster();
        let outbox = cache.outbox();
        let edit = MutationKind::EditMember {
            user_id: 3,
            edit: MemberEdit {
                profile: Some(ProfileEdit {
                    title: Some("CFO".into()),
                    ..ProfileEdit::default()
                }),
                ..MemberEdit::default()
            },
        };
        let first = outbox.stage(9, edit, today(), now()).unwrap();
        let second = outbox
            .stage(9, MutationKind::Suspend { user_id: 3 }, today(), now())
            .unwrap();
        let batch = outbox.next_batch(9, 1000).unwrap();
        assert_eq!(batch.len(), 1, "one change per member per batch");
        let result = MutationResult {
            id: first.id.clone(),
            outcome: MutationOutcome::Applied {
                user_id: 3,
                version: 2,
            },
        };
        let outcome = outbox.record_results(9, &[result], now()).unwrap();
        assert_eq!(outcome.applied, 1);
        let row = cache.member(9, 3).unwrap().unwrap();
        assert_eq!(
            (row.version, row.profile.title.as_deref()),
            (2, Some("CFO"))
        );
        let rebased = outbox.get(&second.id).unwrap().unwrap();
        assert_eq!(rebased.base_version, Some(2));
        assert_eq!(outbox.next_batch(9, 1000).unwrap()[0].id, second.id);
    }

    #[test]
    fn a_conflict_keeps_both_rows_and_keep_mine_restages_on_theirs() {
        let (_dir, cache) = roster();
        let outbox = cache.outbox();
        let staged = outbox
            .stage(9, MutationKind::Suspend { user_id: 3 }, today(), now())
            .unwrap();
        let mut theirs = member(3, "Some", "Renamed", Role::Member);
        theirs.version = 5;
        let result = MutationResult {
            id: staged.id.clone(),
            outcome: MutationOutcome::Conflict {
                current: Some(Box::new(theirs.clone())),
            },
        };
        outbox.record_results(9, &[result], now()).unwrap();
        let conflict = outbox.get(&staged.id).unwrap().unwrap();
        assert_eq!(conflict.state, OutboxState::Conflict);
        assert_eq!(conflict.theirs.as_ref().unwrap().version, 5);
        assert_eq!(conflict.mine.as_ref().unwrap().status, Status::Suspended);

        let again = outbox
            .resolve(&staged.id, Resolution::KeepMine, today(), now())
            .unwrap()
            .unwrap();
        assert_ne!(
            again.id, staged.id,
            "a new mutation id: the old one's result is stored"
        );
        assert_eq!(again.base_version, Some(5));
        assert_eq!(again.change, staged.change, "same semantics");
        assert_eq!(
            cache.member(9, 3).unwrap().unwrap().version,
            5,
            "theirs is cached"
        );
        assert_eq!(
            outbox.get(&staged.id).unwrap().unwrap().state,
            OutboxState::Resolved
        );
    }

    #[test]
    fn take_theirs_writes_the_server_row_and_drops_mine() {
        let (_dir, cache) = roster();
        let outbox = cache.outbox();
        let staged = outbox
            .stage(9, MutationKind::Remove { user_id: 3 }, today(), now())
            .unwrap();
        let mut theirs = member(3, "Some", "Member", Role::Guest);
        theirs.version = 4;
        let result = MutationResult {
            id: staged.id.clone(),
            outcome: MutationOutcome::Conflict {
                current: Some(Box::new(theirs)),
            },
        };
        outbox.record_results(9, &[result], now()).unwrap();
        assert!(
            outbox
                .resolve(&staged.id, Resolution::TakeTheirs, today(), now())
                .unwrap()
                .is_none()
        );
        assert_eq!(cache.member(9, 3).unwrap().unwrap().role, Role::Guest);
        assert!(outbox.open_changes(Some(9)).unwrap().is_empty());
    }

    fn new_member(email: &str, title: &str) -> MutationKind {
        MutationKind::AddMember {
            member: orgdesk_domain::wire::NewMember {
                email: email.into(),
                role: Role::Member,
                profile: orgdesk_domain::wire::Profile {
                    first_name: Some("New".into()),
                    title: Some(title.into()),
                    ..orgdesk_domain::wire::Profile::default()
                },
                workspaces: vec![],
                guest_expires: None,
                properties: Default::default(),
                onboarding: orgdesk_domain::wire::Onboarding::Invite,
                password: None,
            },
        }
    }

    #[test]
    fn a_batch_is_sent_as_the_mutations_it_was_staged_as() {
        let (_dir, cache) = roster();
        let outbox = cache.outbox();
        outbox
            .stage(9, new_member("new@client.example", "CTO"), today(), now())
            .unwrap();
        outbox
            .stage(9, MutationKind::Suspend { user_id: 3 }, today(), now())
            .unwrap();
        outbox
            .stage(9, MutationKind::Restore { user_id: 3 }, today(), now())
            .unwrap();
        let expected: Vec<Mutation> = outbox
            .next_batch(9, 1000)
            .unwrap()
            .into_iter()
            .map(|staged| Mutation {
                id: staged.id,
                base_version: staged.base_version,
                change: staged.change,
            })
            .collect();
        let batch = outbox.take_batch(9, 1000).unwrap();
        assert_eq!(batch.len(), 2, "one change per member per batch");
        let sent: orgdesk_domain::wire::MutationBatch = serde_json::from_str(batch.body()).unwrap();
        assert_eq!(sent.mutations, expected);
        assert_eq!(sent.mutations[1].base_version, Some(1));
        assert_eq!(
            outbox.take_batch(9, 1000).unwrap().body(),
            batch.body(),
            "unanswered, the same batch goes again"
        );
        assert!(outbox.take_batch(77, 1000).unwrap().is_empty());
    }

    #[test]
    fn applied_adds_are_cached_and_a_replay_only_records_them_again() {
        let (_dir, cache) = roster();
        let outbox = cache.outbox();
        let ids = outbox
            .stage_many(
                9,
                vec![
                    new_member("a@client.example", "CTO"),
                    new_member("b@client.example", "CFO"),
                ],
                today(),
                now(),
            )
            .unwrap();
        let results: Vec<MutationResult> = ids
            .iter()
            .zip([10, 11])
            .map(|(id, user_id)| MutationResult {
                id: id.clone(),
                outcome: MutationOutcome::Applied {
                    user_id,
                    version: 1,
                },
            })
            .collect();
        let outcome = outbox.record_results(9, &results, now()).unwrap();
        assert_eq!(outcome.applied, 2);
        let added = cache.member(9, 11).unwrap().unwrap();
        assert_eq!(
            (
                added.email.as_str(),
                added.status,
                added.profile.title.as_deref()
            ),
            ("b@client.example", Status::Pending, Some("CFO"))
        );
        let first = outbox.get(&ids[0]).unwrap().unwrap();
        assert_eq!(
            (first.state, first.user_id, first.applied_version),
            (OutboxState::Applied, Some(10), Some(1))
        );
        assert_eq!(
            cache
                .search(9, "CFO", 10)
                .unwrap()
                .iter()
                .map(|hit| hit.member.id)
                .collect::<Vec<_>>(),
            vec![11],
            "the new rows are in the search index"
        );

        // The outbox forgets the results (a crash before they were recorded); the cached
        // rows stay. Recording the same answers again writes the outbox only.
        cache
            .lock()
            .execute(
                "UPDATE outbox SET state = 'pending', applied_version = NULL, user_id = NULL",
                [],
            )
            .unwrap();
        let data_before: Vec<String> = cache
            .lock()
            .prepare("SELECT data FROM members ORDER BY rowid")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let later: DateTime<Utc> = "2026-11-24T06:00:00Z".parse().unwrap();
        let again = outbox.record_results(9, &results, later).unwrap();
        assert_eq!(again.applied, 2);
        let data_after: Vec<String> = cache
            .lock()
            .prepare("SELECT data FROM members ORDER BY rowid")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            data_after, data_before,
            "the cached rows were not rewritten"
        );
        let first = outbox.get(&ids[0]).unwrap().unwrap();
        assert_eq!(
            (first.state, first.user_id, first.applied_version),
            (OutboxState::Applied, Some(10), Some(1))
        );
    }

    #[test]
    fn a_result_for_a_change_never_staged_is_refused() {
        let (_dir, cache) = roster();
        let result = MutationResult {
            id: "0193-not-staged".into(),
            outcome: MutationOutcome::Applied {
                user_id: 3,
                version: 2,
            },
        };
        let error = cache
            .outbox()
            .record_results(9, &[result], now())
            .unwrap_err();
        assert!(matches!(error, Error::Protocol(_)), "{error:?}");
    }

    fn title(user_id: UserId, title: &str) -> MutationKind {
        MutationKind::EditMember {
            user_id,
            edit: MemberEdit {
                profile: Some(ProfileEdit {
                    title: Some(title.into()),
                    ..ProfileEdit::default()
                }),
                ..MemberEdit::default()
            },
        }
    }

    fn applied(id: &str, user_id: UserId, version: i64) -> MutationResult {
        MutationResult {
            id: id.to_owned(),
            outcome: MutationOutcome::Applied { user_id, version },
        }
    }

    #[test]
    fn a_batch_of_results_writes_edits_and_removals_and_keeps_the_search_index() {
        let (_dir, cache) = roster();
        let outbox = cache.outbox();
        let edit = outbox
            .stage(9, title(2, "Treasurer"), today(), now())
            .unwrap();
        let removal = outbox
            .stage(9, MutationKind::Remove { user_id: 3 }, today(), now())
            .unwrap();
        let renamed = MutationKind::EditMember {
            user_id: 1,
            edit: MemberEdit {
                profile: Some(ProfileEdit {
                    first_name: Some("Zed".into()),
                    last_name: Some("Zeta".into()),
                    ..ProfileEdit::default()
                }),
                ..MemberEdit::default()
            },
        };
        let rename = outbox.stage(9, renamed, today(), now()).unwrap();
        let results = [
            applied(&edit.id, 2, 7),
            applied(&removal.id, 3, 4),
            applied(&rename.id, 1, 5),
        ];
        let outcome = outbox.record_results(9, &results, now()).unwrap();
        assert_eq!(outcome.applied, 3);
        let row = cache.member(9, 2).unwrap().unwrap();
        assert_eq!(
            (row.version, row.profile.title.as_deref()),
            (7, Some("Treasurer"))
        );
        assert!(
            cache.member(9, 3).unwrap().is_none(),
            "the removal deleted the row"
        );
        let found = |query: &str| -> Vec<UserId> {
            cache
                .search(9, query, 10)
                .unwrap()
                .iter()
                .map(|hit| hit.member.id)
                .collect()
        };
        assert_eq!(found("Treasurer"), vec![2]);
        assert!(
            found("Some").is_empty(),
            "the removed member left the index"
        );
        // The roster's sort keys moved with the new name (a rewrite, not an in-place
        // update): the roster sorts and the name tiers of search find the new name.
        assert_eq!(found("zet"), vec![1]);
        let keys: Vec<(UserId, String, Option<String>)> = cache
            .lock()
            .prepare("SELECT user_id, name_lc, last_name_lc FROM members WHERE org_id = 9 ORDER BY name_lc")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            keys,
            vec![
                (2, "other admin".to_owned(), Some("admin".to_owned())),
                (1, "zed zeta".to_owned(), Some("zeta".to_owned())),
            ]
        );
    }

    #[test]
    fn a_change_to_fields_not_searched_leaves_the_search_index_alone() {
        let (_dir, cache) = roster();
        let outbox = cache.outbox();
        let index = || -> (i64, i64) {
            cache
                .lock()
                .query_row(
                    "SELECT count(*), coalesce(sum(length(block)), 0) FROM member_fts_data",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .unwrap()
        };
        let before = index();
        let suspend = outbox
            .stage(9, MutationKind::Suspend { user_id: 3 }, today(), now())
            .unwrap();
        outbox
            .record_results(9, &[applied(&suspend.id, 3, 2)], now())
            .unwrap();
        assert_eq!(
            cache.member(9, 3).unwrap().unwrap().status,
            Status::Suspended
        );
        assert_eq!(index(), before, "a status change is not reindexed");

        let retitle = outbox
            .stage(9, title(3, "Treasurer"), today(), now())
            .unwrap();
        outbox
            .record_results(9, &[applied(&retitle.id, 3, 3)], now())
            .unwrap();
        assert_ne!(index(), before, "a title change is");
        let found: Vec<UserId> = cache
            .search(9, "Treasurer", 10)
            .unwrap()
            .iter()
            .map(|hit| hit.member.id)
            .collect();
        assert_eq!(found, vec![3]);
    }

    #[test]
    fn two_applied_changes_to_one_member_in_a_batch_apply_and_rebase_in_order() {
        let (_dir, cache) = roster();
        let outbox = cache.outbox();
        let ids = outbox
            .stage_many(
                9,
                vec![
                    title(3, "CFO"),
                    MutationKind::Suspend { user_id: 3 },
                    MutationKind::Restore { user_id: 3 },
                ],
                today(),
                now(),
            )
            .unwrap();
        // Not a batch `take_batch` would send (one change per member), but a result set the
        // recording must still get right: as if recorded one after the other.
        let results = [applied(&ids[0], 3, 2), applied(&ids[1], 3, 3)];
        outbox.record_results(9, &results, now()).unwrap();
        let row = cache.member(9, 3).unwrap().unwrap();
        assert_eq!(
            (row.version, row.profile.title.as_deref(), row.status),
            (3, Some("CFO"), Status::Suspended)
        );
        let restore = outbox.get(&ids[2]).unwrap().unwrap();
        assert_eq!(restore.base_version, Some(3), "rebased past both");
    }

    /// SQLite's plan for `sql`, one line per step.
    fn query_plan(cache: &Cache, sql: &str, params: impl rusqlite::Params) -> Vec<String> {
        let conn = cache.lock();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        stmt.query_map(params, |row| row.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn the_rebase_looks_changes_up_by_member_rather_than_scanning_the_outbox() {
        let (_dir, cache) = roster();
        let plan = query_plan(&cache, REBASE, params![9, "[]"]);
        assert!(
            plan.iter().any(|step| step.contains("outbox_by_member")),
            "{plan:#?}"
        );
        assert!(
            !plan
                .iter()
                .any(|step| step.contains("SCAN o") || step.contains("SCAN outbox")),
            "{plan:#?}"
        );
    }

    #[test]
    fn sending_recording_and_listing_open_changes_never_scan_the_outbox() {
        // An outbox keeps every answered change (an import leaves 100,000): the everyday
        // queries must reach the open ones through the partial indexes.
        let (_dir, cache) = roster();
        let scans = |plan: &[String]| plan.iter().any(|step| step == "SCAN outbox");
        let next = query_plan(&cache, NEXT_MUTATIONS, params![9]);
        assert!(
            next.iter().any(|s| s.contains("outbox_pending")),
            "{next:#?}"
        );
        let open = list_sql(&[
            OutboxState::Pending,
            OutboxState::Conflict,
            OutboxState::Rejected,
        ])
        .unwrap();
        for org in [Some(9), None] {
            let plan = query_plan(&cache, &open, params![org]);
            assert!(!scans(&plan), "{plan:#?}");
            assert!(
                plan.iter().any(|s| s.contains("outbox_unresolved")),
                "{plan:#?}"
            );
        }
        let marked = query_plan(&cache, MARK_APPLIED, params!["[]", "now"]);
        assert!(
            marked.iter().any(|s| s.contains("INTEGER PRIMARY KEY")),
            "{marked:#?}"
        );
        let history = list_sql(&[OutboxState::Applied]).unwrap();
        assert!(
            scans(&query_plan(&cache, &history, params![9])),
            "the history is not indexed"
        );
    }

    #[test]
    fn listing_by_state_returns_each_state_asked_for_in_staging_order() {
        let (_dir, cache) = roster();
        let outbox = cache.outbox();
        let ids = outbox
            .stage_many(
                9,
                vec![
                    title(3, "A"),
                    title(2, "B"),
                    MutationKind::Suspend { user_id: 3 },
                ],
                today(),
                now(),
            )
            .unwrap();
        let rejected = MutationResult {
            id: ids[1].clone(),
            outcome: MutationOutcome::Rejected {
                code: ErrorCode::Forbidden,
                message: "no".into(),
            },
        };
        outbox
            .record_results(9, &[applied(&ids[0], 3, 2), rejected], now())
            .unwrap();
        let listed = |states: &[OutboxState]| -> Vec<String> {
            outbox
                .list(Some(9), states)
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect()
        };
        assert_eq!(
            listed(&[OutboxState::Pending, OutboxState::Rejected]),
            [ids[1].clone(), ids[2].clone()]
        );
        assert_eq!(listed(&[OutboxState::Applied]), [ids[0].clone()]);
        assert!(listed(&[OutboxState::Conflict]).is_empty());
        assert!(listed(&[]).is_empty());
        assert_eq!(
            outbox.list(None, &[OutboxState::Rejected]).unwrap().len(),
            1
        );
    }

    #[test]
    fn a_replayed_result_for_a_recorded_change_changes_nothing() {
        let (_dir, cache) = roster();
        let outbox = cache.outbox();
        let staged = outbox
            .stage(9, MutationKind::Suspend { user_id: 3 }, today(), now())
            .unwrap();
        let result = MutationResult {
            id: staged.id.clone(),
            outcome: MutationOutcome::Applied {
                user_id: 3,
                version: 2,
            },
        };
        outbox
            .record_results(9, std::slice::from_ref(&result), now())
            .unwrap();
        let again = outbox.record_results(9, &[result], now()).unwrap();
        assert_eq!(again, BatchOutcome::default());
    }
}
