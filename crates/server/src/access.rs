//! Who may act in an org: the one place a request's caller becomes a `domain::Actor`.
//!
//! The org id comes from the path; the caller's own membership (effectively active) or,
//! for a client org, an active membership of its partner org grants access. Anything
//! else — another tenant's org, a suspended, pending or expired membership — answers 404
//! as if the org did not exist. Access is resolved on every request, so removing or
//! suspending a member ends their access to that org at once, while the same bearer token
//! keeps working for the account's other orgs.

use crate::SharedState;
use crate::auth::Session;
use crate::error::{Error, Result};
use crate::store::{boolean, int, opt_int, opt_str, parse_json, parse_stored, text};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use orgdesk_domain::invariants::effective_status;
use orgdesk_domain::wire::OrgAccess;
use orgdesk_domain::{
    Action, Actor, Denied, ErrorCode, Grant, OrgContext, Role, SearchScope, Status, TargetUser, can,
};

/// The caller as an actor in the org named by the path.
#[derive(Debug, Clone)]
pub struct OrgCaller {
    pub org_id: i64,
    pub account_id: i64,
    pub actor: Actor,
    pub org: OrgContext,
    /// Changes whenever the caller's role or scope (or what the org lets them see) changes.
    pub scope_version: i64,
    pub client_id: Option<String>,
}

impl OrgCaller {
    /// The matrix for an action on the org as a whole.
    pub fn can(&self, action: Action) -> Result<Grant> {
        Ok(can(&self.actor, &self.org, action, None)?)
    }

    /// The matrix for an action done to an existing user. An out-of-scope user answers
    /// exactly like a missing one.
    pub fn can_on(&self, action: Action, target: &TargetUser<'_>) -> Result<Grant> {
        can(&self.actor, &self.org, action, Some(target)).map_err(hide_out_of_scope)
    }
}

pub fn hide_out_of_scope(denied: Denied) -> Error {
    if denied.code == ErrorCode::OutOfScope {
        Error::not_found()
    } else {
        Error::Denied(denied)
    }
}

impl FromRequestParts<SharedState> for OrgCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self> {
        let session = Session::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::not_found())?;
        let org_id = params
            .iter()
            .find(|(name, _)| *name == "org")
            .and_then(|(_, value)| value.parse::<i64>().ok())
            .ok_or_else(Error::not_found)?;
        resolve(state, &session, org_id).await
    }
}

/// Resolves the caller's access to `org_id`, or 404.
pub async fn resolve(state: &crate::AppState, session: &Session, org_id: i64) -> Result<OrgCaller> {
    let row = sqlx::query(
        "SELECT o.kind, o.member_directory, o.partner_access, o.partner_org_id, \
         o.access_version AS org_access_version, m.role, m.status, m.scope, m.guest_expires, \
         m.access_version, m.last_active_at \
         FROM orgs o LEFT JOIN memberships m ON m.org_id = o.id AND m.account_id = $2 \
         WHERE o.id = $1",
    )
    .bind(org_id)
    .bind(session.account_id)
    .fetch_optional(&state.store.pool)
    .await?
    .ok_or_else(Error::not_found)?;
    let org = OrgContext {
        kind: parse_stored(&text(&row, "kind")?, "org kind")?,
        member_directory: boolean(&row, "member_directory")?,
    };
    let org_access_version = int(&row, "org_access_version")?;
    let today = state.clock.today();
    let (actor, scope_version) = if let Some(role) = opt_str(&row, "role")? {
        let role: Role = parse_stored(&role, "role")?;
        let status: Status = parse_stored(&text(&row, "status")?, "status")?;
        let expires = opt_str(&row, "guest_expires")?
            .map(|d| parse_stored(&d, "date"))
            .transpose()?;
        if effective_status(role, status, expires, today) != Status::Active {
            return Err(Error::not_found());
        }
        let scope: Option<SearchScope> = opt_str(&row, "scope")?
            .map(|s| parse_json(&s, "scope"))
            .transpose()?;
        let actor = Actor {
            account_id: session.account_id,
            role,
            via_partner: false,
            scope,
        };
        let now = state.clock.now_ms();
        if opt_int(&row, "last_active_at")?.is_none_or(|at| now - at > 5 * 60 * 1000) {
            // "Last active" is informative, not synced: no change number, no version.
            sqlx::query(
                "UPDATE memberships SET last_active_at = $3 WHERE org_id = $1 AND account_id = $2",
            )
            .bind(org_id)
            .bind(session.account_id)
            .bind(now)
            .execute(&state.store.pool)
            .await?;
        }
        (actor, int(&row, "access_version")? + org_access_version)
    } else {
        let partner_org_id = opt_int(&row, "partner_org_id")?.ok_or_else(Error::not_found)?;
        if !active_member_of(state, partner_org_id, session.account_id).await? {
            return Err(Error::not_found());
        }
        let partner_access: Role = parse_stored(&text(&row, "partner_access")?, "role")?;
        (
            Actor::partner(session.account_id, partner_access),
            org_access_version,
        )
    };
    Ok(OrgCaller {
        org_id,
        account_id: session.account_id,
        actor,
        org,
        scope_version,
        client_id: session.client_id.clone(),
    })
}

