//! The sync engine: `me/orgs` first (access loss purges, role/scope changes rebuild), then
//! the outbox is pushed, then each opened org's change feed is pulled page by page, one
//! transaction per page, so a crash resumes from the stored cursor.

use crate::api::Api;
use crate::cache::{Cache, OrgListChange};
use crate::error::{Error, Result};
use crate::outbox::{BatchOutcome, InFlight};
use chrono::Utc;
use orgdesk_domain::ErrorCode;
use orgdesk_domain::wire::{MAX_MUTATIONS_PER_BATCH, MutationResult, OrgId};
use serde::Serialize;

/// Rows asked for per feed page (the server's maximum): fewer round trips for a first
/// sync; an incremental page is as small as what changed.
pub const PAGE_LIMIT: u32 = 10_000;
/// A page at least this large switches the pull to bulk mode (index rebuilt at the end).
const BULK_PAGE_ROWS: usize = 2_000;

/// Test-only hook: when set, the process aborts right after a mutation batch's HTTP answer
/// arrives and before its results are recorded — the crash the outbox must survive.
pub const CRASH_AFTER_SEND_ENV: &str = "ORGDESK_TEST_CRASH_AFTER_SEND";

/// What the sync is doing, for progress bars and the UI's events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum SyncProgress {
    /// `me/orgs` was applied.
    Orgs { changes: Vec<OrgListChange> },
    /// A batch of staged changes was sent and its results recorded.
    Pushed {
        org: OrgId,
        sent: usize,
        outcome: BatchOutcome,
    },
    /// A page of an org's change feed was applied.
    Pulled {
        org: OrgId,
        pages: usize,
        rows: usize,
        rebuilding: bool,
    },
    /// The org's feed answered `resync_required`: it is rebuilt from cursor 0.
    Resync { org: OrgId },
    /// The org is caught up.
    Done { org: OrgId, rows: usize },
}

/// Which orgs to pull.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Only these orgs (they are marked opened); `None`: every opened org.
    pub orgs: Option<Vec<OrgId>>,
    /// Skip the push of the outbox.
    pub pull_only: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    pub org_changes: Vec<OrgListChange>,
    pub pushed: BatchOutcome,
    pub pulled: Vec<(OrgId, usize)>,
    /// Opened orgs whose roster the caller's role may not list (a member or guest where
    /// the member directory is off): nothing to cache, not an error.
    pub not_listable: Vec<OrgId>,
}

/// One org's change feed.
pub struct ChangeFeed<'a> {
    pub api: &'a Api,
    pub cache: &'a Cache,
    pub org: OrgId,
}

