//! The user's view preferences (columns chosen per org…), kept in the profile's cache.

use crate::error::IpcResult;
use crate::state::Desktop;
use tauri::State;

#[tauri::command(async)]
pub async fn get_pref(state: State<'_, Desktop>, key: String) -> IpcResult<Option<String>> {
    let cache = state.active()?.profile.cache.clone();
    Ok(cache.run(move |c| c.pref(&key)).await?)
}

#[tauri::command(async)]
pub async fn set_pref(state: State<'_, Desktop>, key: String, value: String) -> IpcResult<()> {
    let cache = state.active()?.profile.cache.clone();
    Ok(cache.run(move |c| c.set_pref(&key, &value)).await?)
}
