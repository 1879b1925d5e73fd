//! The desktop's library: API client, offline cache, sync and outbox arrive with the sync issue.
