//! Memberships: the roster (list, search, get) and every change to a member (add, edit,
//! role, workspaces, scope, suspend, restore, remove, invitations).
//!
//! Every change runs through [`apply`] — the REST endpoints and the sync protocol's
//! mutations alike — in one transaction that first takes the org's change number, then
//! asks `domain::can` and `domain::invariants`, writes the row with its new `seq` and
//! `version`, and records the audit event.

use crate::AppState;
use crate::access::OrgCaller;
use crate::auth;
use crate::error::{Error, Result};
use crate::mail;
use crate::sql::{self, Query};
use crate::store::{
    self, AuditEvent, AuditRow, DAY_MS, TOMBSTONE_MEMBER, Tx, int, opt_int, opt_str, parse_json,
    parse_stored, text,
};
use chrono::NaiveDate;
use orgdesk_domain::invariants::{self, MembershipChange};
use orgdesk_domain::validate;
use orgdesk_domain::wire::{
    Member, MemberEdit, MemberQuery, MemberSort, MutationKind, MutationOutcome, NewMember,
    Onboarding, Page, Profile, ProfileEdit, PropertyDefinition, PropertyKind, PropertyValues,
};
use orgdesk_domain::{Action, ErrorCode, Grant, Role, RosterTab, SearchScope, Status, TargetUser};
use sqlx::Any;
use sqlx::any::AnyRow;
use std::collections::{HashMap, HashSet};

pub const MEMBER_COLUMNS: &str = "m.account_id, a.email, m.role, m.status, a.display_name, \
    a.first_name, a.last_name, a.phone, a.title, a.company, a.office, a.street, a.postal_code, \
    a.city, a.cell_phone, a.home_phone, m.workspaces, m.scope, m.guest_expires, m.properties, \
    m.invited_by, m.invited_at, m.invite_expires_at, m.created_at, m.last_active_at, \
    a.last_sign_in_at, m.version, m.seq";
pub const MEMBER_FROM: &str = "FROM memberships m JOIN accounts a ON a.id = m.account_id";

/// The profile fields in storage order: (name, column).
macro_rules! profile_fields {
    ($apply:ident) => {
        $apply!(
            display_name,
            first_name,
            last_name,
            phone,
            title,
            company,
            office,
            street,
            postal_code,
            city,
            cell_phone,
            home_phone
        )
    };
}

pub fn encode_workspaces(ids: &[i64]) -> String {
    let mut text = String::from(",");
    for id in ids {
        text.push_str(&format!("{id},"));
    }
    text
}

fn decode_workspaces(text: &str) -> Vec<i64> {
    text.split(',').filter_map(|id| id.parse().ok()).collect()
}

fn opt_date(value: Option<String>) -> Result<Option<NaiveDate>> {
    value.map(|d| parse_stored(&d, "date")).transpose()
}

/// A roster row as stored: the [`MEMBER_COLUMNS`] in their order. The feed reads a page of
/// them as one JSON array of arrays (see [`crate::sql::json_rows`]), single reads from a row.
#[derive(Debug, serde::Deserialize)]
pub struct StoredMember {
    account_id: i64,
    email: String,
    role: String,
    status: String,
    display_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    title: Option<String>,
    company: Option<String>,
    office: Option<String>,
    street: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
    cell_phone: Option<String>,
    home_phone: Option<String>,
    workspaces: String,
    scope: Option<String>,
    guest_expires: Option<String>,
    properties: String,
    invited_by: Option<i64>,
    invited_at: Option<i64>,
    invite_expires_at: Option<i64>,
    created_at: i64,
    last_active_at: Option<i64>,
    last_sign_in_at: Option<i64>,
    version: i64,
    pub seq: i64,
}

impl StoredMember {
    pub fn from_row(row: &AnyRow) -> Result<StoredMember> {
        macro_rules! read_profile {
            ($($field:ident),*) => {
                StoredMember {
                    $($field: opt_str(row, stringify!($field))?,)*
                    account_id: int(row, "account_id")?,
                    email: text(row, "email")?,
                    role: text(row, "role")?,
                    status: text(row, "status")?,
                    workspaces: text(row, "workspaces")?,
                    scope: opt_str(row, "scope")?,
                    guest_expires: opt_str(row, "guest_expires")?,
                    properties: text(row, "properties")?,
                    invited_by: opt_int(row, "invited_by")?,
                    invited_at: opt_int(row, "invited_at")?,
                    invite_expires_at: opt_int(row, "invite_expires_at")?,
                    created_at: int(row, "created_at")?,
                    last_active_at: opt_int(row, "last_active_at")?,
                    last_sign_in_at: opt_int(row, "last_sign_in_at")?,
                    version: int(row, "version")?,
                    seq: int(row, "seq")?,
                }
            };
        }
        Ok(profile_fields!(read_profile))
    }

    /// The member, with its status as of `today`.
    pub fn into_member(self, today: NaiveDate) -> Result<Member> {
        let role: Role = parse_stored(&self.role, "role")?;
        let stored: Status = parse_stored(&self.status, "status")?;
        let guest_expires = opt_date(self.guest_expires)?;
        let status = invariants::effective_status(role, stored, guest_expires, today);
        macro_rules! take_profile {
            ($($field:ident),*) => {
                Profile { $($field: self.$field,)* }
            };
        }
        let profile = profile_fields!(take_profile);
        Ok(Member {
            id: self.account_id,
            email: self.email,
            role,
            status,
            profile,
            workspaces: decode_workspaces(&self.workspaces),
            scope: self.scope.map(|s| parse_json(&s, "scope")).transpose()?,
            guest_expires,
            properties: parse_json(&self.properties, "properties")?,
            invited_by: self.invited_by,
            invited_at: self.invited_at.map(store::to_time),
            invitation_expires_at: if status == Status::Pending {
                self.invite_expires_at.map(store::to_time)
            } else {
                None
            },
            created_at: store::to_time(self.created_at),
            last_active_at: self.last_active_at.map(store::to_time),
            last_sign_in_at: self.last_sign_in_at.map(store::to_time),
            version: self.version,
        })
    }
}

/// Text read from a JSON page: borrowed from it unless it had escapes.
#[derive(Debug)]
pub struct PageText<'p>(pub std::borrow::Cow<'p, str>);

impl<'de: 'p, 'p> serde::Deserialize<'de> for PageText<'p> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = std::borrow::Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(std::borrow::Cow::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(std::borrow::Cow::Owned(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(std::borrow::Cow::Owned(v))
            }
        }
        deserializer.deserialize_str(Visitor).map(PageText)
    }
}

/// A [`StoredMember`] read from a feed page (see [`crate::sql::json_rows`]) without copying
/// its text.
#[derive(Debug, serde::Deserialize)]
pub struct PageMember<'p> {
    account_id: i64,
    #[serde(borrow)]
    email: PageText<'p>,
    #[serde(borrow)]
    role: PageText<'p>,
    #[serde(borrow)]
    status: PageText<'p>,
    #[serde(borrow)]
    display_name: Option<PageText<'p>>,
    #[serde(borrow)]
    first_name: Option<PageText<'p>>,
    #[serde(borrow)]
    last_name: Option<PageText<'p>>,
    #[serde(borrow)]
    phone: Option<PageText<'p>>,
    #[serde(borrow)]
    title: Option<PageText<'p>>,
    #[serde(borrow)]
    company: Option<PageText<'p>>,
    #[serde(borrow)]
    office: Option<PageText<'p>>,
    #[serde(borrow)]
    street: Option<PageText<'p>>,
    #[serde(borrow)]
    postal_code: Option<PageText<'p>>,
    #[serde(borrow)]
    city: Option<PageText<'p>>,
    #[serde(borrow)]
    cell_phone: Option<PageText<'p>>,
    #[serde(borrow)]
    home_phone: Option<PageText<'p>>,
    #[serde(borrow)]
    workspaces: PageText<'p>,
    #[serde(borrow)]
    scope: Option<PageText<'p>>,
    #[serde(borrow)]
    guest_expires: Option<PageText<'p>>,
    #[serde(borrow)]
    properties: PageText<'p>,
    invited_by: Option<i64>,
    invited_at: Option<i64>,
    invite_expires_at: Option<i64>,
    created_at: i64,
    last_active_at: Option<i64>,
    last_sign_in_at: Option<i64>,
    version: i64,
    pub seq: i64,
}

/// A feed page's member, answered as the `Change::Member` of its [`Member`] would be (the
/// same keys in the same order, the same omissions) but written straight from the stored
/// row: building every `Member` of a 10,000-row page and serialising it through serde's
/// `flatten` (a map of buffered fields) was most of a page's time.
#[derive(Debug)]
pub struct FeedMember<'p> {
    row: PageMember<'p>,
    role: Role,
    status: Status,
    /// `false`: the member directory's view ([`directory_view`]).
    full: bool,
    workspaces: Vec<i64>,
    scope: Option<SearchScope>,
    guest_expires: Option<NaiveDate>,
    properties: Option<PropertyValues>,
}

