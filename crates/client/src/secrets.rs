//! A profile's secrets in the OS keyring, never in SQLite or a plain file: its session token
//! and the cache key that seals the passwords staged in its cache (see `crate::seal`).
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

/// The keyring service name of every Orgdesk entry; the user part is the profile's id (the
/// session token) or the profile's id with [`CACHE_KEY_SUFFIX`] (the cache key).
const SERVICE: &str = "orgdesk";

/// Names the cache key's entry beside the session token's: `<profile id>/cache-key`.
const CACHE_KEY_SUFFIX: &str = "/cache-key";

#[cfg(target_os = "linux")]
fn entry(user: &str) -> Result<keyring_core::Entry> {
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
    keyring_core::Entry::new(SERVICE, user).map_err(|e| Error::Keyring(e.to_string()))
}

#[cfg(not(target_os = "linux"))]
fn entry(user: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, user).map_err(|e| Error::Keyring(e.to_string()))
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

fn save(user: &str, secret: &str) -> Result<()> {
    on_keyring_thread(|| {
        entry(user)?
            .set_password(secret)
            .map_err(|e| Error::Keyring(e.to_string()))
    })
}

fn load(user: &str) -> Result<Option<String>> {
    on_keyring_thread(|| match entry(user)?.get_password() {
        Ok(secret) => Ok(Some(secret)),
        Err(KeyringError::NoEntry) => Ok(None),
        Err(e) => Err(Error::Keyring(e.to_string())),
    })
}

fn delete(user: &str) -> Result<()> {
    on_keyring_thread(|| match entry(user)?.delete_credential() {
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
