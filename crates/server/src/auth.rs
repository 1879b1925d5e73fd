//! Sign-in: Argon2id password hashes, opaque bearer tokens kept only as SHA-256 hashes,
//! per-account throttling of failed sign-ins, optional TOTP, and the [`Session`] extractor
//! that turns a bearer token into the signed-in account.

use crate::error::{Error, Result};
use crate::store::{self, DAY_MS, int, opt_str, text};
use crate::{AppState, SharedState};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use orgdesk_domain::ErrorCode;
use orgdesk_domain::wire::{Account, LoginRequest, LoginResponse};
use rand::TryRng;
use sha2::{Digest, Sha256};

const HOUR_MS: i64 = 60 * 60 * 1000;
/// How often a session's "last used" time is written; finer precision is not worth a
/// write per request.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(Error::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password off the async threads (it takes tens of milliseconds by design).
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let hash = argon2()?
            .hash_password(password.as_bytes())
            .map_err(Error::internal)?;
        Ok(hash.to_string())
    })
    .await
    .map_err(Error::internal)?
}

pub async fn verify_password(password: String, hash: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        Ok(argon2()?
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok())
    })
    .await
    .map_err(Error::internal)?
}

/// `n` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(Error::internal)?;
    Ok(bytes)
}

/// A new opaque token (32 random bytes, hex) and the hash that is stored.
pub fn new_token() -> Result<(String, String)> {
    let token = hex::encode(random_bytes::<32>()?);
    let hash = token_hash(&token);
    Ok((token, hash))
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A strong generated password: 20 characters from a 56-letter alphabet without
/// look-alikes (about 116 bits).
pub fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let bytes = random_bytes::<20>()?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

fn totp(secret: &[u8], email: &str) -> Result<totp_rs::Totp> {
    totp_rs::Builder::new()
        .with_secret(secret.to_vec())
        .with_account_name(email.to_owned())
        .with_issuer(Some("Orgdesk"))
        .build()
        .map_err(|e| Error::internal(format!("totp: {e:?}")))
}

fn totp_matches(secret_hex: &str, email: &str, code: &str, now_ms: i64) -> Result<bool> {
    let secret = hex::decode(secret_hex).map_err(Error::internal)?;
    let now = u64::try_from(now_ms / 1000).unwrap_or(0);
    Ok(totp(&secret, email)?.check(code.trim(), now).is_some())
}

/// The current TOTP code for a secret (tests and the enrolment check use it).
pub fn totp_code(secret_base32: &str, now_ms: i64) -> Option<String> {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).ok()?;
    let totp = totp_rs::Builder::new().with_secret(secret).build().ok()?;
    Some(
        totp.generate(u64::try_from(now_ms / 1000).ok()?)
            .to_string(),
    )
}

/// `POST /api/v1/auth/login`.
pub async fn login(state: &AppState, request: LoginRequest) -> Result<LoginResponse> {
    let now = state.clock.now_ms();
    let invalid = || Error::code(ErrorCode::InvalidCredentials);
    let email = orgdesk_domain::validate::email(&request.email).unwrap_or_default();
    let row = sqlx::query(
        "SELECT id, email, display_name, password_hash, totp_secret, totp_enabled, \
         failed_sign_ins, failed_since, locked_until FROM accounts WHERE email = $1",
    )
    .bind(&email)
    .fetch_optional(&state.store.pool)
    .await?;
    let Some(row) = row else {
        // Same work as for a real account, so the answer's timing says nothing.
        verify_password(request.password, state.dummy_hash.clone()).await?;
        return Err(invalid());
    };
    let account_id = int(&row, "id")?;
    if int(&row, "locked_until")? > now {
        return Err(Error::code(ErrorCode::RateLimited));
    }
    let hash = opt_str(&row, "password_hash")?.unwrap_or_else(|| state.dummy_hash.clone());
    let has_password = opt_str(&row, "password_hash")?.is_some();
    let password_ok = verify_password(request.password, hash).await? && has_password;
    let totp_enabled = store::boolean(&row, "totp_enabled")?;
    let totp_ok = if !password_ok || !totp_enabled {
        true
    } else {
        match (&request.totp, opt_str(&row, "totp_secret")?) {
            (None, _) => return Err(Error::code(ErrorCode::TotpRequired)),
            (Some(code), Some(secret)) => totp_matches(&secret, &email, code, now)?,
            (Some(_), None) => false,
        }
    };
    if !password_ok || !totp_ok {
        record_failure(state, account_id, &row, now).await?;
        return Err(invalid());
    }
    let (token, token_hash) = new_token()?;
    let expires_at =
        now + i64::try_from(state.settings.session_absolute_days).unwrap_or(30) * DAY_MS;
    let mut tx = state.store.begin().await?;
    sqlx::query(
        "UPDATE accounts SET failed_sign_ins = 0, failed_since = 0, locked_until = 0, \
         last_sign_in_at = $2 WHERE id = $1",
    )
    .bind(account_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, created_at, last_used_at, expires_at) \
         VALUES ($1, $2, $3, $3, $4)",
    )
    .bind(&token_hash)
    .bind(account_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(LoginResponse {
        token,
        expires_at: store::to_time(expires_at),
        account: Account {
            id: account_id,
            email: text(&row, "email")?,
            display_name: opt_str(&row, "display_name")?,
            totp_enabled,
        },
    })
}