impl<'p> FeedMember<'p> {
    /// The member as of `today`; `full` is false for the member directory's view.
    pub fn new(row: PageMember<'p>, today: NaiveDate, full: bool) -> Result<FeedMember<'p>> {
        let role: Role = parse_stored(&row.role.0, "role")?;
        let stored: Status = parse_stored(&row.status.0, "status")?;
        let guest_expires = row
            .guest_expires
            .as_ref()
            .map(|d| parse_stored::<NaiveDate>(&d.0, "date"))
            .transpose()?;
        let status = invariants::effective_status(role, stored, guest_expires, today);
        let (workspaces, scope, properties) = if full {
            // An empty object is the common case: no map to build (and none to write).
            let properties = match row.properties.0.trim() {
                "{}" => None,
                text => Some(parse_json::<PropertyValues>(text, "properties")?)
                    .filter(|p| !p.is_empty()),
            };
            let scope = row
                .scope
                .as_ref()
                .map(|s| parse_json::<SearchScope>(&s.0, "scope"))
                .transpose()?;
            (decode_workspaces(&row.workspaces.0), scope, properties)
        } else {
            (Vec::new(), None, None)
        };
        Ok(FeedMember {
            role,
            status,
            full,
            workspaces,
            scope,
            guest_expires: guest_expires.filter(|_| full),
            properties,
            row,
        })
    }
}

/// A stored time (milliseconds since the epoch) written as chrono writes its
/// `DateTime<Utc>` (RFC 3339 with `Z`, the milliseconds only when there are some), from a
/// buffer rather than through chrono's formatter, which writes a character at a time.
struct Millis(i64);

impl serde::Serialize for Millis {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use chrono::{Datelike, Timelike};
        let time = store::to_time(self.0);
        let (date, clock) = (time.date_naive(), time.time());
        let nanos = clock.nanosecond();
        // Anything the buffer does not fit is left to chrono (never from milliseconds
        // stored by this server, but the format must stay chrono's).
        let Ok(year) = u32::try_from(date.year()) else {
            return time.serialize(serializer);
        };
        if year > 9999 || nanos % 1_000_000 != 0 || nanos >= 1_000_000_000 {
            return time.serialize(serializer);
        }
        fn put(buffer: &mut [u8], mut value: u32) {
            for digit in buffer.iter_mut().rev() {
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        let mut buffer = *b"0000-00-00T00:00:00.000Z";
        put(&mut buffer[0..4], year);
        put(&mut buffer[5..7], date.month());
        put(&mut buffer[8..10], date.day());
        put(&mut buffer[11..13], clock.hour());
        put(&mut buffer[14..16], clock.minute());
        put(&mut buffer[17..19], clock.second());
        let text = if nanos == 0 {
            buffer[19] = b'Z';
            &buffer[..20]
        } else {
            put(&mut buffer[20..23], nanos / 1_000_000);
            &buffer[..]
        };
        serializer.serialize_str(std::str::from_utf8(text).map_err(serde::ser::Error::custom)?)
    }
}

impl serde::Serialize for FeedMember<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let row = &self.row;
        let full = self.full;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("kind", "member")?;
        map.serialize_entry("id", &row.account_id)?;
        map.serialize_entry("email", &*row.email.0)?;
        map.serialize_entry("role", &self.role)?;
        map.serialize_entry("status", &self.status)?;
        // The directory view keeps the names only.
        macro_rules! profile {
            ($($field:ident),*) => {
                $(
                    let shown = full || matches!(stringify!($field), "display_name" | "first_name" | "last_name");
                    if shown && let Some(value) = &row.$field {
                        map.serialize_entry(stringify!($field), &*value.0)?;
                    }
                )*
            };
        }
        profile_fields!(profile);
        if !self.workspaces.is_empty() {
            map.serialize_entry("workspaces", &self.workspaces)?;
        }
        if let Some(scope) = &self.scope {
            map.serialize_entry("scope", scope)?;
        }
        if let Some(date) = &self.guest_expires {
            map.serialize_entry("guest_expires", date)?;
        }
        if let Some(properties) = &self.properties {
            map.serialize_entry("properties", properties)?;
        }
        if full {
            if let Some(id) = row.invited_by {
                map.serialize_entry("invited_by", &id)?;
            }
            if let Some(at) = row.invited_at {
                map.serialize_entry("invited_at", &Millis(at))?;
            }
            if self.status == Status::Pending
                && let Some(at) = row.invite_expires_at
            {
                map.serialize_entry("invitation_expires_at", &Millis(at))?;
            }
        }
        map.serialize_entry("created_at", &Millis(row.created_at))?;
        if full {
            if let Some(at) = row.last_active_at {
                map.serialize_entry("last_active_at", &Millis(at))?;
            }
            if let Some(at) = row.last_sign_in_at {
                map.serialize_entry("last_sign_in_at", &Millis(at))?;
            }
        }
        map.serialize_entry("version", &row.version)?;
        map.end()
    }
}

/// A roster row as stored, with its status as of `today`.
pub fn member_from_row(row: &AnyRow, today: NaiveDate) -> Result<Member> {
    StoredMember::from_row(row)?.into_member(today)
}

/// What members and guests see of each other in the member directory (SPEC.md §2 note 1).
pub fn directory_view(member: Member) -> Member {
    Member {
        profile: Profile {
            display_name: member.profile.display_name,
            first_name: member.profile.first_name,
            last_name: member.profile.last_name,
            ..Profile::default()
        },
        workspaces: Vec::new(),
        scope: None,
        guest_expires: None,
        properties: PropertyValues::new(),
        invited_by: None,
        invited_at: None,
        invitation_expires_at: None,
        last_active_at: None,
        last_sign_in_at: None,
        ..member
    }
}

pub fn target(member: &Member) -> TargetUser<'_> {
    TargetUser {
        account_id: Some(member.id),
        email: &member.email,
        role: member.role,
        status: member.status,
    }
}

async fn load<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    org_id: i64,
    user_id: i64,
    today: NaiveDate,
) -> Result<Option<Member>> {
    let sql =
        format!("SELECT {MEMBER_COLUMNS} {MEMBER_FROM} WHERE m.org_id = $1 AND m.account_id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(executor)
        .await?;
    row.map(|row| member_from_row(&row, today)).transpose()
}

/// `GET /api/v1/orgs/{org}/members/{id}`.
pub async fn get(state: &AppState, caller: &OrgCaller, user_id: i64) -> Result<Member> {
    get_with(&state.store.pool, state, caller, user_id).await
}

/// [`get`] through the given connection or transaction.
pub async fn get_with<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    state: &AppState,
    caller: &OrgCaller,
    user_id: i64,
) -> Result<Member> {
    let member = load(executor, caller.org_id, user_id, state.clock.today())
        .await?
        .ok_or_else(Error::not_found)?;
    match caller.can_on(Action::ViewUser, &target(&member))? {
        Grant::Full => Ok(member),
        Grant::Limited => Ok(directory_view(member)),
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RosterCursor(serde_json::Value, i64);

fn encode_cursor<T: serde::Serialize>(value: &T) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(value).unwrap_or_default())
}

fn decode_cursor<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    use base64::Engine;
    let bad = || Error::with_message(ErrorCode::InvalidInput, "The page cursor is not valid.");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

pub const DEFAULT_PAGE: u32 = 100;
pub const MAX_PAGE: u32 = 1000;

/// `GET /api/v1/orgs/{org}/members`: filtered, searched, sorted, keyset-paged, and never
/// showing a scoped caller anyone outside the scope.
pub async fn list(
    state: &AppState,
    caller: &OrgCaller,
    filter: MemberQuery,
) -> Result<Page<Member>> {
    let grant = caller.can(Action::ListUsers)?;
    let limit = filter.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let sort = filter.sort.unwrap_or_default();
    let (key, key_is_text) = match sort {
        MemberSort::Name => ("a.sort_name", true),
        MemberSort::Email => ("a.email", true),
        MemberSort::Created => ("m.created_at", false),
        MemberSort::LastActive => ("COALESCE(m.last_active_at, 0)", false),
    };
    let mut q = Query::new("");
    let org = q.int(caller.org_id);
    let mut clauses = vec![format!("m.org_id = {org}")];
    clauses.push(sql::scope_filter(
        &mut q,
        &caller.actor,
        "m.account_id",
        "a.email",
        "a.email_domain",
    ));
    match filter.tab {
        Some(RosterTab::Pending) => {
            clauses.push("m.status = 'pending' AND m.role <> 'guest'".into())
        }
        Some(RosterTab::Active) => {
            clauses.push("m.role <> 'guest' AND m.status IN ('active', 'suspended')".into())
        }
        Some(RosterTab::Guest) => clauses.push("m.role = 'guest'".into()),
        None => {}
    }
    if let Some(term) = filter.search.as_deref().filter(|t| !t.trim().is_empty()) {
        let p = q.text(sql::like_pattern(term));
        let mut fields = vec![
            "a.sort_name",
            "a.email",
            "LOWER(COALESCE(a.first_name, ''))",
            "LOWER(COALESCE(a.last_name, ''))",
        ];
        if grant == Grant::Full {
            fields.extend([
                "LOWER(COALESCE(a.title, ''))",
                "LOWER(COALESCE(a.company, ''))",
            ]);
        }
        let ors: Vec<String> = fields
            .iter()
            .map(|f| format!("{f} LIKE {p} ESCAPE '\\'"))
            .collect();
        clauses.push(format!("({})", ors.join(" OR ")));
    }
    if let Some(role) = filter.role {
        let p = q.text(role.as_str());
        clauses.push(format!("m.role = {p}"));
    }
    if let Some(workspace) = filter.workspace {
        let p = q.text(format!("%,{workspace},%"));
        clauses.push(format!("m.workspaces LIKE {p}"));
    }
    if let Some(before) = filter.inactive_since {
        let p = q.int(before.timestamp_millis());
        clauses.push(format!(
            "(m.last_active_at IS NULL OR m.last_active_at < {p})"
        ));
    }
    if let Some(after) = &filter.after {
        let RosterCursor(value, id) = decode_cursor(after)?;
        let v = match (key_is_text, value) {
            (true, serde_json::Value::String(s)) => q.text(s),
            (false, serde_json::Value::Number(n)) => q.int(n.as_i64().unwrap_or(0)),
            _ => {
                return Err(Error::with_message(
                    ErrorCode::InvalidInput,
                    "The page cursor does not fit this sort order.",
                ));
            }
        };
        let i = q.int(id);
        clauses.push(format!("({key}, m.account_id) > ({v}, {i})"));
    }
    let lim = q.int(i64::from(limit) + 1);
    q.push(&format!(
        "SELECT {MEMBER_COLUMNS}, {key} AS sort_key {MEMBER_FROM} WHERE {} ORDER BY {key}, m.account_id LIMIT {lim}",
        clauses.join(" AND ")
    ));
    let rows = q.fetch_all(&state.store.pool).await?;
    let today = state.clock.today();
    let mut items = Vec::with_capacity(rows.len());
    let mut next = None;
    for (index, row) in rows.iter().enumerate() {
        if index == limit as usize {
            let last = &rows[index - 1];
            let key_value = if key_is_text {
                serde_json::Value::String(text(last, "sort_key")?)
            } else {
                serde_json::Value::from(int(last, "sort_key")?)
            };
            next = Some(encode_cursor(&RosterCursor(
                key_value,
                int(last, "account_id")?,
            )));
            break;
        }
        let member = member_from_row(row, today)?;
        items.push(if grant == Grant::Full {
            member
        } else {
            directory_view(member)
        });
    }
    Ok(Page { items, next })
}

