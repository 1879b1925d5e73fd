//! The demo data set: a partner org (Northwind Partners) whose admin reaches a score of
//! client orgs, a few big and many small, through partner access; each client with admins,
//! members, guests, invitations, suspensions, workspaces and custom properties. It is what
//! the desktop's demo mode (`orgdesk-desktop --demo`), the end-to-end tests and the
//! benchmarks start from (`orgdesk-server seed-demo`).
//!
//! The rows go straight into the tables, a few hundred per statement and all in one
//! transaction: the API path would check, audit and time-stamp every member, and 50,000
//! must seed in seconds. They are written as the server writes them, though: every synced
//! row numbered from its org's change sequence (so a first sync from cursor 0 receives all
//! of it) and every value one the server's own checks accept (so the desktop can edit any
//! of them). Only the partner admin can sign in (the one Argon2id hash); nothing is mailed.

mod names;

use crate::auth;
use crate::error::{Error, Result};
use crate::members::{encode_workspaces, profile_values, sort_name};
use crate::settings::Settings;
use crate::sql::Query;
use crate::store::{self, AuditEvent, AuditRow, Clock, DAY_MS, MULTI_ROW_CHUNK, Store, Tx};
use chrono::NaiveDate;
use names::Office;
use orgdesk_domain::invariants::INVITATION_DAYS;
use orgdesk_domain::validate;
use orgdesk_domain::wire::{Profile, PropertyKind, PropertyValues};
use orgdesk_domain::{ErrorCode, OrgKind, Role, Status};
use serde_json::json;
use sqlx::Any;
use std::collections::{HashMap, HashSet};

pub const STANDARD_PARTNER_NAME: &str = "Northwind Partners";
pub const STANDARD_ADMIN_EMAIL: &str = "demo@northwind.example";
pub const STANDARD_ADMIN_PASSWORD: &str = "demo-password-1";
pub const STANDARD_CLIENTS: usize = 20;
pub const STANDARD_MEMBERS: usize = 50_000;
pub const STANDARD_SEED: u64 = 1;

/// What to seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPlan {
    pub partner_name: String,
    /// The partner org's admin: the one account that can sign in.
    pub admin_email: String,
    pub admin_password: String,
    /// Client orgs of the partner.
    pub clients: usize,
    /// Memberships of all the client orgs together, spread unevenly (a few big clients,
    /// many small). Every client has at least its admin, so at least `clients` are made.
    /// The partner's own staff come on top.
    pub members: usize,
    /// Everything generated follows from it: the same plan on an empty database writes
    /// the same rows.
    pub seed: u64,
}

impl DemoPlan {
    /// The desktop's demo: Northwind Partners, 20 clients, 50,000 members.
    pub fn standard() -> DemoPlan {
        DemoPlan {
            partner_name: STANDARD_PARTNER_NAME.to_owned(),
            admin_email: STANDARD_ADMIN_EMAIL.to_owned(),
            admin_password: STANDARD_ADMIN_PASSWORD.to_owned(),
            clients: STANDARD_CLIENTS,
            members: STANDARD_MEMBERS,
            seed: STANDARD_SEED,
        }
    }

    /// The standard partner with one client of `members` members (benchmarks of a large
    /// org).
    pub fn one_big_client(members: usize) -> DemoPlan {
        DemoPlan {
            clients: 1,
            members,
            ..DemoPlan::standard()
        }
    }
}

impl Default for DemoPlan {
    fn default() -> Self {
        DemoPlan::standard()
    }
}

/// What the demo holds (whether seeded now or found).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DemoSeed {
    pub partner_org_id: i64,
    /// In creation order, the largest client first.
    pub client_org_ids: Vec<i64>,
    /// Memberships of each client org, of every role and status, in the order of
    /// `client_org_ids`.
    pub client_members: Vec<usize>,
    /// The partner org's own memberships: its admin and staff.
    pub partner_members: usize,
    pub admin_email: String,
    /// False when the partner admin existed already and nothing was written.
    pub seeded_now: bool,
}

impl DemoSeed {
    /// Memberships of all the client orgs together.
    pub fn members(&self) -> usize {
        self.client_members.iter().sum()
    }
}

/// Seeds the demo unless its partner admin exists already; then answers what is there and
/// writes nothing (the desktop calls this at every start of its demo mode).
pub async fn seed(store: &Store, clock: &Clock, plan: &DemoPlan) -> Result<DemoSeed> {
    let admin_email = validate::email(&plan.admin_email)?;
    if let Some(found) = existing(store, &admin_email).await? {
        return Ok(found);
    }
    let partner_name = validate::org_name("partner_name", &plan.partner_name)?;
    validate::password(&plan.admin_password)?;
    // Hashed before the transaction: it takes a moment and must not hold the write lock.
    let hash = auth::hash_password(plan.admin_password.clone()).await?;
    let taken = Taken::read(store, domain_of(&admin_email)).await?;
    let now = clock.now_ms();
    let demo = Generator::new(plan.seed, now, taken).demo(plan, &partner_name, &admin_email, hash);
    let mut tx = store.begin().await?;
    let seeded = write(&mut tx, &demo, &admin_email).await?;
    tx.commit().await?;
    tracing::debug!(
        partner = seeded.partner_org_id,
        clients = seeded.client_org_ids.len(),
        members = seeded.members(),
        "demo seeded"
    );
    Ok(seeded)
}

