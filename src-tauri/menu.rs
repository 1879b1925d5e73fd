//! The native menu: the usual accelerators, and the app's own items, which the UI handles
//! (they reach it as a `menu` event carrying the item's id; the demo's "Go offline" too, which
//! the UI answers with `demo_set_offline` so that one side owns it).

use tauri::menu::{Menu, MenuBuilder, MenuItemBuilder, PredefinedMenuItem, SubmenuBuilder};
use tauri::{AppHandle, Emitter, Runtime};

/// The event the UI listens to for menu items.
pub const MENU_EVENT: &str = "menu";

pub fn build<R: Runtime>(app: &AppHandle<R>, demo: bool) -> tauri::Result<Menu<R>> {
    let item = |id: &str, text: &str, accelerator: Option<&str>| {
        let builder = MenuItemBuilder::with_id(id, text);
        match accelerator {
            Some(keys) => builder.accelerator(keys).build(app),
            None => builder.build(app),
        }
    };
    let mut file = SubmenuBuilder::new(app, "File")
        .item(&item("sync_now", "Sync Now", Some("CmdOrCtrl+R"))?)
        .separator();
    if demo {
        file = file
            .item(&item("go_offline", "Go Offline (demo)", None)?)
            .item(&item("go_online", "Go Online (demo)", None)?)
            .separator();
    }
    let file = file
        .item(&item("sign_out", "Sign Out", None)?)
        .separator()
        .item(&PredefinedMenuItem::quit(app, Some("Quit Orgdesk"))?)
        .build()?;
    let edit = SubmenuBuilder::new(app, "Edit")
        .undo()
        .redo()
        .separator()
        .cut()
        .copy()
        .paste()
        .select_all()
        .build()?;
    let view = SubmenuBuilder::new(app, "View")
        .item(&item(
            "command_palette",
            "Command Palette…",
            Some("CmdOrCtrl+K"),
        )?)
        .item(&item(
            "switch_org",
            "Switch Organization…",
            Some("CmdOrCtrl+O"),
        )?)
        .item(&item("find_user", "Find User", Some("CmdOrCtrl+F"))?)
        .item(&item(
            "toggle_detail",
            "Show or Hide Details",
            Some("CmdOrCtrl+I"),
        )?)
        .build()?;
    let help = SubmenuBuilder::new(app, "Help")
        .item(&PredefinedMenuItem::about(
            app,
            Some("About Orgdesk"),
            None,
        )?)
        .build()?;
    MenuBuilder::new(app)
        .items(&[&file, &edit, &view, &help])
        .build()
}

/// A menu item was chosen: the UI acts on it.
pub fn on_event<R: Runtime>(app: &AppHandle<R>, id: &str) {
    if let Err(error) = app.emit(MENU_EVENT, id) {
        tracing::debug!(%error, "menu event not delivered");
    }
}
