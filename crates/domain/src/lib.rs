//! Orgdesk's rules as pure, synchronous code: SPEC.md §2–§6.
//!
//! The server enforces with these functions and the client calls the same ones to warn
//! the user before anything is sent. Nothing here does I/O or reads the clock: callers
//! pass `today` in.

pub mod error;
pub mod export;
pub mod import;
pub mod invariants;
pub mod permission;
pub mod role;
pub mod scope;
pub mod validate;
pub mod wire;

pub use error::{Denied, ErrorCode};
pub use permission::Grant;
pub use permission::{Action, Actor, OrgContext, TargetUser, can};
pub use role::RosterTab;
pub use role::{OrgKind, Role, Status};
pub use scope::{ScopeEntry, SearchScope};