/// [`seed`] on the configured database, without a running server (the CLI).
pub async fn seed_database(settings: &Settings, plan: &DemoPlan) -> Result<DemoSeed> {
    let store = Store::connect(&settings.database, 2).await?;
    let seeded = seed(&store, &Clock::default(), plan).await;
    store.pool.close().await;
    seeded
}

/// The demo of this partner admin, if seeded before.
async fn existing(store: &Store, admin_email: &str) -> Result<Option<DemoSeed>> {
    let account: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1")
        .bind(admin_email)
        .fetch_optional(&store.pool)
        .await?;
    let Some(account) = account else {
        return Ok(None);
    };
    let partner: Option<i64> = sqlx::query_scalar(
        "SELECT m.org_id FROM memberships m JOIN orgs o ON o.id = m.org_id \
         WHERE m.account_id = $1 AND m.role = 'admin' AND o.kind = 'partner' ORDER BY m.org_id LIMIT 1",
    )
    .bind(account)
    .fetch_optional(&store.pool)
    .await?;
    let Some(partner) = partner else {
        return Err(Error::with_message(
            ErrorCode::InvalidState,
            format!(
                "{admin_email} has an account that administers no partner organization; seed the demo with another admin email"
            ),
        ));
    };
    let rows = sqlx::query(
        "SELECT o.id, (SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id) AS members \
         FROM orgs o WHERE o.id = $1 OR o.partner_org_id = $1 ORDER BY o.id",
    )
    .bind(partner)
    .fetch_all(&store.pool)
    .await?;
    let mut seeded = DemoSeed {
        partner_org_id: partner,
        client_org_ids: Vec::new(),
        client_members: Vec::new(),
        partner_members: 0,
        admin_email: admin_email.to_owned(),
        seeded_now: false,
    };
    for row in &rows {
        let (id, members) = (store::int(row, "id")?, store::int(row, "members")?);
        let members = usize::try_from(members).unwrap_or_default();
        if id == partner {
            seeded.partner_members = members;
        } else {
            seeded.client_org_ids.push(id);
            seeded.client_members.push(members);
        }
    }
    Ok(Some(seeded))
}

fn domain_of(email: &str) -> &str {
    email.rsplit_once('@').map_or(email, |(_, domain)| domain)
}

// ---- Randomness ----------------------------------------------------------------------------

/// splitmix64: a few lines, and the same numbers on every platform and release (a library's
/// generator may change its stream between versions, and the tests count what it makes).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next() % n as u64) as usize
    }

    /// In `lo..hi` (`lo` when the range is empty).
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next() % (hi - lo) as u64) as i64
    }

    fn percent(&mut self, chance: u64) -> bool {
        self.next() % 100 < chance
    }

    /// In `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// `count` different items, in random order.
    fn sample<T: Copy>(&mut self, items: &[T], count: usize) -> Vec<T> {
        let mut all = items.to_vec();
        self.shuffle(&mut all);
        all.truncate(count);
        all
    }
}

// ---- What is seeded ------------------------------------------------------------------------

/// Everything the seed writes, decided before anything is written.
struct Demo {
    partner: OrgPlan,
    clients: Vec<OrgPlan>,
}

struct OrgPlan {
    name: String,
    kind: OrgKind,
    domain: String,
    member_directory: bool,
    partner_access: Role,
    billing_plan: &'static str,
    seats: i64,
    billing_email: Option<String>,
    created_at: i64,
    workspaces: Vec<&'static str>,
    properties: Vec<PropertyPlan>,
    people: Vec<PersonPlan>,
}

struct PropertyPlan {
    key: &'static str,
    label: &'static str,
    kind: PropertyKind,
}

/// Who invited a member (the `invited_by` of their membership).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inviter {
    /// No one: the partner admin was there first.
    Nobody,
    /// The partner's admin, who creates clients and invites their first admins.
    PartnerAdmin,
    /// One of the org's own admins, by index in its people.
    Admin(usize),
}

struct PersonPlan {
    email: String,
    profile: Profile,
    role: Role,
    status: Status,
    /// Indexes into the org's workspaces.
    workspaces: Vec<usize>,
    guest_expires: Option<NaiveDate>,
    properties: PropertyValues,
    created_at: i64,
    invite_expires_at: Option<i64>,
    last_active_at: Option<i64>,
    invited_by: Inviter,
    password_hash: Option<String>,
}

/// Addresses and domains already in the database, which the demo must not reuse (a demo
/// seeded beside another one, or beside real data).
#[derive(Debug, Default)]
struct Taken {
    domains: HashSet<String>,
    emails: HashSet<String>,
}

impl Taken {
    async fn read(store: &Store, partner_domain: &str) -> Result<Taken> {
        let domains: Vec<String> = sqlx::query_scalar("SELECT DISTINCT email_domain FROM accounts")
            .fetch_all(&store.pool)
            .await?;
        let emails: Vec<String> =
            sqlx::query_scalar("SELECT email FROM accounts WHERE email_domain = $1")
                .bind(partner_domain)
                .fetch_all(&store.pool)
                .await?;
        Ok(Taken {
            domains: domains.into_iter().collect(),
            emails: emails.into_iter().collect(),
        })
    }
}

/// A client org's particulars that each of its people draws on.
struct ClientShape<'a> {
    name: &'a str,
    domain: &'a str,
    created_at: i64,
    offices: Vec<&'static Office>,
    workspaces: usize,
    properties: &'a [PropertyPlan],
}

struct Generator {
    rng: Rng,
    now: i64,
    today: NaiveDate,
    /// Every address handed out, and the taken ones.
    emails: HashSet<String>,
    /// Every domain handed out, and the taken ones.
    domains: HashSet<String>,
}

