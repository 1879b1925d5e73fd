//! The server's rules (SPEC.md §1–§5 and the sync protocol) as stories over real HTTP,
//! each run on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::{Api, Backend, PASSWORD, TestServer, assert_error, in_days};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

stories!(
    an_admin_signs_in_and_sees_their_org,
    removing_suspending_or_demoting_the_last_active_admin_is_rejected,
    an_admin_cannot_change_their_own_role,
    no_one_removes_or_suspends_themselves,
    a_user_admin_may_only_manage_members_and_guests,
    granting_more_than_ten_workspaces_is_rejected,
    a_guest_needs_an_end_date_in_the_coming_year,
    a_second_membership_for_one_email_is_email_taken,
    lifecycle_actions_need_the_right_status,
    roles_without_the_right_are_forbidden,
    members_see_the_directory_only_when_the_org_turns_it_on,
    a_scoped_user_admin_never_sees_users_outside_the_scope,
    another_orgs_admin_gets_404_on_every_id_of_the_first,
    an_invitation_is_accepted_through_the_page_from_the_mailbox,
    resending_an_invitation_retires_the_old_link_and_cancelling_ends_it,
    an_invitation_expires_after_seven_days,
    an_existing_account_is_added_active_at_once_and_told_by_mail,
    a_generated_password_is_mailed_and_signs_in,
    failed_sign_ins_are_throttled_per_account,
    sessions_end_at_logout_and_when_idle,
    totp_enrolment_then_sign_in_needs_the_code,
    a_guest_expires_on_the_end_date,
    a_suspended_member_loses_access_to_that_org_until_restored,
    a_removed_member_loses_that_org_and_keeps_the_others,
    the_roster_is_searched_filtered_sorted_and_paged,
    property_values_are_checked_against_their_definitions,
    workspaces_are_managed_and_deleting_one_takes_its_grants,
    org_info_settings_and_billing_follow_the_matrix,
    a_partner_member_opens_every_client_with_partner_access,
    client_users_never_see_the_partner_org,
    the_audit_log_records_changes_and_filters_by_role,
    the_change_feed_sends_a_snapshot_then_only_what_changed,
    the_change_feed_pages_without_skipping_rows,
    a_role_or_scope_change_makes_the_feed_answer_resync_required,
    editing_account_fields_changes_the_member_in_every_org,
    mutations_are_applied_conflicted_or_rejected_and_replays_change_nothing,
    a_batch_sees_its_own_earlier_mutations,
    single_row_writes_honour_if_match,
    malformed_requests_are_answered_with_a_code,
    deleting_an_org_removes_it,
);

fn members(org: i64) -> String {
    format!("/api/v1/orgs/{org}/members")
}

fn member(org: i64, id: i64) -> String {
    format!("/api/v1/orgs/{org}/members/{id}")
}

async fn add(api: &Api, org: i64, body: Value) -> (StatusCode, Value) {
    api.post(&members(org), body).await
}

fn items(page: &Value) -> Vec<Value> {
    page["items"].as_array().cloned().unwrap_or_default()
}

