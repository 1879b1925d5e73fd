//! The client library's one error type.
//!
//! The UI and the CLI show an error by its [`Error::code`]: SPEC.md's codes for what the
//! server (or the rules, checked offline) refused, plus `offline` for "the server could not
//! be reached", which the UI shows as a state rather than as a failure.

use orgdesk_domain::{Denied, ErrorCode};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server could not be reached (connection refused, DNS, timeout) after retries.
    /// Staged changes stay in the outbox; the cache stays readable.
    #[error("offline: the server at {server} could not be reached ({reason})")]
    Offline { server: String, reason: String },

    /// The server answered with one of its `{code, message}` refusals.
    #[error("{message}")]
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
    },

    /// The rules in `domain`, checked against the cache before staging, refuse the change.
    #[error("{0}")]
    Denied(#[from] Denied),

    /// No session: `orgdesk login` first.
    #[error("not signed in; run `orgdesk login` first")]
    NotSignedIn,

    /// The thing asked for is not in the local cache (or not in the outbox).
    #[error("{0}")]
    NotFound(String),

    /// The caller asked for something that cannot be done as asked.
    #[error("{0}")]
    Invalid(String),

    /// The server answered something the protocol does not allow.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),

    #[error("local cache: {0}")]
    Database(#[from] rusqlite::Error),

    #[error("local cache migration {version}: {source}")]
    Migration {
        version: u32,
        source: rusqlite::Error,
    },

    #[error("the OS keyring: {0}")]
    Keyring(String),

    #[error("{0}")]
    Io(#[from] std::io::Error),

    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),

    /// A blocking task at the async edge panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
}

impl Error {
    /// The stable code the UI switches on: SPEC.md's codes, `offline`, and a few of the
    /// client's own for local failures.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Offline { .. } => "offline",
            Error::Api { code, .. } => code.as_str(),
            Error::Denied(denied) => denied.code.as_str(),
            Error::NotSignedIn => ErrorCode::Unauthenticated.as_str(),
            Error::NotFound(_) => ErrorCode::NotFound.as_str(),
            Error::Invalid(_) => ErrorCode::InvalidInput.as_str(),
            Error::Protocol(_) => "protocol",
            Error::Database(_) | Error::Migration { .. } => "cache",
            Error::Keyring(_) => "keyring",
            Error::Io(_) | Error::Json(_) | Error::Task(_) => "internal",
        }
    }

    /// Whether this is the server refusing with `code`.
    pub fn is_api(&self, wanted: ErrorCode) -> bool {
        matches!(self, Error::Api { code, .. } if *code == wanted)
    }

    pub fn is_offline(&self) -> bool {
        matches!(self, Error::Offline { .. })
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(error: tokio::task::JoinError) -> Self {
        Error::Task(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_has_its_own_code() {
        let error = Error::Offline {
            server: "http://127.0.0.1:1".into(),
            reason: "connection refused".into(),
        };
        assert_eq!(error.code(), "offline");
        assert!(error.is_offline());
    }

    #[test]
    fn a_local_denial_keeps_the_domain_code() {
        let error = Error::from(Denied::new(ErrorCode::LastAdmin));
        assert_eq!(error.code(), "last_admin");
        assert_eq!(error.to_string(), ErrorCode::LastAdmin.message());
    }
}