impl Generator {
    fn new(seed: u64, now: i64, taken: Taken) -> Generator {
        Generator {
            rng: Rng(seed),
            now,
            today: store::to_time(now).date_naive(),
            emails: taken.emails,
            domains: taken.domains,
        }
    }

    fn demo(
        &mut self,
        plan: &DemoPlan,
        partner_name: &str,
        admin_email: &str,
        admin_hash: String,
    ) -> Demo {
        self.domains.insert(domain_of(admin_email).to_owned());
        let partner = self.partner(partner_name, admin_email, admin_hash);
        let sizes = client_sizes(&mut self.rng, plan.clients, plan.members);
        let clients = sizes
            .iter()
            .enumerate()
            .map(|(index, size)| self.client(index, *size))
            .collect();
        Demo { partner, clients }
    }

    fn partner(&mut self, name: &str, admin_email: &str, admin_hash: String) -> OrgPlan {
        let domain = domain_of(admin_email).to_owned();
        let created_at = self.now - 900 * DAY_MS;
        let london = &names::OFFICES[0];
        self.emails.insert(admin_email.to_owned());
        let admin = PersonPlan {
            email: admin_email.to_owned(),
            profile: Profile {
                display_name: Some("Alex Morgan".into()),
                first_name: Some("Alex".into()),
                last_name: Some("Morgan".into()),
                title: Some("Partner Account Manager".into()),
                company: Some(name.to_owned()),
                cell_phone: Some(self.phone(london)),
                ..self.office_fields(Some(london), true)
            },
            role: Role::Admin,
            status: Status::Active,
            workspaces: Vec::new(),
            guest_expires: None,
            properties: PropertyValues::new(),
            created_at,
            invite_expires_at: None,
            // Seen an hour ago: the demo opens on an account in use.
            last_active_at: Some(self.now - 60 * 60 * 1000),
            invited_by: Inviter::Nobody,
            password_hash: Some(admin_hash),
        };
        let mut people = vec![admin];
        let staff = [
            Role::UserAdmin,
            Role::ViewerAdmin,
            Role::BillingAdmin,
            Role::Member,
            Role::Member,
        ];
        for role in staff {
            let (first, last) = self.name();
            let email = self.address(first, last, &domain);
            let member_since = self.rng.between(created_at, self.now - 30 * DAY_MS);
            people.push(PersonPlan {
                email,
                profile: Profile {
                    title: Some(self.rng.pick(names::PARTNER_TITLES).to_owned()),
                    company: Some(name.to_owned()),
                    cell_phone: Some(self.phone(london)),
                    ..self.names_and_office(first, last, Some(london), true)
                },
                role,
                status: Status::Active,
                workspaces: Vec::new(),
                guest_expires: None,
                properties: PropertyValues::new(),
                created_at: member_since,
                invite_expires_at: None,
                last_active_at: Some(self.recently(member_since)),
                invited_by: Inviter::Admin(0),
                password_hash: None,
            });
        }
        OrgPlan {
            name: name.to_owned(),
            kind: OrgKind::Partner,
            domain,
            member_directory: true,
            partner_access: Role::Admin,
            billing_plan: "partner",
            seats: 10,
            billing_email: Some(admin_email.to_owned()),
            created_at,
            workspaces: Vec::new(),
            properties: Vec::new(),
            people,
        }
    }

    fn client(&mut self, index: usize, size: usize) -> OrgPlan {
        let (name, domain) = self.client_identity(index);
        let created_at = self.now - self.rng.between(700, 760) * DAY_MS;
        let workspace_count = 3 + self.rng.below(6);
        let workspaces = self.rng.sample(names::WORKSPACES, workspace_count);
        let properties: Vec<PropertyPlan> = {
            let count = 2 + self.rng.below(3);
            let mut pool = property_pool();
            self.rng.shuffle(&mut pool);
            pool.truncate(count);
            pool
        };
        let office_count =
            1 + usize::from(size >= 200) + usize::from(size >= 2_000) + usize::from(size >= 10_000);
        let offices = self
            .rng
            .sample(&names::OFFICES.iter().collect::<Vec<_>>(), office_count);
        let mut standings = standings(size);
        let admins = standings
            .iter()
            .take_while(|(r, _)| *r == Role::Admin)
            .count();
        self.rng.shuffle(&mut standings[admins..]);
        let shape = ClientShape {
            name: &name,
            domain: &domain,
            created_at,
            offices,
            workspaces: workspaces.len(),
            properties: &properties,
        };
        let people: Vec<PersonPlan> = standings
            .iter()
            .enumerate()
            .map(|(i, (role, status))| self.client_person(&shape, i, admins, *role, *status))
            .collect();
        let billing_email = people
            .iter()
            .find(|p| p.role == Role::BillingAdmin)
            .or(people.first())
            .map(|p| p.email.clone());
        OrgPlan {
            name: name.clone(),
            kind: OrgKind::Client,
            domain: domain.clone(),
            // Some clients let their members see each other (SPEC.md §2 note 1); a couple
            // give the partner user-admin rights only (§4).
            member_directory: index % 3 == 1,
            partner_access: if index % 8 == 5 {
                Role::UserAdmin
            } else {
                Role::Admin
            },
            billing_plan: match size {
                5_000.. => "enterprise",
                250.. => "business",
                _ => "standard",
            },
            seats: i64::try_from((size * 11 / 10) / 25 * 25 + 25).unwrap_or(i64::MAX),
            billing_email,
            created_at,
            workspaces,
            properties,
            people,
        }
    }