/// How a change was asked for: the REST endpoints and mutations differ only here.
#[derive(Debug, Clone, Copy, Default)]
pub struct Precondition {
    /// `If-Match` or the mutation's `base_version`.
    pub base_version: Option<i64>,
}

/// The outcome of one applied change.
#[derive(Debug, Clone, Copy)]
pub struct Applied {
    pub user_id: i64,
    /// The row's new version; 0 when the row is gone (removed, invitation cancelled).
    pub version: i64,
    pub mail_queued: bool,
}

/// A change's answer: applied now, or the stored answer of an earlier identical mutation.
#[derive(Debug, Clone)]
pub enum Outcome {
    Applied(Applied),
    Replayed(MutationOutcome),
}

/// Applies one change in its own transaction (a batch of one: the same code as a pushed
/// batch's mutations). With a mutation id (the sync protocol), a replayed id answers its
/// stored result and changes nothing, and an applied result is stored in the same
/// transaction as the change.
pub async fn apply(
    state: &AppState,
    caller: &OrgCaller,
    change: &MutationKind,
    pre: Precondition,
    mutation_id: Option<&str>,
    cache: &mut BatchCache,
) -> Result<Outcome> {
    // Hash outside the transaction: it takes tens of milliseconds and must not hold the
    // org's write lock.
    let prepared = prepare(change).await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_apply(state, caller, change, pre, mutation_id, cache, &prepared).await {
            Err(error) if attempt < 3 && is_transient(&error) => {
                tracing::info!(%error, attempt, "retrying a change after a transient conflict");
            }
            answer => return answer,
        }
    }
}

/// A deadlock or serialisation failure (PostgreSQL; an account edit locks several orgs)
/// or a busy database (SQLite): the transaction rolled back and can simply run again.
pub(crate) fn is_transient(error: &Error) -> bool {
    match error {
        Error::Database(sqlx::Error::Database(db)) => {
            matches!(
                db.code().as_deref(),
                Some("40P01" | "40001" | "5" | "517" | "6")
            )
        }
        _ => false,
    }
}

async fn try_apply(
    state: &AppState,
    caller: &OrgCaller,
    change: &MutationKind,
    pre: Precondition,
    mutation_id: Option<&str>,
    cache: &mut BatchCache,
    prepared: &Prepared,
) -> Result<Outcome> {
    let mut batch = BatchTx::begin(state, caller).await?;
    if let Some(id) = mutation_id
        && let Some(stored) = stored_result(&mut batch.tx, caller.account_id, id).await?
    {
        batch.tx.rollback().await?;
        return Ok(Outcome::Replayed(stored));
    }
    // The cache only holds org-level facts across transactions; rows are read afresh.
    batch.cache.org_name = cache.org_name.take();
    batch.cache.definitions = cache.definitions.take();
    batch.expect(std::iter::once((0, change)));
    let mut applied = batch
        .apply(state, caller, 0, change, pre, prepared)
        .await??;
    batch.flush().await?;
    if let Some((_, id)) = batch.take_new_ids().into_iter().next() {
        applied.user_id = id;
    }
    if let Some(id) = mutation_id {
        let outcome = MutationOutcome::Applied {
            user_id: applied.user_id,
            version: applied.version,
        };
        store_result(&mut batch.tx, caller, id, &outcome, state.clock.now_ms()).await?;
    }
    cache.org_name = batch.cache.org_name.take();
    cache.definitions = batch.cache.definitions.take();
    batch.tx.commit().await?;
    if applied.mail_queued {
        state.mail_wake.notify_one();
    }
    Ok(Outcome::Applied(applied))
}

/// One writing transaction of member changes (a pushed batch's, or a REST change's), with
/// its change number, what its checks read, and the writes it holds back.
///
/// Adds and edits check everything in memory (against rows loaded for all the batch's
/// mutations in one query each) before their first write, so a refused one has written
/// nothing and needs no savepoint; an add's rows (account, membership, mail) and every
/// change's audit event are held back and written with multi-row statements. Other changes
/// (and edits of an account that belongs to other orgs too, which lock those orgs) run as
/// before: each in a savepoint, after the held-back writes, reading the database itself.
pub(crate) struct BatchTx {
    pub tx: Tx,
    pub seq: i64,
    /// Savepoints taken: PostgreSQL slows down past 64 subtransactions in one transaction.
    pub savepoints: usize,
    cache: BatchCache,
    pending: Pending,
    /// The mutation (by index in the batch) being applied: look-ups load what it and the
    /// ones after it need.
    at: usize,
    upcoming_emails: Vec<(usize, String)>,
    upcoming_ids: Vec<(usize, i64)>,
    /// New accounts' ids by the index of the add that created them, known once written.
    new_ids: Vec<(usize, i64)>,
    /// Whether mail was queued (the mail task is woken after the commit).
    pub mail_queued: bool,
}

impl BatchTx {
    /// Opens the transaction and takes its change number first (the org's write lock).
    pub(crate) async fn begin(state: &AppState, caller: &OrgCaller) -> Result<BatchTx> {
        let mut tx = state.store.begin().await?;
        let seq = store::next_seq(&mut tx, caller.org_id).await?;
        Ok(BatchTx {
            tx,
            seq,
            savepoints: 0,
            cache: BatchCache::default(),
            pending: Pending::default(),
            at: 0,
            upcoming_emails: Vec::new(),
            upcoming_ids: Vec::new(),
            new_ids: Vec::new(),
            mail_queued: false,
        })
    }

    /// The changes (with their index in the batch) this transaction will apply: their rows
    /// are loaded together at the first look-up.
    pub(crate) fn expect<'c>(
        &mut self,
        changes: impl IntoIterator<Item = (usize, &'c MutationKind)>,
    ) {
        for (index, change) in changes {
            match change {
                MutationKind::AddMember { member } => {
                    if let Ok(email) = validate::email(&member.email) {
                        self.upcoming_emails.push((index, email));
                    }
                }
                MutationKind::EditMember { user_id, .. } => {
                    self.upcoming_ids.push((index, *user_id));
                }
                _ => {}
            }
        }
    }

    /// Applies one change. The outer error fails the transaction (a database error after
    /// writes began); the inner one refuses this change, which has then written nothing.
    pub(crate) async fn apply(
        &mut self,
        state: &AppState,
        caller: &OrgCaller,
        index: usize,
        change: &MutationKind,
        pre: Precondition,
        prepared: &Prepared,
    ) -> Result<Result<Applied>> {
        self.at = index;
        let today = state.clock.today();
        let mut work = Work {
            state,
            caller,
            seq: self.seq,
            now: state.clock.now_ms(),
            today,
            mail_queued: false,
            index,
            wrote: false,
            batch: self,
        };
        // Adds and edits write nothing before their last check: a refusal leaves no trace.
        let result = match change {
            MutationKind::AddMember { member } => work.add(member, prepared).await,
            MutationKind::EditMember { user_id, edit } => {
                let Some(member) = work.batch.member(caller.org_id, *user_id, today).await? else {
                    return Ok(Err(Error::not_found()));
                };
                if member.elsewhere {
                    return work.isolated(change, pre, prepared).await;
                }
                let result = work.checked_edit(member.member, change, edit, pre).await;
                // The row changed: read it again if a later mutation needs it.
                work.batch.cache.members.remove(user_id);
                result
            }
            _ => return work.isolated(change, pre, prepared).await,
        };
        match result {
            Ok(applied) => Ok(Ok(applied)),
            // A database error may have left the transaction unusable (PostgreSQL) or a
            // change half written: the transaction fails (the client sends the batch again).
            Err(error) if work.wrote || matches!(error, Error::Database(_)) => Err(error),
            Err(refused) => Ok(Err(refused)),
        }
    }

    /// A member of this org with everything a batch's edit checks, loaded with the other
    /// members the batch's next edits target.
    async fn member(
        &mut self,
        org_id: i64,
        user_id: i64,
        today: NaiveDate,
    ) -> Result<Option<CachedMember>> {
        if let Some(found) = self.cache.members.get(&user_id) {
            return Ok(found.clone());
        }
        // The member may be one of the held-back adds.
        self.flush().await?;
        let mut ids = vec![user_id];
        ids.extend(
            self.upcoming_ids
                .iter()
                .filter(|(index, id)| *index > self.at && !self.cache.members.contains_key(id))
                .map(|(_, id)| *id),
        );
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(store::MULTI_ROW_CHUNK) {
            let mut q = Query::many(&self.tx);
            let org = q.int(org_id);
            let list: Vec<String> = chunk.iter().map(|id| q.int(*id)).collect();
            let elsewhere = "(SELECT COUNT(*) FROM memberships o WHERE o.account_id = m.account_id AND o.org_id <> m.org_id) AS elsewhere";
            if q.on_sqlite() {
                q.push(&format!(
                    "SELECT {MEMBER_COLUMNS}, {elsewhere} {MEMBER_FROM} WHERE m.org_id = {org} AND m.account_id IN ({})",
                    list.join(", ")
                ));
            } else {
                // A join with the list rather than `IN (...)` (see `feed::stored_results`).
                q.push(&format!(
                    "SELECT {MEMBER_COLUMNS}, {elsewhere} FROM (VALUES ({})) AS v \
                     JOIN memberships m ON m.account_id = v.column1 \
                     JOIN accounts a ON a.id = m.account_id WHERE m.org_id = {org}",
                    list.join("), (")
                ));
            }
            for id in chunk {
                self.cache.members.insert(*id, None);
            }
            for row in q.fetch_all(&mut *self.tx).await? {
                let member = member_from_row(&row, today)?;
                let elsewhere = int(&row, "elsewhere")? > 0;
                self.cache
                    .members
                    .insert(member.id, Some(CachedMember { member, elsewhere }));
            }
        }
        Ok(self.cache.members.get(&user_id).cloned().flatten())
    }

