//! The server's error: a refusal with SPEC's code (shown to the caller as
//! `{ "code", "message" }`) or an internal failure (logged, shown as `internal`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use orgdesk_domain::wire::ApiError;
use orgdesk_domain::{Denied, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn code(code: ErrorCode) -> Error {
        Error::Denied(Denied::new(code))
    }

    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Error {
        Error::Denied(Denied::with_message(code, message))
    }

    pub fn not_found() -> Error {
        Error::code(ErrorCode::NotFound)
    }

    pub fn internal(what: impl std::fmt::Display) -> Error {
        Error::Internal(what.to_string())
    }

    /// The refusal a caller sees; internal failures become `internal`.
    pub fn to_denied(&self) -> Denied {
        match self {
            Error::Denied(denied) => denied.clone(),
            _ => Denied::new(ErrorCode::Internal),
        }
    }
}

impl From<orgdesk_domain::validate::Invalid> for Error {
    fn from(invalid: orgdesk_domain::validate::Invalid) -> Self {
        Error::Denied(invalid.into())
    }
}

/// The HTTP status of each code (documented in docs/SPEC.md "Decisions").
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Forbidden
        | ErrorCode::RoleNotAllowed
        | ErrorCode::SelfRemove
        | ErrorCode::SelfRole => StatusCode::FORBIDDEN,
        ErrorCode::OutOfScope | ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::LastAdmin
        | ErrorCode::EmailTaken
        | ErrorCode::InvalidState
        | ErrorCode::ResyncRequired => StatusCode::CONFLICT,
        ErrorCode::TooManyWorkspaces
        | ErrorCode::GuestExpiryRequired
        | ErrorCode::GuestExpiryPast
        | ErrorCode::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials | ErrorCode::TotpRequired => {
            StatusCode::UNAUTHORIZED
        }
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::VersionMismatch => StatusCode::PRECONDITION_FAILED,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn error_response(denied: Denied) -> Response {
    let body = ApiError {
        code: denied.code,
        message: denied.message,
    };
    (status_of(body.code), axum::Json(body)).into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if !matches!(self, Error::Denied(_)) {
            tracing::error!(error = %self, "request failed");
        }
        error_response(self.to_denied())
    }
}
