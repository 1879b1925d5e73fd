//! Client benchmarks against the real server over loopback, with their data generator.
//!
//! The bench runs itself twice: a child process (`sync-bench serve DIR N`) seeds an org of
//! N members straight into a fresh server database and serves it; the parent is the
//! client, so its peak RSS (VmHWM) is the client's alone. Measured:
//!   1. first sync of the org into an empty cache, search index included;
//!   2. incremental pulls of `CHANGES_PER_ROUND` server-side changes (p50/p95 of `PULL_ROUNDS` rounds);
//!   3. search over the cached org: 1-, 2-, 3-character prefixes and whole names;
//!   4. push of 10,000 staged mutations (staging timed apart).
//!
//! Run: `cargo bench -p orgdesk-client --bench sync` (`ORGDESK_BENCH_MEMBERS` overrides
//! 100,000). Figures go to `benches/README.md` by hand, with the machine.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: failing loudly is the point

use chrono::Utc;
use orgdesk_client::sync::{self, ChangeFeed, SyncOptions};
use orgdesk_client::{Api, CacheReader, Profile};
use orgdesk_domain::wire::{
    LoginRequest, MemberEdit, Mutation, MutationBatch, MutationKind, OrgId, ProfileEdit, UserId,
};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const ADMIN: &str = "admin@bench.example";

const FIRST: [&str; 40] = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "John",
    "Radia",
    "Tim",
    "Hedy",
    "Edsger",
    "Katherine",
    "Donald",
    "Anita",
    "Niklaus",
    "Sophie",
    "Bjarne",
    "Annabel",
    "Yukihiro",
    "Guido",
    "Shafi",
    "Leslie",
    "Whitfield",
    "Jean",
    "Robin",
    "Mary",
    "Ivan",
    "Carla",
    "Zed",
    "Olga",
    "Priya",
    "Kwame",
    "Mei",
    "Lars",
    "Ines",
    "Tomas",
    "Noor",
];
const LAST: [&str; 40] = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "McCarthy",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Dijkstra",
    "Johnson",
    "Knuth",
    "Borg",
    "Wirth",
    "Wilson",
    "Stroustrup",
    "Jones",
    "Matsumoto",
    "van Rossum",
    "Goldwasser",
    "Lamport",
    "Diffie",
    "Sammet",
    "Milner",
    "Keller",
    "Sutherland",
    "Marr",
    "Zulu",
    "Petrova",
    "Raman",
    "Mensah",
    "Chen",
    "Nilsson",
    "Garcia",
    "Novak",
    "Haddad",
];
const TITLES: [&str; 8] = [
    "Engineer",
    "Accountant",
    "Sales Manager",
    "Designer",
    "Analyst",
    "Director",
    "Nurse",
    "Clerk",
];
const COMPANIES: [&str; 6] = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        let members: usize = args[3].parse().unwrap();
        serve(Path::new(&args[2]), members);
        return;
    }
    if args.iter().any(|a| a == "--list" || a == "--test") {
        // `cargo test --benches` and `--list` probes: nothing to do.
        return;
    }
    let members: usize = std::env::var("ORGDESK_BENCH_MEMBERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    client(members);
}

// ---- The server side: the data generator and the server, in a child process ----------

fn serve(dir: &Path, members: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let database = dir.join("server.db");
        let settings =
            orgdesk_server::Settings::local(database.display().to_string(), dir.join("mailbox"));
        let server = orgdesk_server::start(settings).await.unwrap();
        let created = server
            .create_org(orgdesk_server::NewOrg {
                name: "Bench".into(),
                admin_email: ADMIN.into(),
                partner: false,
                admin_password: Some(PASSWORD.into()),
            })
            .await
            .unwrap();
        let started = Instant::now();
        seed(&database, created.org_id, members);
        eprintln!(
            "seeded {members} members in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        println!("{} {}", server.base_url(), created.org_id);
        // Serve until the parent closes our stdin.
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await;
        server.shutdown().await.unwrap();
    });
}

