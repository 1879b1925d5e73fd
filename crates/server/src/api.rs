//! The HTTP API: routes, the extractors that turn every malformed request into a
//! `{ code, message }` answer (never axum's plain-text rejections), and the OpenAPI
//! document, generated from the same route table that builds the router — a route cannot
//! exist undocumented.

use crate::access::OrgCaller;
use crate::auth::{self, Session};
use crate::error::{Error, Result, error_response, status_of};
use crate::members::{self, Outcome, Precondition};
use crate::{SharedState, feed, invite_page, orgs};
use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use orgdesk_domain::wire::{
    Account, AuditEvent, AuditQuery, BillingEdit, BillingInfo, ChangesPage, LoginRequest,
    LoginResponse, Member, MemberEdit, MemberQuery, MutationBatch, MutationKind, MutationResults,
    NewClientOrg, NewMember, NewPropertyDefinition, OrgAccess, OrgEdit, OrgInfo, OrgSettings,
    OrgSettingsEdit, Page, PropertyDefinition, PropertyDefinitionEdit, RoleChange, ScopeChange,
    TotpConfirm, TotpEnrolment, Workspace, WorkspaceAssignment, WorkspaceName,
};
use orgdesk_domain::{Denied, ErrorCode};
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

/// Request bodies are limited to this, except the mutation push.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// A batch of 1000 mutations with full member records fits comfortably.
pub const MUTATIONS_BODY_LIMIT: usize = 16 * 1024 * 1024;

// ---- Extractors --------------------------------------------------------------------------

/// A JSON body; malformed JSON is `bad_request` (400), a well-formed body of the wrong
/// shape (types, unknown or missing fields) `invalid_input` (422), too large 413.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> Error {
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => Error::with_message(ErrorCode::InvalidInput, text),
        JsonRejection::JsonSyntaxError(_) => Error::with_message(ErrorCode::BadRequest, text),
        JsonRejection::MissingJsonContentType(_) => Error::with_message(
            ErrorCode::BadRequest,
            "Send the body as JSON with Content-Type: application/json.",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Error::code(ErrorCode::PayloadTooLarge)
        }
        _ => Error::with_message(ErrorCode::BadRequest, text),
    }
}

/// A JSON body left undecoded, for a handler that decodes it in parts (the mutation push):
/// the same refusals as [`ApiJson`] for the content type and size.
pub struct JsonBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        // axum's `Json` accepts `application/json` and any `application/...+json`.
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(|value| {
                let essence = value.split(';').next().unwrap_or_default().trim();
                let essence = essence.to_ascii_lowercase();
                essence == "application/json"
                    || (essence.starts_with("application/") && essence.ends_with("+json"))
            })
            .unwrap_or(false);
        if !json {
            return Err(Error::with_message(
                ErrorCode::BadRequest,
                "Send the body as JSON with Content-Type: application/json.",
            ));
        }
        match axum::body::Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(JsonBytes(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(Error::code(ErrorCode::PayloadTooLarge))
            }
            Err(rejection) => Err(Error::with_message(
                ErrorCode::BadRequest,
                rejection.body_text(),
            )),
        }
    }
}

/// A query string; one that does not fit is `invalid_input`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection: QueryRejection| {
                Error::with_message(ErrorCode::InvalidInput, rejection.body_text())
            })
    }
}

/// Path parameters; an id that does not parse names nothing, so it is `not_found`.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|_| Error::not_found())
    }
}

/// The `If-Match` header: `"<version>"`, or absent (or `*`) for "whatever the version".
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = value.to_str().unwrap_or_default().trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        text.trim_start_matches("W/")
            .trim_matches('"')
            .parse()
            .map(|version| IfMatch(Some(version)))
            .map_err(|_| {
                Error::with_message(
                    ErrorCode::BadRequest,
                    "If-Match must be an ETag this server sent, like \"3\".",
                )
            })
    }
}

/// A single row answered with its version as `ETag`.
pub struct Tagged<T>(pub i64, pub T);

impl<T: serde::Serialize> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.1).into_response();
        if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", self.0)) {
            response.headers_mut().insert(header::ETAG, etag);
        }
        response
    }
}

// ---- Handlers ----------------------------------------------------------------------------

