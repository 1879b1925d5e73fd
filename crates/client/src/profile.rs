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

/// A sign-in the server accepted, not yet kept anywhere (see [`Profile::adopt`]).
#[derive(Clone)]
pub struct SignedIn {
    pub server: String,
    pub account: Account,
    pub token: String,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("SignedIn")
            .field("server", &self.server)
            .field("account", &self.account)
            .finish()
    }
}

/// The profiles in a data directory, by name (the cache files there).
pub fn profile_names(data_dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let entries = match std::fs::read_dir(data_dir.join("profiles")) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        Err(error) => return Err(error.into()),
    };
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if Cache::path_for(data_dir, &name).is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// A profile name from a server URL: its host and port, in the characters a profile name
/// allows (the desktop names the profiles it makes this way).
pub fn profile_name_for(server: &str) -> String {
    let without_scheme = server.split("://").nth(1).unwrap_or(server);
    let host = without_scheme.split('/').next().unwrap_or(without_scheme);
    let name: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches(|c| c == '.' || c == '-');
    if name.is_empty() {
        "server".to_owned()
    } else {
        name.to_owned()
    }
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

    /// The profile bound to `server` in `data_dir`, else a new one named after its host
    /// ([`profile_name_for`]).
    pub fn for_server(data_dir: &Path, server: &str) -> Result<Profile> {
        let wanted = server.trim().trim_end_matches('/');
        for name in profile_names(data_dir)? {
            let profile = Profile::open(data_dir, &name)?;
            if profile.server()?.as_deref() == Some(wanted) {
                return Ok(profile);
            }
        }
        Profile::open(data_dir, &profile_name_for(wanted))
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
        let signed_in = self.sign_in(server, email, password, totp).await?;
        self.adopt(&signed_in, true)?;
        Ok(signed_in.account)
    }

    /// Signs in at the server, keeping nothing yet: [`Profile::adopt`] decides where the
    /// token lives (the keyring may be missing or locked, and the user then chooses).
    pub async fn sign_in(
        &self,
        server: Option<&str>,
        email: &str,
        password: &str,
        totp: Option<String>,
    ) -> Result<SignedIn> {
        let server = self.server_for(server)?;
        let api = Api::new(&server)?;
        let answer = api
            .login(&LoginRequest {
                email: email.to_owned(),
                password: password.to_owned(),
                totp,
            })
            .await?;
        Ok(SignedIn {
            server,
            account: answer.account,
            token: answer.token,
        })
    }

    /// Makes a sign-in this profile's session: the token into the OS keyring when
    /// `remember` (an error if the keyring refuses), else only in the caller's memory.
    pub fn adopt(&self, signed_in: &SignedIn, remember: bool) -> Result<()> {
        let profile_id = self.cache.profile_id()?;
        if remember {
            secrets::save_token(&profile_id, &signed_in.token)?;
        } else {
            // A token remembered earlier is another session's; it must not outlive this one.
            secrets::delete_token(&profile_id).ok();
        }
        let account = &signed_in.account;
        if self.account_id()?.is_some_and(|id| id != account.id) {
            // Another account's cached rosters and scopes are not this one's to read.
            self.cache.forget_orgs()?;
        }
        self.cache.set_meta(META_SERVER, &signed_in.server)?;
        self.cache.set_meta(META_EMAIL, &account.email)?;
        self.cache
            .set_meta(META_ACCOUNT_ID, &account.id.to_string())?;
        Ok(())
    }

    /// Points the profile at the same server under a new address (the desktop's demo
    /// server listens on whatever port is free); the cache stays, as it is that server's.
    pub fn relocate(&self, server: &str) -> Result<()> {
        Api::new(server)?;
        self.cache
            .set_meta(META_SERVER, server.trim_end_matches('/'))
    }

    /// The server a sign-in goes to: the one asked for, or the profile's own.
    fn server_for(&self, asked: Option<&str>) -> Result<String> {
        let known = self.server()?;
        match (asked, known.as_deref()) {
            (Some(asked), Some(known)) if asked.trim_end_matches('/') != known => {
                Err(Error::Invalid(format!(
                    "profile '{}' is for {known}; use another --profile for {asked}",
                    self.name
                )))
            }
            (Some(asked), _) => Ok(asked.trim_end_matches('/').to_owned()),
            (None, Some(known)) => Ok(known.to_owned()),
            (None, None) => Err(Error::Invalid(
                "which server? pass --server URL the first time".into(),
            )),
        }
    }

    /// Ends the session: on the server when reachable, and in the keyring always. The
    /// cache and the outbox stay (staged changes are never lost by signing out).
    pub async fn logout(&self) -> Result<()> {
        match self.api() {
            Ok(api) => self.logout_with(&api).await,
            Err(_) => secrets::delete_token(&self.cache.profile_id()?),
        }
    }

    /// [`Profile::logout`] of the session `api` holds (a session kept in memory only).
    pub async fn logout_with(&self, api: &Api) -> Result<()> {
        match api.logout().await {
            Ok(()) | Err(Error::Api { .. }) => {}
            Err(error) if error.is_offline() => {}
            Err(error) => return Err(error),
        }
        secrets::delete_token(&self.cache.profile_id()?)
    }

    /// An API client with this profile's session.
    pub fn api(&self) -> Result<Api> {
        let token = self.remembered_token()?.ok_or(Error::NotSignedIn)?;
        self.api_with_token(token)
    }

    /// The session token kept in the OS keyring, if any.
    pub fn remembered_token(&self) -> Result<Option<String>> {
        secrets::load_token(&self.cache.profile_id()?)
    }

    /// An API client for this profile's server with a token held elsewhere (a session
    /// kept in memory because the keyring was unavailable).
    pub fn api_with_token(&self, token: String) -> Result<Api> {
        let server = self.server()?.ok_or(Error::NotSignedIn)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_named_after_its_server() {
        assert_eq!(profile_name_for("http://127.0.0.1:8080"), "127.0.0.1-8080");
        assert_eq!(
            profile_name_for("https://orgdesk.example.com/"),
            "orgdesk.example.com"
        );
        assert_eq!(profile_name_for("https://[::1]:9/x"), "1--9");
        assert_eq!(profile_name_for("???"), "server");
    }

    #[test]
    fn the_profile_bound_to_a_server_is_found_again() {
        let dir = tempfile::tempdir().unwrap();
        let work = Profile::open(dir.path(), "work").unwrap();
        work.relocate("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            Profile::for_server(dir.path(), "http://127.0.0.1:8080/")
                .unwrap()
                .name,
            "work"
        );
        assert_eq!(
            Profile::for_server(dir.path(), "http://127.0.0.1:9090")
                .unwrap()
                .name,
            "127.0.0.1-9090"
        );
    }
}
