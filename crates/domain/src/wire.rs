//! The JSON shapes of the HTTP API and the sync protocol, shared by server and client.
//!
//! Ids are the server's integers. A member is addressed by its account id within the org
//! (one membership per account per org), so a tombstone and a re-add name the same row.
//! Optional fields are omitted when empty so that a 100,000-member snapshot stays small.

use crate::error::ErrorCode;
use crate::role::{OrgKind, Role, RosterTab, Status};
use crate::scope::SearchScope;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type OrgId = i64;
pub type UserId = i64;
pub type WorkspaceId = i64;
pub type PropertyId = i64;
/// A client-generated mutation id (a UUID in practice), 1 to 64 characters; the server only
/// compares it.
pub type MutationId = String;
pub const MUTATION_ID_MAX_LEN: usize = 64;

/// Every error body: `{ "code": "...", "message": "..." }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

// ---- Sign-in -------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Opaque bearer token; the server keeps only its hash.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub account: Account,
}

/// The signed-in account (`GET /api/v1/me`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: UserId,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub totp_enabled: bool,
}

/// One org the caller can open (`GET /api/v1/me/orgs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgAccess {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    /// The effective role: the membership's, or the org's `partner_access` setting.
    pub role: Role,
    pub via_partner: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_org_id: Option<OrgId>,
    /// Changes whenever the caller's role or scope in this org changes; the client
    /// rebuilds its cache of the org when it does.
    pub scope_version: i64,
}

// ---- Orgs ----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrgSettings {
    /// Members and guests may see the member directory.
    pub member_directory: bool,
    /// The role partner members get in this (client) org.
    pub partner_access: Role,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            member_directory: false,
            partner_access: Role::Admin,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgInfo {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    #[serde(default)]
    pub domains: Vec<String>,
    pub settings: OrgSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_org_id: Option<OrgId>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BillingInfo {
    pub plan: String,
    pub seats: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_email: Option<String>,
}

// ---- Members -------------------------------------------------------------------------

/// The profile fields of SPEC.md §1 that the user and their admins may edit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// The MFA phone, E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_phone: Option<String>,
}

/// A custom property's value, typed by its definition.
pub type PropertyValues = BTreeMap<String, serde_json::Value>;

/// A membership as the roster shows it (list, get, and the sync feed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "FlatMember")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    /// The account's id; a member is addressed by it within the org.
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub status: Status,
    #[serde(flatten)]
    pub profile: Profile,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspaceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<SearchScope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_expires: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, serde_json::Value>))]
    pub properties: PropertyValues,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub version: i64,
}

/// A [`Member`] as it is read: its profile fields side by side with the rest, as they are
/// written. serde reads a `#[serde(flatten)]` field by buffering the whole object first,
/// which made decoding a large feed page about twice as slow.
#[derive(Deserialize)]
struct FlatMember {
    id: UserId,
    email: String,
    role: Role,
    status: Status,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    office: Option<String>,
    #[serde(default)]
    street: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    cell_phone: Option<String>,
    #[serde(default)]
    home_phone: Option<String>,
    #[serde(default)]
    workspaces: Vec<WorkspaceId>,
    #[serde(default)]
    scope: Option<SearchScope>,
    #[serde(default)]
    guest_expires: Option<NaiveDate>,
    #[serde(default)]
    properties: PropertyValues,
    #[serde(default)]
    invited_by: Option<UserId>,
    #[serde(default)]
    invited_at: Option<DateTime<Utc>>,
    #[serde(default)]
    invitation_expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    #[serde(default)]
    last_active_at: Option<DateTime<Utc>>,
    #[serde(default)]
    last_sign_in_at: Option<DateTime<Utc>>,
    version: i64,
}

