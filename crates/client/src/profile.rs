//! A server profile: one cache database in the OS data directory, the server it talks to,
//! the signed-in account, and the session token in the OS keyring.

use crate::api::Api;
use crate::cache::{Cache, CachedOrg, META_ACCOUNT_ID, META_CURRENT_ORG, META_EMAIL, META_SERVER};
use crate::error::{Error, Result};
use crate::secrets;
use orgdesk_domain::wire::{Account, LoginRequest, OrgId};
use std::path::{Path, PathBuf};

/// Overrides the OS data directory (tests, portable installs).
pub const DATA_DIR_ENV: &str = "ORGDESK_DATA_DIR";

/// Where profiles live: `$ORGDESK_DATA_DIR`, else the OS's data directory for Orgdesk.
pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "Orgdesk")
        .map(|dirs| dirs.data_dir().to_owned())
        .ok_or_else(|| Error::Invalid("no home directory to keep the cache in".into()))
}

/// One server profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub cache: Cache,
}

impl Profile {
    pub fn open(data_dir: &Path, name: &str) -> Result<Profile> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || name.starts_with('.')
        {
            return Err(Error::Invalid(format!(
                "'{name}' is not a profile name (letters, digits, '-', '_', '.')"
            )));
        }
        let cache = Cache::open(&Cache::path_for(data_dir, name))?;
        Ok(Profile {
            name: name.to_owned(),
            cache,
        })
    }

    pub fn server(&self) -> Result<Option<String>> {
        self.cache.meta(META_SERVER)
    }

    pub fn email(&self) -> Result<Option<String>> {
        self.cache.meta(META_EMAIL)
    }

    pub fn account_id(&self) -> Result<Option<i64>> {
        Ok(self
            .cache
            .meta(META_ACCOUNT_ID)?
            .and_then(|id| id.parse().ok()))
    }

    /// Signs in and keeps the token in the OS keyring. A profile stays bound to the first
    /// server it signed in to (its cache is that server's data).
    pub async fn login(
        &self,
        server: Option<&str>,
        email: &str,
        password: &str,
        totp: Option<String>,
    ) -> Result<Account> {
        let known = self.server()?;
        let server = match (server, known.as_deref()) {
            (Some(asked), Some(known)) if asked.trim_end_matches('/') != known => {
                return Err(Error::Invalid(format!(
                    "profile '{}' is for {known}; use another --profile for {asked}",
                    self.name
                )));
            }
            (Some(asked), _) => asked.trim_end_matches('/').to_owned(),
            (None, Some(known)) => known.to_owned(),
            (None, None) => {
                return Err(Error::Invalid(
                    "which server? pass --server URL the first time".into(),
                ));
            }
        };
        let api = Api::new(&server)?;
        let answer = api
            .login(&LoginRequest {
                email: email.to_owned(),
                password: password.to_owned(),
                totp,
            })
            .await?;
        let profile_id = self.cache.profile_id()?;
        secrets::save_token(&profile_id, &answer.token)?;
        if self.account_id()?.is_some_and(|id| id != answer.account.id) {
            // Another account's cached rosters and scopes are not this one's to read.
            self.cache.forget_orgs()?;
        }
        self.cache.set_meta(META_SERVER, &server)?;
        self.cache.set_meta(META_EMAIL, &answer.account.email)?;
        self.cache
            .set_meta(META_ACCOUNT_ID, &answer.account.id.to_string())?;
        Ok(answer.account)
    }

    /// Ends the session: on the server when reachable, and in the keyring always. The
    /// cache and the outbox stay (staged changes are never lost by signing out).
    pub async fn logout(&self) -> Result<()> {
        if let Ok(api) = self.api() {
            match api.logout().await {
                Ok(()) => {}
                Err(error) if error.is_offline() => {}
                Err(Error::Api { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        secrets::delete_token(&self.cache.profile_id()?)
    }

    /// An API client with this profile's session.
    pub fn api(&self) -> Result<Api> {
        let server = self.server()?.ok_or(Error::NotSignedIn)?;
        let token = secrets::load_token(&self.cache.profile_id()?)?.ok_or(Error::NotSignedIn)?;
        Ok(Api::new(&server)?.with_token(token))
    }

    /// The org the user works in (`switch`), if any.
    pub fn current_org(&self) -> Result<Option<CachedOrg>> {
        match self
            .cache
            .meta(META_CURRENT_ORG)?
            .and_then(|id| id.parse::<OrgId>().ok())
        {
            Some(id) => self.cache.org(id),
            None => Ok(None),
        }
    }

    /// Switches to an org (by id or name) and marks it opened, so `sync` pulls it.
    pub fn switch(&self, name_or_id: &str) -> Result<CachedOrg> {
        let org = self.cache.find_org(name_or_id)?;
        self.cache.open_org(org.id)?;
        self.cache.set_meta(META_CURRENT_ORG, &org.id.to_string())?;
        Ok(org)
    }
}
