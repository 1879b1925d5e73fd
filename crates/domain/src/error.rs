//! The error codes shared by server, client and UI (SPEC.md §2 and the protocol's own).
//!
//! A code is stable: its snake_case string is the wire form, the UI switches on it, and a
//! test pins every one. The message is for a person and may change.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Every refusal the product can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // SPEC.md §2: the permission matrix and the invariants.
    Forbidden,
    RoleNotAllowed,
    SelfRemove,
    SelfRole,
    OutOfScope,
    LastAdmin,
    TooManyWorkspaces,
    GuestExpiryRequired,
    GuestExpiryPast,
    EmailTaken,
    InvalidState,
    // Input that is not well-formed or not valid.
    InvalidInput,
    BadRequest,
    PayloadTooLarge,
    // Who is asking.
    Unauthenticated,
    InvalidCredentials,
    TotpRequired,
    RateLimited,
    // Rows and the sync protocol.
    NotFound,
    VersionMismatch,
    ResyncRequired,
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 22] = [
        ErrorCode::Forbidden,
        ErrorCode::RoleNotAllowed,
        ErrorCode::SelfRemove,
        ErrorCode::SelfRole,
        ErrorCode::OutOfScope,
        ErrorCode::LastAdmin,
        ErrorCode::TooManyWorkspaces,
        ErrorCode::GuestExpiryRequired,
        ErrorCode::GuestExpiryPast,
        ErrorCode::EmailTaken,
        ErrorCode::InvalidState,
        ErrorCode::InvalidInput,
        ErrorCode::BadRequest,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Unauthenticated,
        ErrorCode::InvalidCredentials,
        ErrorCode::TotpRequired,
        ErrorCode::RateLimited,
        ErrorCode::NotFound,
        ErrorCode::VersionMismatch,
        ErrorCode::ResyncRequired,
        ErrorCode::Internal,
    ];

    /// The stable wire form, e.g. `last_admin`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RoleNotAllowed => "role_not_allowed",
            ErrorCode::SelfRemove => "self_remove",
            ErrorCode::SelfRole => "self_role",
            ErrorCode::OutOfScope => "out_of_scope",
            ErrorCode::LastAdmin => "last_admin",
            ErrorCode::TooManyWorkspaces => "too_many_workspaces",
            ErrorCode::GuestExpiryRequired => "guest_expiry_required",
            ErrorCode::GuestExpiryPast => "guest_expiry_past",
            ErrorCode::EmailTaken => "email_taken",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::TotpRequired => "totp_required",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::NotFound => "not_found",
            ErrorCode::VersionMismatch => "version_mismatch",
            ErrorCode::ResyncRequired => "resync_required",
            ErrorCode::Internal => "internal",
        }
    }

    /// A message a person can act on, used when the refusal has nothing more specific.
    pub const fn message(self) -> &'static str {
        match self {
            ErrorCode::Forbidden => "Your role does not allow this.",
            ErrorCode::RoleNotAllowed => {
                "A user admin can only add, edit or remove members and guests."
            }
            ErrorCode::SelfRemove => {
                "You cannot remove, suspend or restore yourself; another admin must do it."
            }
            ErrorCode::SelfRole => "You cannot change your own role; another admin must do it.",
            ErrorCode::OutOfScope => "No such user.",
            ErrorCode::LastAdmin => {
                "This would leave the organization without an active admin; make someone else an admin first."
            }
            ErrorCode::TooManyWorkspaces => "At most 10 workspaces can be granted at once.",
            ErrorCode::GuestExpiryRequired => "A guest needs an access end date.",
            ErrorCode::GuestExpiryPast => "The guest's access end date must be in the future.",
            ErrorCode::EmailTaken => "This email address is already a member of the organization.",
            ErrorCode::InvalidState => "This action does not fit the user's current status.",
            ErrorCode::InvalidInput => "Some of the values are not valid.",
            ErrorCode::BadRequest => "The request could not be read.",
            ErrorCode::PayloadTooLarge => "The request is too large.",
            ErrorCode::Unauthenticated => "Please sign in.",
            ErrorCode::InvalidCredentials => "The email address or password is not correct.",
            ErrorCode::TotpRequired => "Enter the code from your authenticator app.",
            ErrorCode::RateLimited => "Too many attempts; wait a few minutes and try again.",
            ErrorCode::NotFound => "Not found.",
            ErrorCode::VersionMismatch => {
                "Someone changed this since you loaded it; reload and try again."
            }
            ErrorCode::ResyncRequired => {
                "Your access changed; the organization must be synced again."
            }
            ErrorCode::Internal => "Something went wrong on our side.",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

/// A string that names no [`ErrorCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code {0:?}")]
pub struct UnknownErrorCode(pub String);

/// A refusal: a stable code and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct Denied {
    pub code: ErrorCode,
    pub message: String,
}

impl Denied {
    /// A refusal with the code's own message.
    pub fn new(code: ErrorCode) -> Self {
        Denied {
            code,
            message: code.message().to_owned(),
        }
    }

    /// A refusal with a message more specific than the code's own.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        Denied {
            code,
            message: message.into(),
        }
    }
}

impl From<ErrorCode> for Denied {
    fn from(code: ErrorCode) -> Self {
        Denied::new(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_wire_form() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
            assert!(!code.message().is_empty());
        }
    }

    #[test]
    fn the_wire_forms_are_pinned() {
        // The UI and stored outbox results depend on these strings; changing one is a
        // breaking change of the protocol.
        let forms: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            forms,
            [
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
                "invalid_input",
                "bad_request",
                "payload_too_large",
                "unauthenticated",
                "invalid_credentials",
                "totp_required",
                "rate_limited",
                "not_found",
                "version_mismatch",
                "resync_required",
                "internal",
            ]
        );
    }

    #[test]
    fn a_denial_serialises_as_code_and_message() {
        let denied = Denied::new(ErrorCode::LastAdmin);
        let json = serde_json::to_value(&denied).unwrap();
        assert_eq!(json["code"], "last_admin");
        assert_eq!(json["message"], ErrorCode::LastAdmin.message());
    }
}
