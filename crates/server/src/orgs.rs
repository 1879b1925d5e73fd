//! Organizations and what hangs off them: org info, settings, billing, deletion, partner
//! clients, workspaces, property definitions and the audit log.

use crate::access::OrgCaller;
use crate::auth;
use crate::error::{Error, Result};
use crate::mail;
use crate::members::{self, encode_workspaces};
use crate::sql::{self, Query};
use crate::store::{
    self, AuditEvent, Clock, DAY_MS, Store, TOMBSTONE_PROPERTY, TOMBSTONE_WORKSPACE, Tx, boolean,
    int, opt_int, opt_str, parse_json, parse_stored, text,
};
use crate::{AppState, CreatedOrg, NewOrg};
use orgdesk_domain::invariants::INVITATION_DAYS;
use orgdesk_domain::validate;
use orgdesk_domain::wire::{
    AuditEvent as AuditEntry, AuditQuery, BillingEdit, BillingInfo, NewClientOrg,
    NewPropertyDefinition, OrgEdit, OrgInfo, OrgSettings, OrgSettingsEdit, Page, Profile,
    PropertyDefinition, PropertyDefinitionEdit, PropertyKind, Workspace, WorkspaceName,
};
use orgdesk_domain::{Action, ErrorCode, Grant, OrgKind};
use sqlx::Any;

pub const ORG_COLUMNS: &str = "id, name, kind, domains, member_directory, partner_access, partner_org_id, created_at, version, seq";

pub fn org_from_row(row: &sqlx::any::AnyRow) -> Result<OrgInfo> {
    Ok(OrgInfo {
        id: int(row, "id")?,
        name: text(row, "name")?,
        kind: parse_stored(&text(row, "kind")?, "org kind")?,
        domains: parse_json(&text(row, "domains")?, "domains")?,
        settings: OrgSettings {
            member_directory: boolean(row, "member_directory")?,
            partner_access: parse_stored(&text(row, "partner_access")?, "role")?,
        },
        partner_org_id: opt_int(row, "partner_org_id")?,
        created_at: store::to_time(int(row, "created_at")?),
        version: int(row, "version")?,
    })
}

pub async fn load_org<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    org_id: i64,
) -> Result<OrgInfo> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM orgs WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .fetch_optional(executor)
        .await?
        .ok_or_else(Error::not_found)?;
    org_from_row(&row)
}

fn check_version(if_match: Option<i64>, current: i64) -> Result<()> {
    match if_match {
        Some(expected) if expected != current => Err(Error::with_message(
            ErrorCode::VersionMismatch,
            format!(
                "This changed since you loaded it (version {current} now, {expected} then); reload and try again."
            ),
        )),
        _ => Ok(()),
    }
}

fn audit<'a>(
    caller: &'a OrgCaller,
    action: &'a str,
    target_kind: &'a str,
    target_id: Option<i64>,
) -> AuditEvent<'a> {
    AuditEvent {
        org_id: caller.org_id,
        actor_id: Some(caller.account_id),
        client_id: caller.client_id.as_deref(),
        action,
        target_kind,
        target_id,
        ..AuditEvent::default()
    }
}

