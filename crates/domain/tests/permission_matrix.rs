//! Walks every cell of SPEC.md §2's permission matrix through `domain::can`.
//!
//! The expectation table below is copied from SPEC.md's matrix as text, column by column
//! (✓, –, "members, guests", "self only", the footnotes), and the self, scope and partner
//! rules are applied from SPEC.md's prose and "Decisions" — independently of how
//! `permission.rs` encodes them. Every combination of actor role, partner access, scope,
//! action, target role, self/other, org kind and the member-directory setting is checked.

#![allow(clippy::unwrap_used)] // a test that unwraps fails loudly, which is what it should do

use orgdesk_domain::{
    Action, Actor, Denied, ErrorCode, Grant, OrgContext, OrgKind, Role, SearchScope, Status,
    TargetUser, can,
};

/// One cell of SPEC.md's matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cell {
    /// ✓ or "any": allowed for every target.
    Yes,
    /// –
    No,
    /// Allowed, narrowed: "limited columns", "user events", "granted only".
    Limited,
    /// "members, guests", "for member, guest": only when the target (and the new role)
    /// is a member or guest; otherwise `role_not_allowed`.
    MembersGuests,
    /// "(1)": the member directory, only when the org turned it on.
    Directory,
    /// "self only (2)".
    SelfOnly,
}

use Cell::*;

/// SPEC.md §2, row by row. Columns: admin, billing_admin, user_admin, viewer_admin,
/// member, guest.
/// A row: its text in SPEC.md, the actions it covers, and its six cells.
type Row = (&'static str, fn() -> Vec<Action>, [Cell; 6]);

const MATRIX: &[Row] = &[
    (
        "view org info and settings",
        || vec![Action::ViewOrg],
        [Yes, Yes, Yes, Yes, No, No],
    ),
    (
        "edit org info and settings",
        || vec![Action::EditOrg],
        [Yes, No, No, No, No, No],
    ),
    (
        "view billing info",
        || vec![Action::ViewBilling],
        [Yes, Yes, Yes, Yes, No, No],
    ),
    (
        "edit billing info, manage subscription",
        || vec![Action::EditBilling],
        [Yes, Yes, No, No, No, No],
    ),
    (
        "cancel subscription, delete org",
        || vec![Action::DeleteOrg],
        [Yes, No, No, No, No, No],
    ),
    (
        "list and view users",
        || vec![Action::ListUsers, Action::ViewUser],
        [Yes, Yes, Yes, Yes, Directory, Directory],
    ),
    (
        "add (invite or create) users",
        || vec![Action::AddUser],
        [Yes, No, MembersGuests, No, No, No],
    ),
    (
        "edit user profile fields and property values",
        || vec![Action::EditProfile],
        [Yes, No, MembersGuests, No, SelfOnly, SelfOnly],
    ),
    (
        "change a user's role",
        || {
            Role::ALL
                .iter()
                .map(|&to| Action::ChangeRole { to })
                .collect()
        },
        [Yes, No, No, No, No, No],
    ),
    (
        "edit a user's workspace assignment",
        || vec![Action::AssignWorkspaces],
        [Yes, No, Yes, No, No, No],
    ),
    (
        "remove a user from the org",
        || vec![Action::RemoveUser],
        [Yes, No, MembersGuests, No, No, No],
    ),
    (
        "suspend / restore a user",
        || vec![Action::SuspendUser, Action::RestoreUser],
        [Yes, No, MembersGuests, No, No, No],
    ),
    (
        "resend / cancel an invitation",
        || vec![Action::ResendInvitation, Action::CancelInvitation],
        [Yes, No, MembersGuests, No, No, No],
    ),
    (
        "set a user's search scope",
        || vec![Action::SetScope],
        [Yes, No, MembersGuests, No, No, No],
    ),
    (
        "manage workspaces",
        || vec![Action::ManageWorkspaces],
        [Yes, No, Yes, No, No, No],
    ),
    (
        "view all workspaces",
        || vec![Action::ViewAllWorkspaces],
        [Yes, Yes, Yes, Yes, Limited, Limited],
    ),
    (
        "manage property definitions",
        || vec![Action::ManagePropertyDefinitions],
        [Yes, No, No, No, No, No],
    ),
    (
        "export users",
        || vec![Action::ExportUsers],
        [Yes, Limited, Yes, Yes, No, No],
    ),
    (
        "view audit log",
        || vec![Action::ViewAuditLog],
        [Yes, No, Limited, Yes, No, No],
    ),
    (
        "create client orgs (partner orgs only)",
        || vec![Action::CreateClientOrg],
        [Yes, No, No, No, No, No],
    ),
];

fn column(role: Role) -> usize {
    Role::ALL.iter().position(|&r| r == role).unwrap()
}

/// How the actor's scope relates to the target.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scoping {
    Unscoped,
    TargetInScope,
    TargetOutOfScope,
}

