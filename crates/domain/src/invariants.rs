//! The invariants of SPEC.md §2 and the status rules of §3, over plain data.
//!
//! Each check takes the facts it needs (counts, dates, statuses) rather than a roster, so
//! the server can answer them from one SQL count and the client from its cache.

use crate::error::{Denied, ErrorCode};
use crate::permission::Action;
use crate::role::{Role, Status};
use chrono::{Days, NaiveDate};

/// One add-user or assign operation grants at most this many workspaces.
pub const MAX_WORKSPACES_PER_GRANT: usize = 10;
/// A guest's access end date is at most this many days ahead.
pub const MAX_GUEST_DAYS: u64 = 365;
/// How long an invitation stays valid.
pub const INVITATION_DAYS: i64 = 7;

/// What a change does to the membership it touches, as far as `last_admin` cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipChange {
    Removed,
    Suspended,
    RoleChanged(Role),
}

/// `last_admin`: every org keeps at least one active admin. `active_admins` counts the
/// org's memberships with role admin and status active, before the change; pending
/// invitations and partner access do not count.
pub fn keeps_an_active_admin(
    role: Role,
    status: Status,
    change: MembershipChange,
    active_admins: usize,
) -> Result<(), Denied> {
    let is_active_admin = role == Role::Admin && status == Status::Active;
    let stays_active_admin = matches!(change, MembershipChange::RoleChanged(Role::Admin));
    if is_active_admin && !stays_active_admin && active_admins <= 1 {
        Err(Denied::new(ErrorCode::LastAdmin))
    } else {
        Ok(())
    }
}

/// `too_many_workspaces`: at most ten workspaces in one grant.
pub fn workspace_grant(count: usize) -> Result<(), Denied> {
    if count > MAX_WORKSPACES_PER_GRANT {
        Err(Denied::with_message(
            ErrorCode::TooManyWorkspaces,
            format!(
                "At most {MAX_WORKSPACES_PER_GRANT} workspaces can be granted at once ({count} were asked for)."
            ),
        ))
    } else {
        Ok(())
    }
}

