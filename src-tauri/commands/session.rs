//! Signing in and out, and what the app shows at start.

use crate::error::IpcResult;
use crate::state::{Active, Desktop};
use orgdesk_client::{Profile, profile_names};
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    pub demo: bool,
}

#[derive(Debug, Serialize)]
pub struct ProfileSummary {
    pub name: String,
    pub server: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SignedIn {
    pub profile: String,
    pub server: String,
    pub email: String,
    pub account_id: i64,
    /// The token is in the OS keyring; false: this run only.
    pub remembered: bool,
}

#[derive(Debug, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Session {
    SignedOut {
        profiles: Vec<ProfileSummary>,
        last_profile: Option<String>,
    },
    SignedIn(SignedIn),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SignInOutcome {
    SignedIn {
        session: SignedIn,
    },
    /// The account has TOTP on: ask for the code and sign in again with it.
    TotpRequired,
    /// The server accepted the sign-in but the keyring refused the token: the user may
    /// continue for this session only (`continue_session_only`) or cancel (`sign_out`).
    KeyringUnavailable {
        message: String,
    },
}

fn signed_in(active: &Active) -> IpcResult<SignedIn> {
    let profile = &active.profile;
    Ok(SignedIn {
        profile: profile.name.clone(),
        server: profile.server()?.unwrap_or_default(),
        email: profile.email()?.unwrap_or_default(),
        account_id: profile.account_id()?.unwrap_or_default(),
        remembered: active.remembered,
    })
}

#[tauri::command(async)]
pub fn app_info(state: State<'_, Desktop>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        demo: state.demo.is_some(),
    }
}

#[tauri::command(async)]
pub async fn session<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, Desktop>,
) -> IpcResult<Session> {
    if let Some(demo) = &state.demo {
        demo.ready(&app).await?;
    }
    if let Some(active) = state.restore()? {
        state.sync.wake();
        return Ok(Session::SignedIn(signed_in(&active)?));
    }
    let mut profiles = Vec::new();
    for name in profile_names(&state.data_dir)? {
        let profile = Profile::open(&state.data_dir, &name)?;
        profiles.push(ProfileSummary {
            server: profile.server()?,
            email: profile.email()?,
            name,
        });
    }
    Ok(Session::SignedOut {
        profiles,
        last_profile: state.last_profile(),
    })
}

#[tauri::command(async)]
pub async fn sign_in(
    state: State<'_, Desktop>,
    server: String,
    email: String,
    password: String,
    totp: Option<String>,
    remember: bool,
) -> IpcResult<SignInOutcome> {
    let profile = Profile::for_server(&state.data_dir, &server)?;
    let totp = totp.filter(|code| !code.trim().is_empty());
    let signed = match profile
        .sign_in(Some(&server), email.trim(), &password, totp)
        .await
    {
        Ok(signed) => signed,
        Err(error) if error.code() == "totp_required" => return Ok(SignInOutcome::TotpRequired),
        Err(error) => return Err(error.into()),
    };
    match state.adopt(profile, signed, remember)? {
        Ok(active) => {
            state.sync.wake();
            Ok(SignInOutcome::SignedIn {
                session: signed_in(&active)?,
            })
        }
        Err(message) => Ok(SignInOutcome::KeyringUnavailable { message }),
    }
}

#[tauri::command(async)]
pub fn continue_session_only(state: State<'_, Desktop>) -> IpcResult<SignedIn> {
    let active = state.continue_session_only()?;
    state.sync.wake();
    signed_in(&active)
}

#[tauri::command(async)]
pub async fn sign_out(state: State<'_, Desktop>) -> IpcResult<()> {
    state.sync.cancel();
    if let Some(active) = state.end() {
        active.profile.logout_with(&active.api).await?;
    }
    Ok(())
}
