//! The sync protocol's server side: the change feed (`ChangeFeed`) and the mutation push.
//!
//! A page of the feed is every synced row whose change number lies in `(since, head]`,
//! where `head` is the org's counter read first. Writers take numbers in commit order (see
//! [`crate::store::next_seq`]), so every row numbered up to `head` is committed and visible
//! to the queries that follow, and a row changed again meanwhile moves past `head` into a
//! later page: no reader ever skips a row. Rows are compacted by construction (each row
//! carries only its latest number), and a page never splits one change number.

use crate::AppState;
use crate::access::OrgCaller;
use crate::error::{Error, Result};
use crate::members::{self, MEMBER_COLUMNS, MEMBER_FROM, Precondition};
use crate::orgs;
use crate::sql::{self, Query};
use crate::store::{
    self, DAY_MS, TOMBSTONE_MEMBER, TOMBSTONE_PROPERTY, TOMBSTONE_WORKSPACE, int, opt_str, text,
};
use base64::Engine;
use orgdesk_domain::wire::Mutation;
use orgdesk_domain::wire::{
    Change, ChangesPage, MAX_MUTATIONS_PER_BATCH, MUTATION_ID_MAX_LEN, MutationBatch,
    MutationOutcome, MutationResult, MutationResults, PropertyDefinition, Workspace,
};
use orgdesk_domain::{Action, ErrorCode, Grant};
use sqlx::Row;
use std::collections::HashMap;

pub const DEFAULT_LIMIT: u32 = 1000;
pub const MAX_LIMIT: u32 = 10_000;

/// What a cursor remembers: the last change number sent and the caller's scope version
/// when it was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    seq: i64,
    scope_version: i64,
}

fn encode(cursor: Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("v1.{}.{}", cursor.seq, cursor.scope_version))
}

fn decode(text: &str) -> Result<Option<Cursor>> {
    if text.is_empty() || text == "0" {
        return Ok(None);
    }
    let bad = || {
        Error::with_message(
            ErrorCode::InvalidInput,
            "since: not a cursor this server issued",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(seq), Some(version), None) => Ok(Some(Cursor {
            seq: seq.parse().map_err(|_| bad())?,
            scope_version: version.parse().map_err(|_| bad())?,
        })),
        _ => Err(bad()),
    }
}

struct Entry {
    seq: i64,
    change: Change,
}

/// `GET /api/v1/orgs/{org}/changes?since=&limit=`.
pub async fn changes(
    state: &AppState,
    caller: &OrgCaller,
    since: Option<&str>,
    limit: Option<u32>,
) -> Result<ChangesPage> {
    let grant = caller.can(Action::ListUsers)?;
    let limit = i64::from(limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT));
    let cursor = since.map(decode).transpose()?.flatten();
    let head = sqlx::query("SELECT change_seq, pruned_seq FROM orgs WHERE id = $1")
        .bind(caller.org_id)
        .fetch_one(&state.store.pool)
        .await?;
    let (head, pruned) = (int(&head, "change_seq")?, int(&head, "pruned_seq")?);
    let since = match cursor {
        None => 0,
        Some(cursor) => {
            if cursor.scope_version != caller.scope_version {
                return Err(Error::with_message(
                    ErrorCode::ResyncRequired,
                    "Your role or scope in this organization changed; sync it again from the start.",
                ));
            }
            if cursor.seq < pruned || cursor.seq > head {
                return Err(Error::with_message(
                    ErrorCode::ResyncRequired,
                    "This sync position is older than the server keeps removals for; sync again from the start.",
                ));
            }
            cursor.seq
        }
    };
    let granted = if grant == Grant::Limited {
        Some(granted_workspaces(state, caller).await?)
    } else {
        None
    };
    let mut entries = read(
        state,
        caller,
        grant,
        granted.as_deref(),
        since,
        head,
        Some(limit + 1),
    )
    .await?;
    let (next, has_more) = if entries.len() as i64 <= limit {
        (head, false)
    } else {
        let boundary = entries[limit as usize - 1].seq;
        if entries[limit as usize].seq == boundary {
            // Never split one change number across pages.
            entries = read(
                state,
                caller,
                grant,
                granted.as_deref(),
                since,
                boundary,
                None,
            )
            .await?;
        } else {
            entries.truncate(limit as usize);
        }
        (boundary, true)
    };
    Ok(ChangesPage {
        changes: entries.into_iter().map(|e| e.change).collect(),
        next: encode(Cursor {
            seq: next,
            scope_version: caller.scope_version,
        }),
        has_more,
    })
}

