//! Passwords an admin chose (`set_silently` adds, an import's Password column, the form) stay
//! out of the cache in clear, reach the real server intact, and are refused — never sent
//! empty — once the OS keyring has lost the profile's cache key.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use chrono::Utc;
use common::{Backend, Client, World, title_edit};
use orgdesk_client::cache::Cache;
use orgdesk_client::import::{StageOptions, push_import};
use orgdesk_client::{Api, OutboxState, Resolution, secrets};
use orgdesk_domain::Role;
use orgdesk_domain::wire::{LoginRequest, MutationKind, NewMember, Onboarding, OrgId};

stories!(
    staged_passwords_are_sealed_in_the_cache_and_reach_the_server,
    a_lost_cache_key_refuses_the_staged_password_and_pushes_the_rest,
);

const ADD_PASSWORD: &str = "added-silently-Pw-4711";
const FILE_PASSWORD: &str = "from-the-file-Pw-0815";
const FORM_PASSWORD: &str = "typed-in-the-form-Pw-42";

fn silent_add(email: &str, password: &str) -> MutationKind {
    MutationKind::AddMember {
        member: NewMember {
            email: email.into(),
            role: Role::Member,
            profile: Default::default(),
            workspaces: Vec::new(),
            guest_expires: None,
            properties: Default::default(),
            onboarding: Onboarding::SetSilently,
            password: Some(password.into()),
        },
    }
}

/// Every file of the profile's cache (database, WAL, shared memory) as bytes.
fn cache_files(client: &Client) -> Vec<(String, Vec<u8>)> {
    let db = Cache::path_for(&client.data_dir(), "default");
    let dir = db.parent().unwrap();
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.display().to_string(), std::fs::read(&path).unwrap())
        })
        .collect()
}

/// Every value of every table of the cache, as text or bytes, named `table: value`.
fn cache_values(client: &Client) -> Vec<(String, Vec<u8>)> {
    let db = Cache::path_for(&client.data_dir(), "default");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(tables.iter().any(|t| t == "outbox") && tables.iter().any(|t| t == "import_rows"));
    let mut values = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for index in 0..columns {
                let bytes = match row.get_ref(index).unwrap() {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                        b.to_vec()
                    }
                    _ => continue,
                };
                values.push((table.clone(), bytes));
            }
        }
    }
    values
}

fn assert_no_password_in_the_cache(client: &Client, passwords: &[&str], when: &str) {
    let contains = |haystack: &[u8], needle: &str| {
        haystack
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    };
    for (name, bytes) in cache_files(client).iter().chain(&cache_values(client)) {
        for password in passwords {
            assert!(
                !contains(bytes, password),
                "{when}: the password {password} is in clear in {name}"
            );
        }
    }
}

async fn can_sign_in(world: &World, email: &str, password: &str) -> bool {
    Api::new(&world.url)
        .unwrap()
        .login(&LoginRequest {
            email: email.into(),
            password: password.into(),
            totp: None,
        })
        .await
        .is_ok()
}

fn options(file_name: &str) -> StageOptions<'_> {
    StageOptions {
        file_name,
        sheet: None,
        default_role: None,
        today: Utc::now().date_naive(),
        now: Utc::now(),
    }
}

async fn staged_passwords_are_sealed_in_the_cache_and_reach_the_server(backend: Backend) {
    let world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let client = world.client("admin@acme.example").await;
    client.sync(org).await.expect("first sync");
    let cache = &client.profile.cache;

    client
        .stage(org, silent_add("added@acme.example", ADD_PASSWORD))
        .expect("a set_silently add is staged");
    let file = format!(
        "Email,Role,Title,Password\nfile@acme.example,member,Clerk,{FILE_PASSWORD}\n\
         edited@acme.example,member,Clerk,{FILE_PASSWORD}x\n"
    );
    let import = cache
        .stage_import(org, file.as_bytes(), &options("people.csv"))
        .expect("the file is staged");
    // An edited row's cells are stored apart from the file.
    cache
        .edit_import_row(
            import.id,
            3,
            &[("Title".into(), "Head clerk".into())],
            Utc::now().date_naive(),
        )
        .expect("a row is edited");
    let headers = ["Email", "Role", "Password"].map(String::from);
    let form = cache
        .stage_form(
            org,
            &headers,
            &[vec![
                "form@acme.example".into(),
                "member".into(),
                FORM_PASSWORD.into(),
            ]],
            Utc::now().date_naive(),
            Utc::now(),
        )
        .expect("the form is staged");
    let passwords = [
        ADD_PASSWORD,
        FILE_PASSWORD,
        &format!("{FILE_PASSWORD}x"),
        FORM_PASSWORD,
    ];
    assert_no_password_in_the_cache(&client, &passwords, "staged");

    assert_eq!(cache.confirm_import(import.id, Utc::now()).unwrap(), 2);
    assert_eq!(cache.confirm_import(form.id, Utc::now()).unwrap(), 1);
    assert_no_password_in_the_cache(&client, &passwords, "confirmed");

    let report = push_import(&client.api(), cache, import.id, &mut |_| {})
        .await
        .expect("pushed");
    assert_eq!(report.counts.created, 2, "{:?}", report.counts);
    assert_eq!(
        cache.import_report(form.id).unwrap().counts.created,
        1,
        "the push sent the whole outbox"
    );
    assert!(can_sign_in(&world, "added@acme.example", ADD_PASSWORD).await);
    assert!(can_sign_in(&world, "file@acme.example", FILE_PASSWORD).await);
    assert!(can_sign_in(&world, "edited@acme.example", &format!("{FILE_PASSWORD}x")).await);
    assert!(can_sign_in(&world, "form@acme.example", FORM_PASSWORD).await);
    assert!(
        !can_sign_in(&world, "added@acme.example", "not-the-password-1").await,
        "the sign-in check can fail"
    );
    assert_no_password_in_the_cache(&client, &passwords, "pushed");

    secrets::delete_cache_key(&cache.profile_id().unwrap()).unwrap();
}

