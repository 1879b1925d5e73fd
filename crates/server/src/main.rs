//! `orgdesk-server`: serve the API, bootstrap an organization, or seed the demo.

use anyhow::Context;
use clap::{Parser, Subcommand};
use orgdesk_server::demo::{self, DemoPlan};
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
    /// Seed the demo: a partner organization whose admin reaches client organizations full
    /// of members through partner access. Writes nothing if that admin exists already.
    SeedDemo {
        /// Client organizations of the partner.
        #[arg(long, default_value_t = demo::STANDARD_CLIENTS)]
        clients: usize,
        /// Members of all the client organizations together (a few big, many small).
        #[arg(long, default_value_t = demo::STANDARD_MEMBERS)]
        members: usize,
        /// The partner admin, the one account that can sign in.
        #[arg(long, default_value = demo::STANDARD_ADMIN_EMAIL)]
        admin_email: String,
        /// The partner admin's password.
        #[arg(long, default_value = demo::STANDARD_ADMIN_PASSWORD)]
        password: String,
        #[arg(long, default_value = demo::STANDARD_PARTNER_NAME)]
        partner_name: String,
        /// Another seed makes other people, companies and numbers.
        #[arg(long, default_value_t = demo::STANDARD_SEED)]
        seed: u64,
        /// Print the result as JSON (the org ids and member counts) instead of a sentence.
        #[arg(long)]
        json: bool,
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
        Command::SeedDemo {
            clients,
            members,
            admin_email,
            password,
            partner_name,
            seed,
            json,
        } => {
            let plan = DemoPlan {
                partner_name,
                admin_email,
                admin_password: password,
                clients,
                members,
                seed,
            };
            let started = std::time::Instant::now();
            let seeded = demo::seed_database(&settings, &plan)
                .await
                .context("seeding the demo")?;
            if json {
                println!("{}", serde_json::to_string(&seeded)?);
            } else {
                let how = if seeded.seeded_now {
                    format!("seeded in {:.1} s", started.elapsed().as_secs_f64())
                } else {
                    "already there, nothing written".to_owned()
                };
                println!(
                    "demo partner org {} with {} client orgs and {} members ({how}); sign in as {}",
                    seeded.partner_org_id,
                    seeded.client_org_ids.len(),
                    seeded.members(),
                    seeded.admin_email
                );
            }
        }
    }
    Ok(())
}
