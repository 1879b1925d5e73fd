//! The permission matrix of SPEC.md §2: who may do what to whom in an organization.
//!
//! [`can`] is the one place the server and the client ask. It answers with the grant
//! (full, or limited as the matrix's footnotes say) or a [`Denied`] carrying SPEC's code.
//! The order of its checks is part of the contract: scope first (an out-of-scope user must
//! look like no user at all), then the matrix, then the self rules, then the target's role.

use crate::error::{Denied, ErrorCode};
use crate::role::{OrgKind, Role, Status};
use crate::scope::SearchScope;
use serde::{Deserialize, Serialize};

/// Who is acting, in the organization being acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: i64,
    /// The effective role: the membership's role, or the org's `partner_access` setting
    /// for a member of the partner org acting in a client org.
    pub role: Role,
    /// Acting through partner access rather than a membership of this org.
    pub via_partner: bool,
    /// The membership's search scope, if restricted. Partner access carries none.
    pub scope: Option<SearchScope>,
}

impl Actor {
    /// An unrestricted member of the org.
    pub fn member(account_id: i64, role: Role) -> Self {
        Actor {
            account_id,
            role,
            via_partner: false,
            scope: None,
        }
    }

    /// A member of the partner org acting in one of its client orgs.
    pub fn partner(account_id: i64, partner_access: Role) -> Self {
        Actor {
            account_id,
            role: partner_access,
            via_partner: true,
            scope: None,
        }
    }

    /// Whether this actor may see the user with this account and address at all: every
    /// listing, search, export and feed filters with this.
    pub fn sees(&self, account_id: Option<i64>, email: &str) -> bool {
        account_id == Some(self.account_id)
            || self.scope.as_ref().is_none_or(|scope| scope.allows(email))
    }
}

/// What [`can`] needs to know of the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgContext {
    pub kind: OrgKind,
    /// Members and guests may see the member directory (SPEC.md §2 note 1).
    pub member_directory: bool,
}

/// The user an action is done to (or, for [`Action::AddUser`], the user to be added).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetUser<'a> {
    /// The account, if it exists (an added user may have none yet).
    pub account_id: Option<i64>,
    pub email: &'a str,
    /// The current role; for [`Action::AddUser`], the role being granted.
    pub role: Role,
    pub status: Status,
}

/// Everything the matrix has a row for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    ViewOrg,
    EditOrg,
    ViewBilling,
    EditBilling,
    /// Cancel the subscription or delete the org.
    DeleteOrg,
    ListUsers,
    ViewUser,
    AddUser,
    EditProfile,
    ChangeRole {
        to: Role,
    },
    AssignWorkspaces,
    RemoveUser,
    SuspendUser,
    RestoreUser,
    ResendInvitation,
    CancelInvitation,
    SetScope,
    ManageWorkspaces,
    ViewAllWorkspaces,
    ManagePropertyDefinitions,
    ExportUsers,
    ViewAuditLog,
    CreateClientOrg,
}

impl Action {
    /// Whether the action is done to one user (and so needs a [`TargetUser`]).
    pub const fn has_target(self) -> bool {
        matches!(
            self,
            Action::ViewUser
                | Action::AddUser
                | Action::EditProfile
                | Action::ChangeRole { .. }
                | Action::AssignWorkspaces
                | Action::RemoveUser
                | Action::SuspendUser
                | Action::RestoreUser
                | Action::ResendInvitation
                | Action::CancelInvitation
                | Action::SetScope
        )
    }
}

/// What the matrix grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    Full,
    /// The matrix's narrowed forms: the member directory (name, email, role, status) for
    /// members and guests, granted workspaces only, the billing admin's export columns,
    /// the user admin's user events in the audit log.
    Limited,
}

/// How far one role reaches with one action, before the self and scope rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    None,
    Full,
    Limited,
    /// Only users whose role (and, for adds and role changes, new role) is member or guest.
    MembersAndGuests,
    /// Only the member directory, when the org turned it on.
    Directory,
}

fn reach(role: Role, action: Action) -> Reach {
    use Reach::{Directory, Full, Limited, MembersAndGuests as Mg, None as No};
    use Role::*;
    // Columns: admin, billing_admin, user_admin, viewer_admin, member, guest.
    let row: [Reach; 6] = match action {
        Action::ViewOrg => [Full, Full, Full, Full, No, No],
        Action::EditOrg => [Full, No, No, No, No, No],
        Action::ViewBilling => [Full, Full, Full, Full, No, No],
        Action::EditBilling => [Full, Full, No, No, No, No],
        Action::DeleteOrg => [Full, No, No, No, No, No],
        Action::ListUsers | Action::ViewUser => [Full, Full, Full, Full, Directory, Directory],
        Action::AddUser => [Full, No, Mg, No, No, No],
        Action::EditProfile => [Full, No, Mg, No, No, No],
        Action::ChangeRole { .. } => [Full, No, No, No, No, No],
        Action::AssignWorkspaces => [Full, No, Full, No, No, No],
        Action::RemoveUser | Action::SuspendUser | Action::RestoreUser => {
            [Full, No, Mg, No, No, No]
        }
        Action::ResendInvitation | Action::CancelInvitation => [Full, No, Mg, No, No, No],
        Action::SetScope => [Full, No, Mg, No, No, No],
        Action::ManageWorkspaces => [Full, No, Full, No, No, No],
        Action::ViewAllWorkspaces => [Full, Full, Full, Full, Limited, Limited],
        Action::ManagePropertyDefinitions => [Full, No, No, No, No, No],
        Action::ExportUsers => [Full, Limited, Full, Full, No, No],
        Action::ViewAuditLog => [Full, No, Limited, Full, No, No],
        Action::CreateClientOrg => [Full, No, No, No, No, No],
    };
    let column = match role {
        Admin => 0,
        BillingAdmin => 1,
        UserAdmin => 2,
        ViewerAdmin => 3,
        Member => 4,
        Guest => 5,
    };
    row[column]
}