    /// The client's company name and domain: from the list, numbered once the list is used
    /// up, and never a domain that is taken.
    fn client_identity(&mut self, index: usize) -> (String, String) {
        let (name, domain) = names::CLIENTS[index % names::CLIENTS.len()];
        let mut round = index / names::CLIENTS.len();
        loop {
            let (name, domain) = if round == 0 {
                (name.to_owned(), domain.to_owned())
            } else {
                let (stem, tld) = domain.rsplit_once('.').unwrap_or((domain, "example"));
                (
                    format!("{name} {}", round + 1),
                    format!("{stem}{}.{tld}", round + 1),
                )
            };
            if self.domains.insert(domain.clone()) {
                return (name, domain);
            }
            round += 1;
        }
    }

    fn client_person(
        &mut self,
        org: &ClientShape,
        index: usize,
        admins: usize,
        role: Role,
        status: Status,
    ) -> PersonPlan {
        let (first, last) = self.name();
        let email = self.address(first, last, org.domain);
        let guest = role == Role::Guest;
        let office = if guest || self.rng.percent(10) {
            // Guests work elsewhere; some staff are remote.
            None
        } else if self.rng.percent(50) {
            org.offices.first().copied()
        } else {
            Some(self.rng.pick(&org.offices))
        };
        let headquarters =
            office.is_some_and(|o| org.offices.first().is_some_and(|hq| hq.city == o.city));
        let title = match role {
            Role::Admin | Role::UserAdmin => self.rng.pick(names::ADMIN_TITLES),
            Role::Guest => self.rng.pick(names::GUEST_TITLES),
            _ => self.rng.pick(names::TITLES),
        };
        let company = if guest {
            self.rng.pick(names::GUEST_COMPANIES).to_owned()
        } else {
            org.name.to_owned()
        };
        let dial_from = office.unwrap_or_else(|| self.rng.pick(&org.offices));
        let mut profile = Profile {
            title: Some(title.to_owned()),
            company: Some(company),
            ..self.names_and_office(first, last, office, headquarters)
        };
        if self.rng.percent(30) {
            profile.phone = Some(self.phone(dial_from));
        }
        if self.rng.percent(55) {
            profile.cell_phone = Some(self.phone(dial_from));
        }
        if self.rng.percent(5) {
            profile.home_phone = Some(self.phone(dial_from));
        }
        let times = self.times(org, index < admins, role, status);
        let workspaces = self.grants(org.workspaces, role);
        let properties = self.property_values(org.properties, index, status, times.created_at);
        let invited_by = if index == 0 || self.rng.percent(15) {
            // The partner created the client with its first admin, and still adds people.
            Inviter::PartnerAdmin
        } else {
            Inviter::Admin(self.rng.below(admins.min(index).max(1)))
        };
        PersonPlan {
            email,
            profile,
            role,
            status,
            workspaces,
            guest_expires: times.guest_expires,
            properties,
            created_at: times.created_at,
            invite_expires_at: times.invite_expires_at,
            last_active_at: times.last_active_at,
            invited_by,
            password_hash: None,
        }
    }

    /// When a member joined, was last active, and (guests, invitations) when access ends.
    fn times(&mut self, org: &ClientShape, admin: bool, role: Role, status: Status) -> Times {
        let day = DAY_MS;
        let now = self.now;
        let mut times = Times::default();
        match (role, status) {
            _ if admin => {
                times.created_at = org.created_at + self.rng.between(0, 3 * day);
                times.last_active_at = Some(now - self.rng.between(0, 14 * day));
            }
            (_, Status::Pending) => {
                // Invited in the last two weeks: some invitations have lapsed (7 days).
                times.created_at = now - self.rng.between(0, 14 * day);
                times.invite_expires_at = Some(times.created_at + INVITATION_DAYS * day);
            }
            (Role::Guest, Status::Expired) => {
                let ended_days_ago = self.rng.between(1, 90);
                times.guest_expires = Some(self.today - chrono::Duration::days(ended_days_ago));
                let ended = now - ended_days_ago * day;
                times.created_at = ended - self.rng.between(30, 240) * day;
                times.last_active_at = self
                    .rng
                    .percent(85)
                    .then(|| self.rng.between(times.created_at, ended));
            }
            (Role::Guest, _) => {
                times.guest_expires =
                    Some(self.today + chrono::Duration::days(self.rng.between(1, 181)));
                times.created_at = now - self.rng.between(1, 300) * day;
                times.last_active_at = self
                    .rng
                    .percent(85)
                    .then(|| self.recently(times.created_at));
            }
            (_, Status::Suspended) => {
                times.created_at = self.rng.between(org.created_at + day, now - 30 * day);
                times.last_active_at = Some(self.rng.between(times.created_at, now - 7 * day));
            }
            _ => {
                times.created_at = self.rng.between(org.created_at + day, now - day);
                // Some never signed in.
                times.last_active_at = self
                    .rng
                    .percent(88)
                    .then(|| self.recently(times.created_at));
            }
        }
        times
    }

    /// A time in the last year, after `since`.
    fn recently(&mut self, since: i64) -> i64 {
        self.rng
            .between(since.max(self.now - 365 * DAY_MS), self.now)
    }