impl From<FlatMember> for Member {
    fn from(flat: FlatMember) -> Member {
        Member {
            id: flat.id,
            email: flat.email,
            role: flat.role,
            status: flat.status,
            profile: Profile {
                display_name: flat.display_name,
                first_name: flat.first_name,
                last_name: flat.last_name,
                phone: flat.phone,
                title: flat.title,
                company: flat.company,
                office: flat.office,
                street: flat.street,
                postal_code: flat.postal_code,
                city: flat.city,
                cell_phone: flat.cell_phone,
                home_phone: flat.home_phone,
            },
            workspaces: flat.workspaces,
            scope: flat.scope,
            guest_expires: flat.guest_expires,
            properties: flat.properties,
            invited_by: flat.invited_by,
            invited_at: flat.invited_at,
            invitation_expires_at: flat.invitation_expires_at,
            created_at: flat.created_at,
            last_active_at: flat.last_active_at,
            last_sign_in_at: flat.last_sign_in_at,
            version: flat.version,
        }
    }
}

/// How a new user gets in (SPEC.md §3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Onboarding {
    #[default]
    Invite,
    GenerateAndEmail,
    SetAndEmail,
    SetSilently,
}

impl Onboarding {
    pub const ALL: [Onboarding; 4] = [
        Onboarding::Invite,
        Onboarding::GenerateAndEmail,
        Onboarding::SetAndEmail,
        Onboarding::SetSilently,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Onboarding::Invite => "invite",
            Onboarding::GenerateAndEmail => "generate_and_email",
            Onboarding::SetAndEmail => "set_and_email",
            Onboarding::SetSilently => "set_silently",
        }
    }

    /// Whether the creator supplies the password.
    pub const fn needs_password(self) -> bool {
        matches!(self, Onboarding::SetAndEmail | Onboarding::SetSilently)
    }
}

/// `POST /api/v1/orgs/{org}/members`, and the add-user mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub email: String,
    pub role: Role,
    #[serde(default)]
    pub profile: Profile,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspaceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_expires: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, serde_json::Value>))]
    pub properties: PropertyValues,
    #[serde(default)]
    pub onboarding: Onboarding,
    /// Only with `set_and_email` and `set_silently`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// `PATCH /api/v1/orgs/{org}/members/{id}`: profile and property edits. A field that is
/// absent stays as it is; an empty string or JSON null clears it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MemberEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileEdit>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, serde_json::Value>))]
    pub properties: PropertyValues,
    /// A guest's new end date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_expires: Option<NaiveDate>,
}

/// Profile fields to change: `Some("")` clears, `None` keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfileEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_phone: Option<String>,
}

/// The roster query of `GET /api/v1/orgs/{org}/members`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MemberQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tab: Option<RosterTab>,
    /// Matches name, email, title and company, case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<WorkspaceId>,
    /// Only members last active before this instant (or never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<MemberSort>,
    /// The opaque `next` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MemberSort {
    #[default]
    Name,
    Email,
    Created,
    LastActive,
}

/// One page of a keyset-paged listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

// ---- Workspaces and property definitions ---------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PropertyKind {
    Text,
    Number,
    Date,
    Bool,
    OneOf { options: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PropertyDefinition {
    pub id: PropertyId,
    /// The stable key, used in `prop:<key>` import columns.
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub kind: PropertyKind,
    pub required: bool,
    pub version: i64,
}

// ---- Sync: the change feed -----------------------------------------------------------

/// `GET /api/v1/orgs/{org}/changes?since=&limit=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangesPage {
    pub changes: Vec<Change>,
    /// The opaque cursor to ask from next (`since=`); equal to `since` when nothing
    /// changed. `0`, or no `since`, asks for a full snapshot.
    pub next: String,
    pub has_more: bool,
}

/// One row changed after the cursor, at its latest version (changes are compacted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Nested, because `OrgInfo` has a `kind` field of its own that would collide with
    /// the tag.
    Org {
        org: OrgInfo,
    },
    Member(Box<Member>),
    MemberRemoved {
        id: UserId,
    },
    Workspace(Workspace),
    WorkspaceRemoved {
        id: WorkspaceId,
    },
    PropertyDefinition(PropertyDefinition),
    PropertyDefinitionRemoved {
        id: PropertyId,
    },
}

// ---- Sync: mutations -----------------------------------------------------------------

/// `POST /api/v1/orgs/{org}/mutations`: at most [`MAX_MUTATIONS_PER_BATCH`] mutations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MutationBatch {
    pub mutations: Vec<Mutation>,
}

pub const MAX_MUTATIONS_PER_BATCH: usize = 1000;