/// Writes `members` accounts and memberships straight into the server's SQLite database,
/// numbered in the org's change sequence as the server itself would.
fn seed(database: &Path, org: OrgId, members: usize) {
    let mut conn = rusqlite::Connection::open(database).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    let tx = conn.transaction().unwrap();
    let base: i64 = tx
        .query_row("SELECT change_seq FROM orgs WHERE id = ?1", [org], |r| {
            r.get(0)
        })
        .unwrap();
    let now = Utc::now().timestamp_millis();
    {
        let mut account = tx
            .prepare(
                "INSERT INTO accounts (email, email_domain, first_name, last_name, title, company, sort_name, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .unwrap();
        let mut membership = tx
            .prepare(
                "INSERT INTO memberships (org_id, account_id, role, status, created_at, seq, version)
                 VALUES (?1, ?2, 'member', 'active', ?3, ?4, 1)",
            )
            .unwrap();
        for i in 0..members {
            let first = FIRST[i % FIRST.len()];
            let last = LAST[(i / FIRST.len()) % LAST.len()];
            let domain = format!("{}.example", COMPANIES[i % COMPANIES.len()].to_lowercase());
            let email = format!(
                "{}.{}.{i}@{domain}",
                first.to_lowercase(),
                last.to_lowercase().replace(' ', "")
            );
            let name = format!("{first} {last}").to_lowercase();
            account
                .execute(rusqlite::params![
                    email,
                    domain,
                    first,
                    last,
                    TITLES[i % TITLES.len()],
                    COMPANIES[(i / 7) % COMPANIES.len()],
                    name,
                    now
                ])
                .unwrap();
            let id = tx.last_insert_rowid();
            membership
                .execute(rusqlite::params![org, id, now, base + 1 + i as i64])
                .unwrap();
        }
    }
    tx.execute(
        "UPDATE orgs SET change_seq = ?2 WHERE id = ?1",
        rusqlite::params![org, base + members as i64],
    )
    .unwrap();
    tx.commit().unwrap();
}

// ---- The client side: the measurements ------------------------------------------------

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Rounds of the incremental pull, timed end to end. With 30, the p95 was the second-worst
/// sample and moved by 10 ms between runs; 150 rounds make it the 8th-worst.
const PULL_ROUNDS: usize = 150;
/// Rounds of the same pull timed apart (server answer, cache transaction).
const SPLIT_ROUNDS: usize = 50;
/// Members a round edits on the server, each round its own.
const CHANGES_PER_ROUND: usize = 100;

/// Where the pushed members start in `users`: after every pull round's.
const PUSH_FROM: usize = (PULL_ROUNDS + SPLIT_ROUNDS) * CHANGES_PER_ROUND;
/// Edits per push (the target: 10,000 in 2 s).
const PUSHED: usize = 10_000;

/// The server-side edits of one pull round: `CHANGES_PER_ROUND` members of `users` no other
/// round touches.
fn round_batch(users: &[UserId], round: usize) -> MutationBatch {
    MutationBatch {
        mutations: users[round * CHANGES_PER_ROUND..(round + 1) * CHANGES_PER_ROUND]
            .iter()
            .map(|&user_id| Mutation {
                id: uuid::Uuid::now_v7().to_string(),
                base_version: None,
                change: title_edit(user_id, &format!("Round {round}")),
            })
            .collect(),
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index.min(samples.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn client(members: usize) {
    let server_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("serve")
        .arg(server_dir.path())
        .arg(members.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let mut parts = line.split_whitespace();
    let url = parts.next().expect("server URL").to_owned();
    let org: OrgId = parts.next().expect("org id").parse().unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client_dir = tempfile::tempdir().unwrap();
        let profile = Profile::open(client_dir.path(), "bench").unwrap();
        profile.login(Some(&url), ADMIN, PASSWORD, None).await.unwrap();
        let api = profile.api().unwrap();
        let rss_before = peak_rss_mb();

        // 1. First sync.
        let started = Instant::now();
        let options = SyncOptions {
            orgs: Some(vec![org]),
            pull_only: true,
        };
        let report = sync::sync(&api, &profile.cache, &options, &mut |_| {})
            .await
            .unwrap();
        let first_sync = started.elapsed();
        let rows = report.pulled.iter().map(|(_, rows)| rows).sum::<usize>();
        println!(
            "first sync: {rows} rows in {:.0} ms (incl. FTS rebuild); client peak RSS {:.0} MB (before sync {:.0} MB)",
            ms(first_sync),
            peak_rss_mb(),
            rss_before
        );

        // 2. Incremental pulls of 100 changes.
        let admin = Api::new(&url).unwrap();
        let login = admin
            .login(&LoginRequest {
                email: ADMIN.into(),
                password: PASSWORD.into(),
                totp: None,
            })
            .await
            .unwrap();
        let admin = admin.with_token(login.token);
        let users: Vec<UserId> = profile
            .cache
            .roster(
                org,
                &orgdesk_client::RosterQuery {
                    // Every pull round's members, and the two pushes' after them.
                    limit: Some((PUSH_FROM + 2 * PUSHED) as u32),
                    ..Default::default()
                },
            )
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect();
        let mut pulls = Vec::new();
        for round in 0..PULL_ROUNDS {
            admin.push(org, &round_batch(&users, round)).await.unwrap();
            let started = Instant::now();
            let pulled = ChangeFeed {
                api: &api,
                cache: &profile.cache,
                org,
            }
            .pull(&mut |_| {})
            .await
            .unwrap();
            pulls.push(started.elapsed());
            assert_eq!(pulled, CHANGES_PER_ROUND);
        }
        println!(
            "incremental pull of 100 changes: p50 {:.1} ms, p95 {:.1} ms ({PULL_ROUNDS} rounds)",
            ms(percentile(&mut pulls, 0.5)),
            ms(percentile(&mut pulls, 0.95))
        );
        // The same, split: the server's answer (HTTP + decode) and the cache's transaction.
        let (mut fetches, mut applies) = (Vec::new(), Vec::new());
        for round in PULL_ROUNDS..PULL_ROUNDS + SPLIT_ROUNDS {
            admin.push(org, &round_batch(&users, round)).await.unwrap();
            let cursor = profile.cache.org(org).unwrap().unwrap().cursor;
            let started = Instant::now();
            let page = api.changes(org, &cursor, sync::PAGE_LIMIT).await.unwrap();
            fetches.push(started.elapsed());
            let started = Instant::now();
            profile.cache.apply_page(org, &page, Utc::now()).unwrap();
            applies.push(started.elapsed());
        }
        println!(
            "  split: server answer p50 {:.1} / p95 {:.1} ms; cache apply p50 {:.1} / p95 {:.1} ms",
            ms(percentile(&mut fetches, 0.5)),
            ms(percentile(&mut fetches, 0.95)),
            ms(percentile(&mut applies, 0.5)),
            ms(percentile(&mut applies, 0.95))
        );

        // 3. Search, from the read-only handle the UI uses; 50 rows like a result list.
        let reader = CacheReader::open(profile.cache.path()).unwrap();
        let classes: [(&str, Vec<String>); 4] = [
            ("1-char prefix", ('a'..='z').map(String::from).collect()),
            (
                "2-char prefix",
                FIRST.iter().chain(LAST.iter()).map(|w| w[..2].to_lowercase()).collect(),
            ),
            (
                "3-char prefix",
                FIRST.iter().chain(LAST.iter()).map(|w| w[..3].to_lowercase()).collect(),
            ),
            (
                "whole name",
                (0..40)
                    .map(|i| format!("{} {}", FIRST[i % 40], LAST[(i * 7) % 40]))
                    .collect(),
            ),
        ];
        for (label, queries) in &classes {
            let mut samples = Vec::new();
            for _ in 0..5 {
                for query in queries {
                    let started = Instant::now();
                    let hits = reader.search(org, query, 50).unwrap();
                    samples.push(started.elapsed());
                    std::hint::black_box(hits);
                }
            }
            println!(
                "search {label}: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms ({} queries)",
                ms(percentile(&mut samples, 0.5)),
                ms(percentile(&mut samples, 0.95)),
                ms(percentile(&mut samples, 1.0)),
                samples.len()
            );
        }

        // 4. Push of 10,000 mutations, twice: first `sync::push`'s loop with its steps one
        // after the other, timed apart to tell the server's part from the client's; then
        // `sync::push` itself (the figure), which records a batch's results while the next
        // batch is on its way.
        let today = Utc::now().date_naive();
        let edits = |from: usize, title: &str| -> Vec<MutationKind> {
            users[from..from + PUSHED]
                .iter()
                .map(|&user| title_edit(user, title))
                .collect()
        };
        let changes = edits(PUSH_FROM, "Pushed in steps");
        let count = changes.len();
        profile
            .cache
            .outbox()
            .stage_many(org, changes, today, Utc::now())
            .unwrap();
        let started = Instant::now();
        let (mut server, mut reads, mut records, mut applied) =
            (Duration::ZERO, Duration::ZERO, Duration::ZERO, 0);
        loop {
            let t = Instant::now();
            let batch = profile
                .cache
                .outbox()
                .take_batch(org, orgdesk_domain::wire::MAX_MUTATIONS_PER_BATCH)
                .unwrap();
            if batch.is_empty() {
                break;
            }
            reads += t.elapsed();
            let t = Instant::now();
            let results = api.push_batch(org, &batch).await.unwrap();
            server += t.elapsed();
            let t = Instant::now();
            applied += profile
                .cache
                .outbox()
                .record_results(org, &results.results, Utc::now())
                .unwrap()
                .applied;
            records += t.elapsed();
        }
        let in_steps = started.elapsed();
        assert_eq!(applied, count);

        let changes = edits(PUSH_FROM + PUSHED, "Pushed");
        let count = changes.len();
        let started = Instant::now();
        profile
            .cache
            .outbox()
            .stage_many(org, changes, today, Utc::now())
            .unwrap();
        let staging = started.elapsed();
        let started = Instant::now();
        let pushed = sync::push(&api, &profile.cache, org, &mut |_| {})
            .await
            .unwrap();
        let push = started.elapsed();
        assert_eq!(pushed.applied, count);
        println!(
            "push of {count} mutations: {:.0} ms (staging them, checked offline: {:.0} ms)",
            ms(push),
            ms(staging)
        );
        println!(
            "  in steps, one after the other: {:.0} ms = server {:.0} ms + client {:.0} ms (reads {:.0} + records {:.0})",
            ms(in_steps),
            ms(server),
            ms(reads + records),
            ms(reads),
            ms(records),
        );
        println!("client peak RSS over the whole run: {:.0} MB", peak_rss_mb());

        // The first sync, split: fetch every page of a full snapshot (server + HTTP +
        // decode), then apply them to an empty cache (transactions + index rebuild).
        let started = Instant::now();
        let mut pages = Vec::new();
        let mut cursor = "0".to_owned();
        loop {
            let page = api.changes(org, &cursor, sync::PAGE_LIMIT).await.unwrap();
            cursor = page.next.clone();
            let more = page.has_more;
            pages.push(page);
            if !more {
                break;
            }
        }
        let fetch = started.elapsed();
        let fresh = Profile::open(client_dir.path(), "apply-only").unwrap();
        fresh
            .cache
            .replace_org_list(&api.my_orgs().await.unwrap(), Utc::now())
            .unwrap();
        let started = Instant::now();
        fresh.cache.begin_bulk().unwrap();
        for page in &pages {
            fresh.cache.apply_page(org, page, Utc::now()).unwrap();
        }
        let apply = started.elapsed();
        let started = Instant::now();
        fresh.cache.finish_bulk().unwrap();
        let rebuild = started.elapsed();
        println!(
            "first sync split: {} pages fetched in {:.0} ms; applied in {:.0} ms + search index rebuilt in {:.0} ms",
            pages.len(),
            ms(fetch),
            ms(apply),
            ms(rebuild)
        );
    });
    drop(child.stdin.take());
    let _ = child.wait();
}

fn title_edit(user_id: UserId, title: &str) -> MutationKind {
    MutationKind::EditMember {
        user_id,
        edit: MemberEdit {
            profile: Some(ProfileEdit {
                title: Some(title.into()),
                ..ProfileEdit::default()
            }),
            ..MemberEdit::default()
        },
    }
}