/// Creates an org and its first admin in one transaction: invited (a pending membership
/// and an invitation mail), or active at once when a password hash is given or the
/// account can already sign in.
#[allow(clippy::too_many_arguments)]
async fn create_org_with_admin(
    tx: &mut Tx,
    name: &str,
    kind: OrgKind,
    partner_org_id: Option<i64>,
    admin_email: &str,
    password_hash: Option<String>,
    invited_by: Option<i64>,
    base_url: &str,
    now: i64,
) -> Result<CreatedOrg> {
    let name = validate::org_name("name", name)?;
    let email = validate::email(admin_email)?;
    let org_id: i64 = sqlx::query_scalar(
        "INSERT INTO orgs (name, kind, partner_org_id, created_at, change_seq, seq) VALUES ($1, $2, $3, $4, 1, 1) RETURNING id",
    )
    .bind(&name)
    .bind(kind.as_str())
    .bind(partner_org_id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let existing = sqlx::query("SELECT id, password_hash FROM accounts WHERE email = $1")
        .bind(&email)
        .fetch_optional(&mut **tx)
        .await?;
    let (admin_id, can_sign_in) = match existing {
        Some(row) => (int(&row, "id")?, opt_str(&row, "password_hash")?.is_some()),
        None => (
            members::insert_account(tx, &email, &Profile::default(), now).await?,
            false,
        ),
    };
    if !can_sign_in && let Some(hash) = &password_hash {
        sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1")
            .bind(admin_id)
            .bind(hash)
            .execute(&mut **tx)
            .await?;
    }
    let active = can_sign_in || password_hash.is_some();
    let (token_hash, expires) = if active {
        (None, None)
    } else {
        let (token, hash) = auth::new_token()?;
        let expires = now + INVITATION_DAYS * DAY_MS;
        let body = format!(
            "You are invited to administer {name} on Orgdesk.\n\nAccept the invitation here:\n{base_url}/invite/{token}\n\nThe link works until {}.\n",
            store::to_time(expires).format("%Y-%m-%d %H:%M UTC")
        );
        mail::enqueue(
            tx,
            &email,
            &format!("You are invited to {name} on Orgdesk"),
            &body,
            now,
        )
        .await?;
        (Some(hash), Some(expires))
    };
    sqlx::query(
        "INSERT INTO memberships (org_id, account_id, role, status, invited_by, invited_at, invite_token_hash, \
         invite_expires_at, created_at, seq, version) VALUES ($1, $2, 'admin', $3, $4, $5, $6, $7, $5, 1, 1)",
    )
    .bind(org_id)
    .bind(admin_id)
    .bind(if active { "active" } else { "pending" })
    .bind(invited_by)
    .bind(now)
    .bind(token_hash)
    .bind(expires)
    .execute(&mut **tx)
    .await?;
    store::record_audit(
        tx,
        AuditEvent {
            org_id,
            actor_id: invited_by,
            action: "org.created",
            target_kind: "org",
            target_id: Some(org_id),
            after: Some(serde_json::json!({"name": name, "kind": kind, "admin_email": email})),
            ..AuditEvent::default()
        },
        now,
    )
    .await?;
    Ok(CreatedOrg {
        org_id,
        admin_id,
        invitation_sent_to: (!active).then_some(email),
    })
}

pub async fn bootstrap(
    store: &Store,
    clock: &Clock,
    base_url: &str,
    new: NewOrg,
) -> Result<CreatedOrg> {
    let hash = match new.admin_password {
        Some(password) => {
            validate::password(&password)?;
            Some(auth::hash_password(password).await?)
        }
        None => None,
    };
    let kind = if new.partner {
        OrgKind::Partner
    } else {
        OrgKind::Standard
    };
    let mut tx = store.begin().await?;
    let created = create_org_with_admin(
        &mut tx,
        &new.name,
        kind,
        None,
        &new.admin_email,
        hash,
        None,
        base_url,
        clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn info(state: &AppState, caller: &OrgCaller) -> Result<OrgInfo> {
    caller.can(Action::ViewOrg)?;
    load_org(&state.store.pool, caller.org_id).await
}

pub async fn edit(
    state: &AppState,
    caller: &OrgCaller,
    edit: OrgEdit,
    if_match: Option<i64>,
) -> Result<OrgInfo> {
    caller.can(Action::EditOrg)?;
    let name = edit
        .name
        .as_deref()
        .map(|n| validate::org_name("name", n))
        .transpose()?;
    let domains = edit
        .domains
        .map(|domains| {
            domains
                .iter()
                .map(|d| {
                    let d = d.trim().trim_start_matches('@').to_lowercase();
                    validate::email(&format!("x@{d}"))
                        .map(|_| d.clone())
                        .map_err(|_| {
                            Error::with_message(
                                ErrorCode::InvalidInput,
                                format!("domains: '{d}' is not a domain name"),
                            )
                        })
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    let mut tx = state.store.begin().await?;
    let seq = store::next_seq(&mut tx, caller.org_id).await?;
    let before = load_org(&mut *tx, caller.org_id).await?;
    check_version(if_match, before.version)?;
    sqlx::query(
        "UPDATE orgs SET name = $2, domains = $3, seq = $4, version = version + 1 WHERE id = $1",
    )
    .bind(caller.org_id)
    .bind(name.clone().unwrap_or_else(|| before.name.clone()))
    .bind(
        serde_json::to_string(&domains.clone().unwrap_or_else(|| before.domains.clone()))
            .map_err(Error::internal)?,
    )
    .bind(seq)
    .execute(&mut *tx)
    .await?;
    let after = load_org(&mut *tx, caller.org_id).await?;
    let mut event = audit(caller, "org.updated", "org", Some(caller.org_id));
    event.before = Some(serde_json::json!({"name": before.name, "domains": before.domains}));
    event.after = Some(serde_json::json!({"name": after.name, "domains": after.domains}));
    store::record_audit(&mut tx, event, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn settings(state: &AppState, caller: &OrgCaller) -> Result<OrgSettings> {
    Ok(info(state, caller).await?.settings)
}

pub async fn edit_settings(
    state: &AppState,
    caller: &OrgCaller,
    edit: OrgSettingsEdit,
) -> Result<OrgSettings> {
    caller.can(Action::EditOrg)?;
    let mut tx = state.store.begin().await?;
    let seq = store::next_seq(&mut tx, caller.org_id).await?;
    let before = load_org(&mut *tx, caller.org_id).await?.settings;
    let after = OrgSettings {
        member_directory: edit.member_directory.unwrap_or(before.member_directory),
        partner_access: edit.partner_access.unwrap_or(before.partner_access),
    };
    // What the org lets people see changed: their caches of it must be rebuilt.
    sqlx::query(
        "UPDATE orgs SET member_directory = $2, partner_access = $3, seq = $4, version = version + 1, \
         access_version = access_version + $5 WHERE id = $1",
    )
    .bind(caller.org_id)
    .bind(i64::from(after.member_directory))
    .bind(after.partner_access.as_str())
    .bind(seq)
    .bind(i64::from(after != before))
    .execute(&mut *tx)
    .await?;
    let mut event = audit(caller, "org.settings_changed", "org", Some(caller.org_id));
    event.before = Some(serde_json::json!(before));
    event.after = Some(serde_json::json!(after));
    store::record_audit(&mut tx, event, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(after)
}

async fn load_billing<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    org_id: i64,
) -> Result<BillingInfo> {
    let row = sqlx::query("SELECT plan, seats, billing_email FROM orgs WHERE id = $1")
        .bind(org_id)
        .fetch_one(executor)
        .await?;
    Ok(BillingInfo {
        plan: text(&row, "plan")?,
        seats: u32::try_from(int(&row, "seats")?).unwrap_or(0),
        billing_email: opt_str(&row, "billing_email")?,
    })
}

pub async fn billing(state: &AppState, caller: &OrgCaller) -> Result<BillingInfo> {
    caller.can(Action::ViewBilling)?;
    load_billing(&state.store.pool, caller.org_id).await
}

pub async fn edit_billing(
    state: &AppState,
    caller: &OrgCaller,
    edit: BillingEdit,
) -> Result<BillingInfo> {
    caller.can(Action::EditBilling)?;
    let plan = edit
        .plan
        .as_deref()
        .map(|p| {
            validate::text("plan", p, 60)?.ok_or_else(|| validate::Invalid {
                field: "plan",
                reason: "a plan is required".into(),
            })
        })
        .transpose()?;
    let email = edit
        .billing_email
        .as_deref()
        .map(|e| {
            if e.trim().is_empty() {
                Ok(None)
            } else {
                validate::email(e).map(Some)
            }
        })
        .transpose()?;
    let mut tx = state.store.begin().await?;
    let before = load_billing(&mut *tx, caller.org_id).await?;
    let after = BillingInfo {
        plan: plan.unwrap_or_else(|| before.plan.clone()),
        seats: edit.seats.unwrap_or(before.seats),
        billing_email: email.unwrap_or_else(|| before.billing_email.clone()),
    };
    sqlx::query("UPDATE orgs SET plan = $2, seats = $3, billing_email = $4 WHERE id = $1")
        .bind(caller.org_id)
        .bind(&after.plan)
        .bind(i64::from(after.seats))
        .bind(&after.billing_email)
        .execute(&mut *tx)
        .await?;
    let mut event = audit(caller, "billing.updated", "billing", Some(caller.org_id));
    event.before = Some(serde_json::json!(before));
    event.after = Some(serde_json::json!(after));
    store::record_audit(&mut tx, event, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(after)
}

/// Cancels the subscription (the matrix puts it with deleting the org): the plan becomes
/// `cancelled`; the org and its users stay.
pub async fn cancel_subscription(state: &AppState, caller: &OrgCaller) -> Result<BillingInfo> {
    caller.can(Action::DeleteOrg)?;
    let mut tx = state.store.begin().await?;
    let before = load_billing(&mut *tx, caller.org_id).await?;
    if before.plan == "cancelled" {
        return Err(Error::with_message(
            ErrorCode::InvalidState,
            "The subscription is already cancelled.",
        ));
    }
    sqlx::query("UPDATE orgs SET plan = 'cancelled' WHERE id = $1")
        .bind(caller.org_id)
        .execute(&mut *tx)
        .await?;
    let after = BillingInfo {
        plan: "cancelled".into(),
        ..before.clone()
    };
    let mut event = audit(caller, "billing.cancelled", "billing", Some(caller.org_id));
    event.before = Some(serde_json::json!(before));
    event.after = Some(serde_json::json!(after));
    store::record_audit(&mut tx, event, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(after)
}

/// Deletes the org and everything in it. A partner org with clients is refused: the
/// clients would be left without their partner.
pub async fn delete(state: &AppState, caller: &OrgCaller) -> Result<()> {
    caller.can(Action::DeleteOrg)?;
    let mut tx = state.store.begin().await?;
    store::next_seq(&mut tx, caller.org_id).await?;
    let clients: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orgs WHERE partner_org_id = $1")
        .bind(caller.org_id)
        .fetch_one(&mut *tx)
        .await?;
    if clients > 0 {
        return Err(Error::with_message(
            ErrorCode::InvalidState,
            format!(
                "This partner organization still has {clients} client organization(s); delete them first."
            ),
        ));
    }
    for table in [
        "audit_events",
        "tombstones",
        "memberships",
        "workspaces",
        "property_definitions",
        "mutation_results",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE org_id = $1"
        )))
        .bind(caller.org_id)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DELETE FROM orgs WHERE id = $1")
        .bind(caller.org_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(
        org = caller.org_id,
        by = caller.account_id,
        "organization deleted"
    );
    Ok(())
}

pub async fn create_client(
    state: &AppState,
    caller: &OrgCaller,
    new: NewClientOrg,
) -> Result<OrgInfo> {
    caller.can(Action::CreateClientOrg)?;
    let mut tx = state.store.begin().await?;
    store::next_seq(&mut tx, caller.org_id).await?;
    let now = state.clock.now_ms();
    let created = create_org_with_admin(
        &mut tx,
        &new.name,
        OrgKind::Client,
        Some(caller.org_id),
        &new.admin_email,
        None,
        Some(caller.account_id),
        &state.public_base_url(),
        now,
    )
    .await?;
    let mut event = audit(caller, "client.created", "org", Some(created.org_id));
    event.after = Some(serde_json::json!({"name": new.name, "admin_email": new.admin_email}));
    store::record_audit(&mut tx, event, now).await?;
    let info = load_org(&mut *tx, created.org_id).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(info)
}

pub async fn clients(state: &AppState, caller: &OrgCaller) -> Result<Vec<OrgInfo>> {
    caller.can(Action::ViewOrg)?;
    let sql = format!("SELECT {ORG_COLUMNS} FROM orgs WHERE partner_org_id = $1 ORDER BY name, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(caller.org_id)
        .fetch_all(&state.store.pool)
        .await?;
    rows.iter().map(org_from_row).collect()
}

// ---- Workspaces -------------------------------------------------------------------------

fn workspace_from_row(row: &sqlx::any::AnyRow) -> Result<Workspace> {
    Ok(Workspace {
        id: int(row, "id")?,
        name: text(row, "name")?,
        version: int(row, "version")?,
    })
}

/// The workspace ids granted to the caller in this org (for members' "granted only").
async fn granted_workspaces(state: &AppState, caller: &OrgCaller) -> Result<Vec<i64>> {
    let granted: Option<String> = sqlx::query_scalar(
        "SELECT workspaces FROM memberships WHERE org_id = $1 AND account_id = $2",
    )
    .bind(caller.org_id)
    .bind(caller.account_id)
    .fetch_optional(&state.store.pool)
    .await?;
    Ok(granted
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| id.parse().ok())
        .collect())
}

pub async fn workspaces(state: &AppState, caller: &OrgCaller) -> Result<Vec<Workspace>> {
    let grant = caller.can(Action::ViewAllWorkspaces)?;
    let rows =
        sqlx::query("SELECT id, name, version FROM workspaces WHERE org_id = $1 ORDER BY name, id")
            .bind(caller.org_id)
            .fetch_all(&state.store.pool)
            .await?;
    let mut all: Vec<Workspace> = rows.iter().map(workspace_from_row).collect::<Result<_>>()?;
    if grant == Grant::Limited {
        let granted = granted_workspaces(state, caller).await?;
        all.retain(|w| granted.contains(&w.id));
    }
    Ok(all)
}

fn name_taken(error: Error, what: &str, name: &str) -> Error {
    match &error {
        Error::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Error::with_message(
                ErrorCode::InvalidInput,
                format!("name: this organization already has a {what} '{name}'"),
            )
        }
        _ => error,
    }
}

pub async fn create_workspace(
    state: &AppState,
    caller: &OrgCaller,
    new: WorkspaceName,
) -> Result<Workspace> {
    caller.can(Action::ManageWorkspaces)?;
    let name = validate::org_name("name", &new.name)?;
    let mut tx = state.store.begin().await?;
    let seq = store::next_seq(&mut tx, caller.org_id).await?;
    let row = sqlx::query("INSERT INTO workspaces (org_id, name, seq, version) VALUES ($1, $2, $3, 1) RETURNING id, name, version")
        .bind(caller.org_id)
        .bind(&name)
        .bind(seq)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| name_taken(e.into(), "workspace", &name))?;
    let workspace = workspace_from_row(&row)?;
    let mut event = audit(caller, "workspace.created", "workspace", Some(workspace.id));
    event.after = Some(serde_json::json!({"name": name}));
    store::record_audit(&mut tx, event, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(workspace)
}

async fn load_workspace(tx: &mut Tx, org_id: i64, id: i64) -> Result<Workspace> {
    let row = sqlx::query("SELECT id, name, version FROM workspaces WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(Error::not_found)?;
    workspace_from_row(&row)
}

pub async fn rename_workspace(
    state: &AppState,
    caller: &OrgCaller,
    id: i64,
    new: WorkspaceName,
    if_match: Option<i64>,
) -> Result<Workspace> {
    caller.can(Action::ManageWorkspaces)?;
    let name = validate::org_name("name", &new.name)?;
    let mut tx = state.store.begin().await?;
    let seq = store::next_seq(&mut tx, caller.org_id).await?;
    let before = load_workspace(&mut tx, caller.org_id, id).await?;
    check_version(if_match, before.version)?;
    let row = sqlx::query("UPDATE workspaces SET name = $3, seq = $4, version = version + 1 WHERE org_id = $1 AND id = $2 RETURNING id, name, version")
        .bind(caller.org_id)
        .bind(id)
        .bind(&name)
        .bind(seq)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| name_taken(e.into(), "workspace", &name))?;
    let mut event = audit(caller, "workspace.renamed", "workspace", Some(id));
    event.before = Some(serde_json::json!({"name": before.name}));
    event.after = Some(serde_json::json!({"name": name}));
    store::record_audit(&mut tx, event, state.clock.now_ms()).await?;
    tx.commit().await?;
    workspace_from_row(&row)
}

/// Deleting a workspace also takes it from every member granted it (their rows change).
pub async fn delete_workspace(
    state: &AppState,
    caller: &OrgCaller,
    id: i64,
    if_match: Option<i64>,
) -> Result<()> {
    caller.can(Action::ManageWorkspaces)?;
    let mut tx = state.store.begin().await?;
    let seq = store::next_seq(&mut tx, caller.org_id).await?;
    let before = load_workspace(&mut tx, caller.org_id, id).await?;
    check_version(if_match, before.version)?;
    let marker = encode_workspaces(&[id]);
    sqlx::query(
        "UPDATE memberships SET workspaces = REPLACE(workspaces, $2, ','), seq = $3, version = version + 1 \
         WHERE org_id = $1 AND workspaces LIKE $4",
    )
    .bind(caller.org_id)
    .bind(&marker)
    .bind(seq)
    .bind(format!("%{marker}%"))
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM workspaces WHERE org_id = $1 AND id = $2")
        .bind(caller.org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let now = state.clock.now_ms();
    store::add_tombstone(
        &mut tx,
        caller.org_id,
        TOMBSTONE_WORKSPACE,
        id,
        None,
        seq,
        now,
    )
    .await?;
    let mut event = audit(caller, "workspace.deleted", "workspace", Some(id));
    event.before = Some(serde_json::json!({"name": before.name}));
    store::record_audit(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(())
}

// ---- Property definitions --------------------------------------------------------------

pub async fn properties(state: &AppState, caller: &OrgCaller) -> Result<Vec<PropertyDefinition>> {
    caller.can(Action::ViewOrg)?;
    members::property_definitions(&state.store.pool, caller.org_id).await
}

fn valid_key(key: &str) -> Result<String> {
    let key = key.trim().to_owned();
    let ok = (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(key)
    } else {
        Err(Error::with_message(
            ErrorCode::InvalidInput,
            format!(
                "key: '{key}' must be 1 to 40 lower-case letters, digits or _, starting with a letter"
            ),
        ))
    }
}

fn valid_options(options: &[String]) -> Result<Vec<String>> {
    let mut clean = Vec::new();
    for option in options {
        if let Some(option) = validate::text("options", option, 100)?
            && !clean.contains(&option)
        {
            clean.push(option);
        }
    }
    if clean.is_empty() {
        return Err(Error::with_message(
            ErrorCode::InvalidInput,
            "options: a one-of list needs at least one option",
        ));
    }
    Ok(clean)
}

pub async fn create_property(
    state: &AppState,
    caller: &OrgCaller,
    new: NewPropertyDefinition,
) -> Result<PropertyDefinition> {
    caller.can(Action::ManagePropertyDefinitions)?;
    let key = valid_key(&new.key)?;
    let label = validate::org_name("label", &new.label)?;
    let kind = match new.kind {
        PropertyKind::OneOf { options } => PropertyKind::OneOf {
            options: valid_options(&options)?,
        },
        other => other,
    };
    let mut tx = state.store.begin().await?;
    let seq = store::next_seq(&mut tx, caller.org_id).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO property_definitions (org_id, key, label, kind, required, seq, version) VALUES ($1, $2, $3, $4, $5, $6, 1) RETURNING id",
    )
    .bind(caller.org_id)
    .bind(&key)
    .bind(&label)
    .bind(serde_json::to_string(&kind).map_err(Error::internal)?)
    .bind(i64::from(new.required))
    .bind(seq)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| name_taken(e.into(), "property", &key))?;
    let definition = PropertyDefinition {
        id,
        key,
        label,
        kind,
        required: new.required,
        version: 1,
    };
    let mut event = audit(caller, "property.created", "property_definition", Some(id));
    event.after = Some(serde_json::json!(definition));
    store::record_audit(&mut tx, event, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(definition)
}

async fn load_property(tx: &mut Tx, org_id: i64, id: i64) -> Result<PropertyDefinition> {
    members::property_definitions(&mut **tx, org_id)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(Error::not_found)
}

pub async fn edit_property(
    state: &AppState,
    caller: &OrgCaller,
    id: i64,
    edit: PropertyDefinitionEdit,
    if_match: Option<i64>,
) -> Result<PropertyDefinition> {
    caller.can(Action::ManagePropertyDefinitions)?;
    let mut tx = state.store.begin().await?;
    let seq = store::next_seq(&mut tx, caller.org_id).await?;
    let before = load_property(&mut tx, caller.org_id, id).await?;
    check_version(if_match, before.version)?;
    let kind = match (&before.kind, &edit.options) {
        (PropertyKind::OneOf { .. }, Some(options)) => PropertyKind::OneOf {
            options: valid_options(options)?,
        },
        (_, Some(_)) => {
            return Err(Error::with_message(
                ErrorCode::InvalidInput,
                "options: only a one-of property has options",
            ));
        }
        (kind, None) => kind.clone(),
    };
    let after = PropertyDefinition {
        label: edit
            .label
            .as_deref()
            .map(|l| validate::org_name("label", l))
            .transpose()?
            .unwrap_or_else(|| before.label.clone()),
        required: edit.required.unwrap_or(before.required),
        kind,
        version: before.version + 1,
        ..before.clone()
    };
    sqlx::query("UPDATE property_definitions SET label = $3, kind = $4, required = $5, seq = $6, version = version + 1 WHERE org_id = $1 AND id = $2")
        .bind(caller.org_id)
        .bind(id)
        .bind(&after.label)
        .bind(serde_json::to_string(&after.kind).map_err(Error::internal)?)
        .bind(i64::from(after.required))
        .bind(seq)
        .execute(&mut *tx)
        .await?;
    let mut event = audit(caller, "property.updated", "property_definition", Some(id));
    event.before = Some(serde_json::json!(before));
    event.after = Some(serde_json::json!(after));
    store::record_audit(&mut tx, event, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(after)
}

/// Members' stored values of a deleted property stay in storage but are no longer
/// validated or required.
pub async fn delete_property(
    state: &AppState,
    caller: &OrgCaller,
    id: i64,
    if_match: Option<i64>,
) -> Result<()> {
    caller.can(Action::ManagePropertyDefinitions)?;
    let mut tx = state.store.begin().await?;
    let seq = store::next_seq(&mut tx, caller.org_id).await?;
    let before = load_property(&mut tx, caller.org_id, id).await?;
    check_version(if_match, before.version)?;
    sqlx::query("DELETE FROM property_definitions WHERE org_id = $1 AND id = $2")
        .bind(caller.org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let now = state.clock.now_ms();
    store::add_tombstone(
        &mut tx,
        caller.org_id,
        TOMBSTONE_PROPERTY,
        id,
        None,
        seq,
        now,
    )
    .await?;
    let mut event = audit(caller, "property.deleted", "property_definition", Some(id));
    event.before = Some(serde_json::json!(before));
    store::record_audit(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(())
}

// ---- Audit log ----------------------------------------------------------------------------

/// `GET /api/v1/orgs/{org}/audit`: newest first. User admins see user events only; a scoped
/// actor sees user events only about users in scope.
pub async fn audit_log(
    state: &AppState,
    caller: &OrgCaller,
    filter: AuditQuery,
) -> Result<Page<AuditEntry>> {
    let grant = caller.can(Action::ViewAuditLog)?;
    let limit = filter
        .limit
        .unwrap_or(members::DEFAULT_PAGE)
        .clamp(1, members::MAX_PAGE);
    let mut q = Query::new("");
    let org = q.int(caller.org_id);
    let mut clauses = vec![format!("e.org_id = {org}")];
    if grant == Grant::Limited {
        clauses.push("e.target_kind = 'user'".into());
    }
    if caller.actor.scope.is_some() {
        let scope = sql::scope_filter(
            &mut q,
            &caller.actor,
            "e.target_id",
            "e.target_email",
            "e.target_domain",
        );
        clauses.push(format!("(e.target_kind <> 'user' OR {scope})"));
    }
    if let Some(action) = &filter.action {
        let p = q.text(action.clone());
        clauses.push(format!("e.action = {p}"));
    }
    if let Some(target) = filter.target {
        let p = q.int(target);
        clauses.push(format!("e.target_id = {p}"));
    }
    if let Some(actor) = filter.actor {
        let p = q.int(actor);
        clauses.push(format!("e.actor_id = {p}"));
    }
    if let Some(from) = filter.from {
        let p = q.int(from.timestamp_millis());
        clauses.push(format!("e.at >= {p}"));
    }
    if let Some(to) = filter.to {
        let p = q.int(to.timestamp_millis());
        clauses.push(format!("e.at < {p}"));
    }
    if let Some(after) = &filter.after {
        let id: i64 = after.parse().map_err(|_| {
            Error::with_message(ErrorCode::InvalidInput, "The page cursor is not valid.")
        })?;
        let p = q.int(id);
        clauses.push(format!("e.id < {p}"));
    }
    let lim = q.int(i64::from(limit) + 1);
    q.push(&format!(
        "SELECT e.id, e.actor_id, e.action, e.target_kind, e.target_id, e.target_email, e.before_json, \
         e.after_json, e.client_id, e.at FROM audit_events e WHERE {} ORDER BY e.id DESC LIMIT {lim}",
        clauses.join(" AND ")
    ));
    let rows = q.fetch_all(&state.store.pool).await?;
    let mut items = Vec::new();
    let mut next = None;
    for (index, row) in rows.iter().enumerate() {
        if index == limit as usize {
            next = items.last().map(|e: &AuditEntry| e.id.to_string());
            break;
        }
        items.push(AuditEntry {
            id: int(row, "id")?,
            actor_id: opt_int(row, "actor_id")?,
            action: text(row, "action")?,
            target_kind: text(row, "target_kind")?,
            target_id: opt_int(row, "target_id")?,
            target_email: opt_str(row, "target_email")?,
            before: opt_str(row, "before_json")?
                .map(|j| parse_json(&j, "audit before"))
                .transpose()?,
            after: opt_str(row, "after_json")?
                .map(|j| parse_json(&j, "audit after"))
                .transpose()?,
            client_id: opt_str(row, "client_id")?,
            at: store::to_time(int(row, "at")?),
        });
    }
    Ok(Page { items, next })
}
