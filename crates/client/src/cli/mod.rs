//! The `orgdesk` subcommands that live in their own files.

pub mod import;