type St = State<SharedState>;

async fn login(
    State(state): St,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse> {
    Ok(Json(auth::login(&state, request).await?))
}

async fn logout(State(state): St, session: Session) -> Result<StatusCode> {
    auth::logout(&state, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(state): St, session: Session) -> Result<impl IntoResponse> {
    Ok(Json(auth::me(&state, &session).await?))
}

async fn my_orgs(State(state): St, session: Session) -> Result<impl IntoResponse> {
    Ok(Json(crate::access::my_orgs(&state, &session).await?))
}

async fn start_totp(State(state): St, session: Session) -> Result<impl IntoResponse> {
    Ok(Json(auth::start_totp(&state, &session).await?))
}

async fn confirm_totp(
    State(state): St,
    session: Session,
    ApiJson(body): ApiJson<TotpConfirm>,
) -> Result<StatusCode> {
    auth::confirm_totp(&state, &session, &body.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn org_info(State(state): St, caller: OrgCaller) -> Result<impl IntoResponse> {
    let info = orgs::info(&state, &caller).await?;
    Ok(Tagged(info.version, info))
}

async fn edit_org(
    State(state): St,
    caller: OrgCaller,
    IfMatch(version): IfMatch,
    ApiJson(edit): ApiJson<OrgEdit>,
) -> Result<impl IntoResponse> {
    let info = orgs::edit(&state, &caller, edit, version).await?;
    Ok(Tagged(info.version, info))
}

async fn delete_org(State(state): St, caller: OrgCaller) -> Result<StatusCode> {
    orgs::delete(&state, &caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn org_settings(State(state): St, caller: OrgCaller) -> Result<impl IntoResponse> {
    Ok(Json(orgs::settings(&state, &caller).await?))
}

async fn edit_settings(
    State(state): St,
    caller: OrgCaller,
    ApiJson(edit): ApiJson<OrgSettingsEdit>,
) -> Result<impl IntoResponse> {
    Ok(Json(orgs::edit_settings(&state, &caller, edit).await?))
}

async fn billing(State(state): St, caller: OrgCaller) -> Result<impl IntoResponse> {
    Ok(Json(orgs::billing(&state, &caller).await?))
}

async fn edit_billing(
    State(state): St,
    caller: OrgCaller,
    ApiJson(edit): ApiJson<BillingEdit>,
) -> Result<impl IntoResponse> {
    Ok(Json(orgs::edit_billing(&state, &caller, edit).await?))
}

async fn cancel_subscription(State(state): St, caller: OrgCaller) -> Result<impl IntoResponse> {
    Ok(Json(orgs::cancel_subscription(&state, &caller).await?))
}

async fn clients(State(state): St, caller: OrgCaller) -> Result<impl IntoResponse> {
    Ok(Json(orgs::clients(&state, &caller).await?))
}

async fn create_client(
    State(state): St,
    caller: OrgCaller,
    ApiJson(new): ApiJson<NewClientOrg>,
) -> Result<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(orgs::create_client(&state, &caller, new).await?),
    ))
}

async fn list_members(
    State(state): St,
    caller: OrgCaller,
    ApiQuery(query): ApiQuery<MemberQuery>,
) -> Result<impl IntoResponse> {
    Ok(Json(members::list(&state, &caller, query).await?))
}

async fn get_member(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, user)): ApiPath<(i64, i64)>,
) -> Result<impl IntoResponse> {
    let member = members::get(&state, &caller, user).await?;
    Ok(Tagged(member.version, member))
}

/// Applies one member change and answers the member as it now is.
async fn change_member(
    state: &SharedState,
    caller: &OrgCaller,
    change: MutationKind,
    base_version: Option<i64>,
) -> Result<Response> {
    let outcome = members::apply(
        state,
        caller,
        &change,
        Precondition { base_version },
        None,
        &mut members::BatchCache::default(),
    )
    .await?;
    let Outcome::Applied(applied) = outcome else {
        return Err(Error::internal("a REST change was answered as a replay"));
    };
    if applied.version == 0 {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let member = members::get(state, caller, applied.user_id).await?;
    Ok(Tagged(member.version, member).into_response())
}

async fn add_member(
    State(state): St,
    caller: OrgCaller,
    ApiJson(member): ApiJson<NewMember>,
) -> Result<Response> {
    let response = change_member(&state, &caller, MutationKind::AddMember { member }, None).await?;
    Ok((StatusCode::CREATED, response).into_response())
}

async fn edit_member(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, user_id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
    ApiJson(edit): ApiJson<MemberEdit>,
) -> Result<Response> {
    change_member(
        &state,
        &caller,
        MutationKind::EditMember { user_id, edit },
        v,
    )
    .await
}

async fn remove_member(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, user_id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
) -> Result<Response> {
    change_member(&state, &caller, MutationKind::Remove { user_id }, v).await
}

async fn change_role(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, user_id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<RoleChange>,
) -> Result<Response> {
    change_member(
        &state,
        &caller,
        MutationKind::ChangeRole {
            user_id,
            role: body.role,
            guest_expires: body.guest_expires,
        },
        v,
    )
    .await
}

async fn assign_workspaces(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, user_id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<WorkspaceAssignment>,
) -> Result<Response> {
    change_member(
        &state,
        &caller,
        MutationKind::AssignWorkspaces {
            user_id,
            workspaces: body.workspaces,
        },
        v,
    )
    .await
}

async fn set_scope(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, user_id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<ScopeChange>,
) -> Result<Response> {
    change_member(
        &state,
        &caller,
        MutationKind::SetScope {
            user_id,
            scope: body.scope,
        },
        v,
    )
    .await
}

async fn suspend(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, user_id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
) -> Result<Response> {
    change_member(&state, &caller, MutationKind::Suspend { user_id }, v).await
}

async fn restore(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, user_id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
) -> Result<Response> {
    change_member(&state, &caller, MutationKind::Restore { user_id }, v).await
}

async fn resend_invitation(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, user_id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
) -> Result<Response> {
    change_member(
        &state,
        &caller,
        MutationKind::ResendInvitation { user_id },
        v,
    )
    .await
}

async fn cancel_invitation(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, user_id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
) -> Result<Response> {
    change_member(
        &state,
        &caller,
        MutationKind::CancelInvitation { user_id },
        v,
    )
    .await
}

async fn workspaces(State(state): St, caller: OrgCaller) -> Result<impl IntoResponse> {
    Ok(Json(orgs::workspaces(&state, &caller).await?))
}

async fn create_workspace(
    State(state): St,
    caller: OrgCaller,
    ApiJson(body): ApiJson<WorkspaceName>,
) -> Result<impl IntoResponse> {
    let workspace = orgs::create_workspace(&state, &caller, body).await?;
    Ok((StatusCode::CREATED, Tagged(workspace.version, workspace)))
}

async fn rename_workspace(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<WorkspaceName>,
) -> Result<impl IntoResponse> {
    let workspace = orgs::rename_workspace(&state, &caller, id, body, v).await?;
    Ok(Tagged(workspace.version, workspace))
}

async fn delete_workspace(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
) -> Result<StatusCode> {
    orgs::delete_workspace(&state, &caller, id, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn properties(State(state): St, caller: OrgCaller) -> Result<impl IntoResponse> {
    Ok(Json(orgs::properties(&state, &caller).await?))
}

async fn create_property(
    State(state): St,
    caller: OrgCaller,
    ApiJson(body): ApiJson<NewPropertyDefinition>,
) -> Result<impl IntoResponse> {
    let definition = orgs::create_property(&state, &caller, body).await?;
    Ok((StatusCode::CREATED, Tagged(definition.version, definition)))
}

async fn edit_property(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<PropertyDefinitionEdit>,
) -> Result<impl IntoResponse> {
    let definition = orgs::edit_property(&state, &caller, id, body, v).await?;
    Ok(Tagged(definition.version, definition))
}

async fn delete_property(
    State(state): St,
    caller: OrgCaller,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
    IfMatch(v): IfMatch,
) -> Result<StatusCode> {
    orgs::delete_property(&state, &caller, id, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn audit_log(
    State(state): St,
    caller: OrgCaller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<impl IntoResponse> {
    Ok(Json(orgs::audit_log(&state, &caller, query).await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangesQuery {
    since: Option<String>,
    limit: Option<u32>,
}

async fn changes(
    State(state): St,
    caller: OrgCaller,
    ApiQuery(query): ApiQuery<ChangesQuery>,
) -> Result<impl IntoResponse> {
    let page = feed::changes(&state, &caller, query.since.as_deref(), query.limit).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        page,
    ))
}

async fn mutations(
    State(state): St,
    caller: OrgCaller,
    JsonBytes(body): JsonBytes,
) -> Result<Response> {
    let answer = feed::push(&state, &caller, &body).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        answer.0,
    )
        .into_response())
}

async fn openapi_json(State(doc): State<std::sync::Arc<serde_json::Value>>) -> impl IntoResponse {
    Json((*doc).clone())
}

async fn no_such_route() -> Response {
    error_response(Denied::with_message(
        ErrorCode::NotFound,
        "There is no such endpoint.",
    ))
}

async fn method_not_allowed() -> Response {
    let mut response = error_response(Denied::with_message(
        ErrorCode::BadRequest,
        "This endpoint does not take that method.",
    ));
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}

// ---- Routes and their documentation ----------------------------------------------------------

/// One documented operation.
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    pub path: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    /// Needs a bearer token.
    pub auth: bool,
    /// The request body's wire type, if any.
    pub body: Option<WireType>,
    /// The JSON answer's wire type, if it answers with one.
    pub answer: Option<WireType>,
    /// The refusals it can answer with.
    pub errors: &'static [ErrorCode],
}

struct Routes {
    router: Router<SharedState>,
    operations: Vec<Operation>,
}

use ErrorCode as E;
const READ: &[ErrorCode] = &[E::Unauthenticated, E::Forbidden, E::NotFound];
const WRITE: &[ErrorCode] = &[
    E::Unauthenticated,
    E::Forbidden,
    E::NotFound,
    E::InvalidInput,
    E::BadRequest,
    E::PayloadTooLarge,
    E::VersionMismatch,
];
const MEMBER_WRITE: &[ErrorCode] = &[
    E::Unauthenticated,
    E::Forbidden,
    E::NotFound,
    E::InvalidInput,
    E::BadRequest,
    E::VersionMismatch,
    E::RoleNotAllowed,
    E::SelfRemove,
    E::SelfRole,
    E::LastAdmin,
    E::TooManyWorkspaces,
    E::GuestExpiryRequired,
    E::GuestExpiryPast,
    E::InvalidState,
    E::EmailTaken,
    E::OutOfScope,
];

impl Routes {
    #[allow(clippy::too_many_arguments)]
    fn add(
        mut self,
        method: Method,
        path: &'static str,
        handler: MethodRouter<SharedState>,
        summary: &'static str,
        tag: &'static str,
        body: Option<WireType>,
        errors: &'static [ErrorCode],
    ) -> Self {
        let axum_path = path;
        self.router = self.router.route(axum_path, handler);
        self.operations.push(Operation {
            method,
            path,
            summary,
            tag,
            auth: !path.starts_with("/api/v1/auth/login") && !path.starts_with("/invite"),
            body,
            answer: None,
            errors,
        });
        self
    }

    /// Documents the JSON answer of the operation added last.
    fn answers(mut self, answer: WireType) -> Self {
        if let Some(op) = self.operations.last_mut() {
            op.answer = Some(answer);
        }
        self
    }
}

/// A wire type as the document shows it: a named component schema, with the schemas it
/// refers to.
#[derive(Debug, Clone, Copy)]
pub struct WireType {
    pub name: &'static str,
    schema: fn() -> RefOr<Schema>,
    refers_to: fn(&mut Vec<(String, RefOr<Schema>)>),
}

impl WireType {
    /// `T` under its own name.
    fn of<T: ToSchema>() -> WireType {
        Self::named::<T>(
            std::any::type_name::<T>()
                .rsplit("::")
                .next()
                .unwrap_or("Body"),
        )
    }

    /// `T` under another name (a generic page, which has none of its own).
    fn named<T: ToSchema>(name: &'static str) -> WireType {
        WireType {
            name,
            schema: T::schema,
            refers_to: T::schemas,
        }
    }

    /// A page of `T`s: a generic's schemas do not bring `T`'s own along.
    fn page<T: ToSchema>(name: &'static str) -> WireType {
        fn with_items<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            schemas.push((T::name().into_owned(), T::schema()));
            T::schemas(schemas);
        }
        WireType {
            name,
            schema: <Page<T> as utoipa::PartialSchema>::schema,
            refers_to: with_items::<T>,
        }
    }

    fn reference(&self) -> RefOr<Schema> {
        RefOr::Ref(utoipa::openapi::Ref::from_schema_name(self.name))
    }
}

/// Every operation of the API, in the order the document lists them.
pub fn operations() -> Vec<Operation> {
    routes().operations
}

fn routes() -> Routes {
    use Method as M;
    let r = Routes {
        router: Router::new(),
        operations: Vec::new(),
    };
    r.add(
        M::POST,
        "/api/v1/auth/login",
        post(login),
        "Sign in with email, password and (if enabled) a TOTP code",
        "auth",
        Some(WireType::of::<LoginRequest>()),
        &[
            E::InvalidCredentials,
            E::TotpRequired,
            E::RateLimited,
            E::BadRequest,
            E::InvalidInput,
        ],
    )
    .answers(WireType::of::<LoginResponse>())
    .add(
        M::POST,
        "/api/v1/auth/logout",
        post(logout),
        "End this session",
        "auth",
        None,
        &[E::Unauthenticated],
    )
    .add(
        M::GET,
        "/api/v1/me",
        get(me),
        "The signed-in account",
        "me",
        None,
        &[E::Unauthenticated],
    )
    .answers(WireType::of::<Account>())
    .add(
        M::GET,
        "/api/v1/me/orgs",
        get(my_orgs),
        "The orgs the caller can open, with role and scope version",
        "me",
        None,
        &[E::Unauthenticated],
    )
    .answers(WireType::named::<Vec<OrgAccess>>("MyOrgs"))
    .add(
        M::POST,
        "/api/v1/me/totp",
        post(start_totp),
        "Start TOTP enrolment: a new secret and otpauth URL",
        "me",
        None,
        &[E::Unauthenticated, E::InvalidState],
    )
    .answers(WireType::of::<TotpEnrolment>())
    .add(
        M::POST,
        "/api/v1/me/totp/confirm",
        post(confirm_totp),
        "Turn TOTP on with a code from the new secret",
        "me",
        Some(WireType::of::<TotpConfirm>()),
        &[E::Unauthenticated, E::InvalidState, E::InvalidInput],
    )
    .add(
        M::GET,
        "/api/v1/orgs/{org}",
        get(org_info),
        "Org info (ETag = version)",
        "orgs",
        None,
        READ,
    )
    .answers(WireType::of::<OrgInfo>())
    .add(
        M::PATCH,
        "/api/v1/orgs/{org}",
        patch(edit_org),
        "Rename the org or set its domains (If-Match)",
        "orgs",
        Some(WireType::of::<OrgEdit>()),
        WRITE,
    )
    .answers(WireType::of::<OrgInfo>())
    .add(
        M::DELETE,
        "/api/v1/orgs/{org}",
        delete(delete_org),
        "Delete the org and everything in it",
        "orgs",
        None,
        &[
            E::Unauthenticated,
            E::Forbidden,
            E::NotFound,
            E::InvalidState,
        ],
    )
    .add(
        M::GET,
        "/api/v1/orgs/{org}/settings",
        get(org_settings),
        "Org settings",
        "orgs",
        None,
        READ,
    )
    .answers(WireType::of::<OrgSettings>())
    .add(
        M::PATCH,
        "/api/v1/orgs/{org}/settings",
        patch(edit_settings),
        "Change member_directory or partner_access",
        "orgs",
        Some(WireType::of::<OrgSettingsEdit>()),
        WRITE,
    )
    .answers(WireType::of::<OrgSettings>())
    .add(
        M::GET,
        "/api/v1/orgs/{org}/billing",
        get(billing),
        "Billing info",
        "orgs",
        None,
        READ,
    )
    .answers(WireType::of::<BillingInfo>())
    .add(
        M::PATCH,
        "/api/v1/orgs/{org}/billing",
        patch(edit_billing),
        "Change billing info",
        "orgs",
        Some(WireType::of::<BillingEdit>()),
        WRITE,
    )
    .answers(WireType::of::<BillingInfo>())
    .add(
        M::POST,
        "/api/v1/orgs/{org}/billing/cancel",
        post(cancel_subscription),
        "Cancel the subscription (admins only)",
        "orgs",
        None,
        &[
            E::Unauthenticated,
            E::Forbidden,
            E::NotFound,
            E::InvalidState,
        ],
    )
    .answers(WireType::of::<BillingInfo>())
    .add(
        M::GET,
        "/api/v1/orgs/{org}/clients",
        get(clients),
        "A partner org's client orgs",
        "partners",
        None,
        READ,
    )
    .answers(WireType::named::<Vec<OrgInfo>>("ClientOrgs"))
    .add(
        M::POST,
        "/api/v1/orgs/{org}/clients",
        post(create_client),
        "Create a client org and invite its first admin",
        "partners",
        Some(WireType::of::<NewClientOrg>()),
        WRITE,
    )
    .answers(WireType::of::<OrgInfo>())
    .add(
        M::GET,
        "/api/v1/orgs/{org}/members",
        get(list_members),
        "The roster: tab, search, filters, sort, keyset paging",
        "members",
        None,
        &[
            E::Unauthenticated,
            E::Forbidden,
            E::NotFound,
            E::InvalidInput,
        ],
    )
    .answers(WireType::page::<Member>("MemberPage"))
    .add(
        M::POST,
        "/api/v1/orgs/{org}/members",
        post(add_member),
        "Add a user (invite, generated, set or silent password)",
        "members",
        Some(WireType::of::<NewMember>()),
        MEMBER_WRITE,
    )
    .answers(WireType::of::<Member>())
    .add(
        M::GET,
        "/api/v1/orgs/{org}/members/{user}",
        get(get_member),
        "One member (ETag = version)",
        "members",
        None,
        READ,
    )
    .answers(WireType::of::<Member>())
    .add(
        M::PATCH,
        "/api/v1/orgs/{org}/members/{user}",
        patch(edit_member),
        "Edit profile, property values or a guest's end date (If-Match)",
        "members",
        Some(WireType::of::<MemberEdit>()),
        MEMBER_WRITE,
    )
    .answers(WireType::of::<Member>())
    .add(
        M::DELETE,
        "/api/v1/orgs/{org}/members/{user}",
        delete(remove_member),
        "Remove a member from the org (If-Match)",
        "members",
        None,
        MEMBER_WRITE,
    )
    .add(
        M::PUT,
        "/api/v1/orgs/{org}/members/{user}/role",
        put(change_role),
        "Change a member's role (If-Match)",
        "members",
        Some(WireType::of::<RoleChange>()),
        MEMBER_WRITE,
    )
    .answers(WireType::of::<Member>())
    .add(
        M::PUT,
        "/api/v1/orgs/{org}/members/{user}/workspaces",
        put(assign_workspaces),
        "Set a member's workspaces (If-Match)",
        "members",
        Some(WireType::of::<WorkspaceAssignment>()),
        MEMBER_WRITE,
    )
    .answers(WireType::of::<Member>())
    .add(
        M::PUT,
        "/api/v1/orgs/{org}/members/{user}/scope",
        put(set_scope),
        "Set or lift a member's search scope (If-Match)",
        "members",
        Some(WireType::of::<ScopeChange>()),
        MEMBER_WRITE,
    )
    .answers(WireType::of::<Member>())
    .add(
        M::POST,
        "/api/v1/orgs/{org}/members/{user}/suspend",
        post(suspend),
        "Suspend an active member (If-Match)",
        "members",
        None,
        MEMBER_WRITE,
    )
    .answers(WireType::of::<Member>())
    .add(
        M::POST,
        "/api/v1/orgs/{org}/members/{user}/restore",
        post(restore),
        "Restore a suspended member (If-Match)",
        "members",
        None,
        MEMBER_WRITE,
    )
    .answers(WireType::of::<Member>())
    .add(
        M::POST,
        "/api/v1/orgs/{org}/members/{user}/invitation/resend",
        post(resend_invitation),
        "Resend an invitation with a new link",
        "members",
        None,
        MEMBER_WRITE,
    )
    .answers(WireType::of::<Member>())
    .add(
        M::DELETE,
        "/api/v1/orgs/{org}/members/{user}/invitation",
        delete(cancel_invitation),
        "Cancel a pending invitation",
        "members",
        None,
        MEMBER_WRITE,
    )
    .add(
        M::GET,
        "/api/v1/orgs/{org}/workspaces",
        get(workspaces),
        "Workspaces (members: granted ones only)",
        "workspaces",
        None,
        READ,
    )
    .answers(WireType::named::<Vec<Workspace>>("Workspaces"))
    .add(
        M::POST,
        "/api/v1/orgs/{org}/workspaces",
        post(create_workspace),
        "Create a workspace",
        "workspaces",
        Some(WireType::of::<WorkspaceName>()),
        WRITE,
    )
    .answers(WireType::of::<Workspace>())
    .add(
        M::PATCH,
        "/api/v1/orgs/{org}/workspaces/{id}",
        patch(rename_workspace),
        "Rename a workspace (If-Match)",
        "workspaces",
        Some(WireType::of::<WorkspaceName>()),
        WRITE,
    )
    .answers(WireType::of::<Workspace>())
    .add(
        M::DELETE,
        "/api/v1/orgs/{org}/workspaces/{id}",
        delete(delete_workspace),
        "Delete a workspace and its grants (If-Match)",
        "workspaces",
        None,
        WRITE,
    )
    .add(
        M::GET,
        "/api/v1/orgs/{org}/properties",
        get(properties),
        "Custom property definitions",
        "properties",
        None,
        READ,
    )
    .answers(WireType::named::<Vec<PropertyDefinition>>(
        "PropertyDefinitions",
    ))
    .add(
        M::POST,
        "/api/v1/orgs/{org}/properties",
        post(create_property),
        "Define a custom property",
        "properties",
        Some(WireType::of::<NewPropertyDefinition>()),
        WRITE,
    )
    .answers(WireType::of::<PropertyDefinition>())
    .add(
        M::PATCH,
        "/api/v1/orgs/{org}/properties/{id}",
        patch(edit_property),
        "Change a property's label, options or required flag (If-Match)",
        "properties",
        Some(WireType::of::<PropertyDefinitionEdit>()),
        WRITE,
    )
    .answers(WireType::of::<PropertyDefinition>())
    .add(
        M::DELETE,
        "/api/v1/orgs/{org}/properties/{id}",
        delete(delete_property),
        "Delete a property definition (If-Match)",
        "properties",
        None,
        WRITE,
    )
    .add(
        M::GET,
        "/api/v1/orgs/{org}/audit",
        get(audit_log),
        "The audit log, newest first, filtered and paged",
        "audit",
        None,
        &[
            E::Unauthenticated,
            E::Forbidden,
            E::NotFound,
            E::InvalidInput,
        ],
    )
    .answers(WireType::page::<AuditEvent>("AuditPage"))
    .add(
        M::GET,
        "/api/v1/orgs/{org}/changes",
        get(changes),
        "The change feed since a cursor (sync pull)",
        "sync",
        None,
        &[
            E::Unauthenticated,
            E::Forbidden,
            E::NotFound,
            E::InvalidInput,
            E::ResyncRequired,
        ],
    )
    .answers(WireType::of::<ChangesPage>())
    .add(
        M::POST,
        "/api/v1/orgs/{org}/mutations",
        post(mutations).layer(DefaultBodyLimit::max(MUTATIONS_BODY_LIMIT)),
        "Push a batch of at most 1000 mutations (sync push)",
        "sync",
        Some(WireType::of::<MutationBatch>()),
        &[
            E::Unauthenticated,
            E::Forbidden,
            E::NotFound,
            E::InvalidInput,
            E::BadRequest,
            E::PayloadTooLarge,
        ],
    )
    .answers(WireType::of::<MutationResults>())
    .add(
        M::GET,
        "/invite/{token}",
        get(invite_page::show),
        "The invitation page (HTML)",
        "invitations",
        None,
        &[E::NotFound],
    )
    .add(
        M::POST,
        "/invite/{token}",
        post(invite_page::accept),
        "Accept an invitation (HTML form)",
        "invitations",
        None,
        &[E::NotFound, E::InvalidInput, E::InvalidState],
    )
}

/// The whole API with its state.
pub fn router(state: SharedState) -> Router {
    let Routes { router, operations } = routes();
    let doc = std::sync::Arc::new(openapi(&operations));
    let docs = Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .with_state(doc);
    router
        .fallback(no_such_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
        .merge(docs)
}

/// The success answer: the wire type's JSON, or an empty body.
fn success(answer: Option<WireType>) -> utoipa::openapi::response::Response {
    use utoipa::openapi::ContentBuilder;
    use utoipa::openapi::response::ResponseBuilder;
    match answer {
        Some(answer) => ResponseBuilder::new()
            .description(format!("Success: {}", answer.name))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(answer.reference()))
                    .build(),
            )
            .build(),
        None => ResponseBuilder::new()
            .description("Success, no content")
            .build(),
    }
}

/// Every error body: `{ "code": one of SPEC's codes, "message": for a person }`.
fn api_error_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::{ObjectBuilder, Type};
    let code = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
        .build();
    let message = ObjectBuilder::new().schema_type(Type::String).build();
    ObjectBuilder::new()
        .property("code", code)
        .property("message", message)
        .required("code")
        .required("message")
        .build()
        .into()
}

/// The OpenAPI 3.1 document of [`operations`].
pub fn openapi(operations: &[Operation]) -> serde_json::Value {
    use utoipa::openapi::path::{
        HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder,
    };
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::response::ResponseBuilder;
    use utoipa::openapi::security::{
        HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
    };
    use utoipa::openapi::{
        ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApiBuilder, Required,
    };
    let mut paths = PathsBuilder::new();
    let mut wire_types: Vec<WireType> = operations.iter().filter_map(|op| op.answer).collect();
    for op in operations {
        let method = match op.method {
            Method::GET => HttpMethod::Get,
            Method::POST => HttpMethod::Post,
            Method::PUT => HttpMethod::Put,
            Method::PATCH => HttpMethod::Patch,
            _ => HttpMethod::Delete,
        };
        let mut builder = OperationBuilder::new()
            .summary(Some(op.summary))
            .tag(op.tag)
            .operation_id(Some(format!(
                "{}_{}",
                op.method.as_str().to_lowercase(),
                op.path
                    .trim_start_matches('/')
                    .replace(['/', '{', '}'], "_")
            )))
            .response("2XX", success(op.answer));
        for name in op
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        {
            builder = builder.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .build(),
            );
        }
        if let Some(body) = op.body {
            wire_types.push(body);
            let schema = body.reference();
            builder = builder.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema)).build(),
                    )
                    .build(),
            ));
        }
        let mut by_status: std::collections::BTreeMap<u16, Vec<&str>> =
            std::collections::BTreeMap::new();
        for code in op.errors.iter().chain(std::iter::once(&E::Internal)) {
            by_status
                .entry(status_of(*code).as_u16())
                .or_default()
                .push(code.as_str());
        }
        for (status, codes) in by_status {
            let error = utoipa::openapi::Ref::from_schema_name("ApiError");
            builder = builder.response(
                status.to_string(),
                ResponseBuilder::new()
                    .description(format!("codes: {}", codes.join(", ")))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(error)).build(),
                    )
                    .build(),
            );
        }
        if op.auth {
            builder = builder.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        }
        paths = paths.path(op.path, PathItem::new(method, builder.build()));
    }
    // Each wire type once, with every schema it refers to (a type and its dependencies
    // may be met through several operations).
    let mut schemas: Vec<(String, RefOr<Schema>)> = Vec::new();
    for wire in wire_types {
        schemas.push((wire.name.to_owned(), (wire.schema)()));
        (wire.refers_to)(&mut schemas);
    }
    let schemas: std::collections::BTreeMap<String, RefOr<Schema>> = schemas.into_iter().collect();
    let doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Orgdesk server API")
                .version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
        .paths(paths.build())
        .components(Some(
            ComponentsBuilder::new()
                .schemas_from_iter(schemas)
                .schema("ApiError", api_error_schema())
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
                )
                .build(),
        ))
        .build();
    serde_json::to_value(&doc).unwrap_or_default()
}
