//! `orgdesk-server`: serve the API, or bootstrap an organization.

use anyhow::Context;
use clap::{Parser, Subcommand};
use orgdesk_server::{NewOrg, Settings};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "orgdesk-server",
    version,
    about = "Orgdesk's org directory server"
)]
struct Cli {
    /// A TOML settings file (then ORGDESK_* environment variables override it).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The database: a SQLite path or sqlite:// URL, or a postgres:// URL.
    #[arg(long, global = true)]
    database: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve {
        /// Where to listen, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Create an organization and invite (or, with --password, create) its first admin.
    CreateOrg {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        /// A partner organization, which can create client organizations.
        #[arg(long)]
        partner: bool,
        /// Create the admin with this password instead of sending an invitation.
        #[arg(long)]
        password: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let mut settings = Settings::load(cli.config.as_deref()).context("reading the settings")?;
    if let Some(database) = cli.database {
        settings.database = database;
    }
    match cli.command.unwrap_or(Command::Serve { listen: None }) {
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            tracing::info!(?settings, "starting");
            let server = orgdesk_server::start(settings)
                .await
                .context("starting the server")?;
            println!("orgdesk-server listening on http://{}", server.addr);
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
            server.shutdown().await.context("shutting down")?;
        }
        Command::CreateOrg {
            name,
            admin_email,
            partner,
            password,
        } => {
            let mailbox = settings.mail.mailbox_dir.clone();
            let smtp = settings.mail.smtp_url.is_some();
            let created = orgdesk_server::create_org(
                &settings,
                NewOrg {
                    name,
                    admin_email,
                    partner,
                    admin_password: password,
                },
            )
            .await
            .context("creating the organization")?;
            println!("org id: {}", created.org_id);
            println!("admin account id: {}", created.admin_id);
            match created.invitation_sent_to {
                Some(to) if smtp => println!("invitation sent to {to} over SMTP"),
                Some(to) => println!("invitation to {to} written to {}", mailbox.display()),
                None => println!("admin can sign in now"),
            }
        }
    }
    Ok(())
}