    /// The account with this (valid) address, loaded with the accounts of the batch's next
    /// adds.
    async fn account(&mut self, org_id: i64, email: &str) -> Result<Option<KnownAccount>> {
        if let Some(found) = self.cache.accounts.get(email) {
            if found.is_some_and(|a| a.id.is_none()) {
                // Added earlier in this batch: write it to learn its id.
                self.flush().await?;
                return Ok(self.cache.accounts.get(email).copied().flatten());
            }
            return Ok(*found);
        }
        let mut emails = vec![email.to_owned()];
        emails.extend(
            self.upcoming_emails
                .iter()
                .filter(|(index, e)| *index > self.at && !self.cache.accounts.contains_key(e))
                .map(|(_, e)| e.clone()),
        );
        emails.sort_unstable();
        emails.dedup();
        for chunk in emails.chunks(store::MULTI_ROW_CHUNK) {
            let mut q = Query::many(&self.tx);
            let org = q.int(org_id);
            let list: Vec<String> = chunk.iter().map(|e| q.text(e.as_str())).collect();
            let member = format!(
                "(SELECT COUNT(*) FROM memberships m WHERE m.org_id = {org} AND m.account_id = a.id) AS member"
            );
            if q.on_sqlite() {
                q.push(&format!(
                    "SELECT a.id, a.email, a.password_hash, {member} FROM accounts a WHERE a.email IN ({})",
                    list.join(", ")
                ));
            } else {
                // A join with the list rather than `IN (...)` (see `feed::stored_results`).
                q.push(&format!(
                    "SELECT a.id, a.email, a.password_hash, {member} \
                     FROM (VALUES ({})) AS v JOIN accounts a ON a.email = v.column1",
                    list.join("), (")
                ));
            }
            for email in chunk {
                self.cache.accounts.insert(email.clone(), None);
            }
            for row in q.fetch_all(&mut *self.tx).await? {
                let known = KnownAccount {
                    id: Some(int(&row, "id")?),
                    has_password: opt_str(&row, "password_hash")?.is_some(),
                    member: int(&row, "member")? > 0,
                };
                self.cache
                    .accounts
                    .insert(text(&row, "email")?, Some(known));
            }
        }
        Ok(self.cache.accounts.get(email).copied().flatten())
    }

    /// The org's workspace ids (member changes never add or remove one).
    async fn workspaces(&mut self, org_id: i64) -> Result<&HashSet<i64>> {
        if self.cache.workspaces.is_none() {
            let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM workspaces WHERE org_id = $1")
                .bind(org_id)
                .fetch_all(&mut *self.tx)
                .await?;
            self.cache.workspaces = Some(ids.into_iter().collect());
        }
        Ok(self.cache.workspaces.get_or_insert_with(HashSet::new))
    }

    /// Writes what is held back: new accounts (learning their ids), memberships, cleared
    /// tombstones, mail, then audit events, each in order and a few hundred rows per
    /// statement.
    pub(crate) async fn flush(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        let mut ids: HashMap<String, i64> = HashMap::new();
        for chunk in pending.accounts.chunks(store::MULTI_ROW_CHUNK) {
            let mut q = Query::many(&self.tx);
            let mut values = Vec::with_capacity(chunk.len());
            for account in chunk {
                let p = &account.profile;
                let domain = account
                    .email
                    .rsplit_once('@')
                    .map(|(_, d)| d)
                    .unwrap_or_default();
                values.push(format!(
                    "({}, {}, {}, {}, {}, {})",
                    q.text(account.email.as_str()),
                    q.text(domain),
                    q.text(sort_name(&account.email, p)),
                    q.int(account.at),
                    profile_values(&mut q, p),
                    q.opt_text(account.password_hash.clone()),
                ));
            }
            // The order of RETURNING rows is not guaranteed: match them by address.
            q.push(&format!(
                "INSERT INTO accounts (email, email_domain, sort_name, created_at, display_name, first_name, \
                 last_name, phone, title, company, office, street, postal_code, city, cell_phone, home_phone, \
                 password_hash) VALUES {} RETURNING id, email",
                values.join(", ")
            ));
            for row in q.fetch_all(&mut *self.tx).await? {
                ids.insert(text(&row, "email")?, int(&row, "id")?);
            }
        }
        let id_of = |account: &AccountRef| -> Result<i64> {
            match account {
                AccountRef::Id(id) => Ok(*id),
                AccountRef::New(email) => ids
                    .get(email)
                    .copied()
                    .ok_or_else(|| Error::internal("a new account was not written")),
            }
        };
        for (id, hash) in &pending.passwords {
            sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1")
                .bind(*id)
                .bind(hash)
                .execute(&mut *self.tx)
                .await?;
        }
        for chunk in pending.memberships.chunks(store::MULTI_ROW_CHUNK) {
            let mut q = Query::many(&self.tx);
            let mut values = Vec::with_capacity(chunk.len());
            for m in chunk {
                values.push(format!(
                    "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 1)",
                    q.int(m.org_id),
                    q.int(id_of(&m.account)?),
                    q.text(m.role.as_str()),
                    q.text(m.status.as_str()),
                    q.text(m.workspaces.as_str()),
                    q.opt_text(m.guest_expires.clone()),
                    q.text(m.properties.as_str()),
                    q.int(m.invited_by),
                    q.int(m.at),
                    q.opt_text(m.token_hash.clone()),
                    q.opt_int(m.invite_expires),
                    q.int(m.at),
                    q.int(m.seq),
                ));
            }
            q.push(&format!(
                "INSERT INTO memberships (org_id, account_id, role, status, workspaces, guest_expires, properties, \
                 invited_by, invited_at, invite_token_hash, invite_expires_at, created_at, seq, version) VALUES {}",
                values.join(", ")
            ));
            q.build().execute(&mut *self.tx).await?;
        }
        let mut returned: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
        for (org, account) in &pending.returned {
            returned.entry(*org).or_default().push(*account);
        }
        for (org, accounts) in returned {
            for chunk in accounts.chunks(store::MULTI_ROW_CHUNK) {
                let mut q = Query::many(&self.tx);
                let (org, kind) = (q.int(org), q.text(TOMBSTONE_MEMBER));
                let ids: Vec<String> = chunk.iter().map(|id| q.int(*id)).collect();
                q.push(&format!(
                    "DELETE FROM tombstones WHERE org_id = {org} AND kind = {kind} AND row_id IN ({})",
                    ids.join(", ")
                ));
                q.build().execute(&mut *self.tx).await?;
            }
        }
        // Edits: one multi-row UPDATE ... FROM (VALUES ...) per table (each member at most
        // once: a second change to it flushes first).
        for chunk in pending.edits.chunks(store::MULTI_ROW_CHUNK) {
            let mut q = Query::many(&self.tx);
            let values: Vec<String> = chunk
                .iter()
                .map(|e| {
                    format!(
                        "({}, {}, {}, {}, {}, {}, {})",
                        q.int(e.org_id),
                        q.int(e.account_id),
                        q.int(e.seq),
                        q.int(e.version),
                        q.opt_text(e.guest_expires.clone()),
                        q.opt_text(e.status.clone()),
                        q.opt_text(e.properties.clone()),
                    )
                })
                .collect();
            q.push(&format!(
                "UPDATE memberships SET seq = v.column3, version = v.column4, \
                 guest_expires = COALESCE(v.column5, memberships.guest_expires), \
                 status = COALESCE(v.column6, memberships.status), \
                 properties = COALESCE(v.column7, memberships.properties) \
                 FROM (VALUES {}) AS v \
                 WHERE memberships.org_id = v.column1 AND memberships.account_id = v.column2",
                values.join(", ")
            ));
            q.build().execute(&mut *self.tx).await?;
        }
        let accounts: Vec<(i64, &Profile, &String)> = pending
            .edits
            .iter()
            .filter_map(|e| e.account.as_ref().map(|(p, n)| (e.account_id, p, n)))
            .collect();
        for chunk in accounts.chunks(store::MULTI_ROW_CHUNK) {
            let mut q = Query::many(&self.tx);
            let values: Vec<String> = chunk
                .iter()
                .map(|(id, p, sort_name)| {
                    format!(
                        "({}, {}, {})",
                        q.int(*id),
                        profile_values(&mut q, p),
                        q.text(sort_name.as_str()),
                    )
                })
                .collect();
            q.push(&format!(
                "UPDATE accounts SET display_name = v.column2, first_name = v.column3, \
                 last_name = v.column4, phone = v.column5, title = v.column6, company = v.column7, \
                 office = v.column8, street = v.column9, postal_code = v.column10, city = v.column11, \
                 cell_phone = v.column12, home_phone = v.column13, sort_name = v.column14 \
                 FROM (VALUES {}) AS v WHERE accounts.id = v.column1",
                values.join(", ")
            ));
            q.build().execute(&mut *self.tx).await?;
        }
        self.mail_queued |= !pending.mails.is_empty();
        mail::enqueue_all(&mut self.tx, &pending.mails).await?;
        let mut audits = pending.audits;
        for (row, new_account) in &mut audits {
            if let Some(email) = new_account {
                row.target_id = Some(id_of(&AccountRef::New(std::mem::take(email)))?);
            }
        }
        let audits: Vec<AuditRow> = audits.into_iter().map(|(row, _)| row).collect();
        store::record_audits(&mut self.tx, &audits).await?;
        for (index, email) in pending.new_results {
            self.new_ids.push((index, id_of(&AccountRef::New(email))?));
        }
        if !ids.is_empty() {
            for (email, id) in &ids {
                if let Some(Some(known)) = self.cache.accounts.get_mut(email) {
                    known.id = Some(*id);
                }
            }
            // An id looked up before its account was written may be a member now.
            self.cache.members.retain(|_, m| m.is_some());
        }
        Ok(())
    }

    /// The ids of the accounts new in this transaction, by the index of the add that
    /// created them (after [`BatchTx::flush`]).
    pub(crate) fn take_new_ids(&mut self) -> Vec<(usize, i64)> {
        std::mem::take(&mut self.new_ids)
    }
}

/// A member as a batch's edit checks it, and whether the account belongs to other orgs.
#[derive(Debug, Clone)]
struct CachedMember {
    member: Member,
    elsewhere: bool,
}

/// An account as a batch's add checks it; `id` is `None` while it is held back.
#[derive(Debug, Clone, Copy)]
struct KnownAccount {
    id: Option<i64>,
    has_password: bool,
    member: bool,
}

enum AccountRef {
    Id(i64),
    New(String),
}

struct NewAccount {
    email: String,
    profile: Profile,
    password_hash: Option<String>,
    at: i64,
}