    /// 0 to 3 workspaces (indexes); admins see them all without grants.
    fn grants(&mut self, workspaces: usize, role: Role) -> Vec<usize> {
        if matches!(
            role,
            Role::Admin | Role::UserAdmin | Role::ViewerAdmin | Role::BillingAdmin
        ) {
            return Vec::new();
        }
        let wanted = match self.rng.below(100) {
            0..20 => 0,
            20..60 => 1,
            60..88 => 2,
            _ => 3,
        };
        let mut granted = self
            .rng
            .sample(&(0..workspaces).collect::<Vec<_>>(), wanted);
        granted.sort_unstable();
        granted
    }

    fn property_values(
        &mut self,
        properties: &[PropertyPlan],
        index: usize,
        status: Status,
        created_at: i64,
    ) -> PropertyValues {
        let chance = if status == Status::Pending { 40 } else { 85 };
        let mut values = PropertyValues::new();
        for property in properties {
            if !self.rng.percent(chance) {
                continue;
            }
            let value = match &property.kind {
                PropertyKind::Text => json!(format!("E-{:05}", 1001 + index)),
                PropertyKind::Number => json!(1 + self.rng.below(7)),
                PropertyKind::Date => {
                    let started = created_at - self.rng.between(0, 30) * DAY_MS;
                    json!(store::to_time(started).date_naive().to_string())
                }
                PropertyKind::Bool => json!(self.rng.percent(25)),
                PropertyKind::OneOf { options } => {
                    json!(options[self.rng.below(options.len())])
                }
            };
            values.insert(property.key.to_owned(), value);
        }
        values
    }

    fn name(&mut self) -> (&'static str, &'static str) {
        (
            self.rng.pick(names::FIRST_NAMES),
            self.rng.pick(names::LAST_NAMES),
        )
    }

    /// `first.last@domain`, with a number when that is taken (`first.last2@domain`).
    fn address(&mut self, first: &str, last: &str, domain: &str) -> String {
        let local = format!("{}.{}", names::email_part(first), names::email_part(last));
        let mut email = format!("{local}@{domain}");
        let mut n = 2;
        while !self.emails.insert(email.clone()) {
            email = format!("{local}{n}@{domain}");
            n += 1;
        }
        email
    }

    /// A phone number of the office's country and city, in E.164.
    fn phone(&mut self, office: &Office) -> String {
        let mut number = format!("+{}{}", office.dial, 2 + self.rng.below(8));
        for _ in 1..office.local_digits {
            number.push(char::from(b'0' + self.rng.below(10) as u8));
        }
        number
    }

    fn names_and_office(
        &mut self,
        first: &str,
        last: &str,
        office: Option<&Office>,
        headquarters: bool,
    ) -> Profile {
        Profile {
            display_name: Some(format!("{first} {last}")),
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            ..self.office_fields(office, headquarters)
        }
    }

    fn office_fields(&mut self, office: Option<&Office>, headquarters: bool) -> Profile {
        let Some(office) = office else {
            return Profile::default();
        };
        Profile {
            office: Some(if headquarters {
                format!("{} HQ", office.city)
            } else {
                format!("{} office", office.city)
            }),
            street: Some(office.street.to_owned()),
            postal_code: Some(office.postal_code.to_owned()),
            city: Some(office.city.to_owned()),
            ..Profile::default()
        }
    }
}

#[derive(Default)]
struct Times {
    created_at: i64,
    last_active_at: Option<i64>,
    guest_expires: Option<NaiveDate>,
    invite_expires_at: Option<i64>,
}

/// The custom properties clients pick theirs from: one of each kind and then some.
fn property_pool() -> Vec<PropertyPlan> {
    let one_of = |options: &[&str]| PropertyKind::OneOf {
        options: options.iter().map(|o| (*o).to_owned()).collect(),
    };
    vec![
        PropertyPlan {
            key: "employee_id",
            label: "Employee ID",
            kind: PropertyKind::Text,
        },
        PropertyPlan {
            key: "cost_center",
            label: "Cost center",
            kind: one_of(names::COST_CENTRES),
        },
        PropertyPlan {
            key: "start_date",
            label: "Start date",
            kind: PropertyKind::Date,
        },
        PropertyPlan {
            key: "remote",
            label: "Works remotely",
            kind: PropertyKind::Bool,
        },
        PropertyPlan {
            key: "level",
            label: "Level",
            kind: PropertyKind::Number,
        },
        PropertyPlan {
            key: "clearance",
            label: "Data clearance",
            kind: one_of(names::CLEARANCES),
        },
        PropertyPlan {
            key: "shirt_size",
            label: "T-shirt size",
            kind: one_of(names::SHIRT_SIZES),
        },
    ]
}

/// How `members` spread over `clients`: roughly as 1/rank^1.5 with some noise (a few big
/// clients, many small), largest first, each at least 1 (its admin).
fn client_sizes(rng: &mut Rng, clients: usize, members: usize) -> Vec<usize> {
    if clients == 0 {
        return Vec::new();
    }
    let weights: Vec<f64> = (0..clients)
        .map(|rank| (0.6 + 0.8 * rng.unit()) / ((rank + 1) as f64).powf(1.5))
        .collect();
    let total: f64 = weights.iter().sum();
    let mut sizes: Vec<usize> = weights
        .iter()
        .map(|w| ((members as f64 * w / total) as usize).max(1))
        .collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let sum: usize = sizes.iter().sum();
    // Rounding: the largest client takes the difference (never below 1).
    if sum < members {
        sizes[0] += members - sum;
    } else {
        sizes[0] = sizes[0].saturating_sub(sum - members).max(1);
    }
    sizes
}