/// Counts a failed sign-in; the `sign_in_failures`-th within the window locks the account
/// for the window's length.
async fn record_failure(
    state: &AppState,
    account_id: i64,
    row: &sqlx::any::AnyRow,
    now: i64,
) -> Result<()> {
    let window = i64::try_from(state.settings.sign_in_window_minutes).unwrap_or(15) * 60 * 1000;
    let (mut failures, mut since) = (int(row, "failed_sign_ins")?, int(row, "failed_since")?);
    if now - since > window {
        failures = 0;
        since = now;
    }
    failures += 1;
    let locked_until = if failures >= i64::from(state.settings.sign_in_failures) {
        now + window
    } else {
        0
    };
    sqlx::query(
        "UPDATE accounts SET failed_sign_ins = $2, failed_since = $3, locked_until = $4 WHERE id = $1",
    )
    .bind(account_id)
    .bind(failures)
    .bind(since)
    .bind(locked_until)
    .execute(&state.store.pool)
    .await?;
    Ok(())
}

/// The signed-in account behind a request's bearer token.
#[derive(Debug, Clone)]
pub struct Session {
    pub account_id: i64,
    pub email: String,
    pub token_hash: String,
    /// The `X-Orgdesk-Client` header, recorded in audit events.
    pub client_id: Option<String>,
}

impl FromRequestParts<SharedState> for Session {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self> {
        let unauthenticated = || Error::code(ErrorCode::Unauthenticated);
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(unauthenticated)?;
        let client_id = parts
            .headers
            .get("x-orgdesk-client")
            .and_then(|value| value.to_str().ok())
            .map(|value| value.chars().take(100).collect());
        let hash = token_hash(token);
        let now = state.clock.now_ms();
        let row = sqlx::query(
            "SELECT s.account_id, s.last_used_at, s.expires_at, a.email FROM sessions s \
             JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&state.store.pool)
        .await?
        .ok_or_else(unauthenticated)?;
        let idle = i64::try_from(state.settings.session_idle_hours).unwrap_or(12) * HOUR_MS;
        let last_used = int(&row, "last_used_at")?;
        if now >= int(&row, "expires_at")? || now - last_used > idle {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(&hash)
                .execute(&state.store.pool)
                .await?;
            return Err(unauthenticated());
        }
        if now - last_used > TOUCH_EVERY_MS {
            sqlx::query("UPDATE sessions SET last_used_at = $2 WHERE token_hash = $1")
                .bind(&hash)
                .bind(now)
                .execute(&state.store.pool)
                .await?;
        }
        Ok(Session {
            account_id: int(&row, "account_id")?,
            email: text(&row, "email")?,
            token_hash: hash,
            client_id,
        })
    }
}

pub async fn logout(state: &AppState, session: &Session) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(&session.token_hash)
        .execute(&state.store.pool)
        .await?;
    Ok(())
}

pub async fn me(state: &AppState, session: &Session) -> Result<Account> {
    let row =
        sqlx::query("SELECT id, email, display_name, totp_enabled FROM accounts WHERE id = $1")
            .bind(session.account_id)
            .fetch_one(&state.store.pool)
            .await?;
    Ok(Account {
        id: int(&row, "id")?,
        email: text(&row, "email")?,
        display_name: opt_str(&row, "display_name")?,
        totp_enabled: store::boolean(&row, "totp_enabled")?,
    })
}

/// `POST /api/v1/me/totp`: a new secret, not yet in force until confirmed with a code.
pub async fn start_totp(
    state: &AppState,
    session: &Session,
) -> Result<orgdesk_domain::wire::TotpEnrolment> {
    let secret = random_bytes::<20>()?;
    let totp = totp(&secret, &session.email)?;
    sqlx::query("UPDATE accounts SET totp_secret = $2 WHERE id = $1 AND totp_enabled = $3")
        .bind(session.account_id)
        .bind(hex::encode(secret))
        .bind(0_i64)
        .execute(&state.store.pool)
        .await?;
    let enabled: i64 = sqlx::query_scalar("SELECT totp_enabled FROM accounts WHERE id = $1")
        .bind(session.account_id)
        .fetch_one(&state.store.pool)
        .await?;
    if enabled != 0 {
        return Err(Error::with_message(
            ErrorCode::InvalidState,
            "Two-step sign-in is already on for this account.",
        ));
    }
    Ok(orgdesk_domain::wire::TotpEnrolment {
        secret: totp_rs::Secret::from(secret.to_vec()).to_base32(),
        otpauth_url: totp
            .to_url()
            .map_err(|e| Error::internal(format!("{e:?}")))?,
    })
}

/// `POST /api/v1/me/totp/confirm`: turns TOTP on once a code from the new secret matches.
pub async fn confirm_totp(state: &AppState, session: &Session, code: &str) -> Result<()> {
    let secret: Option<String> =
        sqlx::query_scalar("SELECT totp_secret FROM accounts WHERE id = $1")
            .bind(session.account_id)
            .fetch_one(&state.store.pool)
            .await?;
    let secret = secret.ok_or_else(|| {
        Error::with_message(ErrorCode::InvalidState, "Start the enrolment first.")
    })?;
    if !totp_matches(&secret, &session.email, code, state.clock.now_ms())? {
        return Err(Error::with_message(
            ErrorCode::InvalidInput,
            "That code does not match; check the authenticator app's clock and try again.",
        ));
    }
    sqlx::query("UPDATE accounts SET totp_enabled = $2 WHERE id = $1")
        .bind(session.account_id)
        .bind(1_i64)
        .execute(&state.store.pool)
        .await?;
    Ok(())
}
