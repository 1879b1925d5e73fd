//! The orgs the user can open, and switching between them.

use crate::commands::on_reader;
use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;
use chrono::{DateTime, Utc};
use orgdesk_client::CachedOrg;
use orgdesk_domain::wire::OrgId;
use orgdesk_domain::{OrgKind, Role};
use serde::Serialize;
use tauri::State;

/// One org in the switcher.
#[derive(Debug, Serialize)]
pub struct OrgSummary {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    pub role: Role,
    pub via_partner: bool,
    pub partner_org_id: Option<OrgId>,
    pub synced_at: Option<DateTime<Utc>>,
    /// False when the last sync found the caller's role may not list this roster.
    pub listable: bool,
    pub members: u64,
    pub pending_changes: u64,
}

#[derive(Debug, Serialize)]
pub struct OrgList {
    pub current: Option<OrgId>,
    pub orgs: Vec<OrgSummary>,
}

fn summary(
    org: CachedOrg,
    state: &Desktop,
    counts: orgdesk_client::cache::OrgCounts,
) -> OrgSummary {
    OrgSummary {
        listable: state.sync.listable(org.id),
        id: org.id,
        name: org.name,
        kind: org.kind,
        role: org.role,
        via_partner: org.via_partner,
        partner_org_id: org.partner_org_id,
        synced_at: org.synced_at,
        members: counts.members,
        pending_changes: counts.open_changes,
    }
}

#[tauri::command(async)]
pub async fn orgs(state: State<'_, Desktop>) -> IpcResult<OrgList> {
    let active = state.active()?;
    let (orgs, counts) =
        on_reader(&active, |reader| Ok((reader.orgs()?, reader.org_counts()?))).await?;
    let current = active.profile.current_org()?.map(|org| org.id);
    Ok(OrgList {
        current,
        orgs: orgs
            .into_iter()
            .map(|org| {
                let counts = counts.get(&org.id).copied().unwrap_or_default();
                summary(org, &state, counts)
            })
            .collect(),
    })
}

#[tauri::command(async)]
pub async fn switch_org(state: State<'_, Desktop>, org: OrgId) -> IpcResult<OrgSummary> {
    let active = state.active()?;
    let switched = active.profile.switch(&org.to_string())?;
    if switched.id != org {
        return Err(IpcError::new(
            "not_found",
            format!("organization {org} is not in the cache"),
        ));
    }
    let counts = on_reader(&active, move |reader| {
        Ok(reader.org_counts()?.get(&org).copied().unwrap_or_default())
    })
    .await?;
    Ok(summary(switched, &state, counts))
}
