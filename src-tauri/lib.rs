//! The desktop app: a thin Tauri shell over `orgdesk-client`.
//!
//! The window, its commands and the web UI arrive with the desktop issue; until then this
//! package only holds its place in the workspace so that the layout of ARCHITECTURE.md builds.
