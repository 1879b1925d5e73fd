//! The error every command answers with: `{code, message}`, where `code` is one of SPEC.md's
//! error codes or the client's own (`offline`, `keyring`, `cache`, `protocol`, `internal`),
//! and `message` is for people. The UI switches on `code` (its union is `ErrorCode` in
//! ui/src/lib/types.ts); outcomes that are not failures are tagged enums, never errors.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpcError {
    pub code: &'static str,
    pub message: String,
}

impl IpcError {
    pub fn new(code: &'static str, message: impl Into<String>) -> IpcError {
        IpcError {
            code,
            message: message.into(),
        }
    }

    /// Signed out (or the session ended): the UI shows the sign-in screen.
    pub fn not_signed_in() -> IpcError {
        orgdesk_client::Error::NotSignedIn.into()
    }

    pub fn invalid(message: impl Into<String>) -> IpcError {
        IpcError::new("invalid_input", message)
    }
}

impl From<orgdesk_client::Error> for IpcError {
    fn from(error: orgdesk_client::Error) -> Self {
        IpcError {
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl From<tauri::Error> for IpcError {
    fn from(error: tauri::Error) -> Self {
        IpcError::new("internal", error.to_string())
    }
}

impl From<tokio::task::JoinError> for IpcError {
    fn from(error: tokio::task::JoinError) -> Self {
        IpcError::new("internal", format!("background task failed: {error}"))
    }
}

pub type IpcResult<T> = Result<T, IpcError>;

#[cfg(test)]
mod tests {
    use super::*;
    use orgdesk_client::Error;
    use orgdesk_domain::{Denied, ErrorCode};

    /// The JSON the webview receives: the UI's `IpcError` type depends on exactly this.
    #[test]
    fn the_wire_form_is_pinned() {
        let last_admin = format!(
            r#"{{"code":"last_admin","message":"{}"}}"#,
            ErrorCode::LastAdmin.message()
        );
        let cases: Vec<(IpcError, &str)> = vec![
            (
                Error::Offline {
                    server: "http://127.0.0.1:9".into(),
                    reason: "connection refused".into(),
                }
                .into(),
                r#"{"code":"offline","message":"offline: the server at http://127.0.0.1:9 could not be reached (connection refused)"}"#,
            ),
            (
                Error::Api {
                    status: 401,
                    code: ErrorCode::InvalidCredentials,
                    message: "wrong email or password".into(),
                }
                .into(),
                r#"{"code":"invalid_credentials","message":"wrong email or password"}"#,
            ),
            (
                Error::from(Denied::new(ErrorCode::LastAdmin)).into(),
                &last_admin,
            ),
            (
                Error::Keyring("locked".into()).into(),
                r#"{"code":"keyring","message":"the OS keyring: locked"}"#,
            ),
            (
                IpcError::not_signed_in(),
                r#"{"code":"unauthenticated","message":"not signed in; run `orgdesk login` first"}"#,
            ),
        ];
        for (error, json) in cases {
            assert_eq!(serde_json::to_string(&error).unwrap(), json);
        }
    }

    /// Every code a command can answer is in the UI's `ErrorCode` union, so a `switch` over
    /// it in TypeScript is exhaustive.
    #[test]
    fn the_typescript_union_lists_every_code() {
        let types = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/types.ts"),
        )
        .expect("ui/src/lib/types.ts");
        let union = types
            .split("export type ErrorCode")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .expect("an ErrorCode union in types.ts");
        let client_codes = ["offline", "cache", "keyring", "protocol", "internal"];
        for code in ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .chain(client_codes)
        {
            assert!(
                union.contains(&format!("'{code}'")),
                "ErrorCode in types.ts lacks '{code}'"
            );
        }
    }
}