/// May `actor` do `action` (to `target`, for actions done to a user) in this org?
///
/// Status rules (`invalid_state`) and the org-wide invariants (`last_admin`,
/// `email_taken`, ...) are separate: see [`crate::invariants`].
pub fn can(
    actor: &Actor,
    org: &OrgContext,
    action: Action,
    target: Option<&TargetUser<'_>>,
) -> Result<Grant, Denied> {
    let is_self = target.is_some_and(|t| t.account_id == Some(actor.account_id));
    if let Some(target) = target {
        if !actor.sees(target.account_id, target.email) {
            return Err(Denied::new(ErrorCode::OutOfScope));
        }
    } else if action.has_target() {
        return Err(Denied::with_message(
            ErrorCode::InvalidInput,
            "this action needs the user it is done to",
        ));
    }
    if is_self && let Some(answer) = self_rule(action) {
        return answer;
    }
    let grant = match reach(actor.role, action) {
        Reach::None => return Err(Denied::new(ErrorCode::Forbidden)),
        Reach::Full => Grant::Full,
        Reach::Limited => Grant::Limited,
        Reach::Directory if org.member_directory => Grant::Limited,
        Reach::Directory => return Err(Denied::new(ErrorCode::Forbidden)),
        Reach::MembersAndGuests => {
            members_and_guests_only(action, target)?;
            Grant::Full
        }
    };
    if action == Action::CreateClientOrg && org.kind != OrgKind::Partner {
        return Err(Denied::with_message(
            ErrorCode::Forbidden,
            "Only a partner organization can create client organizations.",
        ));
    }
    Ok(grant)
}

/// The rules for acting on oneself (SPEC.md §2 notes 2–4 and "Decisions"); `None` means
/// the matrix decides.
fn self_rule(action: Action) -> Option<Result<Grant, Denied>> {
    match action {
        // Everyone may see and edit their own profile, whatever their role.
        Action::ViewUser | Action::EditProfile => Some(Ok(Grant::Full)),
        Action::ChangeRole { .. } => Some(Err(Denied::new(ErrorCode::SelfRole))),
        Action::RemoveUser | Action::SuspendUser | Action::RestoreUser => {
            Some(Err(Denied::new(ErrorCode::SelfRemove)))
        }
        Action::SetScope => Some(Err(Denied::with_message(
            ErrorCode::Forbidden,
            "You cannot change your own search scope; another admin must do it.",
        ))),
        _ => None,
    }
}

fn members_and_guests_only(action: Action, target: Option<&TargetUser<'_>>) -> Result<(), Denied> {
    let target_ok = target.is_none_or(|t| t.role.is_member_or_guest());
    let new_role_ok = match action {
        Action::ChangeRole { to } => to.is_member_or_guest(),
        _ => true,
    };
    if target_ok && new_role_ok {
        Ok(())
    } else {
        Err(Denied::new(ErrorCode::RoleNotAllowed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: OrgContext = OrgContext {
        kind: OrgKind::Standard,
        member_directory: false,
    };

    fn user(account_id: i64, role: Role) -> TargetUser<'static> {
        TargetUser {
            account_id: Some(account_id),
            email: "someone@client.example",
            role,
            status: Status::Active,
        }
    }

    #[test]
    fn an_admin_cannot_demote_themselves() {
        let admin = Actor::member(1, Role::Admin);
        let denied = can(
            &admin,
            &ORG,
            Action::ChangeRole { to: Role::Member },
            Some(&user(1, Role::Admin)),
        );
        assert_eq!(denied.unwrap_err().code, ErrorCode::SelfRole);
    }

    #[test]
    fn a_user_admin_cannot_remove_an_admin() {
        let user_admin = Actor::member(1, Role::UserAdmin);
        let denied = can(
            &user_admin,
            &ORG,
            Action::RemoveUser,
            Some(&user(2, Role::Admin)),
        );
        assert_eq!(denied.unwrap_err().code, ErrorCode::RoleNotAllowed);
    }

    #[test]
    fn a_target_action_without_a_target_is_invalid_input() {
        let admin = Actor::member(1, Role::Admin);
        let denied = can(&admin, &ORG, Action::RemoveUser, None).unwrap_err();
        assert_eq!(denied.code, ErrorCode::InvalidInput);
    }
}