const ACTOR_ID: i64 = 1;
const OTHER_ID: i64 = 2;
const ACTOR_EMAIL: &str = "me@partner.example";
const IN_SCOPE_EMAIL: &str = "someone@client.example";
const OUT_OF_SCOPE_EMAIL: &str = "someone@elsewhere.example";

/// SPEC.md's answer for one cell, from the matrix and the prose.
fn expected(
    cell: Cell,
    action: Action,
    org: &OrgContext,
    target: Option<(Role, bool)>,
    scoping: Scoping,
) -> Result<Grant, ErrorCode> {
    let is_self = target.is_some_and(|(_, is_self)| is_self);
    // §2 out_of_scope and §5: an out-of-scope user is as if it did not exist.
    if target.is_some() && !is_self && scoping == Scoping::TargetOutOfScope {
        return Err(ErrorCode::OutOfScope);
    }
    if is_self {
        match action {
            // Decisions: everyone may view and edit their own profile fields.
            Action::ViewUser | Action::EditProfile => return Ok(Grant::Full),
            // Note 3.
            Action::ChangeRole { .. } => return Err(ErrorCode::SelfRole),
            // Note 4 and Decisions (suspend/restore oneself too).
            Action::RemoveUser | Action::SuspendUser | Action::RestoreUser => {
                return Err(ErrorCode::SelfRemove);
            }
            // Decisions: no one sets their own search scope.
            Action::SetScope => return Err(ErrorCode::Forbidden),
            _ => {}
        }
    }
    let answer = match cell {
        Yes => Ok(Grant::Full),
        No | SelfOnly => Err(ErrorCode::Forbidden),
        Limited => Ok(Grant::Limited),
        Directory if org.member_directory => Ok(Grant::Limited),
        Directory => Err(ErrorCode::Forbidden),
        MembersGuests => {
            let target_ok =
                target.is_none_or(|(role, _)| matches!(role, Role::Member | Role::Guest));
            let new_role_ok = match action {
                Action::ChangeRole { to } => matches!(to, Role::Member | Role::Guest),
                _ => true,
            };
            if target_ok && new_role_ok {
                Ok(Grant::Full)
            } else {
                Err(ErrorCode::RoleNotAllowed)
            }
        }
    };
    // "create client orgs (partner orgs only)".
    if answer.is_ok() && action == Action::CreateClientOrg && org.kind != OrgKind::Partner {
        return Err(ErrorCode::Forbidden);
    }
    answer
}

fn actor(role: Role, via_partner: bool, scoping: Scoping) -> Actor {
    if via_partner {
        return Actor::partner(ACTOR_ID, role);
    }
    let mut actor = Actor::member(ACTOR_ID, role);
    if scoping != Scoping::Unscoped {
        actor.scope = Some(SearchScope::parse(["@client.example"]).unwrap());
    }
    actor
}

