//! The desktop's commands through Tauri's mock runtime, as the webview calls them (JSON in,
//! JSON out over IPC), against a real `orgdesk-server` on loopback seeded with demo data, and
//! the OS keyring of the machine (the Secret Service: `scripts/test` runs this inside a D-Bus
//! session with GNOME Keyring unlocked). Only the window is not real here; the end-to-end
//! tests in tests/e2e drive the real one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use orgdesk_server::demo::{DemoPlan, DemoSeed};
use orgdesk_server::{MailSettings, RunningServer, Settings};
use serde_json::{Value, json};
use std::net::SocketAddr;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

struct Harness {
    _dir: tempfile::TempDir,
    server: Option<RunningServer>,
    url: String,
    seed: DemoSeed,
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

fn plan() -> DemoPlan {
    DemoPlan {
        clients: 3,
        members: 900,
        ..DemoPlan::standard()
    }
}

fn server_settings(dir: &std::path::Path, listen: SocketAddr) -> Settings {
    Settings {
        listen,
        database: dir.join("server.db").display().to_string(),
        mail: MailSettings {
            mailbox_dir: dir.join("mailbox"),
            ..MailSettings::default()
        },
        ..Settings::default()
    }
}

/// The app on the mock runtime with its real context: tauri.conf.json and the
/// capability's ACL, so a command the capability does not allow is refused here too.
fn app(desktop: orgdesk_desktop::state::Desktop) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = orgdesk_desktop::builder(mock_builder(), desktop)
        .build(orgdesk_desktop::context())
        .unwrap();
    // The config's windows open when the app runs; the mock app is only built.
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    (app, window)
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let settings = server_settings(dir.path(), SocketAddr::from(([127, 0, 0, 1], 0)));
        let (server, seed) = tauri::async_runtime::block_on(async {
            let server = orgdesk_server::start(settings).await.unwrap();
            let seed = server.seed_demo(&plan()).await.unwrap();
            (server, seed)
        });
        let launch = orgdesk_desktop::Launch {
            demo: false,
            data_dir: Some(dir.path().join("client")),
        };
        let desktop = orgdesk_desktop::desktop(&launch).unwrap();
        let (app, window) = app(desktop);
        Harness {
            url: server.base_url(),
            server: Some(server),
            seed,
            _dir: dir,
            _app: app,
            window,
        }
    }

    /// Invokes `cmd` with `args` as the webview would; the error side is the IPC error JSON.
    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        self.call_from("tauri://localhost", cmd, args)
    }

    /// Invokes from a page at `url` (the app's own pages are `tauri://localhost`).
    fn call_from(&self, url: &str, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: url.parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<Value>().unwrap())
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args)
            .unwrap_or_else(|error| panic!("{cmd} failed: {error}"))
    }

    fn sign_in(&self) -> Value {
        let plan = plan();
        self.ok(
            "sign_in",
            json!({"server": self.url, "email": plan.admin_email, "password": plan.admin_password,
                   "totp": null, "remember": true}),
        )
    }

    fn sync(&self, org: Option<i64>) -> Value {
        // A Channel crosses IPC as this string; the mock webview drops what is sent on it.
        self.ok(
            "sync_now",
            json!({"org": org, "onProgress": "__CHANNEL__:1"}),
        )
    }

    fn window(&self, org: i64, query: Value, offset: u32, limit: u32) -> Value {
        self.ok(
            "roster_window",
            json!({"org": org, "query": query, "offset": offset, "limit": limit}),
        )
    }

    fn stop_server(&mut self) {
        let server = self.server.take().unwrap();
        tauri::async_runtime::block_on(server.shutdown()).unwrap();
    }
}

#[test]
fn a_wrong_password_and_an_unreachable_server_say_what_happened() {
    let h = Harness::new();
    let wrong = h
        .call(
            "sign_in",
            json!({"server": h.url, "email": plan().admin_email, "password": "not it",
                   "totp": null, "remember": true}),
        )
        .unwrap_err();
    assert_eq!(wrong["code"], "invalid_credentials", "{wrong}");
    let unreachable = h
        .call(
            "sign_in",
            json!({"server": "http://127.0.0.1:9", "email": "a@b.example", "password": "x",
                   "totp": null, "remember": true}),
        )
        .unwrap_err();
    assert_eq!(unreachable["code"], "offline", "{unreachable}");
    let session = h.ok("session", json!({}));
    assert_eq!(session["state"], "signed_out");
}