struct NewMembership {
    org_id: i64,
    account: AccountRef,
    role: Role,
    status: Status,
    workspaces: String,
    guest_expires: Option<String>,
    properties: String,
    invited_by: i64,
    token_hash: Option<String>,
    invite_expires: Option<i64>,
    seq: i64,
    at: i64,
}

/// An edit checked in memory: the membership's (and account's) new values.
struct HeldEdit {
    org_id: i64,
    account_id: i64,
    seq: i64,
    version: i64,
    /// `None`: unchanged (an edit never clears these).
    guest_expires: Option<String>,
    status: Option<String>,
    properties: Option<String>,
    /// The account's whole profile and sort name, if it changed.
    account: Option<(Profile, String)>,
}

/// The writes a transaction holds back (see [`BatchTx`]).
#[derive(Default)]
struct Pending {
    edits: Vec<HeldEdit>,
    accounts: Vec<NewAccount>,
    /// Existing accounts without a password that get one.
    passwords: Vec<(i64, String)>,
    memberships: Vec<NewMembership>,
    /// (org, account) of re-added members, whose removal tombstone goes.
    returned: Vec<(i64, i64)>,
    mails: Vec<mail::MailRow>,
    /// With the address of a new account the event's target is.
    audits: Vec<(AuditRow, Option<String>)>,
    /// (index of the add, address) of new accounts, for the add's answer.
    new_results: Vec<(usize, String)>,
}

pub async fn stored_result(
    tx: &mut Tx,
    account_id: i64,
    mutation_id: &str,
) -> Result<Option<MutationOutcome>> {
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT result FROM mutation_results WHERE account_id = $1 AND mutation_id = $2",
    )
    .bind(account_id)
    .bind(mutation_id)
    .fetch_optional(&mut **tx)
    .await?;
    stored
        .map(|json| parse_json(&json, "mutation result"))
        .transpose()
}

pub async fn store_result(
    tx: &mut Tx,
    caller: &OrgCaller,
    mutation_id: &str,
    outcome: &MutationOutcome,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO mutation_results (account_id, mutation_id, org_id, result, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, mutation_id) DO NOTHING")
        .bind(caller.account_id)
        .bind(mutation_id)
        .bind(caller.org_id)
        .bind(serde_json::to_string(outcome).map_err(Error::internal)?)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What a transaction's changes read: org-level facts that member changes never alter, and
/// rows loaded for many mutations at once (dropped or updated as the changes write).
#[derive(Debug, Default)]
pub struct BatchCache {
    org_name: Option<String>,
    definitions: Option<Vec<PropertyDefinition>>,
    workspaces: Option<HashSet<i64>>,
    /// By account id; `None`: not a member.
    members: HashMap<i64, Option<CachedMember>>,
    /// By address; `None`: no such account.
    accounts: HashMap<String, Option<KnownAccount>>,
}

/// What can be computed before the transaction (password hashes).
#[derive(Default)]
pub(crate) struct Prepared {
    password: Option<String>,
    password_hash: Option<String>,
}

pub(crate) async fn prepare(change: &MutationKind) -> Result<Prepared> {
    let MutationKind::AddMember { member } = change else {
        return Ok(Prepared::default());
    };
    let password = match (member.onboarding, &member.password) {
        (Onboarding::GenerateAndEmail, None) => auth::generate_password()?,
        (onboarding, Some(password)) if onboarding.needs_password() => {
            validate::password(password)?;
            password.clone()
        }
        (onboarding, None) if onboarding.needs_password() => {
            return Err(Error::with_message(
                ErrorCode::InvalidInput,
                format!(
                    "password: onboarding '{}' needs a password",
                    onboarding.as_str()
                ),
            ));
        }
        (onboarding, Some(_)) => {
            return Err(Error::with_message(
                ErrorCode::InvalidInput,
                format!(
                    "password: onboarding '{}' does not take a password",
                    onboarding.as_str()
                ),
            ));
        }
        (_, None) => return Ok(Prepared::default()),
    };
    Ok(Prepared {
        password_hash: Some(auth::hash_password(password.clone()).await?),
        password: Some(password),
    })
}

struct Work<'a> {
    state: &'a AppState,
    caller: &'a OrgCaller,
    seq: i64,
    now: i64,
    today: NaiveDate,
    mail_queued: bool,
    /// The mutation's index in its batch.
    index: usize,
    /// Whether the change wrote to the database (not only held writes back).
    wrote: bool,
    batch: &'a mut BatchTx,
}

fn check_base(pre: Precondition, member: &Member) -> Result<()> {
    match pre.base_version {
        Some(base) if base != member.version => Err(Error::with_message(
            ErrorCode::VersionMismatch,
            format!(
                "This user changed since you loaded it (version {} now, {} then); reload and try again.",
                member.version, base
            ),
        )),
        _ => Ok(()),
    }
}

impl<'a> Work<'a> {
    fn audit<'e>(&self, action: &'e str, member: &'e Member) -> AuditEvent<'e>
    where
        'a: 'e,
    {
        AuditEvent {
            org_id: self.caller.org_id,
            actor_id: Some(self.caller.account_id),
            client_id: self.caller.client_id.as_deref(),
            action,
            target_kind: "user",
            target_id: Some(member.id),
            target_email: Some(&member.email),
            before: None,
            after: None,
        }
    }

    async fn run(
        &mut self,
        change: &MutationKind,
        pre: Precondition,
        prepared: &Prepared,
    ) -> Result<Applied> {
        if let MutationKind::AddMember { member } = change {
            return self.add(member, prepared).await;
        }
        // Every change but an add (handled above) is done to a member.
        let Some(user_id) = change.target() else {
            return Err(Error::internal("a change to no member"));
        };
        let member = load(&mut *self.batch.tx, self.caller.org_id, user_id, self.today)
            .await?
            .ok_or_else(Error::not_found)?;
        self.check(change, pre, &member)?;
        match change {
            MutationKind::AddMember { .. } => unreachable!("handled above"),
            MutationKind::EditMember { edit, .. } => self.edit(member, edit, None).await,
            MutationKind::ChangeRole {
                role,
                guest_expires,
                ..
            } => self.change_role(member, *role, *guest_expires).await,
            MutationKind::AssignWorkspaces { workspaces, .. } => {
                self.assign(member, workspaces).await
            }
            MutationKind::SetScope { scope, .. } => self.set_scope(member, scope.as_ref()).await,
            MutationKind::Suspend { .. } => self.set_status(member, Status::Suspended).await,
            MutationKind::Restore { .. } => self.set_status(member, Status::Active).await,
            MutationKind::Remove { .. } => self.remove(member, "member.removed").await,
            MutationKind::CancelInvitation { .. } => {
                self.remove(member, "invitation.cancelled").await
            }
            MutationKind::ResendInvitation { .. } => self.resend(member).await,
        }
    }

    /// An edit of a member checked in memory, of an account in no other org.
    async fn checked_edit(
        &mut self,
        member: Member,
        change: &MutationKind,
        edit: &MemberEdit,
        pre: Precondition,
    ) -> Result<Applied> {
        self.check(change, pre, &member)?;
        self.edit(member, edit, Some(false)).await
    }

    /// The matrix, the precondition and the member's status, for a change to an existing
    /// member.
    fn check(&self, change: &MutationKind, pre: Precondition, member: &Member) -> Result<()> {
        let action = match change {
            MutationKind::AddMember { .. } => Action::AddUser,
            MutationKind::EditMember { .. } => Action::EditProfile,
            MutationKind::ChangeRole { role, .. } => Action::ChangeRole { to: *role },
            MutationKind::AssignWorkspaces { .. } => Action::AssignWorkspaces,
            MutationKind::SetScope { .. } => Action::SetScope,
            MutationKind::Suspend { .. } => Action::SuspendUser,
            MutationKind::Restore { .. } => Action::RestoreUser,
            MutationKind::Remove { .. } => Action::RemoveUser,
            MutationKind::ResendInvitation { .. } => Action::ResendInvitation,
            MutationKind::CancelInvitation { .. } => Action::CancelInvitation,
        };
        self.caller.can_on(action, &target(member))?;
        if let MutationKind::EditMember { edit, .. } = change
            && edit.guest_expires.is_some()
        {
            // A guest's end date is access, not profile: moving it is asked of the matrix
            // as restoring the user (so no guest extends their own access).
            self.caller.can_on(Action::RestoreUser, &target(member))?;
        }
        check_base(pre, member)?;
        invariants::status_allows(action, member.status)?;
        Ok(())
    }

