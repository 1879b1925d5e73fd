//! `orgdesk-desktop`: the desktop administration client.

fn main() {
    eprintln!(
        "orgdesk-desktop: the desktop window is not built yet; use the `orgdesk` command line \
         and `orgdesk-server` meanwhile (see README.md)."
    );
    std::process::exit(2);
}
