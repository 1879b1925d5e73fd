//! `orgdesk`: the desktop's operations for scripts and terminals.
//!
//! Every command works on a profile (`--profile`, default `default`): one cache per server
//! in the OS data directory (`ORGDESK_DATA_DIR` overrides it). Edits are staged offline in
//! the outbox and sent by `outbox push` or `sync`. `--json` prints machine-readable output;
//! progress bars appear only on a terminal. Exit status: 0 ok, 1 error, 3 offline.

mod cli;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{NaiveDate, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use orgdesk_client::cache::roster::RosterQuery;
use orgdesk_client::outbox::{Resolution, StagedChange};
use orgdesk_client::sync::{self, SyncOptions, SyncProgress};
use orgdesk_client::{CachedOrg, Error as ClientError, Profile, data_dir};
use orgdesk_domain::wire::{
    Member, MemberEdit, MemberSort, MutationKind, NewMember, Onboarding, OrgId,
    Profile as MemberProfile, ProfileEdit, UserId, WorkspaceId,
};
use orgdesk_domain::{Role, RosterTab, SearchScope, Status};
use serde::Serialize;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "orgdesk",
    version,
    about = "Orgdesk: administer the users of your organizations"
)]
struct Cli {
    /// The server profile (one cache and one sign-in per profile).
    #[arg(
        long,
        global = true,
        env = "ORGDESK_PROFILE",
        default_value = "default"
    )]
    profile: String,
    /// Print JSON for scripts instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// The organization to work in (id or name); default: the one chosen with `switch`.
    #[arg(long, global = true)]
    org: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in; the session token goes to the OS keyring.
    Login {
        #[arg(long, env = "ORGDESK_SERVER")]
        server: Option<String>,
        #[arg(long, env = "ORGDESK_EMAIL")]
        email: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The code from the authenticator app, if the account has one.
        #[arg(long)]
        totp: Option<String>,
    },
    /// Sign out (the cache and staged changes stay).
    Logout,
    /// List your organizations (refreshed from the server when online).
    Orgs,
    /// Choose the organization to work in.
    Switch { org: String },
    /// Push staged changes and pull the opened organizations' changes.
    Sync {
        /// Pull only what was asked with --org (repeatable here too).
        #[arg(long = "only")]
        only: Vec<String>,
    },
    /// List or search the cached roster.
    Users(Box<UsersArgs>),
    /// Show or change one user (changes are staged in the outbox).
    User {
        #[command(subcommand)]
        command: Box<UserCommand>,
    },
    /// Staged changes: list, push, resolve conflicts and rejections.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Bulk import: template, stage, show, edit, drop, confirm, push, report.
    Import {
        #[command(subcommand)]
        command: cli::import::ImportCommand,
    },
    /// Export the cached roster (as filtered) to CSV or XLSX.
    Export(cli::import::ExportArgs),
}

#[derive(Args)]
struct UsersArgs {
    #[arg(long, value_enum)]
    tab: Option<Tab>,
    #[arg(long)]
    search: Option<String>,
    #[arg(long, value_parser = parse_role)]
    role: Option<Role>,
    #[arg(long, value_parser = parse_status)]
    status: Option<Status>,
    #[arg(long)]
    workspace: Option<WorkspaceId>,
    #[arg(long, value_enum, default_value = "name")]
    sort: Sort,
    #[arg(long)]
    desc: bool,
    #[arg(long, default_value_t = 100)]
    limit: u32,
    #[arg(long, default_value_t = 0)]
    offset: u32,
}

#[derive(Clone, Copy, ValueEnum)]
enum Tab {
    Pending,
    Active,
    Guest,
}

