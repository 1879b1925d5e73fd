//! The REST client: timeouts, retries with backoff, a distinct offline error, and the
//! server's `{code, message}` refusals mapped to `domain::ErrorCode`.
//!
//! Only idempotent calls are retried after the request may have reached the server: reads,
//! and mutation batches (idempotent by mutation id). Sign-in is retried only when the
//! connection was never made.

use crate::error::{Error, Result};
use crate::outbox::OutgoingBatch;
use orgdesk_domain::ErrorCode;
use orgdesk_domain::wire::{
    Account, ApiError, ChangesPage, LoginRequest, LoginResponse, Member, MutationBatch,
    MutationResults, OrgAccess, OrgId, UserId,
};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How hard to try before calling the server offline.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; doubled for each one after.
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(200),
        }
    }
}

/// A client for one server, signed in or not. Cheap to clone.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("Api")
            .field("base", &self.base.as_str())
            .field("signed_in", &self.token.is_some())
            .finish()
    }
}

/// `GET /me/orgs` as a bare list or wrapped in `{ "orgs": [...] }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum OrgList {
    Bare(Vec<OrgAccess>),
    Wrapped { orgs: Vec<OrgAccess> },
}

impl Api {
    /// A client for the server at `server` (e.g. `https://orgdesk.example` or
    /// `http://127.0.0.1:8080`).
    pub fn new(server: &str) -> Result<Api> {
        let mut base = Url::parse(server.trim())
            .map_err(|e| Error::Invalid(format!("'{server}' is not a server URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Invalid(format!("'{server}' is not an http(s) URL")));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // A first-sync page of a large org is a few megabytes; leave room for it.
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("orgdesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Invalid(format!("HTTP client: {e}")))?;
        Ok(Api {
            http,
            base,
            token: None,
            retry: RetryPolicy::default(),
        })
    }

    pub fn with_token(mut self, token: impl Into<String>) -> Api {
        self.token = Some(token.into());
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Api {
        self.retry = retry;
        self
    }

    pub fn server(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::Invalid(format!("bad path {path}: {e}")))
    }

    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let builder = self.http.request(method, url);
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Sends with retries; `idempotent` says whether a request that may have reached the
    /// server can be sent again.
    async fn send(&self, idempotent: bool, build: impl Fn() -> RequestBuilder) -> Result<Response> {
        let mut delay = self.retry.first_delay;
        let mut attempt = 1;
        loop {
            let last = attempt >= self.retry.attempts.max(1);
            match build().send().await {
                Ok(response) if response.status().is_server_error() && idempotent && !last => {
                    tracing::debug!(status = %response.status(), attempt, "server error; retrying");
                }
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => return Err(refusal(response).await),
                Err(error) => {
                    let never_sent = error.is_connect();
                    let network = never_sent || error.is_timeout() || error.is_request();
                    if !network {
                        return Err(Error::Protocol(error.to_string()));
                    }
                    if last || !(never_sent || idempotent) {
                        return Err(Error::Offline {
                            server: self.server().to_owned(),
                            reason: describe(&error),
                        });
                    }
                    tracing::debug!(%error, attempt, "network error; retrying");
                }
            }
            tokio::time::sleep(delay).await;
            delay *= 2;
            attempt += 1;
        }
    }

    async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T> {
        let response = self
            .send(true, || self.request(Method::GET, url.clone()))
            .await?;
        decode(response).await
    }

    /// Signs in; the answer's token is the session (store it with [`crate::secrets`]).
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse> {
        let url = self.url("api/v1/auth/login")?;
        let response = self
            .send(false, || {
                self.request(Method::POST, url.clone()).json(request)
            })
            .await?;
        decode(response).await
    }

    /// Ends the session on the server.
    pub async fn logout(&self) -> Result<()> {
        let url = self.url("api/v1/auth/logout")?;
        self.send(true, || self.request(Method::POST, url.clone()))
            .await?;
        Ok(())
    }

    pub async fn me(&self) -> Result<Account> {
        self.get(self.url("api/v1/me")?).await
    }

    /// The orgs the caller can open, with role and scope version.
    pub async fn my_orgs(&self) -> Result<Vec<OrgAccess>> {
        let list: OrgList = self.get(self.url("api/v1/me/orgs")?).await?;
        Ok(match list {
            OrgList::Bare(orgs) | OrgList::Wrapped { orgs } => orgs,
        })
    }

    /// One page of an org's change feed after `since` (`"0"`: from the start).
    pub async fn changes(&self, org: OrgId, since: &str, limit: u32) -> Result<ChangesPage> {
        let mut url = self.url(&format!("api/v1/orgs/{org}/changes"))?;
        url.query_pairs_mut()
            .append_pair("since", since)
            .append_pair("limit", &limit.to_string());
        self.get(url).await
    }

    /// Sends a batch of mutations. Safe to resend: each mutation is idempotent by its id.
    pub async fn push(&self, org: OrgId, batch: &MutationBatch) -> Result<MutationResults> {
        let url = self.url(&format!("api/v1/orgs/{org}/mutations"))?;
        let response = self
            .send(true, || self.request(Method::POST, url.clone()).json(batch))
            .await?;
        decode(response).await
    }

    /// Sends a batch as the outbox wrote it ([`crate::outbox::Outbox::take_batch`]): the same
    /// request as [`Api::push`], its JSON already written. Safe to resend.
    pub async fn push_batch(&self, org: OrgId, batch: &OutgoingBatch) -> Result<MutationResults> {
        let url = self.url(&format!("api/v1/orgs/{org}/mutations"))?;
        let response = self
            .send(true, || {
                self.request(Method::POST, url.clone())
                    .header(CONTENT_TYPE, "application/json")
                    .body(batch.body().to_owned())
            })
            .await?;
        decode(response).await
    }

    pub async fn member(&self, org: OrgId, user: UserId) -> Result<Member> {
        self.get(self.url(&format!("api/v1/orgs/{org}/members/{user}"))?)
            .await
    }
}

fn describe(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Error::Protocol(format!("reading the answer: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Protocol(format!("decoding the answer: {e}")))
}

/// The server's refusal as an [`Error::Api`]: its `{code, message}` body when it sent one,
/// else a code from the status.
async fn refusal(response: Response) -> Error {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<ApiError>(&body) {
        Ok(ApiError { code, message }) => Error::Api {
            status: status.as_u16(),
            code,
            message,
        },
        Err(_) => {
            let code = code_for_status(status);
            Error::Api {
                status: status.as_u16(),
                code,
                message: code.message().to_owned(),
            }
        }
    }
}

fn code_for_status(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::CONFLICT => ErrorCode::VersionMismatch,
        StatusCode::PRECONDITION_FAILED => ErrorCode::VersionMismatch,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::InvalidInput,
        s if s.is_client_error() => ErrorCode::BadRequest,
        _ => ErrorCode::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_server_that_is_not_there_is_offline() {
        // Bind then drop a listener: the port is very likely closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let api = Api::new(&format!("http://127.0.0.1:{port}"))
            .unwrap()
            .with_retry(RetryPolicy {
                attempts: 2,
                first_delay: Duration::from_millis(10),
            });
        let error = api.my_orgs().await.unwrap_err();
        assert!(error.is_offline(), "{error:?}");
        assert_eq!(error.code(), "offline");
    }

    #[test]
    fn a_server_url_must_be_http() {
        assert!(Api::new("ftp://x.example").is_err());
        assert!(Api::new("not a url").is_err());
        let api = Api::new("http://127.0.0.1:9/base").unwrap();
        assert_eq!(
            api.url("api/v1/me").unwrap().as_str(),
            "http://127.0.0.1:9/base/api/v1/me"
        );
    }

    #[test]
    fn statuses_without_a_body_map_to_codes() {
        assert_eq!(
            code_for_status(StatusCode::UNAUTHORIZED),
            ErrorCode::Unauthenticated
        );
        assert_eq!(
            code_for_status(StatusCode::BAD_GATEWAY),
            ErrorCode::Internal
        );
    }
}