async fn granted_workspaces(state: &AppState, caller: &OrgCaller) -> Result<Vec<i64>> {
    let granted: Option<String> = sqlx::query_scalar(
        "SELECT workspaces FROM memberships WHERE org_id = $1 AND account_id = $2",
    )
    .bind(caller.org_id)
    .bind(caller.account_id)
    .fetch_optional(&state.store.pool)
    .await?;
    Ok(granted
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| id.parse().ok())
        .collect())
}

/// Every visible row numbered in `(since, upto]`, sorted by number; `limit` rows per kind at
/// most.
async fn read(
    state: &AppState,
    caller: &OrgCaller,
    grant: Grant,
    granted: Option<&[i64]>,
    since: i64,
    upto: i64,
    limit: Option<i64>,
) -> Result<Vec<Entry>> {
    let pool = &state.store.pool;
    let today = state.clock.today();
    let limit_sql = |q: &mut Query| match limit {
        Some(limit) => format!(" LIMIT {}", q.int(limit)),
        None => String::new(),
    };
    let mut entries = Vec::new();

    let org = orgs::load_org(pool, caller.org_id).await?;
    let org_seq: i64 = sqlx::query_scalar("SELECT seq FROM orgs WHERE id = $1")
        .bind(caller.org_id)
        .fetch_one(pool)
        .await?;
    if org_seq > since && org_seq <= upto {
        entries.push(Entry {
            seq: org_seq,
            change: Change::Org { org },
        });
    }

    let mut q = Query::new("");
    let (o, s, u) = (q.int(caller.org_id), q.int(since), q.int(upto));
    let scope = sql::scope_filter(
        &mut q,
        &caller.actor,
        "m.account_id",
        "a.email",
        "a.email_domain",
    );
    let lim = limit_sql(&mut q);
    let inner = format!(
        "SELECT {MEMBER_COLUMNS} {MEMBER_FROM} WHERE m.org_id = {o} AND m.seq > {s} AND m.seq <= {u} AND {scope} ORDER BY m.seq{lim}"
    );
    q.push(&sql::json_rows(
        state.store.backend,
        &sql::result_names(MEMBER_COLUMNS),
        &inner,
        "seq",
    ));
    // An empty aggregate is NULL on PostgreSQL and `[]` on SQLite.
    let page: Option<String> = q.build().fetch_one(pool).await?.try_get("page")?;
    let rows: Vec<members::StoredMember> = match page {
        Some(page) => store::parse_json(&page, "feed page")?,
        None => Vec::new(),
    };
    entries.reserve(rows.len());
    for row in rows {
        let seq = row.seq;
        let member = row.into_member(today)?;
        let member = if grant == Grant::Full {
            member
        } else {
            members::directory_view(member)
        };
        entries.push(Entry {
            seq,
            change: Change::Member(Box::new(member)),
        });
    }

    let mut q = Query::new("");
    let (o, s, u) = (q.int(caller.org_id), q.int(since), q.int(upto));
    let lim = limit_sql(&mut q);
    q.push(&format!("SELECT id, name, version, seq FROM workspaces WHERE org_id = {o} AND seq > {s} AND seq <= {u} ORDER BY seq{lim}"));
    for row in q.fetch_all(pool).await? {
        let workspace = Workspace {
            id: int(&row, "id")?,
            name: text(&row, "name")?,
            version: int(&row, "version")?,
        };
        if granted.is_none_or(|g| g.contains(&workspace.id)) {
            entries.push(Entry {
                seq: int(&row, "seq")?,
                change: Change::Workspace(workspace),
            });
        }
    }

    let mut q = Query::new("");
    let (o, s, u) = (q.int(caller.org_id), q.int(since), q.int(upto));
    let lim = limit_sql(&mut q);
    q.push(&format!(
        "SELECT id, key, label, kind, required, version, seq FROM property_definitions WHERE org_id = {o} AND seq > {s} AND seq <= {u} ORDER BY seq{lim}"
    ));
    for row in q.fetch_all(pool).await? {
        let definition = PropertyDefinition {
            id: int(&row, "id")?,
            key: text(&row, "key")?,
            label: text(&row, "label")?,
            kind: store::parse_json(&text(&row, "kind")?, "property kind")?,
            required: store::boolean(&row, "required")?,
            version: int(&row, "version")?,
        };
        entries.push(Entry {
            seq: int(&row, "seq")?,
            change: Change::PropertyDefinition(definition),
        });
    }

    let mut q = Query::new("");
    let (o, s, u) = (q.int(caller.org_id), q.int(since), q.int(upto));
    let lim = limit_sql(&mut q);
    q.push(&format!("SELECT kind, row_id, email, seq FROM tombstones WHERE org_id = {o} AND seq > {s} AND seq <= {u} ORDER BY seq{lim}"));
    for row in q.fetch_all(pool).await? {
        let id = int(&row, "row_id")?;
        let change = match text(&row, "kind")?.as_str() {
            TOMBSTONE_MEMBER => {
                let email = opt_str(&row, "email")?.unwrap_or_default();
                if !caller.actor.sees(Some(id), &email) {
                    continue;
                }
                Change::MemberRemoved { id }
            }
            TOMBSTONE_WORKSPACE => Change::WorkspaceRemoved { id },
            TOMBSTONE_PROPERTY => Change::PropertyDefinitionRemoved { id },
            _ => continue,
        };
        entries.push(Entry {
            seq: int(&row, "seq")?,
            change,
        });
    }
    entries.sort_by_key(|e| e.seq);
    Ok(entries)
}