impl ChangeFeed<'_> {
    /// Pulls until caught up; returns the rows applied.
    pub async fn pull(&self, progress: &mut (dyn FnMut(SyncProgress) + Send)) -> Result<usize> {
        let org = self.org;
        let mut cursor = self
            .cache
            .org(org)?
            .ok_or_else(|| Error::NotFound(format!("organization {org} is not in the cache")))?
            .cursor;
        let mut rebuilding = cursor == "0";
        if rebuilding {
            self.cache.run(|c| c.begin_bulk()).await?;
        }
        let mut resynced = false;
        let (mut pages, mut rows) = (0, 0);
        // The next page is fetched while the previous one is written: one apply in flight
        // at a time, awaited before the next starts, so pages still commit in order and
        // the stored cursor is always that of the last page committed.
        let mut in_flight: Option<Apply> = None;
        loop {
            let page = match self.api.changes(org, &cursor, PAGE_LIMIT).await {
                Err(error) if error.is_api(ErrorCode::ResyncRequired) && !resynced => {
                    settle(
                        &mut in_flight,
                        org,
                        (&mut pages, &mut rows),
                        rebuilding,
                        progress,
                    )
                    .await?;
                    self.cache
                        .run(move |c| {
                            c.begin_bulk()?;
                            c.reset_org(org)
                        })
                        .await?;
                    progress(SyncProgress::Resync { org });
                    cursor = "0".into();
                    rebuilding = true;
                    resynced = true;
                    (pages, rows) = (0, 0);
                    continue;
                }
                Err(error) => {
                    // Let the page in flight commit: it is valid, and resuming starts after it.
                    settle(
                        &mut in_flight,
                        org,
                        (&mut pages, &mut rows),
                        rebuilding,
                        progress,
                    )
                    .await?;
                    return Err(error);
                }
                Ok(page) => page,
            };
            if page.changes.len() >= BULK_PAGE_ROWS && !rebuilding {
                self.cache.run(|c| c.begin_bulk()).await?;
                rebuilding = true;
            }
            let stalled = page.changes.is_empty() && page.next == cursor;
            let has_more = page.has_more;
            let next = page.next.clone();
            settle(
                &mut in_flight,
                org,
                (&mut pages, &mut rows),
                rebuilding,
                progress,
            )
            .await?;
            let cache = self.cache.clone();
            in_flight = Some(tokio::task::spawn_blocking(move || {
                cache.apply_page(org, &page, Utc::now())
            }));
            if !has_more {
                break;
            }
            if stalled {
                settle(
                    &mut in_flight,
                    org,
                    (&mut pages, &mut rows),
                    rebuilding,
                    progress,
                )
                .await?;
                return Err(Error::Protocol(format!(
                    "the feed of organization {org} says it has more but sent nothing"
                )));
            }
            cursor = next;
        }
        settle(
            &mut in_flight,
            org,
            (&mut pages, &mut rows),
            rebuilding,
            progress,
        )
        .await?;
        // The pages' commits left their pages in the WAL (no commit checkpoints): fold them
        // in now, off this path. Not after a bulk load: its index rebuild (`finish_bulk`)
        // comes next and starts the checkpoint itself, which would otherwise write a few
        // hundred megabytes back while the rebuild runs and its commit syncs.
        if !rebuilding {
            self.cache.checkpoint_in_background();
        }
        progress(SyncProgress::Done { org, rows });
        Ok(rows)
    }
}

type Apply = tokio::task::JoinHandle<Result<crate::cache::PageApplied>>;