/// One staged change. `id` is generated by the client once, when the change is staged,
/// and makes the mutation idempotent: a replay answers the stored result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    pub id: MutationId,
    /// The row version the change was based on; `None` for adds, or to apply regardless.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<i64>,
    pub change: MutationKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum MutationKind {
    AddMember {
        member: NewMember,
    },
    EditMember {
        user_id: UserId,
        edit: MemberEdit,
    },
    ChangeRole {
        user_id: UserId,
        role: Role,
        /// Required when the new role is guest.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guest_expires: Option<NaiveDate>,
    },
    AssignWorkspaces {
        user_id: UserId,
        workspaces: Vec<WorkspaceId>,
    },
    SetScope {
        user_id: UserId,
        scope: Option<SearchScope>,
    },
    Suspend {
        user_id: UserId,
    },
    Restore {
        user_id: UserId,
    },
    Remove {
        user_id: UserId,
    },
    ResendInvitation {
        user_id: UserId,
    },
    CancelInvitation {
        user_id: UserId,
    },
}

impl MutationKind {
    /// The member the change is done to (every change but an add has one).
    pub fn target(&self) -> Option<UserId> {
        match self {
            MutationKind::AddMember { .. } => None,
            MutationKind::EditMember { user_id, .. }
            | MutationKind::ChangeRole { user_id, .. }
            | MutationKind::AssignWorkspaces { user_id, .. }
            | MutationKind::SetScope { user_id, .. }
            | MutationKind::Suspend { user_id }
            | MutationKind::Restore { user_id }
            | MutationKind::Remove { user_id }
            | MutationKind::ResendInvitation { user_id }
            | MutationKind::CancelInvitation { user_id } => Some(*user_id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResults {
    pub results: Vec<MutationResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResult {
    pub id: MutationId,
    #[serde(flatten)]
    pub outcome: MutationOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MutationOutcome {
    /// Applied; the row's new version (for adds, the new member's id too).
    Applied {
        user_id: UserId,
        version: i64,
    },
    /// The row changed since `base_version`; here is the server's current row (`None` if
    /// it was removed).
    Conflict {
        current: Option<Box<Member>>,
    },
    Rejected {
        code: ErrorCode,
        message: String,
    },
}

// ---- Requests and answers of the REST API beyond the roster ---------------------------
// (added with the server: the bodies of the org, workspace, property, partner, audit and
// TOTP endpoints)

/// `PATCH /api/v1/orgs/{org}`: absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrgEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
}

/// `PATCH /api/v1/orgs/{org}/settings`: absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrgSettingsEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_directory: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_access: Option<Role>,
}

/// `PATCH /api/v1/orgs/{org}/billing`: absent fields stay as they are; an empty
/// `billing_email` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BillingEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_email: Option<String>,
}

/// `POST /api/v1/orgs/{partner}/clients`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewClientOrg {
    pub name: String,
    /// Invited as the client's first admin.
    pub admin_email: String,
}

/// `POST /api/v1/orgs/{org}/workspaces` and `PATCH .../workspaces/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkspaceName {
    pub name: String,
}

/// `POST /api/v1/orgs/{org}/properties`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewPropertyDefinition {
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub kind: PropertyKind,
    #[serde(default)]
    pub required: bool,
}

/// `PATCH /api/v1/orgs/{org}/properties/{id}`: the key and type stay; label and
/// `required` (and a one-of list's options) may change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PropertyDefinitionEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
}

/// `PUT /api/v1/orgs/{org}/members/{id}/role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_expires: Option<NaiveDate>,
}

/// `PUT /api/v1/orgs/{org}/members/{id}/workspaces`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkspaceAssignment {
    pub workspaces: Vec<WorkspaceId>,
}

/// `PUT /api/v1/orgs/{org}/members/{id}/scope`; `null` lifts the restriction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScopeChange {
    pub scope: Option<SearchScope>,
}

/// One entry of the audit log (`GET /api/v1/orgs/{org}/audit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<UserId>,
    /// e.g. `member.added`, `member.role_changed`, `workspace.created`.
    pub action: String,
    /// `user`, `workspace`, `property_definition`, `org`, `billing`.
    pub target_kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
    /// The `X-Orgdesk-Client` header of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// The filters of `GET /api/v1/orgs/{org}/audit`; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `POST /api/v1/me/totp`: the new secret (base32) and the `otpauth://` URL for a QR code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpEnrolment {
    pub secret: String,
    pub otpauth_url: String,
}