#[derive(Clone, Copy, ValueEnum)]
enum Sort {
    Name,
    Email,
    Created,
    LastActive,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Show a user (id or email).
    Show { user: String },
    /// Stage a profile edit.
    Edit {
        user: String,
        #[command(flatten)]
        fields: ProfileFields,
        /// A guest's new access end date (YYYY-MM-DD).
        #[arg(long)]
        guest_expires: Option<NaiveDate>,
        /// A custom property, `key=value` (value as JSON if it parses, else text).
        #[arg(long = "property", value_name = "KEY=VALUE")]
        properties: Vec<String>,
    },
    /// Stage a role change.
    Role {
        user: String,
        #[arg(value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        guest_expires: Option<NaiveDate>,
    },
    /// Stage a workspace assignment (the full list, comma-separated ids; empty for none).
    Workspaces {
        user: String,
        #[arg(value_delimiter = ',')]
        workspaces: Vec<WorkspaceId>,
    },
    /// Stage a search scope (emails and @domains), or --clear.
    Scope {
        user: String,
        entries: Vec<String>,
        #[arg(long)]
        clear: bool,
    },
    /// Stage a suspension.
    Suspend { user: String },
    /// Stage a restore of a suspended user.
    Restore { user: String },
    /// Stage a removal from the organization.
    Remove { user: String },
    /// Stage adding a user (an invitation by default).
    Add {
        email: String,
        #[arg(long, value_parser = parse_role, default_value = "member")]
        role: Role,
        #[command(flatten)]
        fields: ProfileFields,
        #[arg(long, value_delimiter = ',')]
        workspaces: Vec<WorkspaceId>,
        #[arg(long)]
        guest_expires: Option<NaiveDate>,
    },
}

#[derive(Args, Default)]
struct ProfileFields {
    #[arg(long)]
    display_name: Option<String>,
    #[arg(long)]
    first_name: Option<String>,
    #[arg(long)]
    last_name: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    title: Option<String>,
    #[arg(long)]
    company: Option<String>,
    #[arg(long)]
    office: Option<String>,
    #[arg(long)]
    street: Option<String>,
    #[arg(long)]
    postal_code: Option<String>,
    #[arg(long)]
    city: Option<String>,
    #[arg(long)]
    cell_phone: Option<String>,
    #[arg(long)]
    home_phone: Option<String>,
}

impl ProfileFields {
    fn edit(self) -> ProfileEdit {
        ProfileEdit {
            display_name: self.display_name,
            first_name: self.first_name,
            last_name: self.last_name,
            phone: self.phone,
            title: self.title,
            company: self.company,
            office: self.office,
            street: self.street,
            postal_code: self.postal_code,
            city: self.city,
            cell_phone: self.cell_phone,
            home_phone: self.home_phone,
        }
    }

