//! Everything Orgdesk's desktop does without a window: the API client, the offline cache,
//! the sync engine and the outbox of staged changes. The `orgdesk` CLI and the Tauri shell
//! are thin layers over this library.

pub mod api;
pub mod bulk;
pub mod cache;
pub mod error;
pub mod export;
pub mod import;
pub mod outbox;
pub mod profile;
pub(crate) mod seal;
pub mod secrets;
pub mod sync;

pub use api::{Api, RetryPolicy};
pub use cache::{Cache, CacheReader, CachedOrg, OrgListChange, RosterQuery, SearchHit};
pub use error::{Error, Result};
pub use outbox::{BatchOutcome, Outbox, OutboxState, Resolution, StagedChange};
pub use profile::{Profile, SignedIn, data_dir, profile_name_for, profile_names};
pub use sync::{ChangeFeed, SyncOptions, SyncProgress, SyncReport};
