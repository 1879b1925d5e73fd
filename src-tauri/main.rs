//! `orgdesk-desktop`: the desktop administration client.
//!
//! `orgdesk-desktop --demo` starts an embedded, seeded server and signs in to it.
//! `--data-dir DIR` keeps profiles somewhere else than the OS data directory (tests).

// No console window beside the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ORGDESK_LOG").unwrap_or_else(|_| {
                // The updater logs a failed check as an error; an offline machine is not one
                // (`updates` says so at info).
                "warn,orgdesk_desktop=info,tauri_plugin_updater=off".into()
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut launch = orgdesk_desktop::Launch::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--demo" => launch.demo = true,
            "--data-dir" => match args.next() {
                Some(dir) => launch.data_dir = Some(dir.into()),
                None => return usage("--data-dir needs a directory"),
            },
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--version" | "-V" => {
                println!("orgdesk-desktop {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument '{other}'")),
        }
    }
    match orgdesk_desktop::run(launch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("orgdesk-desktop: {error:#}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: orgdesk-desktop [--demo] [--data-dir DIR]\n\n  \
    --demo          start an embedded server with demo data and sign in to it\n  \
    --data-dir DIR  keep profiles and the cache in DIR (default: the OS data directory)";

fn usage(problem: &str) -> ExitCode {
    eprintln!("orgdesk-desktop: {problem}\n{USAGE}");
    ExitCode::from(2)
}