#[test]
fn every_cell_of_the_permission_matrix_answers_as_spec_md_says() {
    let mut checked = 0usize;
    for &(row, actions, cells) in MATRIX {
        for action in actions() {
            for role in Role::ALL {
                for via_partner in [false, true] {
                    for scoping in [
                        Scoping::Unscoped,
                        Scoping::TargetInScope,
                        Scoping::TargetOutOfScope,
                    ] {
                        // Partner access carries no scope (SPEC.md Decisions).
                        if via_partner && scoping != Scoping::Unscoped {
                            continue;
                        }
                        for kind in [OrgKind::Standard, OrgKind::Partner, OrgKind::Client] {
                            for member_directory in [false, true] {
                                let org = OrgContext {
                                    kind,
                                    member_directory,
                                };
                                let actor = actor(role, via_partner, scoping);
                                let cell = cells[column(role)];
                                checked += walk_targets(
                                    row,
                                    action,
                                    &actor,
                                    &org,
                                    cell,
                                    scoping,
                                    via_partner,
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    // 20 rows expand to 28 actions; the count guards against the walk silently shrinking.
    assert!(checked > 50_000, "only {checked} cells were walked");
}

fn walk_targets(
    row: &str,
    action: Action,
    actor: &Actor,
    org: &OrgContext,
    cell: Cell,
    scoping: Scoping,
    via_partner: bool,
) -> usize {
    if !action.has_target() {
        let got = can(actor, org, action, None).map_err(|d| d.code);
        let want = expected(cell, action, org, None, scoping);
        assert_eq!(got, want, "{row}: {action:?} by {actor:?} in {org:?}");
        return 1;
    }
    let mut checked = 0;
    for target_role in Role::ALL {
        // A partner has no membership in the org, so never targets itself there; an
        // added user is never oneself.
        let selves: &[bool] = if via_partner || action == Action::AddUser {
            &[false]
        } else {
            &[false, true]
        };
        for &is_self in selves {
            for status in Status::ALL {
                let email = match (is_self, scoping) {
                    (true, _) => ACTOR_EMAIL,
                    (false, Scoping::TargetOutOfScope) => OUT_OF_SCOPE_EMAIL,
                    (false, _) => IN_SCOPE_EMAIL,
                };
                let target = TargetUser {
                    account_id: Some(if is_self { ACTOR_ID } else { OTHER_ID }),
                    email,
                    role: target_role,
                    status,
                };
                let got = can(actor, org, action, Some(&target)).map_err(|d: Denied| d.code);
                let want = expected(cell, action, org, Some((target_role, is_self)), scoping);
                assert_eq!(
                    got, want,
                    "{row}: {action:?} by {actor:?} on {target:?} in {org:?}"
                );
                checked += 1;
            }
        }
    }
    checked
}

/// The matrix row of each action. The match is exhaustive, so a new `Action` variant does
/// not compile until it is given a row here and in `MATRIX`.
fn row_of(action: Action) -> &'static str {
    match action {
        Action::ViewOrg => "view org info and settings",
        Action::EditOrg => "edit org info and settings",
        Action::ViewBilling => "view billing info",
        Action::EditBilling => "edit billing info, manage subscription",
        Action::DeleteOrg => "cancel subscription, delete org",
        Action::ListUsers | Action::ViewUser => "list and view users",
        Action::AddUser => "add (invite or create) users",
        Action::EditProfile => "edit user profile fields and property values",
        Action::ChangeRole { .. } => "change a user's role",
        Action::AssignWorkspaces => "edit a user's workspace assignment",
        Action::RemoveUser => "remove a user from the org",
        Action::SuspendUser | Action::RestoreUser => "suspend / restore a user",
        Action::ResendInvitation | Action::CancelInvitation => "resend / cancel an invitation",
        Action::SetScope => "set a user's search scope",
        Action::ManageWorkspaces => "manage workspaces",
        Action::ViewAllWorkspaces => "view all workspaces",
        Action::ManagePropertyDefinitions => "manage property definitions",
        Action::ExportUsers => "export users",
        Action::ViewAuditLog => "view audit log",
        Action::CreateClientOrg => "create client orgs (partner orgs only)",
    }
}

#[test]
fn the_expectation_table_lists_each_action_under_its_spec_row() {
    let mut actions = 0;
    for &(row, listed, _) in MATRIX {
        for action in listed() {
            assert_eq!(
                row_of(action),
                row,
                "{action:?} is listed under the wrong row"
            );
            actions += 1;
        }
    }
    // 23 kinds of action, with the role change expanded to each of the six new roles.
    assert_eq!(actions, 28);
    assert_eq!(MATRIX.len(), 20, "SPEC.md's matrix has 20 rows");
}