/// Drops tombstones past the retention (remembering the newest dropped number, so older
/// cursors must resync), stored mutation results past theirs, and dead sessions.
pub async fn prune(state: &AppState) -> Result<()> {
    let now = state.clock.now_ms();
    let days = |d: u64| i64::try_from(d).unwrap_or(i64::MAX / DAY_MS) * DAY_MS;
    let cutoff = now - days(state.settings.tombstone_retention_days);
    let mut tx = state.store.begin().await?;
    sqlx::query(
        "UPDATE orgs SET pruned_seq = (SELECT MAX(t.seq) FROM tombstones t WHERE t.org_id = orgs.id AND t.removed_at < $1) \
         WHERE id IN (SELECT org_id FROM tombstones WHERE removed_at < $1)",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM tombstones WHERE removed_at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM mutation_results WHERE created_at < $1")
        .bind(now - days(state.settings.mutation_result_days))
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// `POST /api/v1/orgs/{org}/mutations`: the batch's changes in one transaction (see
/// [`members::BatchTx`]: every mutation is still atomic on its own, a refused one leaves no
/// trace) and their results stored in the same transaction. A transaction's mutations share
/// one change number; a feed page never splits one.
pub async fn push(
    state: &AppState,
    caller: &OrgCaller,
    batch: MutationBatch,
) -> Result<MutationResults> {
    if batch.mutations.len() > MAX_MUTATIONS_PER_BATCH {
        return Err(Error::with_message(
            ErrorCode::PayloadTooLarge,
            format!(
                "At most {MAX_MUTATIONS_PER_BATCH} mutations per batch ({} were sent).",
                batch.mutations.len()
            ),
        ));
    }
    // Replays answer from one look-up per batch, made again inside the transaction (once it
    // holds the org's write lock) for the rest, so two pushes of the same id never race. A
    // batch answered wholly from it opens no transaction.
    let mut stored = {
        let mut conn = state.store.pool.acquire().await?;
        stored_results(&mut conn, caller, &batch.mutations, |_| true).await?
    };
    let valid = |m: &Mutation| !m.id.is_empty() && m.id.len() <= MUTATION_ID_MAX_LEN;
    // Hash outside the transaction: it takes tens of milliseconds and must not hold the
    // org's write lock.
    let mut prepared = Vec::with_capacity(batch.mutations.len());
    for mutation in &batch.mutations {
        prepared.push(if stored.contains_key(&mutation.id) || !valid(mutation) {
            None
        } else {
            Some(members::prepare(&mutation.change).await)
        });
    }
    let mut outcomes: Vec<Option<MutationOutcome>> = vec![None; batch.mutations.len()];
    // Ids applied or refused earlier in this batch, by index: a repeated id answers the
    // same (filled in at the end, once new accounts' ids are known).
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut repeated: Vec<(usize, usize)> = Vec::new();
    let mut open: Option<Open> = None;
    for (index, prepared) in prepared.into_iter().enumerate() {
        let mutation = &batch.mutations[index];
        if let Some(outcome) = stored.get(&mutation.id) {
            outcomes[index] = Some(outcome.clone());
            continue;
        }
        if let Some(&earlier) = first.get(mutation.id.as_str()) {
            repeated.push((index, earlier));
            continue;
        }
        let Some(prepared) = prepared else {
            outcomes[index] = Some(MutationOutcome::Rejected {
                code: ErrorCode::InvalidInput,
                message: format!("id: a mutation id has 1 to {MUTATION_ID_MAX_LEN} characters"),
            });
            continue;
        };
        // PostgreSQL slows down once a transaction has more than 64 subtransactions (each
        // savepoint that writes is one): it commits after a few dozen savepoints.
        if open.as_ref().is_some_and(|o| {
            state.store.backend == store::Backend::Postgres && o.batch.savepoints >= 50
        }) && let Some(done) = open.take()
        {
            done.finish(state, caller, &mut outcomes).await?;
        }
        if open.is_none() {
            let mut attempt = 0;
            open = loop {
                attempt += 1;
                match begin_batch(state, caller, &batch.mutations, index, &mut stored).await {
                    Err(error) if attempt < 3 && members::is_transient(&error) => {
                        tracing::info!(%error, attempt, "retrying a batch after a transient conflict");
                    }
                    answer => break Some(answer?),
                }
            };
            if let Some(outcome) = stored.get(&mutation.id) {
                outcomes[index] = Some(outcome.clone());
                continue;
            }
        }
        let Some(o) = open.as_mut() else {
            return Err(Error::internal("a mutation to apply without a transaction"));
        };
        let outcome = apply_one(state, caller, &mut o.batch, index, mutation, prepared).await?;
        // What was stored answers a repeated id later in the batch; conflicts and internal
        // failures are not stored.
        let kept = match &outcome {
            MutationOutcome::Applied { .. } => true,
            MutationOutcome::Rejected { code, .. } => *code != ErrorCode::Internal,
            MutationOutcome::Conflict { .. } => false,
        };
        if kept {
            o.to_store.push(index);
            first.insert(mutation.id.as_str(), index);
        }
        outcomes[index] = Some(outcome);
    }
    if let Some(done) = open {
        done.finish(state, caller, &mut outcomes).await?;
    }
    for (index, earlier) in repeated {
        outcomes[index] = outcomes[earlier].clone();
    }
    let mut results = Vec::with_capacity(batch.mutations.len());
    for (mutation, outcome) in batch.mutations.iter().zip(outcomes) {
        results.push(MutationResult {
            id: mutation.id.clone(),
            outcome: outcome.ok_or_else(|| Error::internal("a mutation without an answer"))?,
        });
    }
    Ok(MutationResults { results })
}

/// A batch's open transaction and the results (by index) to store in it.
struct Open<'m> {
    batch: members::BatchTx,
    mutations: &'m [Mutation],
    to_store: Vec<usize>,
}

impl Open<'_> {
    /// Writes what is held back, fills in new accounts' ids, stores the results, commits,
    /// and wakes the mail task.
    async fn finish(
        mut self,
        state: &AppState,
        caller: &OrgCaller,
        outcomes: &mut [Option<MutationOutcome>],
    ) -> Result<()> {
        self.batch.flush().await?;
        for (index, id) in self.batch.take_new_ids() {
            if let Some(MutationOutcome::Applied { user_id, .. }) =
                outcomes.get_mut(index).and_then(Option::as_mut)
            {
                *user_id = id;
            }
        }
        let mut to_store = Vec::with_capacity(self.to_store.len());
        for index in self.to_store {
            if let (Some(mutation), Some(Some(outcome))) =
                (self.mutations.get(index), outcomes.get(index))
            {
                to_store.push((mutation.id.as_str(), outcome));
            }
        }
        store_results(&mut self.batch.tx, state, caller, &to_store).await?;
        self.batch.tx.commit().await?;
        if self.batch.mail_queued {
            state.mail_wake.notify_one();
        }
        Ok(())
    }
}

