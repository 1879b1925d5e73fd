//! The desktop app: a thin Tauri shell over `orgdesk-client`.
//!
//! Commands (in `commands/`) are a few lines each over the client library; long work (a sync)
//! streams progress through a `Channel` and the sync badge's events (`sync_hub`); demo mode
//! embeds a seeded `orgdesk-server` (`demo`). Everything is generic over the Tauri runtime so
//! that `cargo test` drives the same commands through the mock runtime.

pub mod commands;
pub mod demo;
pub mod error;
pub mod menu;
pub mod state;
pub mod sync_hub;
pub mod updates;

use demo::DemoServer;
use state::Desktop;
use std::path::PathBuf;
use std::sync::Arc;
use tauri::{Manager, Runtime};

/// How the app was started.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// Start an embedded, seeded server and sign in to it.
    pub demo: bool,
    /// Where profiles live; default: `orgdesk_client::data_dir()` (a `demo/` folder of it in
    /// demo mode, so the demo never touches the user's own profiles).
    pub data_dir: Option<PathBuf>,
}

impl Launch {
    pub fn data_dir(&self) -> orgdesk_client::Result<PathBuf> {
        let base = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => orgdesk_client::data_dir()?,
        };
        Ok(if self.demo { base.join("demo") } else { base })
    }
}

/// The app's state for a launch.
pub fn desktop(launch: &Launch) -> orgdesk_client::Result<Desktop> {
    let data_dir = launch.data_dir()?;
    let demo = launch.demo.then(|| Arc::new(DemoServer::new(&data_dir)));
    Ok(Desktop::new(data_dir, demo))
}

/// The builder with the app's state and commands, for any runtime (the real one, or the mock
/// one in tests). Plugins, menus and windows are added by [`run`].
pub fn builder<R: Runtime>(builder: tauri::Builder<R>, desktop: Desktop) -> tauri::Builder<R> {
    builder
        .manage(desktop)
        .invoke_handler(tauri::generate_handler![
            commands::session::app_info,
            commands::session::session,
            commands::session::sign_in,
            commands::session::continue_session_only,
            commands::session::sign_out,
            commands::orgs::orgs,
            commands::orgs::switch_org,
            commands::roster::roster_window,
            commands::roster::member_detail,
            commands::roster::workspaces,
            commands::roster::property_definitions,
            commands::sync::sync_status,
            commands::sync::sync_now,
            commands::sync::cancel_sync,
            commands::prefs::get_pref,
            commands::prefs::set_pref,
            commands::sync::demo_set_offline,
            commands::changes::allowed_actions,
            commands::changes::stage_changes,
            commands::changes::stage_bulk,
            commands::changes::pending_changes,
            commands::changes::resolve_change,
            commands::changes::withdraw_change,
            commands::changes::set_sync_paused,
        ])
}

/// The app's context: tauri.conf.json, the UI's assets, and the capabilities (the ACL the
/// webview's calls are checked against), for any runtime.
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!()
}

/// Runs the app until its window closes.
pub fn run(launch: Launch) -> anyhow::Result<()> {
    let desktop = desktop(&launch)?;
    let demo = launch.demo;
    let app = builder(tauri::Builder::default(), desktop)
        // First, so a second start only brings this window forward.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .menu(move |app| menu::build(app, demo))
        .on_menu_event(|app, event| menu::on_event(app, event.id().as_ref()))
        .setup(|app| {
            let handle = app.handle().clone();
            if let Some(demo) = app.state::<Desktop>().demo.clone() {
                // Start and seed the demo server now; `session` waits for it.
                let app = handle.clone();
                tauri::async_runtime::spawn(async move {
                    if let Err(error) = demo.ready(&app).await {
                        tracing::error!(code = error.code, message = %error.message, "demo failed to start");
                    }
                });
            }
            sync_hub::spawn_background(handle.clone());
            updates::check_in_background(&handle);
            Ok(())
        })
        .build(context())?;
    app.run(|_app, _event| {});
    Ok(())
}