    /// A change that reads the database itself, in a savepoint after the held-back writes:
    /// a refusal rolls back to the savepoint.
    async fn isolated(
        &mut self,
        change: &MutationKind,
        pre: Precondition,
        prepared: &Prepared,
    ) -> Result<Result<Applied>> {
        self.batch.flush().await?;
        self.batch.savepoints += 1;
        let mut attempt = 0;
        let result = loop {
            attempt += 1;
            self.mail_queued = false;
            sqlx::query("SAVEPOINT mutation")
                .execute(&mut *self.batch.tx)
                .await?;
            match self.run(change, pre, prepared).await {
                Ok(applied) => {
                    sqlx::query("RELEASE SAVEPOINT mutation")
                        .execute(&mut *self.batch.tx)
                        .await?;
                    break Ok(applied);
                }
                Err(error) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT mutation")
                        .execute(&mut *self.batch.tx)
                        .await?;
                    sqlx::query("RELEASE SAVEPOINT mutation")
                        .execute(&mut *self.batch.tx)
                        .await?;
                    // What it held back goes with it (the flush above left nothing else).
                    self.batch.pending = Pending::default();
                    if attempt < 3 && is_transient(&error) {
                        tracing::info!(%error, attempt, "retrying a change after a transient conflict");
                        continue;
                    }
                    break Err(error);
                }
            }
        };
        // Its target's membership may have changed or gone: read it again when needed.
        if let Some(id) = change.target() {
            self.batch.cache.members.remove(&id);
            self.batch
                .cache
                .accounts
                .retain(|_, known| known.is_none_or(|k| k.id != Some(id)));
        }
        Ok(result)
    }

    fn record(&mut self, event: AuditEvent<'_>, new_account: Option<String>) {
        self.batch
            .pending
            .audits
            .push((AuditRow::new(event, self.now), new_account));
    }

    fn queue_mail(&mut self, to: &str, subject: String, body: String) {
        self.batch.pending.mails.push(mail::MailRow {
            to: to.to_owned(),
            subject,
            body,
            at: self.now,
        });
    }

    async fn active_admins(&mut self) -> Result<usize> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = 'admin' AND status = 'active'",
        )
        .bind(self.caller.org_id)
        .fetch_one(&mut *self.batch.tx)
        .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// Writes the membership's own columns with the new change number and version.
    async fn bump(&mut self, member: &Member, set: &str, binds: Vec<sql::Arg>) -> Result<i64> {
        let mut q = Query::new("");
        let seq = q.int(self.seq);
        let mut set = set.to_owned();
        for arg in binds {
            let placeholder = q.bind(arg);
            set = set.replacen('?', &placeholder, 1);
        }
        let org = q.int(self.caller.org_id);
        let id = q.int(member.id);
        q.push(&format!(
            "UPDATE memberships SET {set}{}seq = {seq}, version = version + 1 \
             WHERE org_id = {org} AND account_id = {id} RETURNING version",
            if set.is_empty() { "" } else { ", " }
        ));
        self.wrote = true;
        let row = q.build().fetch_one(&mut *self.batch.tx).await?;
        int(&row, "version")
    }

    async fn org_name(&mut self) -> Result<String> {
        if let Some(name) = &self.batch.cache.org_name {
            return Ok(name.clone());
        }
        let name: String = sqlx::query_scalar("SELECT name FROM orgs WHERE id = $1")
            .bind(self.caller.org_id)
            .fetch_one(&mut *self.batch.tx)
            .await?;
        self.batch.cache.org_name = Some(name.clone());
        Ok(name)
    }

    async fn definitions(&mut self) -> Result<Vec<PropertyDefinition>> {
        if let Some(definitions) = &self.batch.cache.definitions {
            return Ok(definitions.clone());
        }
        let definitions = property_definitions(&mut *self.batch.tx, self.caller.org_id).await?;
        self.batch.cache.definitions = Some(definitions.clone());
        Ok(definitions)
    }

    async fn check_workspaces(&mut self, ids: &[i64]) -> Result<Vec<i64>> {
        invariants::workspace_grant(ids.len())?;
        let mut unique: Vec<i64> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        if unique.is_empty() {
            return Ok(unique);
        }
        let known = self.batch.workspaces(self.caller.org_id).await?;
        if let Some(id) = unique.iter().find(|id| !known.contains(id)) {
            return Err(Error::with_message(
                ErrorCode::InvalidInput,
                format!("workspaces: there is no workspace {id} in this organization"),
            ));
        }
        Ok(unique)
    }

    /// Checks everything first (against the batch's loaded accounts), then holds its writes
    /// back: the account (if new), membership, mail and audit event are written with the
    /// batch's others.
    async fn add(&mut self, new: &NewMember, prepared: &Prepared) -> Result<Applied> {
        let email = validate::email(&new.email)?;
        let existing = self.batch.account(self.caller.org_id, &email).await?;
        let account_id = match existing {
            Some(known) => Some(
                known
                    .id
                    .ok_or_else(|| Error::internal("a held-back account was not written"))?,
            ),
            None => None,
        };
        let has_password = existing.is_some_and(|known| known.has_password);
        // Scope before everything else: an out-of-scope address is `out_of_scope`, never
        // `email_taken` (SPEC.md "Decisions").
        let target = TargetUser {
            account_id,
            email: &email,
            role: new.role,
            status: Status::Pending,
        };
        orgdesk_domain::can(
            &self.caller.actor,
            &self.caller.org,
            Action::AddUser,
            Some(&target),
        )?;
        let workspaces = self.check_workspaces(&new.workspaces).await?;
        invariants::guest_expiry(new.role, new.guest_expires, self.today)?;
        let profile = clean_profile(&new.profile)?;
        let definitions = self.definitions().await?;
        let properties = merge_properties(&definitions, &PropertyValues::new(), &new.properties)?;
        if let Some(known) = existing {
            invariants::email_free(known.member)?;
        }
        let org_name = self.org_name().await?;
        let base_url = self.state.public_base_url();
        // An account that can already sign in joins at once and is told; a new one (or one
        // still waiting for its first invitation) follows the chosen onboarding.
        let joins_existing = has_password;
        let pending = !joins_existing && new.onboarding == Onboarding::Invite;
        let token = if pending {
            Some(auth::new_token()?)
        } else {
            None
        };
        // Every check passed: from here on nothing fails, the writes are held back.
        let password_hash = if joins_existing {
            None
        } else {
            prepared.password_hash.clone()
        };
        let account = match account_id {
            Some(id) => {
                if let Some(hash) = &password_hash {
                    self.batch.pending.passwords.push((id, hash.clone()));
                }
                AccountRef::Id(id)
            }
            None => {
                self.batch.pending.accounts.push(NewAccount {
                    email: email.clone(),
                    profile,
                    password_hash: password_hash.clone(),
                    at: self.now,
                });
                self.batch
                    .pending
                    .new_results
                    .push((self.index, email.clone()));
                AccountRef::New(email.clone())
            }
        };
        let (token_hash, invite_expires) = match token {
            Some((token, hash)) => {
                let expires = self.now + invariants::INVITATION_DAYS * DAY_MS;
                self.queue_mail(
                    &email,
                    format!("You are invited to {org_name} on Orgdesk"),
                    invitation_body(&org_name, &base_url, &token, expires),
                );
                (Some(hash), Some(expires))
            }
            None => (None, None),
        };
        let status = if pending {
            Status::Pending
        } else {
            Status::Active
        };
        self.batch.pending.memberships.push(NewMembership {
            org_id: self.caller.org_id,
            account,
            role: new.role,
            status,
            workspaces: encode_workspaces(&workspaces),
            guest_expires: new.guest_expires.map(|d| d.to_string()),
            properties: serde_json::Value::Object(properties.into_iter().collect()).to_string(),
            invited_by: self.caller.account_id,
            token_hash,
            invite_expires,
            seq: self.seq,
            at: self.now,
        });
        if let Some(id) = account_id {
            // Only an account that existed can have been a member before.
            self.batch.pending.returned.push((self.caller.org_id, id));
        }
        if !pending {
            let body = match (joins_existing, new.onboarding, &prepared.password) {
                (true, _, _) => Some(format!(
                    "You were added to {org_name} on Orgdesk.\n\nSign in as usual at {base_url} to open it.\n"
                )),
                (false, Onboarding::GenerateAndEmail | Onboarding::SetAndEmail, Some(password)) => {
                    Some(format!(
                        "An Orgdesk account was created for you in {org_name}.\n\nSign in at {base_url}\nEmail: {email}\nPassword: {password}\n\nChange the password after your first sign-in.\n"
                    ))
                }
                _ => None,
            };
            if let Some(body) = body {
                self.queue_mail(
                    &email,
                    format!("Your access to {org_name} on Orgdesk"),
                    body,
                );
                self.mail_queued = true;
            }
        } else {
            self.mail_queued = true;
        }
        let mut after = serde_json::json!({"email": email, "role": new.role, "status": status, "onboarding": new.onboarding});
        if !workspaces.is_empty() {
            after["workspaces"] = serde_json::json!(workspaces);
        }
        let event = AuditEvent {
            org_id: self.caller.org_id,
            actor_id: Some(self.caller.account_id),
            client_id: self.caller.client_id.as_deref(),
            action: "member.added",
            target_kind: "user",
            target_id: account_id,
            target_email: Some(&email),
            before: None,
            after: Some(after),
        };
        let new_account = account_id.is_none().then(|| email.clone());
        self.record(event, new_account);
        // What the batch's next changes see: the address is taken, and an existing
        // account's membership must be read again.
        self.batch.cache.accounts.insert(
            email,
            Some(KnownAccount {
                id: account_id,
                has_password: has_password || password_hash.is_some(),
                member: true,
            }),
        );
        if let Some(id) = account_id {
            self.batch.cache.members.remove(&id);
        }
        Ok(Applied {
            // A new account's id is known once it is written (see `BatchTx::flush`).
            user_id: account_id.unwrap_or(0),
            version: 1,
            mail_queued: self.mail_queued,
        })
    }

    /// `elsewhere`: whether the account belongs to other orgs, if known.
    async fn edit(
        &mut self,
        member: Member,
        edit: &MemberEdit,
        elsewhere: Option<bool>,
    ) -> Result<Applied> {
        let mut profile = member.profile.clone();
        if let Some(changes) = &edit.profile {
            apply_profile_edit(&mut profile, changes)?;
        }
        let definitions = self.definitions().await?;
        let properties = merge_properties(&definitions, &member.properties, &edit.properties)?;
        let mut set = String::new();
        let mut binds = Vec::new();
        let mut status = member.status;
        if let Some(date) = edit.guest_expires {
            invariants::guest_expiry(member.role, Some(date), self.today)?;
            set.push_str("guest_expires = ?, ");
            binds.push(sql::Arg::Text(date.to_string()));
            if member.status == Status::Expired {
                // Extending an expired guest's end date gives access back.
                set.push_str("status = 'active', ");
                status = Status::Active;
            }
        }
        if properties != member.properties {
            set.push_str("properties = ?, ");
            binds.push(sql::Arg::Text(
                serde_json::to_string(&properties).map_err(Error::internal)?,
            ));
        }
        let set = set.trim_end_matches(", ").to_owned();
        let version = if elsewhere == Some(false) {
            // Checked in memory against the row read in this transaction (under the org's
            // write lock, so its version is current): held back and written with the
            // batch's other edits. Nothing reads the row before the flush (a later change
            // to it reads it again, after flushing).
            let properties = if properties == member.properties {
                None
            } else {
                Some(serde_json::to_string(&properties).map_err(Error::internal)?)
            };
            let account = (profile != member.profile).then(|| {
                let sort_name = sort_name(&member.email, &profile);
                (profile.clone(), sort_name)
            });
            self.batch.pending.edits.push(HeldEdit {
                org_id: self.caller.org_id,
                account_id: member.id,
                seq: self.seq,
                version: member.version + 1,
                guest_expires: edit.guest_expires.map(|d| d.to_string()),
                status: (status != member.status).then(|| status.as_str().to_owned()),
                properties,
                account,
            });
            member.version + 1
        } else {
            let version = self.bump(&member, &set, binds).await?;
            if profile != member.profile {
                update_account_profile(&mut self.batch.tx, member.id, &member.email, &profile)
                    .await?;
                self.bump_other_orgs(member.id).await?;
            }
            version
        };
        let mut event = self.audit("member.edited", &member);
        event.before = Some(
            serde_json::json!({"profile": member.profile, "properties": member.properties, "guest_expires": member.guest_expires, "status": member.status}),
        );
        event.after = Some(
            serde_json::json!({"profile": profile, "properties": properties, "guest_expires": edit.guest_expires.or(member.guest_expires), "status": status}),
        );
        self.record(event, None);
        Ok(Applied {
            user_id: member.id,
            version,
            mail_queued: false,
        })
    }

    /// Account fields are shared by every membership of the account: each of its other
    /// orgs gets a change number and a new row version, so their feeds send the new values.
    async fn bump_other_orgs(&mut self, account_id: i64) -> Result<()> {
        let orgs: Vec<i64> = sqlx::query_scalar(
            "SELECT org_id FROM memberships WHERE account_id = $1 AND org_id <> $2 ORDER BY org_id",
        )
        .bind(account_id)
        .bind(self.caller.org_id)
        .fetch_all(&mut *self.batch.tx)
        .await?;
        for org in orgs {
            let seq = store::next_seq(&mut self.batch.tx, org).await?;
            sqlx::query("UPDATE memberships SET seq = $3, version = version + 1 WHERE org_id = $1 AND account_id = $2")
                .bind(org)
                .bind(account_id)
                .bind(seq)
                .execute(&mut *self.batch.tx)
                .await?;
        }
        Ok(())
    }

    async fn change_role(
        &mut self,
        member: Member,
        role: Role,
        guest_expires: Option<NaiveDate>,
    ) -> Result<Applied> {
        let admins = self.active_admins().await?;
        invariants::keeps_an_active_admin(
            member.role,
            member.status,
            MembershipChange::RoleChanged(role),
            admins,
        )?;
        let expires = if role == Role::Guest {
            guest_expires.or(member.guest_expires.filter(|_| member.role == Role::Guest))
        } else {
            None
        };
        invariants::guest_expiry(role, expires, self.today)?;
        let binds = vec![sql::Arg::Text(role.as_str().to_owned())];
        let set = match expires {
            Some(date) => {
                let mut binds = binds;
                binds.push(sql::Arg::Text(date.to_string()));
                let version = self
                    .bump(
                        &member,
                        "role = ?, guest_expires = ?, access_version = access_version + 1",
                        binds,
                    )
                    .await?;
                return self.finish_role(member, role, version).await;
            }
            None => "role = ?, guest_expires = NULL, access_version = access_version + 1",
        };
        let version = self.bump(&member, set, binds).await?;
        self.finish_role(member, role, version).await
    }

    async fn finish_role(&mut self, member: Member, role: Role, version: i64) -> Result<Applied> {
        let mut event = self.audit("member.role_changed", &member);
        event.before = Some(serde_json::json!({"role": member.role}));
        event.after = Some(serde_json::json!({"role": role}));
        self.record(event, None);
        Ok(Applied {
            user_id: member.id,
            version,
            mail_queued: false,
        })
    }

    async fn assign(&mut self, member: Member, workspaces: &[i64]) -> Result<Applied> {
        let workspaces = self.check_workspaces(workspaces).await?;
        let version = self
            .bump(
                &member,
                "workspaces = ?",
                vec![sql::Arg::Text(encode_workspaces(&workspaces))],
            )
            .await?;
        let mut event = self.audit("member.workspaces_changed", &member);
        event.before = Some(serde_json::json!({"workspaces": member.workspaces}));
        event.after = Some(serde_json::json!({"workspaces": workspaces}));
        self.record(event, None);
        Ok(Applied {
            user_id: member.id,
            version,
            mail_queued: false,
        })
    }

    async fn set_scope(&mut self, member: Member, scope: Option<&SearchScope>) -> Result<Applied> {
        let version = match scope {
            Some(scope) => {
                let json = serde_json::to_string(scope).map_err(Error::internal)?;
                self.bump(
                    &member,
                    "scope = ?, access_version = access_version + 1",
                    vec![sql::Arg::Text(json)],
                )
                .await?
            }
            None => {
                self.bump(
                    &member,
                    "scope = NULL, access_version = access_version + 1",
                    Vec::new(),
                )
                .await?
            }
        };
        let mut event = self.audit("member.scope_changed", &member);
        event.before = Some(serde_json::json!({"scope": member.scope}));
        event.after = Some(serde_json::json!({"scope": scope}));
        self.record(event, None);
        Ok(Applied {
            user_id: member.id,
            version,
            mail_queued: false,
        })
    }

    async fn set_status(&mut self, member: Member, status: Status) -> Result<Applied> {
        if status == Status::Suspended {
            let admins = self.active_admins().await?;
            invariants::keeps_an_active_admin(
                member.role,
                member.status,
                MembershipChange::Suspended,
                admins,
            )?;
        }
        let version = self
            .bump(
                &member,
                "status = ?, access_version = access_version + 1",
                vec![sql::Arg::Text(status.as_str().to_owned())],
            )
            .await?;
        let action = if status == Status::Suspended {
            "member.suspended"
        } else {
            "member.restored"
        };
        let mut event = self.audit(action, &member);
        event.before = Some(serde_json::json!({"status": member.status}));
        event.after = Some(serde_json::json!({"status": status}));
        self.record(event, None);
        Ok(Applied {
            user_id: member.id,
            version,
            mail_queued: false,
        })
    }

    async fn remove(&mut self, member: Member, action: &str) -> Result<Applied> {
        let admins = self.active_admins().await?;
        invariants::keeps_an_active_admin(
            member.role,
            member.status,
            MembershipChange::Removed,
            admins,
        )?;
        sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND account_id = $2")
            .bind(self.caller.org_id)
            .bind(member.id)
            .execute(&mut *self.batch.tx)
            .await?;
        store::add_tombstone(
            &mut self.batch.tx,
            self.caller.org_id,
            TOMBSTONE_MEMBER,
            member.id,
            Some(&member.email),
            self.seq,
            self.now,
        )
        .await?;
        let mut event = self.audit(action, &member);
        event.before = Some(
            serde_json::json!({"role": member.role, "status": member.status, "workspaces": member.workspaces}),
        );
        self.record(event, None);
        Ok(Applied {
            user_id: member.id,
            version: 0,
            mail_queued: false,
        })
    }

    async fn resend(&mut self, member: Member) -> Result<Applied> {
        let (token, hash) = auth::new_token()?;
        let expires = self.now + invariants::INVITATION_DAYS * DAY_MS;
        let version = self
            .bump(
                &member,
                "invite_token_hash = ?, invite_expires_at = ?, invited_at = ?",
                vec![
                    sql::Arg::Text(hash),
                    sql::Arg::Int(expires),
                    sql::Arg::Int(self.now),
                ],
            )
            .await?;
        let org_name = self.org_name().await?;
        let body = invitation_body(&org_name, &self.state.public_base_url(), &token, expires);
        self.queue_mail(
            &member.email,
            format!("You are invited to {org_name} on Orgdesk"),
            body,
        );
        self.mail_queued = true;
        self.record(self.audit("invitation.resent", &member), None);
        Ok(Applied {
            user_id: member.id,
            version,
            mail_queued: true,
        })
    }
}

