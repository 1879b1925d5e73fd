//! The Tauri build step, with the app's own commands in an app manifest: each gets an
//! `allow-<command>` permission, and `permissions/app.toml` groups the ones the UI may call,
//! so `capabilities/main.json` really limits what the webview can invoke.

/// Every command `lib.rs` registers. A command missing here cannot be allowed, and the
/// webview's call is refused; `commands::tests` checks the two lists agree.
const COMMANDS: &[&str] = &[
    "app_info",
    "session",
    "sign_in",
    "continue_session_only",
    "sign_out",
    "orgs",
    "switch_org",
    "roster_window",
    "member_detail",
    "workspaces",
    "property_definitions",
    "sync_status",
    "sync_now",
    "cancel_sync",
    "get_pref",
    "set_pref",
    "demo_set_offline",
    "allowed_actions",
    "stage_changes",
    "stage_bulk",
    "pending_changes",
    "resolve_change",
    "withdraw_change",
    "set_sync_paused",
];

fn main() {
    println!("cargo:rerun-if-changed=permissions");
    println!("cargo:rerun-if-changed=capabilities");
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        // A build script reports by failing; the message is the build's error.
        panic!("tauri build step: {error:#}");
    }
}