/// The roles and statuses of a client of `size` members: its admins first (active), then
/// fixed shares of the rest, so counts are predictable: ~5% guests (an eighth of them past
/// their end date), ~4% pending invitations, ~3% suspended, the others active members.
fn standings(size: usize) -> Vec<(Role, Status)> {
    let admins = match size {
        0..50 => 1,
        50..2_000 => 2,
        _ => 3,
    };
    let count = |at_least: usize, per: usize| {
        if size >= at_least { 1 + size / per } else { 0 }
    };
    let guests = size * 5 / 100;
    let expired = if guests >= 2 { guests.div_ceil(8) } else { 0 };
    let groups = [
        (Role::Admin, Status::Active, admins),
        (Role::BillingAdmin, Status::Active, count(20, 25_000)),
        (Role::UserAdmin, Status::Active, count(10, 5_000)),
        (Role::ViewerAdmin, Status::Active, count(30, 15_000)),
        (Role::Guest, Status::Active, guests - expired),
        (Role::Guest, Status::Expired, expired),
        (Role::Member, Status::Pending, size * 4 / 100),
        (Role::Member, Status::Suspended, size * 3 / 100),
    ];
    let mut standings: Vec<(Role, Status)> = groups
        .iter()
        .flat_map(|(role, status, n)| std::iter::repeat_n((*role, *status), *n))
        .collect();
    standings.truncate(size);
    standings.resize(size, (Role::Member, Status::Active));
    standings
}

// ---- Writing -------------------------------------------------------------------------------

/// An org as written: its id and its people's account ids, in order.
struct Written {
    org_id: i64,
    account_ids: Vec<i64>,
}

async fn write(tx: &mut Tx, demo: &Demo, admin_email: &str) -> Result<DemoSeed> {
    let partner = write_org(tx, &demo.partner, None, None).await?;
    let partner_admin = partner
        .account_ids
        .first()
        .copied()
        .ok_or_else(|| Error::internal("the demo partner has no admin"))?;
    let mut audits = vec![org_created(
        &demo.partner,
        partner.org_id,
        None,
        admin_email,
    )];
    let mut seeded = DemoSeed {
        partner_org_id: partner.org_id,
        client_org_ids: Vec::new(),
        client_members: Vec::new(),
        partner_members: demo.partner.people.len(),
        admin_email: admin_email.to_owned(),
        seeded_now: true,
    };
    for client in &demo.clients {
        let written = write_org(tx, client, Some(partner.org_id), Some(partner_admin)).await?;
        let first_admin = client.people.first().map_or("", |p| p.email.as_str());
        audits.push(org_created(
            client,
            written.org_id,
            Some(partner_admin),
            first_admin,
        ));
        audits.push(AuditRow::new(
            AuditEvent {
                org_id: partner.org_id,
                actor_id: Some(partner_admin),
                action: "client.created",
                target_kind: "org",
                target_id: Some(written.org_id),
                after: Some(json!({"name": client.name, "admin_email": first_admin})),
                ..AuditEvent::default()
            },
            client.created_at,
        ));
        seeded.client_org_ids.push(written.org_id);
        seeded.client_members.push(client.people.len());
    }
    // The log reads newest first by id: write it in time order.
    audits.sort_by_key(|row| row.at);
    store::record_audits(tx, &audits).await?;
    Ok(seeded)
}

fn org_created(org: &OrgPlan, org_id: i64, actor: Option<i64>, admin_email: &str) -> AuditRow {
    AuditRow::new(
        AuditEvent {
            org_id,
            actor_id: actor,
            action: "org.created",
            target_kind: "org",
            target_id: Some(org_id),
            after: Some(json!({"name": org.name, "kind": org.kind, "admin_email": admin_email})),
            ..AuditEvent::default()
        },
        org.created_at,
    )
}

/// The org, its workspaces, property definitions, accounts and memberships, each synced row
/// with its own change number taken from the org's sequence (as the benchmark's seed does),
/// in that order: a first sync gets the workspaces and definitions before the members.
async fn write_org(
    tx: &mut Tx,
    org: &OrgPlan,
    partner_org_id: Option<i64>,
    partner_admin: Option<i64>,
) -> Result<Written> {
    let org_id = insert_org(tx, org, partner_org_id).await?;
    let rows = 1 + org.workspaces.len() + org.properties.len() + org.people.len();
    let mut seq = reserve_seqs(tx, org_id, rows).await? + 1;
    let workspace_ids = insert_workspaces(tx, org_id, &org.workspaces, seq).await?;
    seq += org.workspaces.len() as i64;
    insert_property_definitions(tx, org_id, &org.properties, seq).await?;
    seq += org.properties.len() as i64;
    let mut account_ids = Vec::with_capacity(org.people.len());
    for chunk in org.people.chunks(MULTI_ROW_CHUNK) {
        account_ids.extend(insert_accounts(tx, chunk).await?);
        let start = account_ids.len() - chunk.len();
        let invited_by = |inviter: Inviter| match inviter {
            Inviter::Nobody => None,
            Inviter::PartnerAdmin => partner_admin,
            Inviter::Admin(index) => account_ids.get(index).copied(),
        };
        let rows: Vec<MembershipRow> = chunk
            .iter()
            .enumerate()
            .map(|(i, person)| MembershipRow {
                account_id: account_ids[start + i],
                invited_by: invited_by(person.invited_by),
                workspaces: encode_workspaces(
                    &person
                        .workspaces
                        .iter()
                        .map(|w| workspace_ids[*w])
                        .collect::<Vec<_>>(),
                ),
                seq: seq + (start + i) as i64,
                person,
            })
            .collect();
        insert_memberships(tx, org_id, &rows).await?;
    }
    Ok(Written {
        org_id,
        account_ids,
    })
}