/// Waits for the page being written, if any, and reports it.
async fn settle(
    in_flight: &mut Option<Apply>,
    org: OrgId,
    (pages, rows): (&mut usize, &mut usize),
    rebuilding: bool,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> Result<()> {
    if let Some(apply) = in_flight.take() {
        let applied = apply.await??;
        *pages += 1;
        *rows += applied.rows();
        progress(SyncProgress::Pulled {
            org,
            pages: *pages,
            rows: *rows,
            rebuilding,
        });
    }
    Ok(())
}

/// Sends `org`'s pending changes in batches and records each batch's results.
pub async fn push(
    api: &Api,
    cache: &Cache,
    org: OrgId,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> Result<BatchOutcome> {
    let pushed = push_batches(api, cache, org, progress).await;
    // Recording a large import's results may have entered bulk mode: rebuild the indexes
    // now, also after a failed batch, so that search is whole again.
    cache.run(|c| c.finish_bulk()).await?;
    // The batches' commits left their pages in the WAL (no commit checkpoints).
    cache.checkpoint_in_background();
    pushed
}

/// Sends the org's pending changes batch by batch, and records each batch's results while
/// the next batch is on its way: the server's work and the cache's overlap. The server
/// applies the batches in the order they are sent, each answered before the next is sent.
async fn push_batches(
    api: &Api,
    cache: &Cache,
    org: OrgId,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> Result<BatchOutcome> {
    let mut total = BatchOutcome::default();
    // The last batch sent, answered and not recorded yet.
    let mut answered: Option<Answered> = None;
    loop {
        let in_flight = answered
            .as_ref()
            .map(|a| a.in_flight.clone())
            .unwrap_or_default();
        let batch = cache
            .run(move |c| {
                c.outbox()
                    .take_batch_besides(org, MAX_MUTATIONS_PER_BATCH, &in_flight)
            })
            .await?;
        // Adds whose sealed password can no longer be opened were refused, not sent.
        total.rejected += batch.refused();
        if batch.is_empty() {
            // Nothing left, or only later changes to the answered batch's members, which are
            // sent once its results have rebased them.
            let Some(last) = answered.take() else { break };
            add_recorded(&mut total, progress, org, record(cache, org, last).await?);
            continue;
        }
        let previous = answered.take();
        let recording = async {
            match previous {
                Some(previous) => record(cache, org, previous).await.map(Some),
                None => Ok(None),
            }
        };
        let (results, recorded) = tokio::join!(api.push_batch(org, &batch), recording);
        // The results recorded count even if this batch's request failed: its changes stay
        // pending and go again at the next push.
        if let Some(recorded) = recorded? {
            add_recorded(&mut total, progress, org, recorded);
        }
        let results = results?;
        if std::env::var_os(CRASH_AFTER_SEND_ENV).is_some() {
            // The test of exactly-once delivery: die with the answer in hand, unrecorded.
            std::process::abort();
        }
        answered = Some(Answered {
            sent: batch.len(),
            in_flight: batch.in_flight().clone(),
            results: results.results,
        });
    }
    Ok(total)
}

/// A batch the server answered, whose results are still to be recorded.
struct Answered {
    sent: usize,
    in_flight: InFlight,
    results: Vec<MutationResult>,
}

/// A batch's results recorded: how many changes it sent, and what became of them.
struct Recorded {
    sent: usize,
    outcome: BatchOutcome,
}

async fn record(cache: &Cache, org: OrgId, answered: Answered) -> Result<Recorded> {
    let Answered { sent, results, .. } = answered;
    let outcome = cache
        .run(move |c| c.outbox().record_results(org, &results, Utc::now()))
        .await?;
    if outcome.applied + outcome.conflicts + outcome.rejected == 0 {
        return Err(Error::Protocol(format!(
            "the server answered a batch of {sent} changes without a result for any"
        )));
    }
    Ok(Recorded { sent, outcome })
}

fn add_recorded(
    total: &mut BatchOutcome,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
    org: OrgId,
    Recorded { sent, outcome }: Recorded,
) {
    total.applied += outcome.applied;
    total.conflicts += outcome.conflicts;
    total.rejected += outcome.rejected;
    progress(SyncProgress::Pushed { org, sent, outcome });
}

/// Fetches the orgs the account can open (`me/orgs`) and applies the list to the cache:
/// access loss purges, role or scope changes rebuild (see [`Cache::replace_org_list`]).
pub async fn refresh_orgs(api: &Api, cache: &Cache) -> Result<Vec<OrgListChange>> {
    let access = api.my_orgs().await?;
    cache
        .run(move |c| c.replace_org_list(&access, Utc::now()))
        .await
}

/// A full sync: orgs, then the outbox, then the feeds of the opened (or asked-for) orgs.
pub async fn sync(
    api: &Api,
    cache: &Cache,
    options: &SyncOptions,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> Result<SyncReport> {
    let org_changes = refresh_orgs(api, cache).await?;
    progress(SyncProgress::Orgs {
        changes: org_changes.clone(),
    });
    let cached = cache.run(|c| c.orgs()).await?;
    // An asked-for org that is no longer accessible was just purged (the report says so).
    let wanted: Vec<OrgId> = match &options.orgs {
        Some(orgs) => orgs
            .iter()
            .copied()
            .filter(|id| cached.iter().any(|o| o.id == *id))
            .collect(),
        None => cached.iter().filter(|o| o.opened).map(|o| o.id).collect(),
    };
    for &org in &wanted {
        cache.run(move |c| c.open_org(org)).await?;
    }
    let mut report = SyncReport {
        org_changes,
        ..SyncReport::default()
    };
    if !options.pull_only {
        let pending = cache.run(|c| c.outbox().orgs_with_pending()).await?;
        for org in pending {
            if cached.iter().any(|o| o.id == org) {
                let outcome = push(api, cache, org, progress).await?;
                report.pushed.applied += outcome.applied;
                report.pushed.conflicts += outcome.conflicts;
                report.pushed.rejected += outcome.rejected;
            }
        }
    }
    let mut pulled = Ok(());
    for org in wanted {
        match (ChangeFeed { api, cache, org }).pull(progress).await {
            Ok(rows) => report.pulled.push((org, rows)),
            Err(error) if error.is_api(ErrorCode::Forbidden) => report.not_listable.push(org),
            Err(error) => {
                pulled = Err(error);
                break;
            }
        }
    }
    // Leaves bulk mode (rebuilding the search index once) whatever entered it: a first
    // sync, a rebuild, a purge; also when a pull failed half-way, so search stays whole.
    cache.run(|c| c.finish_bulk()).await?;
    pulled.map(|()| report)
}
