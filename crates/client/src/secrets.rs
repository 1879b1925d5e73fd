//! A profile's secrets in the OS keyring, never in SQLite or a plain file: its session token
//! and the cache key that seals the passwords staged in its cache (see `crate::seal`).
//!
//! macOS and Windows use their native stores (keyring's `v1` entry). On Linux the store is
//! the desktop's Secret Service (GNOME Keyring, KWallet): it keeps the token across logouts
//! and reboots, so a user signs in once, not every morning. The kernel keyutils keyring is
//! emptied at logout and reboot; it is there only for machines without a desktop session
//! (SSH, servers), chosen with `ORGDESK_KEYRING=keyutils`.
//!
//! A missing or locked keyring is an [`Error::Keyring`] with a message that says what to do;
//! the desktop then offers to keep the session in memory for this run only. A Secret Service
//! that does not answer (a locked collection waiting on an unlock prompt nobody sees) is
//! given [`KEYRING_TIMEOUT`], not forever.
//!
//! keyutils keys live in the session keyring and are linked into the user's persistent
//! keyring. A process started outside a login session (CI, cron, an SSH command) has no
//! session keyring of its own; keyutils then falls back to the user-session keyring, where
//! the persistent keyring is not "possessed" and linking into it is refused (EACCES). So
//! every keyring operation runs on a short-lived thread that first joins a session keyring
//! (a new anonymous one if there is none): credentials, and so session keyrings, are per
//! thread.

use crate::error::{Error, Result};
use std::time::Duration;

/// The keyring service name of every Orgdesk entry; the user part is the profile's id (the
/// session token) or the profile's id with [`CACHE_KEY_SUFFIX`] (the cache key).
const SERVICE: &str = "orgdesk";

/// Names the cache key's entry beside the session token's: `<profile id>/cache-key`.
const CACHE_KEY_SUFFIX: &str = "/cache-key";

/// Picks the Linux store: `secret-service` (the default) or `keyutils`.
pub const KEYRING_ENV: &str = "ORGDESK_KEYRING";

/// How long a keyring operation may take before the keyring is called unavailable.
pub const KEYRING_TIMEOUT: Duration = Duration::from_secs(10);

/// Which store holds the secrets on this machine, for messages and `orgdesk --version`.
pub fn store_name() -> &'static str {
    if cfg!(target_os = "linux") {
        if keyutils_chosen() {
            "the kernel keyutils keyring"
        } else {
            "the Secret Service"
        }
    } else if cfg!(target_os = "macos") {
        "the macOS Keychain"
    } else {
        "the Windows Credential Manager"
    }
}

fn keyutils_chosen() -> bool {
    std::env::var(KEYRING_ENV).is_ok_and(|v| v == "keyutils")
}

#[cfg(target_os = "linux")]
fn entry(user: &str) -> Result<keyring_core::Entry> {
    use std::sync::OnceLock;
    static STORE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    let ready = STORE.get_or_init(|| {
        if keyutils_chosen() {
            linux_keyutils_keyring_store::Store::new()
                .map(|store| keyring_core::set_default_store(store))
                .map_err(|e| e.to_string())
        } else {
            zbus_secret_service_keyring_store::Store::new()
                .map(|store| keyring_core::set_default_store(store))
                .map_err(|e| {
                    format!(
                        "no Secret Service keyring is available ({e}); start or unlock GNOME \
                         Keyring or KWallet, or on a machine without a desktop session set \
                         {KEYRING_ENV}=keyutils"
                    )
                })
        }
    });
    ready.clone().map_err(Error::Keyring)?;
    keyring_core::Entry::new(SERVICE, user).map_err(|e| Error::Keyring(e.to_string()))
}

#[cfg(not(target_os = "linux"))]
fn entry(user: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, user).map_err(|e| Error::Keyring(e.to_string()))
}

/// Runs a keyring operation on a thread of its own, given [`KEYRING_TIMEOUT`].
fn on_keyring_thread<T: Send + 'static>(
    op: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (answer, wait) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let _ = answer.send(join_session_keyring().and_then(|()| op()));
        })
        .map_err(|e| Error::Task(format!("no keyring thread: {e}")))?;
    match wait.recv_timeout(KEYRING_TIMEOUT) {
        Ok(result) => result,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(Error::Keyring(format!(
            "{} did not answer within {} s: it may be locked",
            store_name(),
            KEYRING_TIMEOUT.as_secs()
        ))),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err(Error::Task("the keyring thread panicked".into()))
        }
    }
}

#[cfg(target_os = "linux")]
fn join_session_keyring() -> Result<()> {
    use linux_keyutils::{KeyRing, KeyRingIdentifier};
    if keyutils_chosen() {
        KeyRing::from_special_id(KeyRingIdentifier::Session, true)
            .map_err(|e| Error::Keyring(format!("no session keyring: {e}")))?;
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn join_session_keyring() -> Result<()> {
    Ok(())
}

fn save(user: &str, secret: &str) -> Result<()> {
    let (user, secret) = (user.to_owned(), secret.to_owned());
    on_keyring_thread(move || {
        entry(&user)?
            .set_password(&secret)
            .map_err(|e| Error::Keyring(e.to_string()))
    })
}

fn load(user: &str) -> Result<Option<String>> {
    let user = user.to_owned();
    on_keyring_thread(move || match entry(&user)?.get_password() {
        Ok(secret) => Ok(Some(secret)),
        Err(KeyringError::NoEntry) => Ok(None),
        Err(e) => Err(Error::Keyring(e.to_string())),
    })
}

fn delete(user: &str) -> Result<()> {
    let user = user.to_owned();
    on_keyring_thread(move || match entry(&user)?.delete_credential() {
        Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
        Err(e) => Err(Error::Keyring(e.to_string())),
    })
}

/// Stores the session token of a profile.
pub fn save_token(profile_id: &str, token: &str) -> Result<()> {
    save(profile_id, token)
}

/// The session token of a profile, if signed in.
pub fn load_token(profile_id: &str) -> Result<Option<String>> {
    load(profile_id)
}

/// Forgets the session token of a profile (nothing to do if there is none).
pub fn delete_token(profile_id: &str) -> Result<()> {
    delete(profile_id)
}

/// Stores the cache key of a profile (its text form: see `crate::seal`).
pub(crate) fn save_cache_key(profile_id: &str, key: &str) -> Result<()> {
    save(&format!("{profile_id}{CACHE_KEY_SUFFIX}"), key)
}

/// The cache key of a profile; `None` once the keyring lost it (keyutils after a reboot).
pub(crate) fn load_cache_key(profile_id: &str) -> Result<Option<String>> {
    load(&format!("{profile_id}{CACHE_KEY_SUFFIX}"))
}

/// Forgets the cache key of a profile: what it sealed can no longer be read.
pub fn delete_cache_key(profile_id: &str) -> Result<()> {
    delete(&format!("{profile_id}{CACHE_KEY_SUFFIX}"))
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

    #[test]
    fn the_cache_key_is_an_entry_of_its_own_beside_the_token() {
        let profile = format!("test-{}", uuid::Uuid::new_v4());
        save_token(&profile, "secret-token").unwrap();
        save_cache_key(&profile, "key-text").unwrap();
        delete_token(&profile).unwrap();
        assert_eq!(
            load_cache_key(&profile).unwrap().as_deref(),
            Some("key-text"),
            "signing out must not take the cache key with the token"
        );
        delete_cache_key(&profile).unwrap();
        assert_eq!(load_cache_key(&profile).unwrap(), None);
    }
}
