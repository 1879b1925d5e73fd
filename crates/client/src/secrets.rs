//! The session token in the OS keyring: never in SQLite or a plain file.
//!
//! macOS and Windows use their native stores (keyring's `v1` entry). On Linux the default
//! is the kernel keyutils store: it needs no D-Bus session, so it works over SSH, in CI and
//! on servers. keyutils keys live in the session keyring and are linked into the user's
//! persistent keyring, so `orgdesk login` in one process and `orgdesk sync` in another
//! find the same key (the persistent keyring outlives the session for a few days, and a
//! reboot clears it: then the user signs in again). `ORGDESK_KEYRING=secret-service`
//! picks the desktop's Secret Service instead.
//!
//! A process started outside a login session (CI, cron, an SSH command) has no session
//! keyring of its own; keyutils then falls back to the user-session keyring, where the
//! persistent keyring is not "possessed" and linking into it is refused (EACCES). So on
//! Linux every keyring operation runs on a short-lived thread that first joins a session
//! keyring (a new anonymous one if there is none; the login session's otherwise):
//! credentials, and so session keyrings, are per thread.

use crate::error::{Error, Result};

/// The keyring service name of every Orgdesk entry; the user part is the profile's id.
const SERVICE: &str = "orgdesk";

#[cfg(target_os = "linux")]
fn entry(profile_id: &str) -> Result<keyring_core::Entry> {
    use std::sync::OnceLock;
    static STORE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    let ready = STORE.get_or_init(|| {
        let wanted = std::env::var("ORGDESK_KEYRING").unwrap_or_default();
        if wanted == "secret-service" {
            // keyring's v1 entry sets the Secret Service as the default store.
            keyring::Entry::store_status()
                .as_ref()
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else {
            linux_keyutils_keyring_store::Store::new()
                .map(|store| keyring_core::set_default_store(store))
                .map_err(|e| e.to_string())
        }
    });
    ready.clone().map_err(Error::Keyring)?;
    keyring_core::Entry::new(SERVICE, profile_id).map_err(|e| Error::Keyring(e.to_string()))
}

#[cfg(not(target_os = "linux"))]
fn entry(profile_id: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, profile_id).map_err(|e| Error::Keyring(e.to_string()))
}

#[cfg(target_os = "linux")]
fn on_keyring_thread<T: Send>(op: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    use linux_keyutils::{KeyRing, KeyRingIdentifier};
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                KeyRing::from_special_id(KeyRingIdentifier::Session, true)
                    .map_err(|e| Error::Keyring(format!("no session keyring: {e}")))?;
                op()
            })
            .join()
            .map_err(|_| Error::Task("the keyring thread panicked".into()))?
    })
}

#[cfg(not(target_os = "linux"))]
fn on_keyring_thread<T: Send>(op: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    op()
}

/// Stores the session token of a profile.
pub fn save_token(profile_id: &str, token: &str) -> Result<()> {
    on_keyring_thread(|| {
        entry(profile_id)?
            .set_password(token)
            .map_err(|e| Error::Keyring(e.to_string()))
    })
}

/// The session token of a profile, if signed in.
pub fn load_token(profile_id: &str) -> Result<Option<String>> {
    on_keyring_thread(|| match entry(profile_id)?.get_password() {
        Ok(token) => Ok(Some(token)),
        Err(KeyringError::NoEntry) => Ok(None),
        Err(e) => Err(Error::Keyring(e.to_string())),
    })
}

/// Forgets the session token of a profile (nothing to do if there is none).
pub fn delete_token(profile_id: &str) -> Result<()> {
    on_keyring_thread(|| match entry(profile_id)?.delete_credential() {
        Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
        Err(e) => Err(Error::Keyring(e.to_string())),
    })
}

#[cfg(not(target_os = "linux"))]
use keyring::Error as KeyringError;
#[cfg(target_os = "linux")]
use keyring_core::Error as KeyringError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_through_the_real_keyring() {
        let profile = format!("test-{}", uuid::Uuid::new_v4());
        assert_eq!(load_token(&profile).unwrap(), None);
        save_token(&profile, "secret-token").unwrap();
        assert_eq!(
            load_token(&profile).unwrap().as_deref(),
            Some("secret-token")
        );
        delete_token(&profile).unwrap();
        assert_eq!(load_token(&profile).unwrap(), None);
        delete_token(&profile).unwrap();
    }
}