async fn insert_org(tx: &mut Tx, org: &OrgPlan, partner_org_id: Option<i64>) -> Result<i64> {
    let domains = serde_json::to_string(&[&org.domain]).map_err(Error::internal)?;
    let id = sqlx::query_scalar::<Any, i64>(
        "INSERT INTO orgs (name, kind, domains, member_directory, partner_access, partner_org_id, plan, \
         seats, billing_email, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(&org.name)
    .bind(org.kind.as_str())
    .bind(domains)
    .bind(i64::from(org.member_directory))
    .bind(org.partner_access.as_str())
    .bind(partner_org_id)
    .bind(org.billing_plan)
    .bind(org.seats)
    .bind(&org.billing_email)
    .bind(org.created_at)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// Takes `count` change numbers at once (one per row written) and gives the org row the
/// first; answers that first number.
async fn reserve_seqs(tx: &mut Tx, org_id: i64, count: usize) -> Result<i64> {
    let count = i64::try_from(count).map_err(Error::internal)?;
    let head: i64 = sqlx::query_scalar(
        "UPDATE orgs SET change_seq = change_seq + $2, seq = change_seq + 1 WHERE id = $1 RETURNING change_seq",
    )
    .bind(org_id)
    .bind(count)
    .fetch_one(&mut **tx)
    .await?;
    Ok(head - count + 1)
}

/// Answers the new workspaces' ids in the order of `names`.
async fn insert_workspaces(
    tx: &mut Tx,
    org_id: i64,
    names: &[&str],
    first_seq: i64,
) -> Result<Vec<i64>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::many(tx);
    let values: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            format!(
                "({}, {}, {}, 1)",
                q.int(org_id),
                q.text(*name),
                q.int(first_seq + i as i64)
            )
        })
        .collect();
    q.push(&format!(
        "INSERT INTO workspaces (org_id, name, seq, version) VALUES {} RETURNING id, name",
        values.join(", ")
    ));
    // RETURNING's order is not guaranteed: match the rows by name (unique in the org).
    let mut ids = HashMap::new();
    for row in q.fetch_all(&mut **tx).await? {
        ids.insert(store::text(&row, "name")?, store::int(&row, "id")?);
    }
    names
        .iter()
        .map(|name| {
            ids.get(*name)
                .copied()
                .ok_or_else(|| Error::internal("a demo workspace was not written"))
        })
        .collect()
}

async fn insert_property_definitions(
    tx: &mut Tx,
    org_id: i64,
    properties: &[PropertyPlan],
    first_seq: i64,
) -> Result<()> {
    if properties.is_empty() {
        return Ok(());
    }
    let mut q = Query::many(tx);
    let mut values = Vec::with_capacity(properties.len());
    for (i, property) in properties.iter().enumerate() {
        let kind = serde_json::to_string(&property.kind).map_err(Error::internal)?;
        values.push(format!(
            "({}, {}, {}, {}, 0, {}, 1)",
            q.int(org_id),
            q.text(property.key),
            q.text(property.label),
            q.text(kind),
            q.int(first_seq + i as i64)
        ));
    }
    q.push(&format!(
        "INSERT INTO property_definitions (org_id, key, label, kind, required, seq, version) VALUES {}",
        values.join(", ")
    ));
    q.build().execute(&mut **tx).await?;
    Ok(())
}

/// Answers the new accounts' ids in the order of `people`.
async fn insert_accounts(tx: &mut Tx, people: &[PersonPlan]) -> Result<Vec<i64>> {
    let mut q = Query::many(tx);
    let values: Vec<String> = people
        .iter()
        .map(|p| {
            format!(
                "({}, {}, {}, {}, {}, {}, {})",
                q.text(p.email.as_str()),
                q.text(domain_of(&p.email)),
                q.text(sort_name(&p.email, &p.profile)),
                q.int(p.created_at),
                profile_values(&mut q, &p.profile),
                q.opt_text(p.password_hash.clone()),
                // Each demo account belongs to one org: its last sign-in is its last activity there.
                q.opt_int(p.last_active_at),
            )
        })
        .collect();
    q.push(&format!(
        "INSERT INTO accounts (email, email_domain, sort_name, created_at, display_name, first_name, \
         last_name, phone, title, company, office, street, postal_code, city, cell_phone, home_phone, \
         password_hash, last_sign_in_at) VALUES {} RETURNING id, email",
        values.join(", ")
    ));
    // RETURNING's order is not guaranteed: match the rows by address.
    let mut ids = HashMap::with_capacity(people.len());
    for row in q.fetch_all(&mut **tx).await? {
        ids.insert(store::text(&row, "email")?, store::int(&row, "id")?);
    }
    people
        .iter()
        .map(|p| {
            ids.get(&p.email)
                .copied()
                .ok_or_else(|| Error::internal("a demo account was not written"))
        })
        .collect()
}

struct MembershipRow<'p> {
    person: &'p PersonPlan,
    account_id: i64,
    invited_by: Option<i64>,
    workspaces: String,
    seq: i64,
}

