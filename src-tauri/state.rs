//! What the app holds between commands: where profiles live, the desktop's own settings, the
//! signed-in session (its token in the OS keyring, or in memory for this run only), the demo
//! server, and the sync hub.

use crate::demo::DemoServer;
use crate::error::{IpcError, IpcResult};
use crate::sync_hub::SyncHub;
use orgdesk_client::{Api, CacheReader, Profile, SignedIn, profile_names};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// The desktop's settings file in the data directory. Nothing secret: tokens are in the
/// keyring.
const SETTINGS_FILE: &str = "desktop.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DesktopSettings {
    /// The profile signed in last, opened at start.
    pub last_profile: Option<String>,
    /// Minutes between background syncs while online.
    pub sync_minutes: u64,
    /// The update manifest's URL (`{{target}}`, `{{arch}}`, `{{current_version}}` are
    /// filled in); none: the one in tauri.conf.json.
    pub update_endpoint: Option<String>,
    /// The minisign public key updates must be signed with; none: tauri.conf.json's.
    pub update_pubkey: Option<String>,
}

impl Default for DesktopSettings {
    fn default() -> Self {
        DesktopSettings {
            last_profile: None,
            sync_minutes: 5,
            update_endpoint: None,
            update_pubkey: None,
        }
    }
}

impl DesktopSettings {
    /// The settings in `data_dir`, defaults where the file is missing or unreadable (a bad
    /// file must not keep the app from opening; it is rewritten at the next sign-in).
    pub fn load(data_dir: &Path) -> DesktopSettings {
        std::fs::read_to_string(data_dir.join(SETTINGS_FILE))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, data_dir: &Path) -> IpcResult<()> {
        std::fs::create_dir_all(data_dir).map_err(orgdesk_client::Error::from)?;
        let text = serde_json::to_string_pretty(self).map_err(orgdesk_client::Error::from)?;
        std::fs::write(data_dir.join(SETTINGS_FILE), text).map_err(orgdesk_client::Error::from)?;
        Ok(())
    }
}

/// A signed-in profile with its API client and a read connection for the roster.
pub struct Active {
    pub profile: Profile,
    pub api: Api,
    /// The token is in the OS keyring (else only in this process's memory).
    pub remembered: bool,
    reader: Mutex<Option<CacheReader>>,
}

impl Active {
    fn new(profile: Profile, api: Api, remembered: bool) -> Active {
        Active {
            profile,
            api,
            remembered,
            reader: Mutex::new(None),
        }
    }

    /// Runs `read` on the roster's own read-only connection (opened at first use), so the
    /// UI lists and searches while a sync writes.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&CacheReader) -> orgdesk_client::Result<T>,
    ) -> IpcResult<T> {
        let mut reader = lock(&self.reader);
        if reader.is_none() {
            *reader = Some(self.profile.cache.reader()?);
        }
        match reader.as_ref() {
            Some(reader) => Ok(read(reader)?),
            None => Err(IpcError::new("cache", "the cache could not be opened")),
        }
    }
}

/// The app's state, managed by Tauri.
pub struct Desktop {
    pub data_dir: PathBuf,
    pub settings: Mutex<DesktopSettings>,
    pub demo: Option<Arc<DemoServer>>,
    pub sync: SyncHub,
    session: Mutex<Option<Arc<Active>>>,
    /// A sign-in the server accepted whose token the keyring refused: kept until the user
    /// chooses this session only (or cancels).
    awaiting_keyring: Mutex<Option<(Profile, SignedIn)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every value behind these locks is replaced whole; a panic cannot leave one half-set.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Desktop {
    pub fn new(data_dir: PathBuf, demo: Option<Arc<DemoServer>>) -> Desktop {
        Desktop {
            settings: Mutex::new(DesktopSettings::load(&data_dir)),
            data_dir,
            demo,
            sync: SyncHub::default(),
            session: Mutex::new(None),
            awaiting_keyring: Mutex::new(None),
        }
    }

    pub fn settings(&self) -> DesktopSettings {
        lock(&self.settings).clone()
    }

    /// The signed-in session, or `unauthenticated`.
    pub fn active(&self) -> IpcResult<Arc<Active>> {
        lock(&self.session)
            .clone()
            .ok_or_else(IpcError::not_signed_in)
    }

    pub fn is_signed_in(&self) -> bool {
        lock(&self.session).is_some()
    }

    /// The session of the profile signed in last, if its token is still in the keyring.
    pub fn restore(&self) -> IpcResult<Option<Arc<Active>>> {
        if let Some(active) = lock(&self.session).clone() {
            return Ok(Some(active));
        }
        let Some(name) = self.settings().last_profile else {
            return Ok(None);
        };
        if !profile_names(&self.data_dir)?.contains(&name) {
            return Ok(None);
        }
        let profile = Profile::open(&self.data_dir, &name)?;
        let token = match profile.remembered_token() {
            Ok(Some(token)) => token,
            // No token, or no keyring to ask: the user signs in (and is told why if the
            // keyring is the trouble).
            Ok(None) => return Ok(None),
            Err(error) => {
                tracing::warn!(%error, "the keyring could not be read at start");
                return Ok(None);
            }
        };
        let api = profile.api_with_token(token)?;
        Ok(Some(self.begin(Active::new(profile, api, true))))
    }

    /// Keeps a sign-in: in the keyring when `remember`; if the keyring refuses, it waits
    /// for [`Desktop::continue_session_only`] and the keyring's message is returned.
    pub fn adopt(
        &self,
        profile: Profile,
        signed_in: SignedIn,
        remember: bool,
    ) -> IpcResult<Result<Arc<Active>, String>> {
        match profile.adopt(&signed_in, remember) {
            Ok(()) => {}
            Err(orgdesk_client::Error::Keyring(reason)) => {
                *lock(&self.awaiting_keyring) = Some((profile, signed_in));
                return Ok(Err(reason));
            }
            Err(error) => return Err(error.into()),
        }
        let api = profile.api_with_token(signed_in.token)?;
        let name = profile.name.clone();
        let active = self.begin(Active::new(profile, api, remember));
        let mut settings = self.settings();
        settings.last_profile = Some(name);
        settings.save(&self.data_dir)?;
        *lock(&self.settings) = settings;
        Ok(Ok(active))
    }

    /// Takes the sign-in the keyring refused as this run's session.
    pub fn continue_session_only(&self) -> IpcResult<Arc<Active>> {
        let (profile, signed_in) = lock(&self.awaiting_keyring)
            .take()
            .ok_or_else(|| IpcError::invalid("no sign-in is waiting for the keyring"))?;
        match self.adopt(profile, signed_in, false)? {
            Ok(active) => Ok(active),
            Err(reason) => Err(IpcError::new("keyring", reason)),
        }
    }

    fn begin(&self, active: Active) -> Arc<Active> {
        let active = Arc::new(active);
        *lock(&self.session) = Some(active.clone());
        active
    }

    /// Ends the session in memory; the caller signs out at the server and in the keyring.
    pub fn end(&self) -> Option<Arc<Active>> {
        lock(&self.awaiting_keyring).take();
        lock(&self.session).take()
    }

    pub fn last_profile(&self) -> Option<String> {
        self.settings().last_profile
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_where_the_file_is_bad() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SETTINGS_FILE), "{not json").unwrap();
        assert_eq!(
            DesktopSettings::load(dir.path()),
            DesktopSettings::default()
        );
        let settings = DesktopSettings {
            last_profile: Some("work".into()),
            ..DesktopSettings::default()
        };
        settings.save(dir.path()).unwrap();
        assert_eq!(DesktopSettings::load(dir.path()), settings);
    }
}
