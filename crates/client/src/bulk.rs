//! A bulk action on the roster's selection, turned into one change per member: the desktop
//! stages them through `Outbox::stage_allowed`, which checks each against the rules.

use crate::cache::roster::{RosterQuery, member};
use crate::cache::{Cache, RosterView};
use crate::error::{Error, Result};
use chrono::NaiveDate;
use orgdesk_domain::Role;
use orgdesk_domain::wire::{MemberEdit, MutationKind, OrgId, UserId, WorkspaceId};
use serde::Deserialize;

/// What to do to every selected member.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BulkAction {
    ChangeRole {
        role: Role,
        #[serde(default)]
        guest_expires: Option<NaiveDate>,
    },
    AddWorkspaces {
        workspaces: Vec<WorkspaceId>,
    },
    RemoveWorkspaces {
        workspaces: Vec<WorkspaceId>,
    },
    SetGuestExpiry {
        date: NaiveDate,
    },
    Suspend,
    Restore,
    Remove,
    ResendInvitation,
}

/// The most members one bulk action reaches (an org's whole roster, in practice).
pub const MAX_BULK: usize = 100_000;

impl Cache {
    /// The members a listing shows, every one (a search: its ranked matches): the
    /// selection "all N matching".
    pub fn matching_ids(
        &self,
        org: OrgId,
        view: RosterView,
        query: &RosterQuery,
    ) -> Result<Vec<UserId>> {
        crate::cache::window::matching_ids(&self.lock(), org, view, query)
    }

    /// One change per member of `users` (in that order); members a workspace change would
    /// leave as they are get none.
    pub fn bulk_changes(
        &self,
        org: OrgId,
        users: &[UserId],
        action: &BulkAction,
    ) -> Result<Vec<MutationKind>> {
        if users.len() > MAX_BULK {
            return Err(Error::Invalid(format!(
                "a bulk action reaches at most {MAX_BULK} users, not {}",
                users.len()
            )));
        }
        let conn = self.lock();
        let mut changes = Vec::with_capacity(users.len());
        for &user_id in users {
            let change = match action {
                BulkAction::ChangeRole {
                    role,
                    guest_expires,
                } => MutationKind::ChangeRole {
                    user_id,
                    role: *role,
                    guest_expires: *guest_expires,
                },
                BulkAction::AddWorkspaces { workspaces }
                | BulkAction::RemoveWorkspaces { workspaces } => {
                    let current = member(&conn, org, user_id)?
                        .map(|m| m.workspaces)
                        .unwrap_or_default();
                    let adding = matches!(action, BulkAction::AddWorkspaces { .. });
                    let mut next: Vec<WorkspaceId> = current
                        .iter()
                        .copied()
                        .filter(|w| adding || !workspaces.contains(w))
                        .collect();
                    if adding {
                        next.extend(workspaces.iter().filter(|w| !current.contains(w)));
                    }
                    if next == current {
                        continue;
                    }
                    MutationKind::AssignWorkspaces {
                        user_id,
                        workspaces: next,
                    }
                }
                BulkAction::SetGuestExpiry { date } => MutationKind::EditMember {
                    user_id,
                    edit: MemberEdit {
                        guest_expires: Some(*date),
                        ..MemberEdit::default()
                    },
                },
                BulkAction::Suspend => MutationKind::Suspend { user_id },
                BulkAction::Restore => MutationKind::Restore { user_id },
                BulkAction::Remove => MutationKind::Remove { user_id },
                BulkAction::ResendInvitation => MutationKind::ResendInvitation { user_id },
            };
            changes.push(change);
        }
        Ok(changes)
    }
}