    fn profile(self) -> MemberProfile {
        let e = self.edit();
        MemberProfile {
            display_name: e.display_name,
            first_name: e.first_name,
            last_name: e.last_name,
            phone: e.phone,
            title: e.title,
            company: e.company,
            office: e.office,
            street: e.street,
            postal_code: e.postal_code,
            city: e.city,
            cell_phone: e.cell_phone,
            home_phone: e.home_phone,
        }
    }
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Pending changes, conflicts and rejections (--all: applied and resolved too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Send the pending changes now.
    Push,
    /// Resolve a conflict or rejection.
    Resolve {
        id: String,
        #[arg(value_enum)]
        resolution: ResolutionArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ResolutionArg {
    KeepMine,
    TakeTheirs,
    Drop,
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse::<Role>().map_err(|e| e.to_string())
}

fn parse_status(text: &str) -> Result<Status, String> {
    text.parse::<Status>()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("ORGDESK_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let offline = error
                .downcast_ref::<ClientError>()
                .is_some_and(ClientError::is_offline);
            if json {
                let code = error
                    .downcast_ref::<ClientError>()
                    .map_or("internal", ClientError::code);
                let body =
                    serde_json::json!({"error": {"code": code, "message": format!("{error:#}")}});
                eprintln!("{body}");
            } else {
                eprintln!("error: {error:#}");
            }
            if offline {
                ExitCode::from(3)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn print<T: Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, value)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", text())?;
    }
    Ok(())
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

async fn run(cli: Cli) -> Result<()> {
    let profile = Profile::open(&data_dir()?, &cli.profile)?;
    let json = cli.json;
    match cli.command {
        Command::Login {
            server,
            email,
            password_stdin,
            totp,
        } => {
            let email = match email.or(profile.email()?) {
                Some(email) => email,
                None => prompt("Email: ")?,
            };
            let password = read_password(password_stdin)?;
            let account = profile
                .login(server.as_deref(), &email, &password, totp)
                .await?;
            print(json, &account, || {
                format!("Signed in as {}\n", account.email)
            })
        }
        Command::Logout => {
            profile.logout().await?;
            print(json, &serde_json::json!({"signed_out": true}), || {
                "Signed out.\n".into()
            })
        }
        Command::Orgs => {
            let mut offline = false;
            match profile.api() {
                Ok(api) => match sync::refresh_orgs(&api, &profile.cache).await {
                    Ok(_) => {}
                    Err(error) if error.is_offline() => offline = true,
                    Err(error) => return Err(error.into()),
                },
                Err(ClientError::NotSignedIn) => offline = true,
                Err(error) => return Err(error.into()),
            }
            let orgs = profile.cache.orgs()?;
            let current = profile.current_org()?.map(|o| o.id);
            print(json, &orgs, || org_table(&orgs, current, offline))
        }
        Command::Switch { org } => {
            let org = profile.switch(&org)?;
            print(json, &org, || {
                format!("Now working in {} ({})\n", org.name, org.id)
            })
        }
        Command::Sync { only } => {
            let api = profile.api()?;
            let mut orgs: Vec<OrgId> = Vec::new();
            for name in only.iter().chain(cli.org.iter()) {
                orgs.push(resolve_org_or_refresh(&profile, &api, name).await?);
            }
            if orgs.is_empty()
                && let Some(current) = profile.current_org()?
            {
                profile.cache.open_org(current.id)?;
            }
            let options = SyncOptions {
                orgs: (!orgs.is_empty()).then_some(orgs),
                pull_only: false,
            };
            let bar = progress_bar(json);
            let mut report_progress = |event: SyncProgress| {
                if let Some(bar) = &bar {
                    bar.set_message(describe_progress(&event));
                    bar.tick();
                }
            };
            let report = sync::sync(&api, &profile.cache, &options, &mut report_progress).await;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            let report = report?;
            print(json, &report, || {
                let mut text = String::new();
                for change in &report.org_changes {
                    text.push_str(&format!("{}\n", describe_org_change(change)));
                }
                let pushed = &report.pushed;
                if pushed.applied + pushed.conflicts + pushed.rejected > 0 {
                    text.push_str(&format!(
                        "Pushed: {} applied, {} conflicts, {} rejected\n",
                        pushed.applied, pushed.conflicts, pushed.rejected
                    ));
                }
                for (org, rows) in &report.pulled {
                    text.push_str(&format!("Organization {org}: {rows} changes pulled\n"));
                }
                if report.pulled.is_empty() {
                    text.push_str("No organization opened: run `orgdesk switch ORG` first.\n");
                }
                text
            })
        }
        Command::Users(args) => {
            let org = current_org(&profile, cli.org.as_deref())?;
            let query = RosterQuery {
                tab: args.tab.map(|tab| match tab {
                    Tab::Pending => RosterTab::Pending,
                    Tab::Active => RosterTab::Active,
                    Tab::Guest => RosterTab::Guest,
                }),
                search: args.search,
                role: args.role,
                status: args.status,
                workspace: args.workspace,
                inactive_before: None,
                sort: match args.sort {
                    Sort::Name => MemberSort::Name,
                    Sort::Email => MemberSort::Email,
                    Sort::Created => MemberSort::Created,
                    Sort::LastActive => MemberSort::LastActive,
                },
                descending: args.desc,
                limit: Some(args.limit),
                offset: args.offset,
            };
            let members = profile.cache.roster(org.id, &query)?;
            print(json, &members, || member_table(&members, &org))
        }
        Command::User { command } => {
            let org = current_org(&profile, cli.org.as_deref())?;
            user_command(&profile, &org, *command, json)
        }
        Command::Outbox { command } => {
            outbox_command(&profile, cli.org.as_deref(), command, json).await
        }
        Command::Import { command } => {
            cli::import::run(&profile, cli.org.as_deref(), command, json).await
        }
        Command::Export(args) => cli::import::export(&profile, cli.org.as_deref(), args, json),
    }
}

fn user_command(
    profile: &Profile,
    org: &CachedOrg,
    command: UserCommand,
    json: bool,
) -> Result<()> {
    let find = |user: &str| -> Result<Member> {
        let found = match user.parse::<UserId>() {
            Ok(id) => profile.cache.member(org.id, id)?,
            Err(_) => profile.cache.member_by_email(org.id, user)?,
        };
        found.ok_or_else(|| anyhow!("no user '{user}' in {} (as of the last sync)", org.name))
    };
    let change = match command {
        UserCommand::Show { user } => {
            let member = find(&user)?;
            return print(json, &member, || member_detail(&member));
        }
        UserCommand::Edit {
            user,
            fields,
            guest_expires,
            properties,
        } => {
            let user_id = find(&user)?.id;
            let mut edit = MemberEdit {
                guest_expires,
                ..MemberEdit::default()
            };
            let profile_edit = fields.edit();
            if profile_edit != ProfileEdit::default() {
                edit.profile = Some(profile_edit);
            }
            for pair in properties {
                let (key, value) = pair
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--property wants KEY=VALUE, got '{pair}'"))?;
                let value = serde_json::from_str(value)
                    .unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
                edit.properties.insert(key.trim().to_owned(), value);
            }
            if edit == MemberEdit::default() {
                bail!("nothing to change: give at least one field");
            }
            MutationKind::EditMember { user_id, edit }
        }
        UserCommand::Role {
            user,
            role,
            guest_expires,
        } => MutationKind::ChangeRole {
            user_id: find(&user)?.id,
            role,
            guest_expires,
        },
        UserCommand::Workspaces { user, workspaces } => MutationKind::AssignWorkspaces {
            user_id: find(&user)?.id,
            workspaces,
        },
        UserCommand::Scope {
            user,
            entries,
            clear,
        } => {
            let scope = if clear {
                None
            } else {
                Some(
                    SearchScope::parse(entries.iter().map(String::as_str))
                        .map_err(|e| anyhow!("{e}"))?,
                )
            };
            MutationKind::SetScope {
                user_id: find(&user)?.id,
                scope,
            }
        }
        UserCommand::Suspend { user } => MutationKind::Suspend {
            user_id: find(&user)?.id,
        },
        UserCommand::Restore { user } => MutationKind::Restore {
            user_id: find(&user)?.id,
        },
        UserCommand::Remove { user } => MutationKind::Remove {
            user_id: find(&user)?.id,
        },
        UserCommand::Add {
            email,
            role,
            fields,
            workspaces,
            guest_expires,
        } => MutationKind::AddMember {
            member: NewMember {
                email,
                role,
                profile: fields.profile(),
                workspaces,
                guest_expires,
                properties: Default::default(),
                onboarding: Onboarding::Invite,
                password: None,
            },
        },
    };
    let staged = profile
        .cache
        .outbox()
        .stage(org.id, change, today(), Utc::now())?;
    print(json, &staged, || {
        format!(
            "Staged {} ({}). Send it with `orgdesk outbox push` or `orgdesk sync`.\n",
            describe_change(&staged.change),
            staged.id
        )
    })
}

async fn outbox_command(
    profile: &Profile,
    org: Option<&str>,
    command: OutboxCommand,
    json: bool,
) -> Result<()> {
    let org_filter = match org {
        Some(name) => Some(profile.cache.find_org(name)?.id),
        None => None,
    };
    match command {
        OutboxCommand::List { all } => {
            use orgdesk_client::OutboxState::*;
            let states: &[_] = if all {
                &[Pending, Conflict, Rejected, Applied, Resolved]
            } else {
                &[Pending, Conflict, Rejected]
            };
            let changes = profile.cache.outbox().list(org_filter, states)?;
            print(json, &changes, || outbox_table(&changes))
        }
        OutboxCommand::Push => {
            let api = profile.api()?;
            let orgs = match org_filter {
                Some(org) => vec![org],
                None => profile.cache.outbox().orgs_with_pending()?,
            };
            let bar = progress_bar(json);
            let mut report_progress = |event: SyncProgress| {
                if let Some(bar) = &bar {
                    bar.set_message(describe_progress(&event));
                    bar.tick();
                }
            };
            let mut total = orgdesk_client::BatchOutcome::default();
            for org in orgs {
                let outcome = sync::push(&api, &profile.cache, org, &mut report_progress).await?;
                total.applied += outcome.applied;
                total.conflicts += outcome.conflicts;
                total.rejected += outcome.rejected;
            }
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            print(json, &total, || {
                format!(
                    "{} applied, {} conflicts, {} rejected\n",
                    total.applied, total.conflicts, total.rejected
                )
            })
        }
        OutboxCommand::Resolve { id, resolution } => {
            let resolution = match resolution {
                ResolutionArg::KeepMine => Resolution::KeepMine,
                ResolutionArg::TakeTheirs => Resolution::TakeTheirs,
                ResolutionArg::Drop => Resolution::Drop,
            };
            let restaged = profile
                .cache
                .outbox()
                .resolve(&id, resolution, today(), Utc::now())?;
            print(json, &restaged, || match &restaged {
                Some(staged) => format!("Re-staged as {}.\n", staged.id),
                None => "Resolved.\n".into(),
            })
        }
    }
}

async fn resolve_org_or_refresh(
    profile: &Profile,
    api: &orgdesk_client::Api,
    name: &str,
) -> Result<OrgId> {
    if let Ok(org) = profile.cache.find_org(name) {
        return Ok(org.id);
    }
    // Not cached yet (first sync): refresh the list once.
    sync::refresh_orgs(api, &profile.cache).await?;
    Ok(profile.cache.find_org(name)?.id)
}

fn current_org(profile: &Profile, asked: Option<&str>) -> Result<CachedOrg> {
    match asked {
        Some(name) => Ok(profile.cache.find_org(name)?),
        None => profile
            .current_org()?
            .context("no organization chosen: run `orgdesk switch ORG` (or pass --org)"),
    }
}

fn progress_bar(json: bool) -> Option<ProgressBar> {
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

fn describe_progress(event: &SyncProgress) -> String {
    match event {
        SyncProgress::Orgs { .. } => "organizations updated".into(),
        SyncProgress::Pushed { org, sent, .. } => format!("org {org}: sent {sent} changes"),
        SyncProgress::Pulled {
            org,
            rows,
            rebuilding,
            ..
        } => {
            let what = if *rebuilding { "loading" } else { "pulling" };
            format!("org {org}: {what}, {rows} rows")
        }
        SyncProgress::Resync { org } => format!("org {org}: access changed, rebuilding"),
        SyncProgress::Done { org, rows } => format!("org {org}: {rows} rows, up to date"),
    }
}

fn describe_org_change(change: &orgdesk_client::OrgListChange) -> String {
    use orgdesk_client::OrgListChange::*;
    match change {
        Added { org } => format!("New organization {org}."),
        Purged {
            name,
            rejected_changes,
            ..
        } => format!(
            "You no longer have access to {name}: its cached data was removed ({rejected_changes} unsent changes kept as rejected)."
        ),
        Rebuild { org } => format!("Your role or scope in organization {org} changed: rebuilt."),
    }
}

fn describe_change(change: &MutationKind) -> String {
    match change {
        MutationKind::AddMember { member } => format!("add {} as {}", member.email, member.role),
        MutationKind::EditMember { user_id, .. } => format!("edit user {user_id}"),
        MutationKind::ChangeRole { user_id, role, .. } => format!("make user {user_id} {role}"),
        MutationKind::AssignWorkspaces {
            user_id,
            workspaces,
        } => {
            format!("give user {user_id} workspaces {workspaces:?}")
        }
        MutationKind::SetScope { user_id, .. } => format!("set user {user_id}'s search scope"),
        MutationKind::Suspend { user_id } => format!("suspend user {user_id}"),
        MutationKind::Restore { user_id } => format!("restore user {user_id}"),
        MutationKind::Remove { user_id } => format!("remove user {user_id}"),
        MutationKind::ResendInvitation { user_id } => format!("resend user {user_id}'s invitation"),
        MutationKind::CancelInvitation { user_id } => format!("cancel user {user_id}'s invitation"),
    }
}

fn org_table(orgs: &[CachedOrg], current: Option<OrgId>, offline: bool) -> String {
    let mut text = String::new();
    if offline {
        text.push_str("(offline: as of the last sync)\n");
    }
    for org in orgs {
        let mark = if Some(org.id) == current { "*" } else { " " };
        let synced = org.synced_at.map_or_else(
            || "never synced".to_owned(),
            |at| format!("synced {}", at.format("%Y-%m-%d %H:%M UTC")),
        );
        let via = if org.via_partner {
            ", partner access"
        } else {
            ""
        };
        text.push_str(&format!(
            "{mark} {:>6}  {}  ({}{via}; {synced})\n",
            org.id,
            org.name,
            org.role.label()
        ));
    }
    text
}

fn member_table(members: &[Member], org: &CachedOrg) -> String {
    let mut text = String::new();
    for m in members {
        text.push_str(&format!(
            "{:>8}  {:<30}  {:<36}  {:<13}  {}\n",
            m.id,
            orgdesk_client::cache::shown_name(m),
            m.email,
            m.role.as_str(),
            m.status
        ));
    }
    if let Some(at) = org.synced_at {
        text.push_str(&format!("(as of {})\n", at.format("%Y-%m-%d %H:%M UTC")));
    }
    text
}

fn member_detail(m: &Member) -> String {
    let mut text = format!(
        "{} <{}>\n  id {}  role {}  status {}  version {}\n",
        orgdesk_client::cache::shown_name(m),
        m.email,
        m.id,
        m.role.label(),
        m.status,
        m.version
    );
    for (label, value) in [
        ("title", &m.profile.title),
        ("company", &m.profile.company),
        ("phone", &m.profile.phone),
        ("office", &m.profile.office),
        ("city", &m.profile.city),
    ] {
        if let Some(value) = value {
            text.push_str(&format!("  {label}: {value}\n"));
        }
    }
    if !m.workspaces.is_empty() {
        text.push_str(&format!("  workspaces: {:?}\n", m.workspaces));
    }
    if let Some(date) = m.guest_expires {
        text.push_str(&format!("  guest until {date}\n"));
    }
    text
}

fn outbox_table(changes: &[StagedChange]) -> String {
    if changes.is_empty() {
        return "No staged changes.\n".into();
    }
    let mut text = String::new();
    for change in changes {
        let detail = match (&change.refusal, change.state) {
            (Some(refusal), _) => format!(" — {}: {}", refusal.code, refusal.message),
            (None, orgdesk_client::OutboxState::Conflict) => {
                let theirs = change.theirs.as_ref().map_or_else(
                    || "removed".to_owned(),
                    |m| format!("version {}", m.version),
                );
                format!(" — changed on the server ({theirs})")
            }
            _ => String::new(),
        };
        text.push_str(&format!(
            "{}  {:<9}  org {}  {}{detail}\n",
            change.id,
            change.state.as_str(),
            change.org_id,
            describe_change(&change.change)
        ));
    }
    text
}

fn prompt(label: &str) -> Result<String> {
    eprint!("{label}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

/// The password: `ORGDESK_PASSWORD`, `--password-stdin`, or a prompt without echo.
fn read_password(from_stdin: bool) -> Result<String> {
    if let Ok(password) = std::env::var("ORGDESK_PASSWORD") {
        return Ok(password);
    }
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    // No echo while typing: stty is on every Unix terminal; elsewhere the typing shows.
    let silenced = std::process::Command::new("stty")
        .arg("-echo")
        .stdin(std::process::Stdio::inherit())
        .status()
        .is_ok_and(|s| s.success());
    let password = prompt("Password: ");
    if silenced {
        let _ = std::process::Command::new("stty")
            .arg("echo")
            .stdin(std::process::Stdio::inherit())
            .status();
        eprintln!();
    }
    password
}