async fn active_member_of(state: &crate::AppState, org_id: i64, account_id: i64) -> Result<bool> {
    let row = sqlx::query(
        "SELECT role, status, guest_expires FROM memberships WHERE org_id = $1 AND account_id = $2",
    )
    .bind(org_id)
    .bind(account_id)
    .fetch_optional(&state.store.pool)
    .await?;
    let Some(row) = row else { return Ok(false) };
    let role: Role = parse_stored(&text(&row, "role")?, "role")?;
    let status: Status = parse_stored(&text(&row, "status")?, "status")?;
    let expires = opt_str(&row, "guest_expires")?
        .map(|d| parse_stored(&d, "date"))
        .transpose()?;
    Ok(effective_status(role, status, expires, state.clock.today()) == Status::Active)
}

/// `GET /api/v1/me/orgs`: own active memberships, then the clients of partner orgs the
/// caller is an active member of.
pub async fn my_orgs(state: &crate::AppState, session: &Session) -> Result<Vec<OrgAccess>> {
    let today = state.clock.today();
    let rows = sqlx::query(
        "SELECT o.id, o.name, o.kind, o.partner_org_id, o.access_version AS org_access_version, \
         m.role, m.status, m.guest_expires, m.access_version \
         FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.account_id = $1 ORDER BY o.name, o.id",
    )
    .bind(session.account_id)
    .fetch_all(&state.store.pool)
    .await?;
    let mut orgs = Vec::new();
    let mut partner_orgs = Vec::new();
    let mut own_orgs = Vec::new();
    for row in &rows {
        own_orgs.push(int(row, "id")?);
        let role: Role = parse_stored(&text(row, "role")?, "role")?;
        let status: Status = parse_stored(&text(row, "status")?, "status")?;
        let expires = opt_str(row, "guest_expires")?
            .map(|d| parse_stored(&d, "date"))
            .transpose()?;
        if effective_status(role, status, expires, today) != Status::Active {
            continue;
        }
        let kind = parse_stored(&text(row, "kind")?, "org kind")?;
        let id = int(row, "id")?;
        if kind == orgdesk_domain::OrgKind::Partner {
            partner_orgs.push(id);
        }
        orgs.push(OrgAccess {
            id,
            name: text(row, "name")?,
            kind,
            role,
            via_partner: false,
            partner_org_id: opt_int(row, "partner_org_id")?,
            scope_version: int(row, "access_version")? + int(row, "org_access_version")?,
        });
    }
    for partner in partner_orgs {
        let clients = sqlx::query(
            "SELECT id, name, partner_access, access_version FROM orgs WHERE partner_org_id = $1 ORDER BY name, id",
        )
        .bind(partner)
        .fetch_all(&state.store.pool)
        .await?;
        for row in &clients {
            let id = int(row, "id")?;
            // An own membership, even a suspended one, decides over partner access.
            if own_orgs.contains(&id) || orgs.iter().any(|o| o.id == id) {
                continue;
            }
            orgs.push(OrgAccess {
                id,
                name: text(row, "name")?,
                kind: orgdesk_domain::OrgKind::Client,
                role: parse_stored(&text(row, "partner_access")?, "role")?,
                via_partner: true,
                partner_org_id: Some(partner),
                scope_version: int(row, "access_version")?,
            });
        }
    }
    Ok(orgs)
}
