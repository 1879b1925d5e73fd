//! Every error code SPEC.md §2 names is produced by the rules crate, through its public
//! API, in the situation SPEC.md describes.

#![allow(clippy::unwrap_used)] // a test that unwraps fails loudly, which is what it should do

use chrono::NaiveDate;
use orgdesk_domain::invariants::{self, MembershipChange};
use orgdesk_domain::{
    Action, Actor, ErrorCode, OrgContext, OrgKind, Role, SearchScope, Status, TargetUser, can,
};

const ORG: OrgContext = OrgContext {
    kind: OrgKind::Standard,
    member_directory: false,
};

fn member(account_id: i64, email: &str, role: Role) -> TargetUser<'_> {
    TargetUser {
        account_id: Some(account_id),
        email,
        role,
        status: Status::Active,
    }
}

fn code<T>(result: Result<T, orgdesk_domain::Denied>) -> ErrorCode {
    match result {
        Ok(_) => panic!("expected a refusal"),
        Err(denied) => {
            assert!(!denied.message.is_empty());
            denied.code
        }
    }
}

#[test]
fn forbidden_a_viewer_admin_cannot_edit_org_settings() {
    let viewer = Actor::member(1, Role::ViewerAdmin);
    assert_eq!(
        code(can(&viewer, &ORG, Action::EditOrg, None)),
        ErrorCode::Forbidden
    );
}

#[test]
fn role_not_allowed_a_user_admin_cannot_add_an_admin() {
    let user_admin = Actor::member(1, Role::UserAdmin);
    let new_admin = TargetUser {
        account_id: None,
        email: "new@org.example",
        role: Role::Admin,
        status: Status::Pending,
    };
    assert_eq!(
        code(can(&user_admin, &ORG, Action::AddUser, Some(&new_admin))),
        ErrorCode::RoleNotAllowed
    );
}

#[test]
fn self_remove_no_one_removes_themselves() {
    let admin = Actor::member(1, Role::Admin);
    let me = member(1, "me@org.example", Role::Admin);
    assert_eq!(
        code(can(&admin, &ORG, Action::RemoveUser, Some(&me))),
        ErrorCode::SelfRemove
    );
}

#[test]
fn self_role_an_admin_cannot_demote_themselves() {
    let admin = Actor::member(1, Role::Admin);
    let me = member(1, "me@org.example", Role::Admin);
    let action = Action::ChangeRole { to: Role::Member };
    assert_eq!(
        code(can(&admin, &ORG, action, Some(&me))),
        ErrorCode::SelfRole
    );
}

#[test]
fn out_of_scope_a_scoped_admin_cannot_see_a_user_outside_the_scope() {
    let mut admin = Actor::member(1, Role::Admin);
    admin.scope = Some(SearchScope::parse(["@client.example"]).unwrap());
    let outsider = member(2, "bob@other.example", Role::Member);
    assert_eq!(
        code(can(&admin, &ORG, Action::ViewUser, Some(&outsider))),
        ErrorCode::OutOfScope
    );
    let insider = member(3, "bob@client.example", Role::Member);
    assert!(can(&admin, &ORG, Action::ViewUser, Some(&insider)).is_ok());
}

#[test]
fn out_of_scope_a_scoped_admin_cannot_add_an_address_outside_the_scope() {
    let mut admin = Actor::member(1, Role::Admin);
    admin.scope = Some(SearchScope::parse(["@client.example"]).unwrap());
    let outsider = TargetUser {
        account_id: None,
        email: "new@other.example",
        role: Role::Member,
        status: Status::Pending,
    };
    assert_eq!(
        code(can(&admin, &ORG, Action::AddUser, Some(&outsider))),
        ErrorCode::OutOfScope
    );
}

#[test]
fn last_admin_suspending_the_only_active_admin_is_rejected() {
    let result = invariants::keeps_an_active_admin(
        Role::Admin,
        Status::Active,
        MembershipChange::Suspended,
        1,
    );
    assert_eq!(code(result), ErrorCode::LastAdmin);
}

#[test]
fn too_many_workspaces_eleven_in_one_grant() {
    assert_eq!(
        code(invariants::workspace_grant(11)),
        ErrorCode::TooManyWorkspaces
    );
}

#[test]
fn guest_expiry_required_and_past() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    assert_eq!(
        code(invariants::guest_expiry(Role::Guest, None, today)),
        ErrorCode::GuestExpiryRequired
    );
    let yesterday = NaiveDate::from_ymd_opt(2026, 11, 22);
    assert_eq!(
        code(invariants::guest_expiry(Role::Guest, yesterday, today)),
        ErrorCode::GuestExpiryPast
    );
}

#[test]
fn email_taken_one_membership_per_account() {
    assert_eq!(code(invariants::email_free(true)), ErrorCode::EmailTaken);
}

#[test]
fn invalid_state_resending_an_accepted_invitation() {
    assert_eq!(
        code(invariants::status_allows(
            Action::ResendInvitation,
            Status::Active
        )),
        ErrorCode::InvalidState
    );
}

#[test]
fn invalid_state_a_guest_end_date_beyond_365_days() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let too_far = NaiveDate::from_ymd_opt(2028, 1, 1);
    assert_eq!(
        code(invariants::guest_expiry(Role::Guest, too_far, today)),
        ErrorCode::InvalidState
    );
}

#[test]
fn every_spec_code_is_in_the_enum() {
    // The codes SPEC.md §2 lists, as it spells them.
    for spelled in [
        "forbidden",
        "role_not_allowed",
        "self_remove",
        "self_role",
        "out_of_scope",
        "last_admin",
        "too_many_workspaces",
        "guest_expiry_required",
        "guest_expiry_past",
        "email_taken",
        "invalid_state",
    ] {
        assert!(
            spelled.parse::<ErrorCode>().is_ok(),
            "{spelled} is missing from ErrorCode"
        );
    }
}
