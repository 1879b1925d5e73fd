//! The invitation page: a small server-rendered HTML form (no JavaScript) where an invitee
//! sets a password (new account) or just accepts (existing account). Every value shown is
//! HTML-escaped.

use crate::SharedState;
use crate::api::ApiPath;
use crate::error::Error;
use crate::members;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} – Orgdesk</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
         <body style=\"font-family: sans-serif; max-width: 32rem; margin: 3rem auto\"><h1>{}</h1>{body}</body></html>",
        escape(title),
        escape(title)
    );
    (status, Html(html)).into_response()
}

fn gone() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Invitation not found",
        "<p>This invitation link is not valid any more: it was used, cancelled, or replaced by a newer one.</p>",
    )
}

fn form(invitation: &members::Invitation, token: &str, problem: Option<&str>) -> String {
    let problem = problem
        .map(|p| format!("<p role=\"alert\" style=\"color: #b00\">{}</p>", escape(p)))
        .unwrap_or_default();
    let fields = if invitation.needs_password {
        "<p><label>Choose a password (12 to 128 characters)<br>\
         <input type=\"password\" name=\"password\" minlength=\"12\" maxlength=\"128\" required autocomplete=\"new-password\"></label></p>"
    } else {
        "<p>You already have an Orgdesk account; accepting adds this organization to it.</p>"
    };
    format!(
        "<p>You are invited to join <strong>{}</strong> as <strong>{}</strong>.</p>{problem}\
         <form method=\"post\" action=\"/invite/{}\">{fields}<p><button type=\"submit\">Accept invitation</button></p></form>",
        escape(&invitation.org_name),
        escape(&invitation.email),
        escape(token)
    )
}

pub async fn show(State(state): State<SharedState>, ApiPath(token): ApiPath<String>) -> Response {
    match members::find_invitation(&state, &token).await {
        Ok(Some(invitation)) if invitation.expired => page(
            StatusCode::GONE,
            "Invitation expired",
            "<p>This invitation has expired. Ask an administrator of the organization to send a new one.</p>",
        ),
        Ok(Some(invitation)) => page(
            StatusCode::OK,
            "Accept your invitation",
            &form(&invitation, &token, None),
        ),
        Ok(None) => gone(),
        Err(error) => error.into_response(),
    }
}

#[derive(serde::Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    password: Option<String>,
}

pub async fn accept(
    State(state): State<SharedState>,
    ApiPath(token): ApiPath<String>,
    Form(form_data): Form<AcceptForm>,
) -> Response {
    match members::accept_invitation(&state, &token, form_data.password).await {
        Ok(invitation) => page(
            StatusCode::OK,
            "Welcome",
            &format!(
                "<p>You are now a member of <strong>{}</strong>. Sign in to Orgdesk as {}.</p>",
                escape(&invitation.org_name),
                escape(&invitation.email)
            ),
        ),
        Err(Error::Denied(denied)) if denied.code == orgdesk_domain::ErrorCode::NotFound => gone(),
        Err(Error::Denied(denied)) => match members::find_invitation(&state, &token).await {
            Ok(Some(invitation)) if !invitation.expired => page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Accept your invitation",
                &form(&invitation, &token, Some(&denied.message)),
            ),
            _ => page(
                StatusCode::GONE,
                "Invitation expired",
                &format!("<p>{}</p>", escape(&denied.message)),
            ),
        },
        Err(error) => error.into_response(),
    }
}