async fn insert_memberships(tx: &mut Tx, org_id: i64, rows: &[MembershipRow<'_>]) -> Result<()> {
    let mut q = Query::many(tx);
    let mut values = Vec::with_capacity(rows.len());
    for row in rows {
        let p = row.person;
        let properties = serde_json::to_string(&p.properties).map_err(Error::internal)?;
        values.push(format!(
            "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 1)",
            q.int(org_id),
            q.int(row.account_id),
            q.text(p.role.as_str()),
            q.text(p.status.as_str()),
            q.text(row.workspaces.as_str()),
            q.opt_text(p.guest_expires.map(|d| d.to_string())),
            q.text(properties),
            q.opt_int(row.invited_by),
            q.int(p.created_at),
            q.opt_int(p.invite_expires_at),
            q.int(p.created_at),
            q.opt_int(p.last_active_at),
            q.int(row.seq),
        ));
    }
    // No invitation token: a pending demo member's link was never mailed; resending the
    // invitation makes one.
    q.push(&format!(
        "INSERT INTO memberships (org_id, account_id, role, status, workspaces, guest_expires, properties, \
         invited_by, invited_at, invite_expires_at, created_at, last_active_at, seq, version) VALUES {}",
        values.join(", ")
    ));
    q.build().execute(&mut **tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn demo(plan: &DemoPlan) -> Demo {
        let now = 1_750_000_000_000;
        Generator::new(plan.seed, now, Taken::default()).demo(
            plan,
            &plan.partner_name,
            &plan.admin_email,
            "hash".into(),
        )
    }

    #[test]
    fn every_name_has_an_ascii_spelling_for_addresses() {
        for name in names::FIRST_NAMES.iter().chain(names::LAST_NAMES) {
            assert!(
                names::folds_fully(name),
                "{name} has a letter without a spelling"
            );
            let part = names::email_part(name);
            assert!(!part.is_empty() && part.is_ascii(), "{name} -> {part}");
        }
        assert_eq!(names::email_part("Łukasz"), "lukasz");
        assert_eq!(names::email_part("Ó Súilleabháin"), "osuilleabhain");
        assert_eq!(names::email_part("Zoë"), "zoe");
    }

    #[test]
    fn the_same_seed_makes_the_same_demo() {
        let plan = DemoPlan {
            clients: 4,
            members: 900,
            ..DemoPlan::standard()
        };
        let emails = |d: &Demo| -> Vec<String> {
            d.clients
                .iter()
                .flat_map(|c| c.people.iter().map(|p| p.email.clone()))
                .collect()
        };
        assert_eq!(emails(&demo(&plan)), emails(&demo(&plan)));
        let other = DemoPlan {
            seed: 2,
            ..plan.clone()
        };
        assert_ne!(emails(&demo(&plan)), emails(&demo(&other)));
    }

    #[test]
    fn members_spread_unevenly_and_add_up() {
        let mut rng = Rng(7);
        let sizes = client_sizes(&mut rng, 20, 50_000);
        assert_eq!(sizes.iter().sum::<usize>(), 50_000);
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        assert!(
            sizes[0] > 10 * sizes[19],
            "a few big, many small: {sizes:?}"
        );
        assert_eq!(client_sizes(&mut rng, 1, 100_000), vec![100_000]);
        assert_eq!(client_sizes(&mut rng, 3, 1), vec![1, 1, 1]);
    }

    #[test]
    fn every_value_passes_the_servers_checks() {
        let plan = DemoPlan {
            clients: 3,
            members: 3_000,
            ..DemoPlan::standard()
        };
        let demo = demo(&plan);
        let mut emails = HashSet::new();
        for org in std::iter::once(&demo.partner).chain(&demo.clients) {
            assert!(validate::org_name("name", &org.name).is_ok());
            for name in &org.workspaces {
                assert!(validate::org_name("name", name).is_ok());
            }
            assert!(
                org.people
                    .iter()
                    .any(|p| p.role == Role::Admin && p.status == Status::Active)
            );
            for person in &org.people {
                assert_eq!(validate::email(&person.email).unwrap(), person.email);
                assert!(
                    emails.insert(person.email.clone()),
                    "{} twice",
                    person.email
                );
                let p = &person.profile;
                for phone in [&p.phone, &p.cell_phone, &p.home_phone]
                    .into_iter()
                    .flatten()
                {
                    assert_eq!(&validate::phone("phone", phone).unwrap(), phone);
                }
                assert_eq!(person.role == Role::Guest, person.guest_expires.is_some());
                assert_eq!(
                    person.status == Status::Pending,
                    person.invite_expires_at.is_some()
                );
                if person.status == Status::Pending {
                    assert!(person.last_active_at.is_none());
                }
                assert!(
                    person
                        .last_active_at
                        .is_none_or(|at| at >= person.created_at)
                );
                assert!(person.workspaces.len() <= 3);
            }
        }
    }

    #[test]
    fn a_client_has_every_kind_of_member() {
        let shares = |size: usize, role: Role, status: Status| {
            standings(size)
                .iter()
                .filter(|s| **s == (role, status))
                .count()
        };
        assert_eq!(standings(1), vec![(Role::Admin, Status::Active)]);
        assert_eq!(standings(1_000).len(), 1_000);
        assert_eq!(
            shares(1_000, Role::Guest, Status::Active)
                + shares(1_000, Role::Guest, Status::Expired),
            50
        );
        assert!(shares(1_000, Role::Guest, Status::Expired) > 0);
        assert_eq!(shares(1_000, Role::Member, Status::Pending), 40);
        assert_eq!(shares(1_000, Role::Member, Status::Suspended), 30);
        assert_eq!(shares(1_000, Role::Admin, Status::Active), 2);
    }
}