#[test]
fn signed_in_the_partner_reviews_a_client_roster_from_the_cache() {
    let h = Harness::new();
    let signed = h.sign_in();
    assert_eq!(signed["type"], "signed_in", "{signed}");
    assert_eq!(
        signed["session"]["remembered"], true,
        "the token went to the OS keyring"
    );
    let first = h.sync(None);
    assert_eq!(first["type"], "synced", "{first}");

    let orgs = h.ok("orgs", json!({}));
    let listed: Vec<i64> = orgs["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert!(listed.contains(&h.seed.partner_org_id));
    for client in &h.seed.client_org_ids {
        assert!(listed.contains(client), "client {client} in {listed:?}");
    }

    let client = h.seed.client_org_ids[0];
    let switched = h.ok("switch_org", json!({"org": client}));
    assert_eq!(switched["id"], client);
    assert_eq!(switched["synced_at"], Value::Null, "never pulled yet");
    assert_eq!(h.sync(Some(client))["type"], "synced");

    let all = h.window(client, json!({"tab": "all", "sort": "name"}), 0, 100);
    let expected = h.seed.client_members[0] as u64;
    assert_eq!(all["total"].as_u64().unwrap(), expected);
    assert_eq!(all["rows"].as_array().unwrap().len(), 100);
    assert!(all["as_of"].is_string());
    let counts = &all["counts"];
    assert_eq!(counts["all"].as_u64().unwrap(), expected);
    for tab in ["pending", "active", "guests", "suspended"] {
        assert!(counts[tab].as_u64().unwrap() > 0, "{tab}: {counts}");
    }
    // The last window of the listing, and the names in order.
    let last = h.window(
        client,
        json!({"tab": "all", "sort": "name"}),
        expected as u32 - 10,
        100,
    );
    assert_eq!(last["rows"].as_array().unwrap().len(), 10);
    let names: Vec<String> = all["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "sorted by name");

    // Search finds a member by the start of their email, wherever they are in the roster.
    let someone = &last["rows"][5];
    let needle = someone["email"].as_str().unwrap()[..6].to_owned();
    let found = h.window(client, json!({"tab": "all", "search": needle}), 0, 50);
    assert!(
        found["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == someone["id"]),
        "{needle} finds {someone}"
    );

    let guests = h.window(client, json!({"tab": "guests"}), 0, 500);
    assert_eq!(guests["total"], counts["guests"]);
    assert!(
        guests["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["role"] == "guest" && r["guest_expires"].is_string())
    );

    let detail = h.ok(
        "member_detail",
        json!({"org": client, "user": someone["id"]}),
    );
    assert_eq!(detail["member"]["email"], someone["email"]);
    assert!(detail["properties"].is_array());

    let workspaces = h.ok("workspaces", json!({"org": client}));
    assert!(!workspaces.as_array().unwrap().is_empty());
    let definitions = h.ok("property_definitions", json!({"org": client}));
    assert!(!definitions.as_array().unwrap().is_empty());

    h.ok(
        "set_pref",
        json!({"key": format!("columns:{client}"), "value": "[\"name\",\"email\"]"}),
    );
    assert_eq!(
        h.ok("get_pref", json!({"key": format!("columns:{client}")})),
        "[\"name\",\"email\"]"
    );
    let status = h.ok("sync_status", json!({}));
    assert_eq!(status["online"], true);
    assert_eq!(status["syncing"], false);
}

#[test]
fn with_the_server_gone_the_cache_still_answers_and_the_badge_says_offline() {
    let mut h = Harness::new();
    h.sign_in();
    h.sync(None);
    let client = h.seed.client_org_ids[1];
    h.ok("switch_org", json!({"org": client}));
    h.sync(None);
    let before = h.window(client, json!({"tab": "active"}), 0, 20);

    h.stop_server();
    let outcome = h.sync(None);
    assert_eq!(outcome["type"], "offline", "{outcome}");
    let status = h.ok("sync_status", json!({}));
    assert_eq!(status["online"], false);
    assert_eq!(status["last_error"]["code"], "offline");

    let after = h.window(client, json!({"tab": "active"}), 0, 20);
    assert_eq!(
        after["rows"], before["rows"],
        "the same rows from the cache"
    );
    assert_eq!(
        after["as_of"], before["as_of"],
        "as of the last sync, not now"
    );
}

#[test]
fn a_window_larger_than_500_rows_is_refused() {
    let h = Harness::new();
    h.sign_in();
    let refused = h
        .call(
            "roster_window",
            json!({"org": h.seed.partner_org_id, "query": {}, "offset": 0, "limit": 501}),
        )
        .unwrap_err();
    assert_eq!(refused["code"], "invalid_input");
}

#[test]
fn signed_out_commands_answer_unauthenticated() {
    let h = Harness::new();
    let refused = h.call("orgs", json!({})).unwrap_err();
    assert_eq!(
        refused,
        json!({"code": "unauthenticated", "message": "not signed in; run `orgdesk login` first"})
    );
}

#[test]
fn the_session_survives_a_restart_through_the_keyring_and_ends_at_sign_out() {
    let h = Harness::new();
    h.sign_in();
    // A second app over the same data directory: what a restart finds.
    let launch = orgdesk_desktop::Launch {
        demo: false,
        data_dir: Some(h._dir.path().join("client")),
    };
    let (again, window) = app(orgdesk_desktop::desktop(&launch).unwrap());
    let restarted = Harness {
        _dir: tempfile::tempdir().unwrap(),
        server: None,
        url: h.url.clone(),
        seed: h.seed.clone(),
        _app: again,
        window,
    };
    let session = restarted.ok("session", json!({}));
    assert_eq!(session["state"], "signed_in", "{session}");
    assert_eq!(session["email"], plan().admin_email);

    restarted.ok("sign_out", json!({}));
    assert_eq!(restarted.ok("session", json!({}))["state"], "signed_out");
}

/// Every command build.rs lists for the app manifest is registered (else the webview's call
/// could be allowed and still fail), and the capability's permission set allows each one.
#[test]
fn every_listed_command_is_registered_and_allowed() {
    let h = Harness::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let build = std::fs::read_to_string(root.join("src-tauri/build.rs")).unwrap();
    let listed: Vec<&str> = build
        .split("const COMMANDS: &[&str] = &[")
        .nth(1)
        .and_then(|rest| rest.split("];").next())
        .unwrap()
        .split('"')
        .skip(1)
        .step_by(2)
        .collect();
    assert!(listed.len() >= 10, "{listed:?}");
    let permissions = std::fs::read_to_string(root.join("permissions/app.toml")).unwrap();
    for command in &listed {
        let answer = h.call(command, json!({}));
        if let Err(error) = &answer {
            // Answered by the command itself: a missing argument, or signed out.
            assert!(
                error.get("code").is_some() || error.to_string().contains("missing required key"),
                "{command} is not registered or not allowed: {error}"
            );
        }
        let allow = format!("\"allow-{}\"", command.replace('_', "-"));
        assert!(
            permissions.contains(&allow),
            "{allow} missing from permissions/app.toml"
        );
    }
}

/// The capability allows the app's commands to the app's own pages only: a page from
/// anywhere else in the webview (a link followed, an injected frame) is refused.
#[test]
fn a_page_from_elsewhere_may_not_call_the_commands() {
    let h = Harness::new();
    let refused = h
        .call_from("https://elsewhere.example", "session", json!({}))
        .unwrap_err();
    assert!(refused.to_string().contains("not allowed"), "{refused}");
    assert!(h.call("app_info", json!({})).is_ok());
}

/// Signs in, syncs the org list, opens the first client and pulls it; returns its id.
fn open_first_client(h: &Harness) -> i64 {
    h.sign_in();
    h.sync(None);
    let client = h.seed.client_org_ids[0];
    h.ok("switch_org", json!({"org": client}));
    assert_eq!(h.sync(Some(client))["type"], "synced");
    client
}

fn rows(window: &Value) -> Vec<Value> {
    window["rows"].as_array().unwrap().clone()
}

/// A second client of the same server (what the CLI on another machine would be).
fn second_client(h: &Harness) -> orgdesk_client::Api {
    let plan = plan();
    tauri::async_runtime::block_on(async {
        let api = orgdesk_client::Api::new(&h.url).unwrap();
        let login = api
            .login(&orgdesk_domain::wire::LoginRequest {
                email: plan.admin_email.clone(),
                password: plan.admin_password.clone(),
                totp: None,
            })
            .await
            .unwrap();
        api.with_token(login.token)
    })
}

#[test]
fn an_edit_is_staged_marked_on_its_row_pushed_once_and_shown() {
    let h = Harness::new();
    let client = open_first_client(&h);
    let member =
        rows(&h.window(client, json!({"tab": "active", "role": "member"}), 0, 5))[0].clone();
    let user = member["id"].as_i64().unwrap();
    let verdicts = h.ok("allowed_actions", json!({"org": client, "user": user}));
    assert!(
        verdicts
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["action"] == "edit_profile" && v["allowed"] == true),
        "{verdicts}"
    );
    let staged = h.ok(
        "stage_changes",
        json!({"org": client, "onlyCheck": false, "changes": [
            {"type": "edit_member", "user_id": user, "edit": {"profile": {"title": "Head of Tests"}}}
        ]}),
    );
    assert_eq!(staged["allowed"], 1, "{staged}");
    let marked = h.ok("member_detail", json!({"org": client, "user": user}));
    assert_eq!(marked["member"]["pending_changes"], 1);
    assert_eq!(marked["staged"][0]["state"], "pending");
    assert_eq!(h.ok("sync_status", json!({}))["pending_changes"], 1);

    let pushed = h.sync(Some(client));
    assert_eq!(pushed["pushed"]["applied"], 1, "{pushed}");
    let after = h.ok("member_detail", json!({"org": client, "user": user}));
    assert_eq!(after["member"]["title"], "Head of Tests");
    assert!(after["member"].get("pending_changes").is_none());
    assert_eq!(h.ok("pending_changes", json!({"org": client})), json!([]));
    // On the server, once.
    let api = second_client(&h);
    let on_server = tauri::async_runtime::block_on(api.member(client, user)).unwrap();
    assert_eq!(on_server.profile.title.as_deref(), Some("Head of Tests"));
    assert_eq!(on_server.version, member["version"].as_i64().unwrap() + 1);
}

#[test]
fn a_bulk_role_change_names_the_refused_row_and_stages_the_rest() {
    let h = Harness::new();
    let client = open_first_client(&h);
    let admins: Vec<i64> = rows(&h.window(
        client,
        json!({"tab": "active", "role": "admin", "status": "active"}),
        0,
        50,
    ))
    .iter()
    .map(|r| r["id"].as_i64().unwrap())
    .collect();
    assert!(!admins.is_empty());
    let members: Vec<i64> =
        rows(&h.window(client, json!({"tab": "active", "role": "member"}), 0, 3))
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
    // Every admin demoted, and three members: the last admin's demotion is refused.
    let ids: Vec<i64> = admins.iter().chain(&members).copied().collect();
    let request = |only_check: bool| {
        json!({"org": client, "onlyCheck": only_check, "selection": {"type": "ids", "ids": ids},
               "action": {"type": "change_role", "role": "user_admin"}})
    };
    let preview = h.ok("stage_bulk", request(true));
    assert_eq!(
        preview["allowed"].as_u64().unwrap() as usize,
        ids.len() - 1,
        "{preview}"
    );
    assert_eq!(preview["refused"][0]["code"], "last_admin");
    assert_eq!(preview["staged"], json!([]));
    let staged = h.ok("stage_bulk", request(false));
    assert_eq!(staged["staged"].as_array().unwrap().len(), ids.len() - 1);
    assert_eq!(
        h.ok("pending_changes", json!({"org": client}))
            .as_array()
            .unwrap()
            .len(),
        ids.len() - 1
    );
    // "All matching" reaches the same members as the listing.
    let matching = h.ok(
        "stage_bulk",
        json!({"org": client, "onlyCheck": true,
               "selection": {"type": "matching", "query": {"tab": "guests"}, "except": []},
               "action": {"type": "suspend"}}),
    );
    let guests = h.window(client, json!({"tab": "guests"}), 0, 1)["total"]
        .as_u64()
        .unwrap();
    assert_eq!(
        matching["allowed"].as_u64().unwrap()
            + matching["refused"].as_array().unwrap().len() as u64,
        guests
    );
}

#[test]
fn a_staged_change_is_taken_back_before_it_is_sent() {
    let h = Harness::new();
    let client = open_first_client(&h);
    let user =
        rows(&h.window(client, json!({"tab": "active", "role": "member"}), 0, 1))[0]["id"].clone();
    h.ok("set_sync_paused", json!({"paused": true}));
    let staged = h.ok(
        "stage_changes",
        json!({"org": client, "onlyCheck": false, "changes": [{"type": "suspend", "user_id": user}]}),
    );
    let id = staged["staged"][0].clone();
    let taken = h.ok("withdraw_change", json!({"id": id}));
    assert_eq!(taken, json!([id]));
    assert_eq!(h.ok("pending_changes", json!({"org": client})), json!([]));
    let again = h.call("withdraw_change", json!({"id": id})).unwrap_err();
    assert_eq!(again["code"], "not_found");
}

#[test]
fn a_conflict_is_resolved_by_keeping_mine_or_taking_theirs() {
    let h = Harness::new();
    let client = open_first_client(&h);
    let picked = rows(&h.window(client, json!({"tab": "active", "role": "member"}), 0, 2));
    let api = second_client(&h);
    for (row, resolution, expected) in [
        (&picked[0], "keep_mine", "Mine"),
        (&picked[1], "take_theirs", "Theirs"),
    ] {
        let user = row["id"].as_i64().unwrap();
        h.ok("set_sync_paused", json!({"paused": true}));
        h.ok(
            "stage_changes",
            json!({"org": client, "onlyCheck": false, "changes": [
                {"type": "edit_member", "user_id": user, "edit": {"profile": {"title": "Mine"}}}
            ]}),
        );
        // Meanwhile another client changes the same member on the server.
        let theirs = orgdesk_domain::wire::MutationBatch {
            mutations: vec![orgdesk_domain::wire::Mutation {
                id: format!("second-client-{user}"),
                base_version: row["version"].as_i64(),
                change: serde_json::from_value(json!(
                    {"type": "edit_member", "user_id": user, "edit": {"profile": {"title": "Theirs"}}}
                ))
                .unwrap(),
            }],
        };
        let answer = tauri::async_runtime::block_on(api.push(client, &theirs)).unwrap();
        assert_eq!(
            serde_json::to_value(&answer.results[0]).unwrap()["outcome"],
            "applied"
        );

        let pushed = h.sync(Some(client));
        assert_eq!(pushed["pushed"]["conflicts"], 1, "{pushed}");
        let open = h.ok("pending_changes", json!({"org": client}));
        let conflict = &open[0];
        assert_eq!(conflict["state"], "conflict");
        assert_eq!(conflict["mine"]["title"], "Mine");
        assert_eq!(conflict["theirs"]["title"], "Theirs");
        h.ok(
            "resolve_change",
            json!({"id": conflict["id"], "resolution": resolution}),
        );
        h.ok("set_sync_paused", json!({"paused": false}));
        h.sync(Some(client));
        assert_eq!(h.ok("pending_changes", json!({"org": client})), json!([]));
        let on_server = tauri::async_runtime::block_on(api.member(client, user)).unwrap();
        assert_eq!(
            on_server.profile.title.as_deref(),
            Some(expected),
            "{resolution}"
        );
        let shown = h.ok("member_detail", json!({"org": client, "user": user}));
        assert_eq!(shown["member"]["title"], expected, "{resolution}");
    }
}