/// `POST /api/v1/me/totp/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TotpConfirm {
    pub code: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_tagged_by_kind() {
        let change = Change::MemberRemoved { id: 7 };
        let json = serde_json::to_value(&change).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "member_removed", "id": 7}));
    }

    #[test]
    fn an_org_change_keeps_the_org_kind_apart_from_the_tag() {
        let change = Change::Org {
            org: OrgInfo {
                id: 1,
                name: "Acme".into(),
                kind: OrgKind::Client,
                domains: Vec::new(),
                settings: OrgSettings::default(),
                partner_org_id: Some(2),
                created_at: DateTime::<Utc>::default(),
                version: 3,
            },
        };
        let json = serde_json::to_value(&change).unwrap();
        assert_eq!(json["kind"], "org");
        assert_eq!(json["org"]["kind"], "client");
        assert_eq!(serde_json::from_value::<Change>(json).unwrap(), change);
    }

    #[test]
    fn a_mutation_outcome_is_flattened_into_its_result() {
        let result = MutationResult {
            id: "m-1".into(),
            outcome: MutationOutcome::Rejected {
                code: ErrorCode::LastAdmin,
                message: "no".into(),
            },
        };
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "m-1", "outcome": "rejected", "code": "last_admin", "message": "no"})
        );
    }

    #[test]
    fn a_mutation_names_its_change_type() {
        let json = serde_json::json!({
            "id": "m-2", "base_version": 3,
            "change": {"type": "change_role", "user_id": 5, "role": "member"}
        });
        let mutation: Mutation = serde_json::from_value(json).unwrap();
        assert_eq!(mutation.base_version, Some(3));
        assert!(matches!(
            mutation.change,
            MutationKind::ChangeRole {
                user_id: 5,
                role: Role::Member,
                ..
            }
        ));
    }

    #[test]
    fn a_member_is_written_flat_and_read_back_whole() {
        let json = serde_json::json!({
            "id": 7, "email": "ada@example.com", "role": "guest", "status": "active",
            "display_name": "Ada", "first_name": "Ada", "last_name": "Lovelace",
            "phone": "+441234567890", "title": "Analyst", "company": "Engines",
            "office": "London", "street": "1 Main St", "postal_code": "N1",
            "city": "London", "cell_phone": "+441234567891", "home_phone": "+441234567892",
            "workspaces": [1, 2], "scope": ["@example.com", "bob@example.com"],
            "guest_expires": "2030-01-01", "properties": {"cost_center": "CC-1"},
            "invited_by": 1, "invited_at": "2026-01-01T00:00:00Z",
            "invitation_expires_at": "2026-01-08T00:00:00Z",
            "created_at": "2026-01-01T00:00:00Z", "last_active_at": "2026-02-01T00:00:00Z",
            "last_sign_in_at": "2026-02-01T00:00:00Z", "version": 4
        });
        let member: Member = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(member.profile.last_name.as_deref(), Some("Lovelace"));
        assert_eq!(member.profile.home_phone.as_deref(), Some("+441234567892"));
        assert_eq!(member.scope.as_ref().map(|s| s.entries.len()), Some(2));
        assert_eq!(serde_json::to_value(&member).unwrap(), json);
        // The optional fields may be left out.
        let bare = serde_json::json!({
            "id": 8, "email": "bo@example.com", "role": "member", "status": "pending",
            "created_at": "2026-01-01T00:00:00Z", "version": 1
        });
        let member: Member = serde_json::from_value(bare.clone()).unwrap();
        assert_eq!(member.profile, Profile::default());
        assert_eq!(serde_json::to_value(&member).unwrap(), bare);
    }

    #[test]
    fn unknown_fields_in_a_new_member_are_refused() {
        let json = serde_json::json!({"email": "a@b.example", "role": "member", "rolee": "admin"});
        assert!(serde_json::from_value::<NewMember>(json).is_err());
    }
}
