//! Property tests of SPEC.md §2's invariants: whatever sequence of changes people try,
//! the rules never let an org lose its last active admin, and scopes, guest end dates
//! and validation behave for every input.

#![allow(clippy::unwrap_used)] // a test that unwraps fails loudly, which is what it should do

use chrono::{Days, NaiveDate};
use orgdesk_domain::invariants::{
    self, MembershipChange, effective_status, guest_expiry, keeps_an_active_admin,
};
use orgdesk_domain::{
    Action, Actor, ErrorCode, OrgContext, OrgKind, Role, SearchScope, Status, TargetUser, can,
    validate,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Membership {
    email: String,
    role: Role,
    status: Status,
}

/// The account acting through partner access in the property test.
const PARTNER_ACCOUNT: i64 = 1_000;

#[derive(Clone, Copy, Debug)]
enum Attempt {
    ChangeRole(Role),
    Remove,
    Suspend,
    Restore,
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL.to_vec())
}

fn status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

fn attempt() -> impl Strategy<Value = Attempt> {
    prop_oneof![
        role().prop_map(Attempt::ChangeRole),
        Just(Attempt::Remove),
        Just(Attempt::Suspend),
        Just(Attempt::Restore),
    ]
}

/// An org with one to eight memberships, at least one of them an active admin.
fn roster() -> impl Strategy<Value = Vec<Membership>> {
    prop::collection::vec((role(), status()), 0..8).prop_map(|others| {
        let mut roster = vec![Membership {
            email: "founder@org.example".into(),
            role: Role::Admin,
            status: Status::Active,
        }];
        roster.extend(
            others
                .into_iter()
                .enumerate()
                .map(|(i, (role, status))| Membership {
                    email: format!("user{i}@org.example"),
                    role,
                    status,
                }),
        );
        roster
    })
}

fn active_admins(roster: &[Membership]) -> usize {
    roster
        .iter()
        .filter(|m| m.role == Role::Admin && m.status == Status::Active)
        .count()
}

/// Applies an attempt the way the server does: the matrix, then the status rule, then
/// `last_admin`. Returns whether it was applied.
fn try_apply(roster: &mut Vec<Membership>, actor: usize, target: usize, attempt: Attempt) -> bool {
    // Partner access (SPEC.md §4) acts as an admin without a membership, so it can reach
    // the org's only admin; members alone are held back by the self rules too.
    let actor_handle = match roster.get(actor) {
        None => Actor::partner(PARTNER_ACCOUNT, Role::Admin),
        Some(acting) if acting.status == Status::Active => Actor::member(actor as i64, acting.role),
        Some(_) => return false,
    };
    let org = OrgContext {
        kind: OrgKind::Standard,
        member_directory: false,
    };
    let subject = &roster[target];
    let target_user = TargetUser {
        account_id: Some(target as i64),
        email: &subject.email,
        role: subject.role,
        status: subject.status,
    };
    let (action, change) = match attempt {
        Attempt::ChangeRole(to) => (
            Action::ChangeRole { to },
            Some(MembershipChange::RoleChanged(to)),
        ),
        Attempt::Remove => (Action::RemoveUser, Some(MembershipChange::Removed)),
        Attempt::Suspend => (Action::SuspendUser, Some(MembershipChange::Suspended)),
        Attempt::Restore => (Action::RestoreUser, None),
    };
    let allowed = can(&actor_handle, &org, action, Some(&target_user)).is_ok()
        && invariants::status_allows(action, subject.status).is_ok()
        && change.is_none_or(|change| {
            keeps_an_active_admin(subject.role, subject.status, change, active_admins(roster))
                .is_ok()
        });
    if !allowed {
        return false;
    }
    match attempt {
        Attempt::ChangeRole(to) => roster[target].role = to,
        Attempt::Remove => {
            roster.remove(target);
        }
        Attempt::Suspend => roster[target].status = Status::Suspended,
        Attempt::Restore => roster[target].status = Status::Active,
    }
    true
}

