//! The commands the UI invokes: each a few lines over `orgdesk-client`, answering a value or
//! an `IpcError`. `build.rs` lists them for the app manifest, and `lib.rs` registers them.

pub mod changes;
pub mod orgs;
pub mod prefs;
pub mod roster;
pub mod session;
pub mod sync;

use crate::error::IpcResult;
use crate::state::Active;
use orgdesk_client::CacheReader;
use std::sync::Arc;

/// Runs a read of the cache off the async threads (a roster window is a few milliseconds of
/// SQLite; a keystroke must not wait behind another's).
pub(crate) async fn on_reader<T: Send + 'static>(
    active: &Arc<Active>,
    read: impl FnOnce(&CacheReader) -> orgdesk_client::Result<T> + Send + 'static,
) -> IpcResult<T> {
    let active = active.clone();
    tauri::async_runtime::spawn_blocking(move || active.read(read)).await?
}
