// The Tauri build step (tauri_build::build) joins here with the desktop app issue.
fn main() {}
