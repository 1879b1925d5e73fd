//! The server's settings, layered defaults → TOML file → `ORGDESK_*` environment.
//!
//! Secrets (database and SMTP URLs with passwords) are redacted in `Debug`, because settings
//! get logged at start-up.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything the server needs to start. `Settings::default()` is a local SQLite server on
/// 127.0.0.1:8080 writing mail into `./mailbox`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where to listen; port 0 picks a free port (see [`crate::RunningServer::addr`]).
    pub listen: SocketAddr,
    /// `sqlite://path`, a plain file path, or `postgres://...`.
    pub database: String,
    /// The address people reach the server at, used in invitation links; empty means
    /// `http://<listen address>`.
    pub public_base_url: String,
    pub mail: MailSettings,
    /// Sessions end after this long without a request.
    pub session_idle_hours: u64,
    /// Sessions end this long after sign-in, however busy.
    pub session_absolute_days: u64,
    /// Tombstones of removed rows are kept this long; older cursors must resync.
    pub tombstone_retention_days: u64,
    /// Stored mutation results (for idempotent replays) are kept this long.
    pub mutation_result_days: u64,
    /// Failed sign-ins allowed per account within `sign_in_window_minutes`.
    pub sign_in_failures: u32,
    pub sign_in_window_minutes: u64,
    /// Connections in the database pool.
    pub max_connections: u32,
}

/// Where mail goes: an SMTP server, or one `.eml` file per message in a directory.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// `smtp://user:pass@host:587` or `smtps://...`; when set, mail goes there.
    pub smtp_url: Option<String>,
    /// Used when no SMTP URL is set.
    pub mailbox_dir: PathBuf,
    pub from: String,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            smtp_url: None,
            mailbox_dir: PathBuf::from("mailbox"),
            from: "Orgdesk <no-reply@orgdesk.invalid>".to_owned(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: "sqlite://orgdesk.db".to_owned(),
            public_base_url: String::new(),
            mail: MailSettings::default(),
            session_idle_hours: 12,
            session_absolute_days: 30,
            tombstone_retention_days: 30,
            mutation_result_days: 7,
            sign_in_failures: 5,
            sign_in_window_minutes: 15,
            max_connections: 8,
        }
    }
}

impl Settings {
    /// Defaults, then the TOML file if given, then `ORGDESK_*` variables (nested keys with
    /// `__`, e.g. `ORGDESK_MAIL__SMTP_URL`).
    pub fn load(file: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        use figment::providers::{Env, Format, Serialized, Toml};
        let mut figment = figment::Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        // Only the settings' own keys: other ORGDESK_* variables (the test scripts' ones,
        // the client's) are not the server's business.
        const KEYS: [&str; 11] = [
            "listen",
            "database",
            "public_base_url",
            "mail",
            "session_idle_hours",
            "session_absolute_days",
            "tombstone_retention_days",
            "mutation_result_days",
            "sign_in_failures",
            "sign_in_window_minutes",
            "max_connections",
        ];
        let env = Env::prefixed("ORGDESK_").split("__").filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            KEYS.iter().any(|k| {
                key == *k || key.starts_with(&format!("{k}__")) || key.starts_with(&format!("{k}."))
            })
        });
        figment.merge(env).extract().map_err(Box::new)
    }

    /// A settings set for tests and the desktop's demo: port 0, the given database, mail
    /// into `mailbox_dir`.
    pub fn local(database: impl Into<String>, mailbox_dir: impl Into<PathBuf>) -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: database.into(),
            mail: MailSettings {
                mailbox_dir: mailbox_dir.into(),
                ..MailSettings::default()
            },
            ..Settings::default()
        }
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => format!("{scheme}://{credentials}@{host}"),
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("database", &redact_url(&self.database))
            .field("public_base_url", &self.public_base_url)
            .field("mail", &self.mail)
            .field("session_idle_hours", &self.session_idle_hours)
            .field("session_absolute_days", &self.session_absolute_days)
            .field("tombstone_retention_days", &self.tombstone_retention_days)
            .field("mutation_result_days", &self.mutation_result_days)
            .field("sign_in_failures", &self.sign_in_failures)
            .field("sign_in_window_minutes", &self.sign_in_window_minutes)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mailbox_dir", &self.mailbox_dir)
            .field("from", &self.from)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settings_file_overrides_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("orgdesk.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\ndatabase = \"postgres://db/orgdesk\"\n[mail]\nmailbox_dir = \"/var/mail/orgdesk\"\n",
        )
        .unwrap();
        let settings = Settings::load(Some(&file)).unwrap();
        assert_eq!(settings.listen.port(), 9000);
        assert_eq!(
            settings.mail.mailbox_dir,
            PathBuf::from("/var/mail/orgdesk")
        );
        assert_eq!(settings.session_idle_hours, 12, "a default");
        let unknown = dir.path().join("typo.toml");
        std::fs::write(&unknown, "lisen = \"0.0.0.0:1\"\n").unwrap();
        assert!(
            Settings::load(Some(&unknown)).is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn secrets_in_urls_are_redacted_in_debug() {
        let settings = Settings {
            database: "postgres://orgdesk:hunter2hunter2@db.example:5432/orgdesk".into(),
            mail: MailSettings {
                smtp_url: Some("smtps://mailer:s3cret@smtp.example".into()),
                ..MailSettings::default()
            },
            ..Settings::default()
        };
        let debug = format!("{settings:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("orgdesk:***@db.example"), "{debug}");
    }
}