/// A guest's access end date: required for guests, after `today`, at most 365 days
/// ahead; other roles have none.
pub fn guest_expiry(
    role: Role,
    expires: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(), Denied> {
    match (role, expires) {
        (Role::Guest, None) => Err(Denied::new(ErrorCode::GuestExpiryRequired)),
        (Role::Guest, Some(date)) if date <= today => Err(Denied::with_message(
            ErrorCode::GuestExpiryPast,
            format!("The guest's access end date {date} must be after today ({today})."),
        )),
        (Role::Guest, Some(date)) if date > latest_guest_expiry(today) => {
            Err(Denied::with_message(
                ErrorCode::InvalidState,
                format!(
                    "A guest's access can end at most {MAX_GUEST_DAYS} days ahead (by {}).",
                    latest_guest_expiry(today)
                ),
            ))
        }
        (Role::Guest, Some(_)) | (_, None) => Ok(()),
        (role, Some(_)) => Err(Denied::with_message(
            ErrorCode::InvalidInput,
            format!(
                "Only guests have an access end date; this user is {}.",
                role.label()
            ),
        )),
    }
}

/// The last end date a guest may be given today.
pub fn latest_guest_expiry(today: NaiveDate) -> NaiveDate {
    today
        .checked_add_days(Days::new(MAX_GUEST_DAYS))
        .unwrap_or(NaiveDate::MAX)
}

/// The status a membership has today: an active guest whose end date has come is expired.
pub fn effective_status(
    role: Role,
    status: Status,
    guest_expires: Option<NaiveDate>,
    today: NaiveDate,
) -> Status {
    let ended = guest_expires.is_some_and(|date| date <= today);
    if role == Role::Guest && status == Status::Active && ended {
        Status::Expired
    } else {
        status
    }
}

/// `email_taken`: one membership per account per org.
pub fn email_free(already_a_member: bool) -> Result<(), Denied> {
    if already_a_member {
        Err(Denied::new(ErrorCode::EmailTaken))
    } else {
        Ok(())
    }
}

/// `invalid_state`: the lifecycle actions that only fit one status.
pub fn status_allows(action: Action, status: Status) -> Result<(), Denied> {
    let (needed, what) = match action {
        Action::ResendInvitation => (Status::Pending, "resend an invitation"),
        Action::CancelInvitation => (Status::Pending, "cancel an invitation"),
        Action::SuspendUser => (Status::Active, "suspend a user"),
        Action::RestoreUser => (Status::Suspended, "restore a user"),
        _ => return Ok(()),
    };
    if status == needed {
        Ok(())
    } else {
        Err(Denied::with_message(
            ErrorCode::InvalidState,
            format!("You can only {what} who is {needed}; this user is {status}."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn removing_the_last_active_admin_is_rejected() {
        let denied =
            keeps_an_active_admin(Role::Admin, Status::Active, MembershipChange::Removed, 1);
        assert_eq!(denied.unwrap_err().code, ErrorCode::LastAdmin);
        assert!(
            keeps_an_active_admin(Role::Admin, Status::Active, MembershipChange::Removed, 2)
                .is_ok()
        );
    }

    #[test]
    fn suspending_or_demoting_the_last_active_admin_is_rejected() {
        for change in [
            MembershipChange::Suspended,
            MembershipChange::RoleChanged(Role::UserAdmin),
        ] {
            let denied = keeps_an_active_admin(Role::Admin, Status::Active, change, 1);
            assert_eq!(denied.unwrap_err().code, ErrorCode::LastAdmin, "{change:?}");
        }
    }

    #[test]
    fn a_pending_or_suspended_admin_is_not_the_last_active_admin() {
        for status in [Status::Pending, Status::Suspended] {
            assert!(
                keeps_an_active_admin(Role::Admin, status, MembershipChange::Removed, 1).is_ok()
            );
        }
    }

    #[test]
    fn eleven_workspaces_are_too_many() {
        assert!(workspace_grant(10).is_ok());
        assert_eq!(
            workspace_grant(11).unwrap_err().code,
            ErrorCode::TooManyWorkspaces
        );
    }

    #[test]
    fn a_guest_needs_an_end_date_in_the_next_365_days() {
        let today = day("2026-11-23");
        assert_eq!(
            guest_expiry(Role::Guest, None, today).unwrap_err().code,
            ErrorCode::GuestExpiryRequired
        );
        assert_eq!(
            guest_expiry(Role::Guest, Some(today), today)
                .unwrap_err()
                .code,
            ErrorCode::GuestExpiryPast
        );
        assert_eq!(
            guest_expiry(Role::Guest, Some(day("2026-01-01")), today)
                .unwrap_err()
                .code,
            ErrorCode::GuestExpiryPast
        );
        assert!(guest_expiry(Role::Guest, Some(day("2026-11-24")), today).is_ok());
        assert!(guest_expiry(Role::Guest, Some(day("2027-11-23")), today).is_ok());
        assert_eq!(
            guest_expiry(Role::Guest, Some(day("2027-11-24")), today)
                .unwrap_err()
                .code,
            ErrorCode::InvalidState
        );
    }

    #[test]
    fn only_guests_have_an_end_date() {
        let today = day("2026-11-23");
        assert!(guest_expiry(Role::Member, None, today).is_ok());
        assert_eq!(
            guest_expiry(Role::Member, Some(day("2026-12-01")), today)
                .unwrap_err()
                .code,
            ErrorCode::InvalidInput
        );
    }

    #[test]
    fn an_active_guest_expires_on_the_end_date() {
        let end = Some(day("2026-11-23"));
        assert_eq!(
            effective_status(Role::Guest, Status::Active, end, day("2026-11-22")),
            Status::Active
        );
        assert_eq!(
            effective_status(Role::Guest, Status::Active, end, day("2026-11-23")),
            Status::Expired
        );
        assert_eq!(
            effective_status(Role::Guest, Status::Suspended, end, day("2026-11-30")),
            Status::Suspended
        );
    }

    #[test]
    fn a_second_membership_for_one_email_is_email_taken() {
        assert_eq!(email_free(true).unwrap_err().code, ErrorCode::EmailTaken);
        assert!(email_free(false).is_ok());
    }

    #[test]
    fn lifecycle_actions_need_the_right_status() {
        assert_eq!(
            status_allows(Action::ResendInvitation, Status::Active)
                .unwrap_err()
                .code,
            ErrorCode::InvalidState
        );
        assert_eq!(
            status_allows(Action::CancelInvitation, Status::Expired)
                .unwrap_err()
                .code,
            ErrorCode::InvalidState
        );
        assert_eq!(
            status_allows(Action::SuspendUser, Status::Suspended)
                .unwrap_err()
                .code,
            ErrorCode::InvalidState
        );
        assert_eq!(
            status_allows(Action::RestoreUser, Status::Active)
                .unwrap_err()
                .code,
            ErrorCode::InvalidState
        );
        assert!(status_allows(Action::RestoreUser, Status::Suspended).is_ok());
        assert!(status_allows(Action::RemoveUser, Status::Pending).is_ok());
    }
}