proptest! {
    #[test]
    fn no_sequence_of_allowed_changes_leaves_an_org_without_an_active_admin(
        mut roster in roster(),
        attempts in prop::collection::vec((0usize..9, 0usize..8, attempt()), 1..60),
    ) {
        for (actor, target, attempt) in attempts {
            // Actor 8 is the partner; other out-of-range indexes are skipped.
            if (actor >= roster.len() && actor != 8) || target >= roster.len() {
                continue;
            }
            try_apply(&mut roster, actor, target, attempt);
            let left = active_admins(&roster);
            prop_assert!(left >= 1, "no active admin left: {:?}", roster);
        }
    }

    #[test]
    fn last_admin_rejects_exactly_the_changes_that_would_leave_none(
        role in role(), status in status(), new_role in role(), others in 0usize..3,
        which in 0u8..3,
    ) {
        let change = match which {
            0 => MembershipChange::Removed,
            1 => MembershipChange::Suspended,
            _ => MembershipChange::RoleChanged(new_role),
        };
        let is_active_admin = role == Role::Admin && status == Status::Active;
        let active = others + usize::from(is_active_admin);
        let remains = others
            + usize::from(is_active_admin && change == MembershipChange::RoleChanged(Role::Admin));
        let result = keeps_an_active_admin(role, status, change, active);
        if remains == 0 && active >= 1 {
            prop_assert_eq!(result.map_err(|d| d.code), Err(ErrorCode::LastAdmin));
        } else if active >= 1 {
            prop_assert!(result.is_ok());
        }
    }

    #[test]
    fn a_scope_with_an_address_lets_that_address_through_in_any_case(
        local in "[a-z][a-z0-9]{0,5}(\\.[a-z0-9]{1,5})?", domain in "[a-z]{1,10}\\.(com|example|org)",
        upper in any::<bool>(),
    ) {
        let email = format!("{local}@{domain}");
        let scope = SearchScope::parse([email.as_str()]).unwrap();
        let asked = if upper { email.to_uppercase() } else { email.clone() };
        prop_assert!(scope.allows(&asked));
        let other = format!("x{email}");
        prop_assert!(!scope.allows(&other));
    }

    #[test]
    fn a_domain_scope_lets_through_exactly_that_domain(
        local in "[a-z]{1,8}", domain in "[a-z]{1,10}\\.example", sub in "[a-z]{1,5}",
    ) {
        let scope = SearchScope::parse([format!("@{domain}").as_str()]).unwrap();
        let exact = format!("{local}@{domain}");
        let subdomain = format!("{local}@{sub}.{domain}");
        let lookalike = format!("{local}@{sub}{domain}");
        prop_assert!(scope.allows(&exact));
        prop_assert!(!scope.allows(&subdomain));
        prop_assert!(!scope.allows(&lookalike));
    }

    #[test]
    fn a_guest_end_date_is_valid_exactly_in_the_next_365_days(offset in -800i64..800) {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let date = if offset >= 0 {
            today.checked_add_days(Days::new(offset as u64)).unwrap()
        } else {
            today.checked_sub_days(Days::new(offset.unsigned_abs())).unwrap()
        };
        let result = guest_expiry(Role::Guest, Some(date), today).map_err(|d| d.code);
        let want = match offset {
            ..=0 => Err(ErrorCode::GuestExpiryPast),
            1..=365 => Ok(()),
            _ => Err(ErrorCode::InvalidState),
        };
        prop_assert_eq!(result, want);
    }

    #[test]
    fn only_active_guests_ever_become_expired(role in role(), status in status(), days in 0u64..10) {
        let end = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let today = end.checked_add_days(Days::new(days)).unwrap();
        let now = effective_status(role, status, Some(end), today);
        if role == Role::Guest && status == Status::Active {
            prop_assert_eq!(now, Status::Expired);
        } else {
            prop_assert_eq!(now, status);
        }
    }

    #[test]
    fn email_validation_never_panics_and_is_idempotent(input in "\\PC{0,40}") {
        if let Ok(normalised) = validate::email(&input) {
            prop_assert_eq!(validate::email(&normalised), Ok(normalised.clone()));
            prop_assert_eq!(normalised.to_lowercase(), normalised);
        }
    }

    #[test]
    fn phone_validation_keeps_only_e164(input in "[+0-9 ()-.]{0,20}") {
        if let Ok(phone) = validate::phone("phone", &input) {
            prop_assert!(phone.starts_with('+'));
            prop_assert!(phone[1..].chars().all(|c| c.is_ascii_digit()));
            prop_assert!((3..=16).contains(&phone.len()));
        }
    }
}