fn emails(page: &Value) -> Vec<String> {
    items(page)
        .iter()
        .map(|m| m["email"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn an_admin_signs_in_and_sees_their_org(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (status, me) = admin.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["email"], "admin@acme.example");
    let (_, orgs) = admin.get("/api/v1/me/orgs").await;
    assert_eq!(orgs[0]["id"], org);
    assert_eq!(orgs[0]["role"], "admin");
    assert_eq!(orgs[0]["via_partner"], false);
    let (status, info) = admin.get(&format!("/api/v1/orgs/{org}")).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["name"], "Acme");
    assert_eq!(info["kind"], "standard");
    let (_, page) = admin.get(&members(org)).await;
    assert_eq!(emails(&page), ["admin@acme.example"]);
    assert_eq!(items(&page)[0]["status"], "active");
}

/// A partner org with a partner admin, and a client org whose own admin is active.
async fn partner_and_client(s: &TestServer) -> (i64, Api, i64, i64, Api) {
    let (partner, partner_admin) = s
        .org_with_admin("Partner", "pa@partner.example", true)
        .await;
    let (status, client) = partner_admin
        .post(
            &format!("/api/v1/orgs/{partner}/clients"),
            json!({"name": "Client", "admin_email": "ca@client.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let client_id = client["id"].as_i64().unwrap();
    let link = s.invitation_link("ca@client.example").await;
    let (status, html) = s
        .accept_invitation(&link, Some("client-admin-password"))
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let client_admin = s.login("ca@client.example", "client-admin-password").await;
    (
        partner,
        partner_admin,
        client_id,
        client_admin.user_id,
        client_admin,
    )
}

async fn removing_suspending_or_demoting_the_last_active_admin_is_rejected(backend: Backend) {
    let s = server!(backend);
    // Partner access does not count as an admin, so the partner's admin can try to take
    // away the client's only active admin.
    let (_, partner_admin, client, client_admin_id, _) = partner_and_client(&s).await;
    // A pending admin does not count either.
    let (status, _) = add(
        &partner_admin,
        client,
        json!({"email": "pending@client.example", "role": "admin"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_error(
        &partner_admin.delete(&member(client, client_admin_id)).await,
        StatusCode::CONFLICT,
        "last_admin",
    );
    assert_error(
        &partner_admin
            .post_empty(&format!("{}/suspend", member(client, client_admin_id)))
            .await,
        StatusCode::CONFLICT,
        "last_admin",
    );
    assert_error(
        &partner_admin
            .put(
                &format!("{}/role", member(client, client_admin_id)),
                json!({"role": "user_admin"}),
            )
            .await,
        StatusCode::CONFLICT,
        "last_admin",
    );
    // With a second active admin, the first can go.
    let (second, _) = s
        .member(&partner_admin, client, "second@client.example", "admin")
        .await;
    let (status, _) = partner_admin.delete(&member(client, client_admin_id)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(
        &partner_admin.delete(&member(client, second)).await,
        StatusCode::CONFLICT,
        "last_admin",
    );
}

async fn an_admin_cannot_change_their_own_role(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    s.member(&admin, org, "other@acme.example", "admin").await;
    let answer = admin
        .put(
            &format!("{}/role", member(org, admin.user_id)),
            json!({"role": "member"}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "self_role");
}

async fn no_one_removes_or_suspends_themselves(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    s.member(&admin, org, "other@acme.example", "admin").await;
    assert_error(
        &admin.delete(&member(org, admin.user_id)).await,
        StatusCode::FORBIDDEN,
        "self_remove",
    );
    assert_error(
        &admin
            .post_empty(&format!("{}/suspend", member(org, admin.user_id)))
            .await,
        StatusCode::FORBIDDEN,
        "self_remove",
    );
}

async fn a_user_admin_may_only_manage_members_and_guests(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (_, user_admin) = s.member(&admin, org, "ua@acme.example", "user_admin").await;
    assert_error(
        &add(
            &user_admin,
            org,
            json!({"email": "boss@acme.example", "role": "admin"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "role_not_allowed",
    );
    assert_error(
        &user_admin.delete(&member(org, admin.user_id)).await,
        StatusCode::FORBIDDEN,
        "role_not_allowed",
    );
    let (status, added) = add(
        &user_admin,
        org,
        json!({"email": "m@acme.example", "role": "member"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let id = added["id"].as_i64().unwrap();
    let (status, guest) = add(
        &user_admin,
        org,
        json!({"email": "g@acme.example", "role": "guest", "guest_expires": in_days(10)}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{guest}");
    assert_error(
        &user_admin
            .put(
                &format!("{}/role", member(org, id)),
                json!({"role": "admin"}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, _) = user_admin.delete(&member(org, id)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

async fn granting_more_than_ten_workspaces_is_rejected(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let mut ids = Vec::new();
    for n in 0..11 {
        let (status, ws) = admin
            .post(
                &format!("/api/v1/orgs/{org}/workspaces"),
                json!({"name": format!("Space {n}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ws}");
        ids.push(ws["id"].as_i64().unwrap());
    }
    assert_error(
        &add(
            &admin,
            org,
            json!({"email": "m@acme.example", "role": "member", "workspaces": ids}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_many_workspaces",
    );
    let (id, _) = s.member(&admin, org, "m@acme.example", "member").await;
    assert_error(
        &admin
            .put(
                &format!("{}/workspaces", member(org, id)),
                json!({"workspaces": ids}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_many_workspaces",
    );
    let (status, granted) = admin
        .put(
            &format!("{}/workspaces", member(org, id)),
            json!({"workspaces": &ids[..10]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    assert_eq!(granted["workspaces"].as_array().unwrap().len(), 10);
}

async fn a_guest_needs_an_end_date_in_the_coming_year(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    assert_error(
        &add(
            &admin,
            org,
            json!({"email": "g@acme.example", "role": "guest"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "guest_expiry_required",
    );
    assert_error(
        &add(
            &admin,
            org,
            json!({"email": "g@acme.example", "role": "guest", "guest_expires": in_days(-1)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "guest_expiry_past",
    );
    assert_error(
        &add(
            &admin,
            org,
            json!({"email": "g@acme.example", "role": "guest", "guest_expires": in_days(400)}),
        )
        .await,
        StatusCode::CONFLICT,
        "invalid_state",
    );
    let (status, guest) = add(
        &admin,
        org,
        json!({"email": "g@acme.example", "role": "guest", "guest_expires": in_days(365)}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{guest}");
}

async fn a_second_membership_for_one_email_is_email_taken(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (status, _) = add(
        &admin,
        org,
        json!({"email": "m@acme.example", "role": "member"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_error(
        &add(
            &admin,
            org,
            json!({"email": "M@Acme.example", "role": "guest", "guest_expires": in_days(3)}),
        )
        .await,
        StatusCode::CONFLICT,
        "email_taken",
    );
}

async fn lifecycle_actions_need_the_right_status(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (id, _) = s.member(&admin, org, "m@acme.example", "member").await;
    assert_error(
        &admin
            .post_empty(&format!("{}/restore", member(org, id)))
            .await,
        StatusCode::CONFLICT,
        "invalid_state",
    );
    assert_error(
        &admin
            .post_empty(&format!("{}/invitation/resend", member(org, id)))
            .await,
        StatusCode::CONFLICT,
        "invalid_state",
    );
    assert_error(
        &admin
            .delete(&format!("{}/invitation", member(org, id)))
            .await,
        StatusCode::CONFLICT,
        "invalid_state",
    );
    let (status, suspended) = admin
        .post_empty(&format!("{}/suspend", member(org, id)))
        .await;
    assert_eq!(status, StatusCode::OK, "{suspended}");
    assert_eq!(suspended["status"], "suspended");
    assert_error(
        &admin
            .post_empty(&format!("{}/suspend", member(org, id)))
            .await,
        StatusCode::CONFLICT,
        "invalid_state",
    );
    let (status, restored) = admin
        .post_empty(&format!("{}/restore", member(org, id)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(restored["status"], "active");
}

async fn roles_without_the_right_are_forbidden(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (_, viewer) = s
        .member(&admin, org, "viewer@acme.example", "viewer_admin")
        .await;
    let (_, billing) = s
        .member(&admin, org, "billing@acme.example", "billing_admin")
        .await;
    let (_, plain) = s.member(&admin, org, "plain@acme.example", "member").await;
    assert_error(
        &add(
            &viewer,
            org,
            json!({"email": "x@acme.example", "role": "member"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &billing
            .patch(&format!("/api/v1/orgs/{org}"), json!({"name": "Mine"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &viewer
            .post(
                &format!("/api/v1/orgs/{org}/workspaces"),
                json!({"name": "X"}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &plain.get(&format!("/api/v1/orgs/{org}/billing")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &viewer.delete(&format!("/api/v1/orgs/{org}")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, _) = viewer.get(&members(org)).await;
    assert_eq!(status, StatusCode::OK, "a viewer admin sees the roster");
    let (status, _) = billing
        .patch(&format!("/api/v1/orgs/{org}/billing"), json!({"seats": 25}))
        .await;
    assert_eq!(status, StatusCode::OK, "a billing admin edits billing");
}

async fn members_see_the_directory_only_when_the_org_turns_it_on(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (_, plain) = s.member(&admin, org, "plain@acme.example", "member").await;
    admin
        .patch(
            &member(org, admin.user_id),
            json!({"profile": {"title": "CEO", "display_name": "Ada"}}),
        )
        .await;
    assert_error(
        &plain.get(&members(org)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, _) = admin
        .patch(
            &format!("/api/v1/orgs/{org}/settings"),
            json!({"member_directory": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, page) = plain.get(&members(org)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let ada = items(&page)
        .into_iter()
        .find(|m| m["email"] == "admin@acme.example")
        .unwrap();
    assert_eq!(ada["display_name"], "Ada");
    assert!(
        ada.get("title").is_none(),
        "the directory shows names, email, role, status only: {ada}"
    );
}

async fn a_scoped_user_admin_never_sees_users_outside_the_scope(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (ua_id, user_admin) = s.member(&admin, org, "ua@acme.example", "user_admin").await;
    let (inside, _) = s.member(&admin, org, "in@client.example", "member").await;
    let (outside, _) = s.member(&admin, org, "out@other.example", "member").await;
    let (status, _) = admin
        .put(
            &format!("{}/scope", member(org, ua_id)),
            json!({"scope": ["@client.example"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = user_admin.get(&members(org)).await;
    let mut seen = emails(&page);
    seen.sort();
    assert_eq!(seen, ["in@client.example", "ua@acme.example"]);
    let (_, found) = user_admin
        .get(&format!("{}?search=other", members(org)))
        .await;
    assert!(
        items(&found).is_empty(),
        "search never finds out-of-scope users: {found}"
    );
    assert_error(
        &user_admin.get(&member(org, outside)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &user_admin
            .patch(&member(org, outside), json!({"profile": {"title": "x"}}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &user_admin.delete(&member(org, outside)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (status, _) = user_admin.get(&member(org, inside)).await;
    assert_eq!(status, StatusCode::OK);
    // Adding someone outside the scope is out_of_scope, even when they are a member already.
    assert_error(
        &add(
            &user_admin,
            org,
            json!({"email": "out@other.example", "role": "member"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "out_of_scope",
    );
    // The audit log and the feed are filtered too.
    let (_, log) = admin
        .put(
            &format!("{}/scope", member(org, ua_id)),
            json!({"scope": ["@client.example", "ua@acme.example"]}),
        )
        .await;
    let _ = log;
    let user_admin = s.login("ua@acme.example", PASSWORD).await;
    let (status, feed) = user_admin.get(&format!("/api/v1/orgs/{org}/changes")).await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    let feed_emails: Vec<&str> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["email"].as_str())
        .collect();
    assert!(
        !feed_emails.contains(&"out@other.example") && feed_emails.contains(&"in@client.example"),
        "{feed_emails:?}"
    );
    let (status, audit) = user_admin.get(&format!("/api/v1/orgs/{org}/audit")).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    assert!(
        items(&audit)
            .iter()
            .all(|e| e["target_email"] != "out@other.example"),
        "{audit}"
    );
}

async fn another_orgs_admin_gets_404_on_every_id_of_the_first(backend: Backend) {
    let s = server!(backend);
    let (a, admin_a) = s.org_with_admin("A", "admin@a.example", false).await;
    let (b, admin_b) = s.org_with_admin("B", "admin@b.example", false).await;
    let (m, _) = s.member(&admin_a, a, "m@a.example", "member").await;
    let (_, ws) = admin_a
        .post(
            &format!("/api/v1/orgs/{a}/workspaces"),
            json!({"name": "Secret"}),
        )
        .await;
    let ws = ws["id"].as_i64().unwrap();
    let (_, prop) = admin_a
        .post(
            &format!("/api/v1/orgs/{a}/properties"),
            json!({"key": "cost", "label": "Cost center", "type": "text"}),
        )
        .await;
    let prop = prop["id"].as_i64().unwrap();
    for path in [
        format!("/api/v1/orgs/{a}"),
        format!("/api/v1/orgs/{a}/settings"),
        format!("/api/v1/orgs/{a}/billing"),
        members(a),
        member(a, m),
        format!("/api/v1/orgs/{a}/workspaces"),
        format!("/api/v1/orgs/{a}/properties"),
        format!("/api/v1/orgs/{a}/audit"),
        format!("/api/v1/orgs/{a}/changes"),
        format!("/api/v1/orgs/{a}/clients"),
        member(b, m),
    ] {
        assert_error(
            &admin_b.get(&path).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
    assert_error(
        &admin_b.delete(&member(b, m)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &admin_b.delete(&member(a, m)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &admin_b
            .patch(
                &format!("/api/v1/orgs/{b}/workspaces/{ws}"),
                json!({"name": "Mine"}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &admin_b
            .delete(&format!("/api/v1/orgs/{b}/properties/{prop}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &admin_b
            .put(
                &format!("{}/workspaces", member(b, admin_b.user_id)),
                json!({"workspaces": [ws]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    assert_error(
        &admin_b.delete(&format!("/api/v1/orgs/{a}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn an_invitation_is_accepted_through_the_page_from_the_mailbox(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s
        .org_with_admin("Acme & <Co>", "admin@acme.example", false)
        .await;
    let (status, invited) = add(
        &admin,
        org,
        json!({"email": "new@acme.example", "role": "member"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    assert_eq!(invited["status"], "pending");
    assert!(invited["invitation_expires_at"].is_string());
    let (_, pending) = admin.get(&format!("{}?tab=pending", members(org))).await;
    assert_eq!(emails(&pending), ["new@acme.example"]);
    let link = s.invitation_link("new@acme.example").await;
    let page = s
        .http
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Acme &amp; &lt;Co&gt;"),
        "the org name is escaped: {page}"
    );
    let (status, html) = s.accept_invitation(&link, Some("short")).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a short password is refused: {html}"
    );
    let (status, html) = s
        .accept_invitation(&link, Some("a-long-enough-password"))
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let newcomer = s.login("new@acme.example", "a-long-enough-password").await;
    let (_, orgs) = newcomer.get("/api/v1/me/orgs").await;
    assert_eq!(orgs[0]["id"], org);
    let (_, now) = admin
        .get(&member(org, invited["id"].as_i64().unwrap()))
        .await;
    assert_eq!(now["status"], "active");
    let used = s.http.get(&link).send().await.unwrap();
    assert_eq!(
        used.status(),
        StatusCode::NOT_FOUND,
        "a used link stops working"
    );
}

async fn resending_an_invitation_retires_the_old_link_and_cancelling_ends_it(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (_, invited) = add(
        &admin,
        org,
        json!({"email": "new@acme.example", "role": "member"}),
    )
    .await;
    let id = invited["id"].as_i64().unwrap();
    let old = s.invitation_link("new@acme.example").await;
    let (status, _) = admin
        .post_empty(&format!("{}/invitation/resend", member(org, id)))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut new = old.clone();
    for _ in 0..100 {
        new = s.invitation_link("new@acme.example").await;
        if new != old {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_ne!(new, old, "a new link was mailed");
    assert_eq!(
        s.http.get(&old).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.http.get(&new).send().await.unwrap().status(),
        StatusCode::OK
    );
    let (status, _) = admin
        .delete(&format!("{}/invitation", member(org, id)))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.http.get(&new).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_error(
        &admin.get(&member(org, id)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn an_invitation_expires_after_seven_days(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    add(
        &admin,
        org,
        json!({"email": "new@acme.example", "role": "member"}),
    )
    .await;
    let link = s.invitation_link("new@acme.example").await;
    s.server.clock().advance(chrono::Duration::days(8));
    assert_eq!(
        s.http.get(&link).send().await.unwrap().status(),
        StatusCode::GONE
    );
}

async fn an_existing_account_is_added_active_at_once_and_told_by_mail(backend: Backend) {
    let s = server!(backend);
    let (a, admin_a) = s.org_with_admin("A", "admin@a.example", false).await;
    let (b, admin_b) = s.org_with_admin("B", "admin@b.example", false).await;
    s.member(&admin_a, a, "shared@x.example", "member").await;
    let (status, added) = add(
        &admin_b,
        b,
        json!({"email": "shared@x.example", "role": "viewer_admin"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["status"], "active");
    let mail = s.mail_to("shared@x.example").await;
    assert!(mail.contains("You were added to B"), "{mail}");
    let shared = s.login("shared@x.example", PASSWORD).await;
    let (_, orgs) = shared.get("/api/v1/me/orgs").await;
    assert_eq!(orgs.as_array().unwrap().len(), 2, "{orgs}");
}

async fn a_generated_password_is_mailed_and_signs_in(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (status, added) = add(
        &admin,
        org,
        json!({"email": "gen@acme.example", "role": "member", "onboarding": "generate_and_email"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["status"], "active");
    let mail = s.mail_to("gen@acme.example").await;
    let password = mail
        .lines()
        .find_map(|l| l.strip_prefix("Password: "))
        .expect("password in mail")
        .trim()
        .to_owned();
    assert!(password.len() >= 16);
    s.login("gen@acme.example", &password).await;
    // set_and_email mails the creator's password; set_silently sends nothing.
    add(&admin, org, json!({"email": "set@acme.example", "role": "member", "onboarding": "set_and_email", "password": "chosen-by-the-admin"})).await;
    assert!(
        s.mail_to("set@acme.example")
            .await
            .contains("chosen-by-the-admin")
    );
    add(&admin, org, json!({"email": "quiet@acme.example", "role": "member", "onboarding": "set_silently", "password": "chosen-by-the-admin"})).await;
    s.login("quiet@acme.example", "chosen-by-the-admin").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(s.mails_to("quiet@acme.example").is_empty());
    assert_error(&add(&admin, org, json!({"email": "weak@acme.example", "role": "member", "onboarding": "set_silently", "password": "short"})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
}

async fn failed_sign_ins_are_throttled_per_account(backend: Backend) {
    let s = server!(backend);
    s.org_with_admin("Acme", "admin@acme.example", false).await;
    let anon = s.anonymous();
    let unknown = anon
        .post(
            "/api/v1/auth/login",
            json!({"email": "nobody@acme.example", "password": "whatever-it-is"}),
        )
        .await;
    assert_error(&unknown, StatusCode::UNAUTHORIZED, "invalid_credentials");
    for _ in 0..5 {
        let wrong = anon
            .post(
                "/api/v1/auth/login",
                json!({"email": "admin@acme.example", "password": "wrong-password!"}),
            )
            .await;
        assert_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
        assert_eq!(
            wrong.1["message"], unknown.1["message"],
            "the same message whether or not the account exists"
        );
    }
    let locked = anon
        .post(
            "/api/v1/auth/login",
            json!({"email": "admin@acme.example", "password": PASSWORD}),
        )
        .await;
    assert_error(&locked, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    s.server.clock().advance(chrono::Duration::minutes(16));
    s.login("admin@acme.example", PASSWORD).await;
}

async fn sessions_end_at_logout_and_when_idle(backend: Backend) {
    let s = server!(backend);
    let (_, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (status, _) = admin.post_empty("/api/v1/auth/logout").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(
        &admin.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let again = s.login("admin@acme.example", PASSWORD).await;
    s.server.clock().advance(chrono::Duration::hours(13));
    assert_error(
        &again.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &s.anonymous().get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

async fn totp_enrolment_then_sign_in_needs_the_code(backend: Backend) {
    let s = server!(backend);
    let (_, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (status, enrolment) = admin.post_empty("/api/v1/me/totp").await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    assert!(
        enrolment["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let secret = enrolment["secret"].as_str().unwrap();
    let now = s.server.clock().now_ms();
    assert_error(
        &admin
            .post("/api/v1/me/totp/confirm", json!({"code": "000000"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let code = orgdesk_server::auth::totp_code(secret, now).unwrap();
    let (status, _) = admin
        .post("/api/v1/me/totp/confirm", json!({"code": code}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let anon = s.anonymous();
    assert_error(
        &anon
            .post(
                "/api/v1/auth/login",
                json!({"email": "admin@acme.example", "password": PASSWORD}),
            )
            .await,
        StatusCode::UNAUTHORIZED,
        "totp_required",
    );
    let code = orgdesk_server::auth::totp_code(secret, s.server.clock().now_ms()).unwrap();
    let (status, body) = anon
        .post(
            "/api/v1/auth/login",
            json!({"email": "admin@acme.example", "password": PASSWORD, "totp": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["account"]["totp_enabled"], true);
}

async fn a_guest_expires_on_the_end_date(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (status, guest) = add(&admin, org, json!({"email": "g@acme.example", "role": "guest", "guest_expires": in_days(2), "onboarding": "set_silently", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::CREATED, "{guest}");
    let id = guest["id"].as_i64().unwrap();
    let guest_api = s.login("g@acme.example", PASSWORD).await;
    assert_error(
        &guest_api
            .patch(&member(org, id), json!({"guest_expires": in_days(100)}))
            .await,
        StatusCode::FORBIDDEN,
        "self_remove",
    );
    assert_eq!(
        guest_api
            .get("/api/v1/me/orgs")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    s.server.clock().advance(chrono::Duration::days(3));
    let admin = s.login("admin@acme.example", PASSWORD).await;
    let (_, read) = admin.get(&member(org, id)).await;
    assert_eq!(
        read["status"], "expired",
        "expired on read before the background task ran"
    );
    let guest_api = s.login("g@acme.example", PASSWORD).await;
    assert!(
        guest_api
            .get("/api/v1/me/orgs")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_error(
        &guest_api
            .get(&format!("/api/v1/orgs/{org}/workspaces"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    s.server.run_upkeep().await.unwrap();
    let (_, tab) = admin.get(&format!("{}?tab=guest", members(org))).await;
    assert_eq!(
        items(&tab)[0]["status"],
        "expired",
        "still listed in the Guest tab"
    );
    // Extending the end date gives access back.
    let new_end = (chrono::Utc::now().date_naive() + chrono::Duration::days(10)).to_string();
    let (status, extended) = admin
        .patch(&member(org, id), json!({"guest_expires": new_end}))
        .await;
    assert_eq!(status, StatusCode::OK, "{extended}");
    assert_eq!(extended["status"], "active");
}

async fn a_suspended_member_loses_access_to_that_org_until_restored(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (id, viewer) = s
        .member(&admin, org, "v@acme.example", "viewer_admin")
        .await;
    assert_eq!(viewer.get(&members(org)).await.0, StatusCode::OK);
    admin
        .post_empty(&format!("{}/suspend", member(org, id)))
        .await;
    assert_error(
        &viewer.get(&members(org)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert!(
        viewer
            .get("/api/v1/me/orgs")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (_, active_tab) = admin.get(&format!("{}?tab=active", members(org))).await;
    assert!(
        items(&active_tab)
            .iter()
            .any(|m| m["status"] == "suspended"),
        "suspended members stay listed, marked"
    );
    admin
        .post_empty(&format!("{}/restore", member(org, id)))
        .await;
    assert_eq!(viewer.get(&members(org)).await.0, StatusCode::OK);
}

async fn a_removed_member_loses_that_org_and_keeps_the_others(backend: Backend) {
    let s = server!(backend);
    let (a, admin_a) = s.org_with_admin("A", "admin@a.example", false).await;
    let (b, admin_b) = s.org_with_admin("B", "admin@b.example", false).await;
    let (id, shared) = s
        .member(&admin_a, a, "shared@x.example", "viewer_admin")
        .await;
    add(
        &admin_b,
        b,
        json!({"email": "shared@x.example", "role": "viewer_admin"}),
    )
    .await;
    admin_a.delete(&member(a, id)).await;
    assert_error(
        &shared.get(&members(a)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(
        shared.get(&members(b)).await.0,
        StatusCode::OK,
        "the same token still opens the other org"
    );
}

async fn the_roster_is_searched_filtered_sorted_and_paged(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (_, ws) = admin
        .post(
            &format!("/api/v1/orgs/{org}/workspaces"),
            json!({"name": "Sales"}),
        )
        .await;
    let ws = ws["id"].as_i64().unwrap();
    for (n, name) in ["Zed", "Amy", "Bob", "Cat", "Dan"].iter().enumerate() {
        let body = json!({"email": format!("{}@acme.example", name.to_lowercase()), "role": "member", "profile": {"display_name": name, "company": if n == 2 {"Globex"} else {"Acme"}}, "workspaces": if n < 2 { vec![ws] } else { vec![] }});
        assert_eq!(add(&admin, org, body).await.0, StatusCode::CREATED);
    }
    let (_, found) = admin.get(&format!("{}?search=globex", members(org))).await;
    assert_eq!(emails(&found), ["bob@acme.example"]);
    let (_, in_ws) = admin.get(&format!("{}?workspace={ws}", members(org))).await;
    assert_eq!(emails(&in_ws), ["amy@acme.example", "zed@acme.example"]);
    let (_, admins) = admin.get(&format!("{}?role=admin", members(org))).await;
    assert_eq!(emails(&admins), ["admin@acme.example"]);
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(after) => format!("{}?limit=2&sort=email&after={after}", members(org)),
            None => format!("{}?limit=2&sort=email", members(org)),
        };
        let (status, page) = admin.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(emails(&page));
        match page["next"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "admin@acme.example",
            "amy@acme.example",
            "bob@acme.example",
            "cat@acme.example",
            "dan@acme.example",
            "zed@acme.example"
        ]
    );
    let (_, by_name) = admin
        .get(&format!("{}?sort=name&limit=3", members(org)))
        .await;
    assert_eq!(
        emails(&by_name),
        ["admin@acme.example", "amy@acme.example", "bob@acme.example"]
    );
    assert_error(
        &admin.get(&format!("{}?tab=nonsense", members(org))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
}

async fn property_values_are_checked_against_their_definitions(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let props = format!("/api/v1/orgs/{org}/properties");
    assert_eq!(admin.post(&props, json!({"key": "level", "label": "Level", "type": "one_of", "options": ["junior", "senior"], "required": true})).await.0, StatusCode::CREATED);
    assert_eq!(
        admin
            .post(
                &props,
                json!({"key": "start", "label": "Start date", "type": "date"})
            )
            .await
            .0,
        StatusCode::CREATED
    );
    assert_error(
        &admin
            .post(
                &props,
                json!({"key": "Bad Key", "label": "x", "type": "text"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    assert_error(
        &add(
            &admin,
            org,
            json!({"email": "m@acme.example", "role": "member"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    assert_error(
        &add(
            &admin,
            org,
            json!({"email": "m@acme.example", "role": "member", "properties": {"level": "boss"}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    assert_error(&add(&admin, org, json!({"email": "m@acme.example", "role": "member", "properties": {"level": "senior", "nope": 1}})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    let (status, added) = add(&admin, org, json!({"email": "m@acme.example", "role": "member", "properties": {"level": "senior", "start": "2026-01-05"}})).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["properties"]["level"], "senior");
    let id = added["id"].as_i64().unwrap();
    assert_error(
        &admin
            .patch(
                &member(org, id),
                json!({"properties": {"start": "not a date"}}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    assert_error(
        &admin
            .patch(&member(org, id), json!({"properties": {"level": null}}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    assert_error(
        &admin
            .patch(&member(org, id), json!({"profile": {"phone": "12345"}}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let (status, edited) = admin.patch(&member(org, id), json!({"profile": {"phone": "+1 415 555 0123", "city": "Oslo"}, "properties": {"start": null}})).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["phone"], "+14155550123");
    assert!(edited["properties"].get("start").is_none());
}

async fn workspaces_are_managed_and_deleting_one_takes_its_grants(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (_, user_admin) = s.member(&admin, org, "ua@acme.example", "user_admin").await;
    let (status, ws) = user_admin
        .post(
            &format!("/api/v1/orgs/{org}/workspaces"),
            json!({"name": "Ops"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a user admin manages workspaces"
    );
    let ws = ws["id"].as_i64().unwrap();
    assert_error(
        &admin
            .post(
                &format!("/api/v1/orgs/{org}/workspaces"),
                json!({"name": "Ops"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let (id, plain) = s.member(&admin, org, "m@acme.example", "member").await;
    let (_, other) = admin
        .post(
            &format!("/api/v1/orgs/{org}/workspaces"),
            json!({"name": "Other"}),
        )
        .await;
    admin
        .put(
            &format!("{}/workspaces", member(org, id)),
            json!({"workspaces": [ws]}),
        )
        .await;
    let (_, visible) = plain.get(&format!("/api/v1/orgs/{org}/workspaces")).await;
    assert_eq!(
        visible.as_array().unwrap().len(),
        1,
        "members see granted workspaces only: {visible}"
    );
    let _ = other;
    let (status, renamed) = admin
        .patch(
            &format!("/api/v1/orgs/{org}/workspaces/{ws}"),
            json!({"name": "Operations"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renamed["version"], 2);
    let (status, _) = admin
        .delete(&format!("/api/v1/orgs/{org}/workspaces/{ws}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, now) = admin.get(&member(org, id)).await;
    assert!(
        now.get("workspaces").is_none(),
        "the grant went with the workspace: {now}"
    );
}

async fn org_info_settings_and_billing_follow_the_matrix(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (status, info) = admin
        .patch(
            &format!("/api/v1/orgs/{org}"),
            json!({"name": "Acme Corp", "domains": ["acme.example", "@Acme.test"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["domains"], json!(["acme.example", "acme.test"]));
    assert_error(
        &admin
            .patch(
                &format!("/api/v1/orgs/{org}"),
                json!({"domains": ["not a domain"]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let (status, settings) = admin.get(&format!("/api/v1/orgs/{org}/settings")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        settings,
        json!({"member_directory": false, "partner_access": "admin"})
    );
    let (status, billing) = admin
        .patch(
            &format!("/api/v1/orgs/{org}/billing"),
            json!({"plan": "business", "seats": 50, "billing_email": "ap@acme.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{billing}");
    assert_eq!(
        admin.get(&format!("/api/v1/orgs/{org}/billing")).await.1,
        billing
    );
    let (_, billing_admin) = s
        .member(&admin, org, "billing@acme.example", "billing_admin")
        .await;
    assert_error(
        &billing_admin
            .post_empty(&format!("/api/v1/orgs/{org}/billing/cancel"))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, cancelled) = admin
        .post_empty(&format!("/api/v1/orgs/{org}/billing/cancel"))
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["plan"], "cancelled");
    assert_error(
        &admin
            .post_empty(&format!("/api/v1/orgs/{org}/billing/cancel"))
            .await,
        StatusCode::CONFLICT,
        "invalid_state",
    );
    assert_error(
        &admin
            .post(
                &format!("/api/v1/orgs/{org}/clients"),
                json!({"name": "C", "admin_email": "c@c.example"}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
}

async fn a_partner_member_opens_every_client_with_partner_access(backend: Backend) {
    let s = server!(backend);
    let (partner, partner_admin, client, _, client_admin) = partner_and_client(&s).await;
    let (_, partner_member) = s
        .member(&partner_admin, partner, "pm@partner.example", "member")
        .await;
    let (_, orgs) = partner_member.get("/api/v1/me/orgs").await;
    let access = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == client)
        .cloned()
        .expect("the client is listed");
    assert_eq!(access["via_partner"], true);
    assert_eq!(access["role"], "admin");
    assert_eq!(access["partner_org_id"], partner);
    let (status, _) = add(
        &partner_member,
        client,
        json!({"email": "new@client.example", "role": "member"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "partner access adds client users"
    );
    let (status, _) = add(
        &client_admin,
        client,
        json!({"email": "own@client.example", "role": "member"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the client's own admins add users too"
    );
    // Partner access is not membership: it is not on the client's roster.
    let (_, roster) = client_admin.get(&members(client)).await;
    assert!(!emails(&roster).contains(&"pm@partner.example".to_owned()));
    // A partner member with role member: no adding to the partner org, no partner billing.
    assert_error(
        &add(
            &partner_member,
            partner,
            json!({"email": "x@partner.example", "role": "member"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &partner_member
            .get(&format!("/api/v1/orgs/{partner}/billing"))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // The client decides how much partner access may do.
    client_admin
        .patch(
            &format!("/api/v1/orgs/{client}/settings"),
            json!({"partner_access": "viewer_admin"}),
        )
        .await;
    let (_, orgs) = partner_member.get("/api/v1/me/orgs").await;
    let access = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == client)
        .cloned()
        .unwrap();
    assert_eq!(access["role"], "viewer_admin");
    assert_error(
        &add(
            &partner_member,
            client,
            json!({"email": "y@client.example", "role": "member"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (_, clients) = partner_admin
        .get(&format!("/api/v1/orgs/{partner}/clients"))
        .await;
    assert_eq!(clients[0]["id"], client);
}

async fn client_users_never_see_the_partner_org(backend: Backend) {
    let s = server!(backend);
    let (partner, partner_admin, client, _, client_admin) = partner_and_client(&s).await;
    let (status, second) = partner_admin
        .post(
            &format!("/api/v1/orgs/{partner}/clients"),
            json!({"name": "Other client", "admin_email": "oc@other.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let other = second["id"].as_i64().unwrap();
    let (_, orgs) = client_admin.get("/api/v1/me/orgs").await;
    let ids: Vec<i64> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [client]);
    assert_error(
        &client_admin.get(&format!("/api/v1/orgs/{partner}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &client_admin.get(&members(partner)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &client_admin.get(&members(other)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, info) = client_admin.get(&format!("/api/v1/orgs/{client}")).await;
    assert_eq!(info["kind"], "client");
}

async fn the_audit_log_records_changes_and_filters_by_role(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (_, user_admin) = s.member(&admin, org, "ua@acme.example", "user_admin").await;
    admin
        .post(
            &format!("/api/v1/orgs/{org}/workspaces"),
            json!({"name": "Ops"}),
        )
        .await;
    let (status, added, _) = admin
        .send(
            Method::POST,
            &members(org),
            Some(json!({"email": "m@acme.example", "role": "member"})),
            &[("X-Orgdesk-Client", "desktop-123")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = added["id"].as_i64().unwrap();
    admin
        .put(
            &format!("{}/role", member(org, id)),
            json!({"role": "viewer_admin"}),
        )
        .await;
    let (status, log) = admin
        .get(&format!("/api/v1/orgs/{org}/audit?target={id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let actions: Vec<String> = items(&log)
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        ["member.role_changed", "member.added"],
        "newest first"
    );
    let role_change = &items(&log)[0];
    assert_eq!(role_change["before"]["role"], "member");
    assert_eq!(role_change["after"]["role"], "viewer_admin");
    assert_eq!(role_change["actor_id"], admin.user_id);
    assert_eq!(items(&log)[1]["client_id"], "desktop-123");
    let (_, workspace_events) = admin
        .get(&format!(
            "/api/v1/orgs/{org}/audit?action=workspace.created"
        ))
        .await;
    assert_eq!(items(&workspace_events).len(), 1);
    let (status, theirs) = user_admin.get(&format!("/api/v1/orgs/{org}/audit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        items(&theirs).iter().all(|e| e["target_kind"] == "user"),
        "user admins see user events only: {theirs}"
    );
    let (_, page) = admin
        .get(&format!("/api/v1/orgs/{org}/audit?limit=1"))
        .await;
    let next = page["next"].as_str().unwrap();
    let (_, second) = admin
        .get(&format!("/api/v1/orgs/{org}/audit?limit=1&after={next}"))
        .await;
    assert_ne!(items(&page)[0]["id"], items(&second)[0]["id"]);
}

async fn pull_all(api: &Api, org: i64, since: &str, limit: u32) -> (Vec<Value>, String) {
    let mut changes = Vec::new();
    let mut cursor = since.to_owned();
    loop {
        let (status, page) = api
            .get(&format!(
                "/api/v1/orgs/{org}/changes?since={cursor}&limit={limit}"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        changes.extend(page["changes"].as_array().unwrap().iter().cloned());
        cursor = page["next"].as_str().unwrap().to_owned();
        if page["has_more"] != true {
            return (changes, cursor);
        }
    }
}

async fn the_change_feed_sends_a_snapshot_then_only_what_changed(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (id, _) = s.member(&admin, org, "m@acme.example", "member").await;
    let (gone, _) = s.member(&admin, org, "gone@acme.example", "member").await;
    admin
        .post(
            &format!("/api/v1/orgs/{org}/workspaces"),
            json!({"name": "Ops"}),
        )
        .await;
    let (snapshot, cursor) = pull_all(&admin, org, "0", 1000).await;
    let kinds: Vec<&str> = snapshot
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "member").count(),
        3,
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"org") && kinds.contains(&"workspace"),
        "{kinds:?}"
    );
    let (nothing, same) = pull_all(&admin, org, &cursor, 1000).await;
    assert!(nothing.is_empty());
    assert_eq!(same, cursor, "the cursor stays when nothing changed");
    for title in ["a", "b", "c"] {
        admin
            .patch(&member(org, id), json!({"profile": {"title": title}}))
            .await;
    }
    admin.delete(&member(org, gone)).await;
    let (changes, _) = pull_all(&admin, org, &cursor, 1000).await;
    assert_eq!(
        changes.len(),
        2,
        "compacted: one row per changed member: {changes:?}"
    );
    assert_eq!(changes[0]["kind"], "member");
    assert_eq!(changes[0]["title"], "c");
    assert_eq!(changes[0]["version"], 4);
    assert_eq!(changes[1], json!({"kind": "member_removed", "id": gone}));
    assert_error(
        &admin
            .get(&format!("/api/v1/orgs/{org}/changes?since=garbage"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
}

async fn the_change_feed_pages_without_skipping_rows(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    for n in 0..7 {
        add(
            &admin,
            org,
            json!({"email": format!("u{n}@acme.example"), "role": "member"}),
        )
        .await;
    }
    // One change that touches several rows at one change number (deleting a granted workspace).
    let (_, ws) = admin
        .post(
            &format!("/api/v1/orgs/{org}/workspaces"),
            json!({"name": "Ops"}),
        )
        .await;
    let ws = ws["id"].as_i64().unwrap();
    let (_, page) = admin.get(&members(org)).await;
    for m in items(&page) {
        admin
            .put(
                &format!("{}/workspaces", member(org, m["id"].as_i64().unwrap())),
                json!({"workspaces": [ws]}),
            )
            .await;
    }
    admin
        .delete(&format!("/api/v1/orgs/{org}/workspaces/{ws}"))
        .await;
    let (changes, _) = pull_all(&admin, org, "0", 3).await;
    let members_seen: Vec<i64> = changes
        .iter()
        .filter(|c| c["kind"] == "member")
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        members_seen.len(),
        8,
        "every member exactly once: {members_seen:?}"
    );
    assert!(changes.iter().any(|c| c["kind"] == "workspace_removed"));
}

async fn a_role_or_scope_change_makes_the_feed_answer_resync_required(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (ua, user_admin) = s.member(&admin, org, "ua@acme.example", "user_admin").await;
    let (_, cursor) = pull_all(&user_admin, org, "0", 1000).await;
    let (_, before) = user_admin.get("/api/v1/me/orgs").await;
    admin
        .put(
            &format!("{}/scope", member(org, ua)),
            json!({"scope": ["@acme.example"]}),
        )
        .await;
    let (_, after) = user_admin.get("/api/v1/me/orgs").await;
    assert_ne!(before[0]["scope_version"], after[0]["scope_version"]);
    assert_error(
        &user_admin
            .get(&format!("/api/v1/orgs/{org}/changes?since={cursor}"))
            .await,
        StatusCode::CONFLICT,
        "resync_required",
    );
    let (_, cursor) = pull_all(&user_admin, org, "0", 1000).await;
    admin
        .put(
            &format!("{}/role", member(org, ua)),
            json!({"role": "viewer_admin"}),
        )
        .await;
    assert_error(
        &user_admin
            .get(&format!("/api/v1/orgs/{org}/changes?since={cursor}"))
            .await,
        StatusCode::CONFLICT,
        "resync_required",
    );
    // A cursor older than the tombstone retention must resync too.
    let (_, cursor) = pull_all(&admin, org, "0", 1000).await;
    let (m, _) = s.member(&admin, org, "m@acme.example", "member").await;
    admin.delete(&member(org, m)).await;
    s.server.clock().advance(chrono::Duration::days(31));
    s.server.run_upkeep().await.unwrap();
    let admin = s.login("admin@acme.example", PASSWORD).await;
    assert_error(
        &admin
            .get(&format!("/api/v1/orgs/{org}/changes?since={cursor}"))
            .await,
        StatusCode::CONFLICT,
        "resync_required",
    );
}

async fn editing_account_fields_changes_the_member_in_every_org(backend: Backend) {
    let s = server!(backend);
    let (a, admin_a) = s.org_with_admin("A", "admin@a.example", false).await;
    let (b, admin_b) = s.org_with_admin("B", "admin@b.example", false).await;
    let (id, shared) = s.member(&admin_a, a, "shared@x.example", "member").await;
    add(
        &admin_b,
        b,
        json!({"email": "shared@x.example", "role": "member"}),
    )
    .await;
    let (_, cursor_b) = pull_all(&admin_b, b, "0", 1000).await;
    let (status, edited) = shared
        .patch(
            &member(a, id),
            json!({"profile": {"display_name": "Sam Shared"}}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "everyone edits their own profile: {edited}"
    );
    let (changes, _) = pull_all(&admin_b, b, &cursor_b, 1000).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["display_name"], "Sam Shared");
    assert_error(
        &shared
            .put(&format!("{}/role", member(a, id)), json!({"role": "admin"}))
            .await,
        StatusCode::FORBIDDEN,
        "self_role",
    );
}

async fn mutations_are_applied_conflicted_or_rejected_and_replays_change_nothing(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (id, _) = s.member(&admin, org, "m@acme.example", "member").await;
    admin
        .patch(&member(org, id), json!({"profile": {"title": "moved on"}}))
        .await;
    let batch = json!({"mutations": [
        {"id": "m-1", "change": {"type": "add_member", "member": {"email": "new@acme.example", "role": "member"}}},
        {"id": "m-2", "base_version": 1, "change": {"type": "edit_member", "user_id": id, "edit": {"profile": {"title": "stale"}}}},
        {"id": "m-3", "change": {"type": "remove", "user_id": admin.user_id}},
        {"id": "m-4", "base_version": 2, "change": {"type": "change_role", "user_id": id, "role": "viewer_admin"}},
    ]});
    let path = format!("/api/v1/orgs/{org}/mutations");
    let (status, results) = admin.post(&path, batch.clone()).await;
    assert_eq!(status, StatusCode::OK, "{results}");
    let results = results["results"].as_array().unwrap().clone();
    assert_eq!(results[0]["outcome"], "applied", "{results:?}");
    assert_eq!(results[0]["version"], 1);
    assert_eq!(results[1]["outcome"], "conflict");
    assert_eq!(results[1]["current"]["title"], "moved on");
    assert_eq!(results[2]["outcome"], "rejected");
    assert_eq!(results[2]["code"], "self_remove");
    assert_eq!(results[3]["outcome"], "applied");
    assert_eq!(results[3]["version"], 3);
    let (_, cursor) = pull_all(&admin, org, "0", 1000).await;
    let (status, replay) = admin.post(&path, batch).await;
    assert_eq!(status, StatusCode::OK);
    let replay = replay["results"].as_array().unwrap().clone();
    assert_eq!(replay[0], results[0]);
    assert_eq!(replay[2], results[2]);
    assert_eq!(replay[3], results[3]);
    let (changes, _) = pull_all(&admin, org, &cursor, 1000).await;
    assert!(changes.is_empty(), "a replay changes nothing: {changes:?}");
    let (_, roster) = admin.get(&format!("{}?search=new@", members(org))).await;
    assert_eq!(items(&roster).len(), 1, "the added member exists once");
    // The body is read in two steps (ids first, then the changes of mutations not stored):
    // a body of the wrong shape is still refused whole, before anything runs.
    for wrong in [
        json!({"mutations": [{"id": "z-1", "change": {"type": "no_such_change"}}]}),
        json!({"mutations": [{"id": "z-2"}]}),
        json!({"mutations": [{"id": "z-3", "change": {"type": "suspend", "user_id": id}, "extra": 1}]}),
        json!({"mutation": []}),
    ] {
        assert_error(
            &admin.post(&path, wrong).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        );
    }
    let answer = admin
        .http
        .post(format!("{}{path}", admin.base))
        .bearer_auth(admin.token.clone().unwrap())
        .header("content-type", "application/json")
        .body("{\"mutations\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(answer.json::<Value>().await.unwrap()["code"], "bad_request");
    let (_, roster) = admin.get(&members(org)).await;
    assert_eq!(
        items(&roster)
            .iter()
            .filter(|m| m["status"] == "suspended")
            .count(),
        0,
        "a refused body applies nothing"
    );
    let too_many: Vec<Value> = (0..1001)
        .map(|n| json!({"id": format!("x-{n}"), "change": {"type": "suspend", "user_id": id}}))
        .collect();
    assert_error(
        &admin.post(&path, json!({"mutations": too_many})).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
}

/// The server checks a batch's adds and edits in memory and writes them together: each
/// mutation must still see the ones before it in the same batch.
async fn a_batch_sees_its_own_earlier_mutations(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (id, _) = s.member(&admin, org, "m@acme.example", "member").await;
    let edit = |n: &str, title: &str| json!({"id": n, "change": {"type": "edit_member", "user_id": id, "edit": {"profile": {"title": title}}}});
    let batch = json!({"mutations": [
        {"id": "b-1", "change": {"type": "add_member", "member": {"email": "twice@acme.example", "role": "member"}}},
        {"id": "b-2", "change": {"type": "add_member", "member": {"email": "Twice@acme.example", "role": "member"}}},
        {"id": "b-1", "change": {"type": "add_member", "member": {"email": "twice@acme.example", "role": "member"}}},
        edit("b-3", "first"),
        edit("b-4", "second"),
        {"id": "b-5", "base_version": 1, "change": {"type": "edit_member", "user_id": id, "edit": {"profile": {"title": "stale"}}}},
        {"id": "b-6", "change": {"type": "change_role", "user_id": id, "role": "viewer_admin"}},
        edit("b-7", "third"),
        {"id": "b-8", "change": {"type": "remove", "user_id": id}},
        edit("b-9", "gone"),
        {"id": "b-10", "change": {"type": "add_member", "member": {"email": "m@acme.example", "role": "member", "workspaces": [999]}}},
        {"id": "b-11", "change": {"type": "add_member", "member": {"email": "m@acme.example", "role": "guest"}}},
        {"id": "b-12", "change": {"type": "add_member", "member": {"email": "m@acme.example", "role": "member"}}},
    ]});
    let (status, results) = admin
        .post(&format!("/api/v1/orgs/{org}/mutations"), batch)
        .await;
    assert_eq!(status, StatusCode::OK, "{results}");
    let r = results["results"].as_array().unwrap().clone();
    assert_eq!(r[0]["outcome"], "applied", "{r:?}");
    let added = r[0]["user_id"].as_i64().unwrap();
    assert!(added > 0, "{r:?}");
    assert_eq!(r[1]["code"], "email_taken", "{r:?}");
    assert_eq!(r[2], r[0], "a repeated id answers the same");
    assert_eq!(
        (&r[3]["outcome"], &r[3]["version"]),
        (&json!("applied"), &json!(2))
    );
    assert_eq!(
        (&r[4]["outcome"], &r[4]["version"]),
        (&json!("applied"), &json!(3))
    );
    assert_eq!(r[5]["outcome"], "conflict", "{r:?}");
    assert_eq!(r[5]["current"]["title"], "second");
    assert_eq!(r[5]["current"]["version"], 3);
    assert_eq!(r[6]["version"], 4, "{r:?}");
    assert_eq!(r[7]["version"], 5, "{r:?}");
    assert_eq!(r[8]["outcome"], "applied", "{r:?}");
    assert_eq!(r[9]["code"], "not_found", "{r:?}");
    assert_eq!(r[10]["code"], "invalid_input", "{r:?}");
    assert_eq!(
        r[11]["code"], "guest_expiry_required",
        "a guest needs an end date: {r:?}"
    );
    assert_eq!(
        r[12]["outcome"], "applied",
        "re-added after its removal: {r:?}"
    );
    assert_eq!(r[12]["user_id"], id);
    let (status, twice) = admin.get(&member(org, added)).await;
    assert_eq!(status, StatusCode::OK, "{twice}");
    assert_eq!(twice["email"], "twice@acme.example");
    assert_eq!(twice["status"], "pending");
    let (_, again) = admin.get(&member(org, id)).await;
    assert_eq!(
        again["title"], "third",
        "the account keeps its profile: {again}"
    );
    assert_eq!(again["role"], "member");
    assert_eq!(again["version"], 1);
    let (_, log) = admin.get(&format!("/api/v1/orgs/{org}/audit")).await;
    let actions: Vec<String> = items(&log)
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect();
    let applied = [
        "member.added",
        "member.edited",
        "member.edited",
        "member.role_changed",
        "member.edited",
        "member.removed",
        "member.added",
    ];
    let ours: Vec<&str> = actions
        .iter()
        .map(String::as_str)
        .take(applied.len())
        .collect();
    let mut expected = applied.to_vec();
    expected.reverse();
    assert_eq!(
        ours, expected,
        "newest first, in the batch's order: {actions:?}"
    );
    s.mail_to("twice@acme.example").await;
    assert_eq!(s.mails_to("twice@acme.example").len(), 1);
}

async fn single_row_writes_honour_if_match(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let (id, _) = s.member(&admin, org, "m@acme.example", "member").await;
    let (_, _, headers) = admin.send(Method::GET, &member(org, id), None, &[]).await;
    assert_eq!(headers["etag"], "\"1\"");
    let stale = admin
        .send(
            Method::PATCH,
            &member(org, id),
            Some(json!({"profile": {"title": "x"}})),
            &[("If-Match", "\"0\"")],
        )
        .await;
    assert_error(
        &(stale.0, stale.1),
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );
    let (status, body, headers) = admin
        .send(
            Method::PATCH,
            &member(org, id),
            Some(json!({"profile": {"title": "x"}})),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["etag"], "\"2\"");
    let stale = admin
        .send(
            Method::DELETE,
            &member(org, id),
            None,
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_error(
        &(stale.0, stale.1),
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );
    let (_, _, org_headers) = admin
        .send(Method::GET, &format!("/api/v1/orgs/{org}"), None, &[])
        .await;
    let stale = admin
        .send(
            Method::PATCH,
            &format!("/api/v1/orgs/{org}"),
            Some(json!({"name": "X"})),
            &[("If-Match", "\"99\"")],
        )
        .await;
    assert_error(
        &(stale.0, stale.1),
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );
    assert_eq!(org_headers["etag"], "\"1\"");
}

async fn malformed_requests_are_answered_with_a_code(backend: Backend) {
    let s = server!(backend);
    let (org, admin) = s.org_with_admin("Acme", "admin@acme.example", false).await;
    let raw = |body: &'static str| {
        admin
            .http
            .post(format!("{}{}", admin.base, members(org)))
            .bearer_auth(admin.token.clone().unwrap())
            .header("content-type", "application/json")
            .body(body)
    };
    let answer = raw("{not json").send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(answer.json::<Value>().await.unwrap()["code"], "bad_request");
    let answer = raw(r#"{"email": "a@acme.example", "role": "member", "rolee": "admin"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer.json::<Value>().await.unwrap()["code"],
        "invalid_input"
    );
    let answer = raw(r#"{"email": 5, "role": "member"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.json::<Value>().await.unwrap()["code"],
        "invalid_input"
    );
    assert_error(
        &add(
            &admin,
            org,
            json!({"email": "not-an-email", "role": "member"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let huge = json!({"email": "a@acme.example", "role": "member", "profile": {"title": "x".repeat(2 * 1024 * 1024)}});
    // The server answers 413 without reading the body and closes that connection: send it
    // on a connection of its own.
    let separate = Api {
        http: reqwest::Client::new(),
        ..admin.clone()
    };
    assert_error(
        &add(&separate, org, huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    assert_error(
        &admin.get("/api/v1/no/such/thing").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &admin.get(&format!("/api/v1/orgs/{org}/members/abc")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &admin.get("/api/v1/orgs/abc").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let wrong_method = admin.send(Method::PUT, "/api/v1/me", None, &[]).await;
    assert_eq!(wrong_method.0, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.1["code"].is_string());
    assert_error(
        &s.anonymous().get(&members(org)).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

async fn deleting_an_org_removes_it(backend: Backend) {
    let s = server!(backend);
    let (partner, partner_admin, client, _, client_admin) = partner_and_client(&s).await;
    assert_error(
        &partner_admin
            .delete(&format!("/api/v1/orgs/{partner}"))
            .await,
        StatusCode::CONFLICT,
        "invalid_state",
    );
    let (status, _) = client_admin.delete(&format!("/api/v1/orgs/{client}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(
        &client_admin.get(&format!("/api/v1/orgs/{client}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (status, _) = partner_admin
        .delete(&format!("/api/v1/orgs/{partner}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_openapi_document_covers_every_route_with_its_errors_and_bearer_auth() {
    let s = server!(Backend::Sqlite);
    let (status, doc) = s.anonymous().get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let operations = orgdesk_server::api::operations();
    assert!(operations.len() >= 40, "{}", operations.len());
    for op in &operations {
        let entry = &doc["paths"][op.path][op.method.as_str().to_lowercase()];
        assert!(entry.is_object(), "{} {} is documented", op.method, op.path);
        for code in op.errors {
            let status = orgdesk_server::error::status_of(*code).as_u16().to_string();
            assert!(
                entry["responses"][&status]["description"]
                    .as_str()
                    .unwrap()
                    .contains(code.as_str()),
                "{} {} documents {code}",
                op.method,
                op.path
            );
        }
        // Its bodies and answers are the wire types' schemas.
        if let Some(body) = op.body {
            assert_eq!(
                entry["requestBody"]["content"]["application/json"]["schema"]["$ref"],
                format!("#/components/schemas/{}", body.name),
                "{} {} takes {}",
                op.method,
                op.path,
                body.name
            );
        }
        if let Some(answer) = op.answer {
            assert_eq!(
                entry["responses"]["2XX"]["content"]["application/json"]["schema"]["$ref"],
                format!("#/components/schemas/{}", answer.name),
                "{} {} answers {}",
                op.method,
                op.path,
                answer.name
            );
        }
        // And it is routed: an unknown route answers with the fallback's message.
        let path = op
            .path
            .replace("{org}", "999999")
            .replace("{user}", "1")
            .replace("{id}", "1")
            .replace("{token}", "x");
        let (_, body, _) = s
            .anonymous()
            .send(op.method.clone(), &path, None, &[])
            .await;
        assert_ne!(
            body["message"], "There is no such endpoint.",
            "{} {} is routed",
            op.method, op.path
        );
    }
    let mut dangling = Vec::new();
    openapi_refs(&doc, &doc, &mut dangling);
    assert!(dangling.is_empty(), "references to no schema: {dangling:?}");
}

/// Collects the `$ref`s of `value` that name no schema of `doc`.
fn openapi_refs(doc: &Value, value: &Value, dangling: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let name = target.trim_start_matches("#/components/schemas/");
                if !doc["components"]["schemas"][name].is_object() {
                    dangling.push(target.clone());
                }
            }
            map.values().for_each(|v| openapi_refs(doc, v, dangling));
        }
        Value::Array(items) => items.iter().for_each(|v| openapi_refs(doc, v, dangling)),
        _ => {}
    }
}

/// The property names a schema allows, through `$ref`s, `allOf` and `oneOf`.
fn schema_properties(doc: &Value, schema: &Value, names: &mut std::collections::BTreeSet<String>) {
    if let Some(target) = schema["$ref"].as_str() {
        let name = target.trim_start_matches("#/components/schemas/");
        return schema_properties(doc, &doc["components"]["schemas"][name], names);
    }
    if let Some(properties) = schema["properties"].as_object() {
        names.extend(properties.keys().cloned());
    }
    for part in ["allOf", "oneOf", "anyOf"] {
        for inner in schema[part].as_array().into_iter().flatten() {
            schema_properties(doc, inner, names);
        }
    }
}

#[tokio::test]
async fn the_openapi_schemas_name_every_field_the_server_sends() {
    let s = server!(Backend::Sqlite);
    let (_, doc) = s.anonymous().get("/api/v1/openapi.json").await;
    let (org, admin) = s
        .org_with_admin("Schemas", "admin@schemas.example", false)
        .await;
    let (status, workspace) = admin
        .post(
            &format!("/api/v1/orgs/{org}/workspaces"),
            json!({"name": "Sales"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{workspace}");
    let (status, _) = admin
        .post(
            &format!("/api/v1/orgs/{org}/properties"),
            json!({"key": "cost_center", "label": "Cost center", "type": "text"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // A member with every optional field filled in.
    let (status, member) = admin
        .post(
            &format!("/api/v1/orgs/{org}/members"),
            json!({
                "email": "full@schemas.example",
                "role": "guest",
                "guest_expires": in_days(30),
                "workspaces": [workspace["id"]],
                "properties": {"cost_center": "CC-1"},
                "profile": {
                    "display_name": "Full Field", "first_name": "Full", "last_name": "Field",
                    "phone": "+4915112345678", "title": "Tester", "company": "Acme",
                    "office": "HQ", "street": "Main St 1", "postal_code": "12345",
                    "city": "Berlin", "cell_phone": "+4915112345679", "home_phone": "+4930123456"
                }
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    let mut allowed = std::collections::BTreeSet::new();
    schema_properties(
        &doc,
        &json!({"$ref": "#/components/schemas/Member"}),
        &mut allowed,
    );
    let sent: Vec<&String> = member.as_object().unwrap().keys().collect();
    assert!(
        sent.len() >= 20,
        "the member has its optional fields: {sent:?}"
    );
    for key in sent {
        assert!(
            allowed.contains(key),
            "Member's schema names `{key}`: {allowed:?}"
        );
    }
}

#[tokio::test]
async fn a_running_server_shuts_down_and_stops_answering() {
    let dir = tempfile::tempdir().unwrap();
    let settings = orgdesk_server::Settings::local(
        dir.path().join("orgdesk.db").display().to_string(),
        dir.path().join("mailbox"),
    );
    let server = orgdesk_server::start(settings).await.unwrap();
    let url = format!("{}/api/v1/openapi.json", server.base_url());
    assert!(reqwest::get(&url).await.unwrap().status().is_success());
    tokio::time::timeout(std::time::Duration::from_secs(10), server.shutdown())
        .await
        .expect("shutdown finishes")
        .unwrap();
    assert!(
        reqwest::get(&url).await.is_err(),
        "nothing listens any more"
    );
}