/// Opens a transaction for the batch's mutations from `from` on: takes its change number
/// (the org's write lock) first, then finds the ids stored since the first look-up.
async fn begin_batch<'m>(
    state: &AppState,
    caller: &OrgCaller,
    mutations: &'m [Mutation],
    from: usize,
    stored: &mut HashMap<String, MutationOutcome>,
) -> Result<Open<'m>> {
    let mut batch = members::BatchTx::begin(state, caller).await?;
    let rest = &mutations[from..];
    let found =
        stored_results(&mut batch.tx, caller, rest, |m| !stored.contains_key(&m.id)).await?;
    stored.extend(found);
    batch.expect(
        rest.iter()
            .enumerate()
            .filter(|(_, m)| !stored.contains_key(&m.id))
            .map(|(offset, m)| (from + offset, &m.change)),
    );
    Ok(Open {
        batch,
        mutations,
        to_store: Vec::new(),
    })
}

/// One mutation: applied, or settled (a refusal, or a conflict answered with the current
/// row).
async fn apply_one(
    state: &AppState,
    caller: &OrgCaller,
    batch: &mut members::BatchTx,
    index: usize,
    mutation: &Mutation,
    prepared: Result<members::Prepared>,
) -> Result<MutationOutcome> {
    let pre = Precondition {
        base_version: mutation.base_version,
    };
    let error = match prepared {
        Err(error) => error,
        Ok(prepared) => {
            match batch
                .apply(state, caller, index, &mutation.change, pre, &prepared)
                .await?
            {
                Ok(applied) => {
                    return Ok(MutationOutcome::Applied {
                        user_id: applied.user_id,
                        version: applied.version,
                    });
                }
                Err(error) => error,
            }
        }
    };
    settle(state, caller, batch, mutation, error).await
}