fn state_of(client: &Client, org: OrgId, email: &str) -> (OutboxState, Option<String>) {
    let staged = client
        .profile
        .cache
        .outbox()
        .list(
            Some(org),
            &[
                OutboxState::Pending,
                OutboxState::Rejected,
                OutboxState::Applied,
            ],
        )
        .unwrap()
        .into_iter()
        .find(|c| matches!(&c.change, MutationKind::AddMember { member } if member.email == email))
        .unwrap_or_else(|| panic!("{email} in the outbox"));
    (
        staged.state,
        staged
            .refusal
            .map(|r| format!("{}: {}", r.code.as_str(), r.message)),
    )
}

async fn a_lost_cache_key_refuses_the_staged_password_and_pushes_the_rest(backend: Backend) {
    let world = world!(backend);
    let (org, admin_id) = world.org("Acme", "admin@acme.example").await;
    let client = world.client("admin@acme.example").await;
    client.sync(org).await.expect("first sync");
    let cache = &client.profile.cache;
    let profile_id = cache.profile_id().unwrap();

    client
        .stage(org, silent_add("lost@acme.example", ADD_PASSWORD))
        .expect("staged");
    client
        .stage(org, title_edit(admin_id, "Still goes"))
        .expect("an edit without a password");
    // The keyring forgets the key (keyutils after a reboot).
    secrets::delete_cache_key(&profile_id).unwrap();

    let (report, _) = client.sync(org).await.expect("the push goes on");
    assert_eq!(report.pushed.applied, 1, "the edit is sent");
    assert_eq!(
        report.pushed.rejected, 1,
        "the unreadable add is counted as refused"
    );
    assert_eq!(
        client
            .member(org, admin_id)
            .unwrap()
            .profile
            .title
            .as_deref(),
        Some("Still goes")
    );
    let (state, refusal) = state_of(&client, org, "lost@acme.example");
    assert_eq!(state, OutboxState::Rejected);
    let refusal = refusal.unwrap();
    assert!(
        refusal.starts_with("invalid_input: ") && refusal.contains("Enter them again"),
        "{refusal}"
    );
    assert!(
        !can_sign_in(&world, "lost@acme.example", ADD_PASSWORD).await,
        "never sent"
    );
    assert!(
        cache
            .member_by_email(org, "lost@acme.example")
            .unwrap()
            .is_none(),
        "the server has no such member"
    );

    let rejected = cache
        .outbox()
        .list(Some(org), &[OutboxState::Rejected])
        .unwrap()
        .remove(0);
    let error = cache
        .outbox()
        .resolve(
            &rejected.id,
            Resolution::KeepMine,
            Utc::now().date_naive(),
            Utc::now(),
        )
        .expect_err("keep mine cannot re-stage an unreadable password");
    assert_eq!(error.code(), "keyring");
    assert!(error.to_string().contains("Enter them again"), "{error}");

    // Entered again: a new key seals it, and it arrives.
    cache
        .outbox()
        .resolve(
            &rejected.id,
            Resolution::Drop,
            Utc::now().date_naive(),
            Utc::now(),
        )
        .unwrap();
    client
        .stage(org, silent_add("lost@acme.example", ADD_PASSWORD))
        .expect("staged again");
    let (report, _) = client.sync(org).await.expect("pushed");
    assert_eq!(report.pushed.applied, 1);
    assert!(can_sign_in(&world, "lost@acme.example", ADD_PASSWORD).await);

    secrets::delete_cache_key(&profile_id).unwrap();
}