fn invitation_body(org_name: &str, base_url: &str, token: &str, expires: i64) -> String {
    format!(
        "You are invited to join {org_name} on Orgdesk.\n\nAccept the invitation here:\n{base_url}/invite/{token}\n\nThe link works until {}.\n",
        store::to_time(expires).format("%Y-%m-%d %H:%M UTC")
    )
}

pub async fn insert_account(tx: &mut Tx, email: &str, profile: &Profile, now: i64) -> Result<i64> {
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (email, email_domain, sort_name, created_at, display_name, first_name, \
         last_name, phone, title, company, office, street, postal_code, city, cell_phone, home_phone) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
    )
    .bind(email)
    .bind(domain)
    .bind(sort_name(email, profile))
    .bind(now)
    .bind(&profile.display_name)
    .bind(&profile.first_name)
    .bind(&profile.last_name)
    .bind(&profile.phone)
    .bind(&profile.title)
    .bind(&profile.company)
    .bind(&profile.office)
    .bind(&profile.street)
    .bind(&profile.postal_code)
    .bind(&profile.city)
    .bind(&profile.cell_phone)
    .bind(&profile.home_phone)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// The profile's values as bound placeholders, in the storage order of [`profile_fields`]
/// (the column lists of the multi-row account writes).
pub(crate) fn profile_values(q: &mut Query, p: &Profile) -> String {
    macro_rules! bind {
        ($($field:ident),*) => {
            [$(q.opt_text(p.$field.clone())),*].join(", ")
        };
    }
    profile_fields!(bind)
}