/// Stores a batch's results, a few hundred rows per statement.
async fn store_results(
    tx: &mut store::Tx,
    state: &AppState,
    caller: &OrgCaller,
    results: &[(&str, &MutationOutcome)],
) -> Result<()> {
    let now = state.clock.now_ms();
    for chunk in results.chunks(store::MULTI_ROW_CHUNK) {
        let mut q = Query::many(tx);
        let mut rows = Vec::with_capacity(chunk.len());
        for (id, outcome) in chunk {
            let result = serde_json::to_string(*outcome).map_err(Error::internal)?;
            rows.push(format!(
                "({}, {}, {}, {}, {})",
                q.int(caller.account_id),
                q.text(*id),
                q.int(caller.org_id),
                q.text(result),
                q.int(now)
            ));
        }
        q.push(&format!(
            "INSERT INTO mutation_results (account_id, mutation_id, org_id, result, created_at) VALUES {} \
             ON CONFLICT (account_id, mutation_id) DO NOTHING",
            rows.join(", ")
        ));
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

async fn stored_results(
    conn: &mut sqlx::AnyConnection,
    caller: &OrgCaller,
    mutations: &[Mutation],
    wanted: impl Fn(&Mutation) -> bool,
) -> Result<HashMap<String, MutationOutcome>> {
    let mut stored = HashMap::new();
    let wanted: Vec<&Mutation> = mutations.iter().filter(|m| wanted(m)).collect();
    for chunk in wanted.chunks(MAX_MUTATIONS_PER_BATCH) {
        let mut q = Query::many(conn);
        let account = q.int(caller.account_id);
        let ids: Vec<String> = chunk.iter().map(|m| q.text(m.id.clone())).collect();
        if q.on_sqlite() {
            q.push(&format!(
                "SELECT mutation_id, result FROM mutation_results WHERE account_id = {account} AND mutation_id IN ({})",
                ids.join(", ")
            ));
        } else {
            // A join with the list, not `IN (...)`: PostgreSQL's generic plan for a prepared
            // `IN` of 1000 parameters rebuilds the array for every row of the account's
            // results and compares each (hundreds of milliseconds a batch once the plan
            // switched). SQLite plans `IN` well and the join badly.
            q.push(&format!(
                "SELECT r.mutation_id, r.result FROM (VALUES ({})) AS v \
                 JOIN mutation_results r ON r.mutation_id = v.column1 WHERE r.account_id = {account}",
                ids.join("), (")
            ));
        }
        for row in q.fetch_all(&mut *conn).await? {
            stored.insert(
                text(&row, "mutation_id")?,
                store::parse_json(&text(&row, "result")?, "mutation result")?,
            );
        }
    }
    Ok(stored)
}

/// The answer to a mutation that failed (already rolled back to its savepoint).
async fn settle(
    state: &AppState,
    caller: &OrgCaller,
    batch: &mut members::BatchTx,
    mutation: &Mutation,
    error: Error,
) -> Result<MutationOutcome> {
    let denied = match error {
        Error::Denied(denied) => denied,
        other => {
            tracing::error!(error = %other, "mutation failed");
            return Ok(MutationOutcome::Rejected {
                code: ErrorCode::Internal,
                message: ErrorCode::Internal.message().to_owned(),
            });
        }
    };
    let user_id = members::target_of(&mutation.change);
    if denied.code == ErrorCode::VersionMismatch
        || (denied.code == ErrorCode::NotFound && mutation.base_version.is_some())
    {
        // Conflicts are not stored: the client resolves one by sending the mutation again
        // with the version it now builds on.
        // The current row as the database has it, held-back writes included.
        batch.flush().await?;
        let current = match user_id {
            Some(id) => members::get_with(&mut *batch.tx, state, caller, id)
                .await
                .ok()
                .map(Box::new),
            None => None,
        };
        return Ok(MutationOutcome::Conflict { current });
    }
    let outcome = MutationOutcome::Rejected {
        code: denied.code,
        message: denied.message,
    };
    Ok(outcome)
}