pub(crate) fn sort_name(email: &str, profile: &Profile) -> String {
    let full = [profile.first_name.as_deref(), profile.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    profile
        .display_name
        .clone()
        .or((!full.is_empty()).then_some(full))
        .unwrap_or_else(|| email.to_owned())
        .to_lowercase()
}

async fn update_account_profile(
    tx: &mut Tx,
    account_id: i64,
    email: &str,
    profile: &Profile,
) -> Result<()> {
    sqlx::query(
        "UPDATE accounts SET display_name = $2, first_name = $3, last_name = $4, phone = $5, title = $6, \
         company = $7, office = $8, street = $9, postal_code = $10, city = $11, cell_phone = $12, \
         home_phone = $13, sort_name = $14 WHERE id = $1",
    )
    .bind(account_id)
    .bind(&profile.display_name)
    .bind(&profile.first_name)
    .bind(&profile.last_name)
    .bind(&profile.phone)
    .bind(&profile.title)
    .bind(&profile.company)
    .bind(&profile.office)
    .bind(&profile.street)
    .bind(&profile.postal_code)
    .bind(&profile.city)
    .bind(&profile.cell_phone)
    .bind(&profile.home_phone)
    .bind(sort_name(email, profile))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn clean_field(field: &'static str, value: &str) -> Result<Option<String>> {
    Ok(match field {
        "display_name" | "first_name" | "last_name" => validate::name(field, value)?,
        "phone" if value.trim().is_empty() => None,
        "phone" => Some(validate::phone(field, value)?),
        _ => validate::text(field, value, validate::PROFILE_FIELD_MAX_CHARS)?,
    })
}

fn clean_profile(profile: &Profile) -> Result<Profile> {
    macro_rules! clean {
        ($($field:ident),*) => {
            Profile { $($field: match &profile.$field {
                Some(value) => clean_field(stringify!($field), value)?,
                None => None,
            },)* }
        };
    }
    Ok(profile_fields!(clean))
}

fn apply_profile_edit(profile: &mut Profile, edit: &ProfileEdit) -> Result<()> {
    macro_rules! merge {
        ($($field:ident),*) => {
            $(if let Some(value) = &edit.$field {
                profile.$field = clean_field(stringify!($field), value)?;
            })*
        };
    }
    profile_fields!(merge);
    Ok(())
}

pub async fn property_definitions<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    org_id: i64,
) -> Result<Vec<PropertyDefinition>> {
    let rows = sqlx::query("SELECT id, key, label, kind, required, version FROM property_definitions WHERE org_id = $1 ORDER BY key")
        .bind(org_id)
        .fetch_all(executor)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(PropertyDefinition {
                id: int(row, "id")?,
                key: text(row, "key")?,
                label: text(row, "label")?,
                kind: parse_json(&text(row, "kind")?, "property kind")?,
                required: store::boolean(row, "required")?,
                version: int(row, "version")?,
            })
        })
        .collect()
}

/// Applies property edits (null clears) and checks every value against its definition.
fn merge_properties(
    definitions: &[PropertyDefinition],
    current: &PropertyValues,
    edits: &PropertyValues,
) -> Result<PropertyValues> {
    let invalid = |key: &str, reason: String| {
        Error::with_message(ErrorCode::InvalidInput, format!("prop:{key}: {reason}"))
    };
    let mut values = current.clone();
    for (key, value) in edits {
        let definition = definitions
            .iter()
            .find(|d| &d.key == key)
            .ok_or_else(|| invalid(key, "there is no such property in this organization".into()))?;
        if value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()) {
            values.remove(key);
            continue;
        }
        let ok = match &definition.kind {
            PropertyKind::Text => value
                .as_str()
                .is_some_and(|s| s.chars().count() <= validate::PROFILE_FIELD_MAX_CHARS),
            PropertyKind::Number => value.is_number(),
            PropertyKind::Date => value
                .as_str()
                .is_some_and(|s| s.parse::<NaiveDate>().is_ok()),
            PropertyKind::Bool => value.is_boolean(),
            PropertyKind::OneOf { options } => value
                .as_str()
                .is_some_and(|s| options.iter().any(|o| o == s)),
        };
        if !ok {
            let expected = match &definition.kind {
                PropertyKind::Text => "text (at most 200 characters)".to_owned(),
                PropertyKind::Number => "a number".to_owned(),
                PropertyKind::Date => "a date (YYYY-MM-DD)".to_owned(),
                PropertyKind::Bool => "true or false".to_owned(),
                PropertyKind::OneOf { options } => format!("one of {}", options.join(", ")),
            };
            return Err(invalid(key, format!("{value} is not {expected}")));
        }
        values.insert(key.clone(), value.clone());
    }
    for definition in definitions.iter().filter(|d| d.required) {
        if !values.contains_key(&definition.key) {
            return Err(invalid(
                &definition.key,
                format!("'{}' is required", definition.label),
            ));
        }
    }
    Ok(values)
}

/// Applies SPEC's guest expiry to storage: active guests whose end date has come become
/// `expired` (readers already see them so through `effective_status`); each gets a change
/// number so feeds carry the new status.
pub async fn expire_guests(state: &AppState) -> Result<usize> {
    let today = state.clock.today().to_string();
    let due = sqlx::query("SELECT org_id, account_id FROM memberships WHERE role = 'guest' AND status = 'active' AND guest_expires <= $1")
        .bind(&today)
        .fetch_all(&state.store.pool)
        .await?;
    for row in &due {
        let org_id = int(row, "org_id")?;
        let account_id = int(row, "account_id")?;
        let mut tx = state.store.begin().await?;
        let seq = store::next_seq(&mut tx, org_id).await?;
        sqlx::query(
            "UPDATE memberships SET status = 'expired', seq = $3, version = version + 1, access_version = access_version + 1 \
             WHERE org_id = $1 AND account_id = $2 AND status = 'active'",
        )
        .bind(org_id)
        .bind(account_id)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        store::record_audit(
            &mut tx,
            AuditEvent {
                org_id,
                action: "member.guest_expired",
                target_kind: "user",
                target_id: Some(account_id),
                ..AuditEvent::default()
            },
            state.clock.now_ms(),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(due.len())
}

/// The invitation behind a link, for the invitation page.
pub struct Invitation {
    pub org_id: i64,
    pub org_name: String,
    pub account_id: i64,
    pub email: String,
    pub needs_password: bool,
    pub expired: bool,
}

pub async fn find_invitation(state: &AppState, token: &str) -> Result<Option<Invitation>> {
    let row = sqlx::query(
        "SELECT m.org_id, o.name, m.account_id, a.email, a.password_hash, m.invite_expires_at \
         FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN orgs o ON o.id = m.org_id \
         WHERE m.invite_token_hash = $1 AND m.status = 'pending'",
    )
    .bind(auth::token_hash(token))
    .fetch_optional(&state.store.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Invitation {
        org_id: int(&row, "org_id")?,
        org_name: text(&row, "name")?,
        account_id: int(&row, "account_id")?,
        email: text(&row, "email")?,
        needs_password: opt_str(&row, "password_hash")?.is_none(),
        expired: opt_int(&row, "invite_expires_at")?.is_none_or(|at| at <= state.clock.now_ms()),
    }))
}

/// Accepting an invitation: sets the password of a new account and activates the
/// membership; the link stops working.
pub async fn accept_invitation(
    state: &AppState,
    token: &str,
    password: Option<String>,
) -> Result<Invitation> {
    let invitation = find_invitation(state, token)
        .await?
        .ok_or_else(Error::not_found)?;
    if invitation.expired {
        return Err(Error::with_message(
            ErrorCode::InvalidState,
            "This invitation has expired; ask for a new one.",
        ));
    }
    let hash = if invitation.needs_password {
        let password = password.unwrap_or_default();
        validate::password(&password)?;
        Some(auth::hash_password(password).await?)
    } else {
        None
    };
    let now = state.clock.now_ms();
    let mut tx = state.store.begin().await?;
    let seq = store::next_seq(&mut tx, invitation.org_id).await?;
    let updated = sqlx::query(
        "UPDATE memberships SET status = 'active', invite_token_hash = NULL, invite_expires_at = NULL, \
         seq = $3, version = version + 1, access_version = access_version + 1 \
         WHERE org_id = $1 AND account_id = $2 AND invite_token_hash = $4 AND status = 'pending'",
    )
    .bind(invitation.org_id)
    .bind(invitation.account_id)
    .bind(seq)
    .bind(auth::token_hash(token))
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(Error::not_found());
    }
    if let Some(hash) = hash {
        sqlx::query(
            "UPDATE accounts SET password_hash = $2 WHERE id = $1 AND password_hash IS NULL",
        )
        .bind(invitation.account_id)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    }
    store::record_audit(
        &mut tx,
        AuditEvent {
            org_id: invitation.org_id,
            actor_id: Some(invitation.account_id),
            action: "invitation.accepted",
            target_kind: "user",
            target_id: Some(invitation.account_id),
            target_email: Some(&invitation.email),
            ..AuditEvent::default()
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(invitation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use orgdesk_domain::wire::Change;

    /// Stored rows as a feed page has them (the [`MEMBER_COLUMNS`] in order): every field
    /// set, a pending invitation, an expired guest, escaped text, and the bare minimum.
    const PAGE: &str = r#"[
        [7, "full@acme.example", "member", "active", "Full Name", "Full", "Name", "+4912345",
         "Engineer", "Acme", "Berlin", "Main St 1", "10115", "Berlin", "+4917", "+4930",
         ",3,5,", "[\"boss@acme.example\",\"@acme.example\"]", null,
         "{\"level\":\"senior\",\"since\":2019}", 1, 1700000000000, 1700600000000,
         1690000000123, 1700000001000, 1700000002100, 4, 11],
        [8, "new@acme.example", "member", "pending", null, null, null, null, null, null, null,
         null, null, null, null, null, ",", null, null, "{}", 7, 1700000000000, 1800000000000,
         1700000000000, null, null, 1, 12],
        [9, "guest@other.example", "guest", "active", "G \"quoted\" \\ name", null, null, null,
         "Ünïcode", null, null, null, null, null, null, null, ",", null, "2026-01-01", "{}",
         null, null, null, 1600000000000, null, null, 2, 13],
        [10, "old@acme.example", "member", "active", null, null, null, null, null, null, null,
         null, null, null, null, null, ",", null, null, "{}", null, -86400001, null,
         253402300800000, null, 1, 1, 14]
    ]"#;

    #[test]
    fn a_feed_member_is_written_as_its_member() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("a date");
        let stored: Vec<StoredMember> = serde_json::from_str(PAGE).expect("stored rows");
        let page: Vec<PageMember> = serde_json::from_str(PAGE).expect("page rows");
        for (stored, row) in stored.into_iter().zip(page) {
            let member = stored.into_member(today).expect("a member");
            let seen = serde_json::to_string(&FeedMember::new(row, today, true).expect("row"))
                .expect("json");
            let expected = serde_json::to_string(&Change::Member(Box::new(member))).expect("json");
            assert_eq!(seen, expected);
        }
        // The directory view.
        let stored: Vec<StoredMember> = serde_json::from_str(PAGE).expect("stored rows");
        let page: Vec<PageMember> = serde_json::from_str(PAGE).expect("page rows");
        for (stored, row) in stored.into_iter().zip(page) {
            let member = directory_view(stored.into_member(today).expect("a member"));
            let seen = serde_json::to_string(&FeedMember::new(row, today, false).expect("row"))
                .expect("json");
            let expected = serde_json::to_string(&Change::Member(Box::new(member))).expect("json");
            assert_eq!(seen, expected);
        }
    }
}
