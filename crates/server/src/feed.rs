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
use orgdesk_domain::wire::{
    Change, MAX_MUTATIONS_PER_BATCH, MUTATION_ID_MAX_LEN, MutationKind, MutationOutcome,
    PropertyDefinition, Workspace,
};
use orgdesk_domain::{Action, ErrorCode, Grant};
use serde_json::value::RawValue;
use sqlx::Row;
use std::borrow::Cow;
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

/// A change of a page, by its number.
struct Entry<'p> {
    seq: i64,
    change: PageChange<'p>,
}

/// A change as answered: a member straight from its stored row (see
/// [`members::FeedMember`]), anything else as its wire type.
// Nearly every change of a large page is a member: boxing them would cost an allocation
// each to save space on the few others.
#[allow(clippy::large_enum_variant)]
enum PageChange<'p> {
    Member(members::FeedMember<'p>),
    Other(&'p Change),
}

impl serde::Serialize for PageChange<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match self {
            PageChange::Member(member) => member.serialize(serializer),
            PageChange::Other(change) => change.serialize(serializer),
        }
    }
}

/// [`orgdesk_domain::wire::ChangesPage`] as it is written.
#[derive(serde::Serialize)]
struct PageAnswer<'p> {
    changes: Vec<PageChange<'p>>,
    next: String,
    has_more: bool,
}

/// `GET /api/v1/orgs/{org}/changes?since=&limit=`: the
/// [`orgdesk_domain::wire::ChangesPage`] as JSON.
pub async fn changes(
    state: &AppState,
    caller: &OrgCaller,
    since: Option<&str>,
    limit: Option<u32>,
) -> Result<Vec<u8>> {
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
    let today = state.clock.today();
    let full = grant == Grant::Full;
    let answer = |entries: Vec<Entry>, size: usize, next: i64, has_more: bool| {
        // Sized once: a 10,000-member page is megabytes, grown by doubling it was copied
        // over and over.
        let mut json = Vec::with_capacity(size);
        serde_json::to_writer(
            &mut json,
            &PageAnswer {
                changes: entries.into_iter().map(|e| e.change).collect(),
                next: encode(Cursor {
                    seq: next,
                    scope_version: caller.scope_version,
                }),
                has_more,
            },
        )
        .map_err(Error::internal)?;
        Ok(json)
    };
    let first = read(
        state,
        caller,
        granted.as_deref(),
        since,
        head,
        Some(limit + 1),
    )
    .await?;
    let mut entries = first.entries(today, full)?;
    if entries.len() as i64 <= limit {
        return answer(entries, first.size_hint(), head, false);
    }
    let boundary = entries[limit as usize - 1].seq;
    if entries[limit as usize].seq == boundary {
        // Never split one change number across pages.
        drop(entries);
        let all = read(state, caller, granted.as_deref(), since, boundary, None).await?;
        return answer(all.entries(today, full)?, all.size_hint(), boundary, true);
    }
    entries.truncate(limit as usize);
    answer(entries, first.size_hint(), boundary, true)
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

/// The rows of a page as read: the members as one JSON array (read by
/// [`Fetched::entries`] without copying), the rest as their wire types.
struct Fetched {
    members: Option<String>,
    others: Vec<(i64, Change)>,
}

impl Fetched {
    /// About the size of the page's JSON: its members' keys make it larger than their
    /// stored arrays.
    fn size_hint(&self) -> usize {
        self.members.as_ref().map_or(0, |page| page.len() * 2) + 64 * self.others.len() + 256
    }

    /// Every change, sorted by number; `full` is false for the member directory's view.
    fn entries(&self, today: chrono::NaiveDate, full: bool) -> Result<Vec<Entry<'_>>> {
        let rows: Vec<members::PageMember> = match &self.members {
            Some(page) => serde_json::from_str(page)
                .map_err(|e| Error::internal(format!("stored feed page does not parse: {e}")))?,
            None => Vec::new(),
        };
        let mut entries = Vec::with_capacity(rows.len() + self.others.len());
        for row in rows {
            let seq = row.seq;
            entries.push(Entry {
                seq,
                change: PageChange::Member(members::FeedMember::new(row, today, full)?),
            });
        }
        entries.extend(self.others.iter().map(|(seq, change)| Entry {
            seq: *seq,
            change: PageChange::Other(change),
        }));
        entries.sort_by_key(|e| e.seq);
        Ok(entries)
    }
}

/// Every visible row numbered in `(since, upto]`; `limit` rows per kind at most.
async fn read(
    state: &AppState,
    caller: &OrgCaller,
    granted: Option<&[i64]>,
    since: i64,
    upto: i64,
    limit: Option<i64>,
) -> Result<Fetched> {
    let pool = &state.store.pool;
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
        entries.push((org_seq, Change::Org { org }));
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
    // In no particular order: `Fetched::entries` sorts the page anyway.
    q.push(&sql::json_rows(
        state.store.backend,
        &sql::result_names(MEMBER_COLUMNS),
        &inner,
    ));
    // An empty aggregate is NULL on PostgreSQL and `[]` on SQLite.
    let page: Option<String> = q.build().fetch_one(pool).await?.try_get("page")?;

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
            entries.push((int(&row, "seq")?, Change::Workspace(workspace)));
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
        entries.push((int(&row, "seq")?, Change::PropertyDefinition(definition)));
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
        entries.push((int(&row, "seq")?, change));
    }
    Ok(Fetched {
        members: page,
        others: entries,
    })
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

/// A pushed batch as first read: each mutation's id and version, its change left as raw
/// JSON. Only the changes of mutations not already stored are decoded (a replayed batch
/// of 1000 adds spent most of its time decoding changes it never used); a change of the
/// wrong shape among those still refuses the whole batch, as before.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBatch<'a> {
    #[serde(borrow)]
    mutations: Vec<RawMutation<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMutation<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(default)]
    base_version: Option<i64>,
    #[serde(borrow)]
    change: &'a RawValue,
}

/// A mutation of the batch: its change is decoded unless its result was stored.
struct Pushed<'a> {
    id: Cow<'a, str>,
    base_version: Option<i64>,
    change: Option<MutationKind>,
}

/// An outcome to answer: as a stored JSON object (`{"outcome": ...}`), or still to
/// serialise.
#[derive(Clone)]
enum Answer {
    Json(String),
    Outcome(MutationOutcome),
}

/// The answer to a push: the [`orgdesk_domain::wire::MutationResults`] JSON, built from the stored outcomes' text
/// without parsing them.
pub struct PushAnswer(pub Vec<u8>);

/// Why a body is refused before anything runs: malformed JSON (`bad_request`) or the wrong
/// shape (`invalid_input`), with serde's message.
fn body_error(error: &serde_json::Error, at: Option<usize>) -> Error {
    let code = match error.classify() {
        serde_json::error::Category::Data => ErrorCode::InvalidInput,
        _ => ErrorCode::BadRequest,
    };
    let place = at.map_or(String::new(), |i| format!("mutations[{i}].change: "));
    Error::with_message(
        code,
        format!("Failed to deserialize the JSON body into the target type: {place}{error}"),
    )
}

/// `POST /api/v1/orgs/{org}/mutations`: the batch's changes in one transaction (see
/// [`members::BatchTx`]: every mutation is still atomic on its own, a refused one leaves no
/// trace) and their results stored in the same transaction. A transaction's mutations share
/// one change number; a feed page never splits one. `body` is the request's JSON, a
/// [`orgdesk_domain::wire::MutationBatch`].
pub async fn push(state: &AppState, caller: &OrgCaller, body: &[u8]) -> Result<PushAnswer> {
    let raw: RawBatch = serde_json::from_slice(body).map_err(|e| body_error(&e, None))?;
    if raw.mutations.len() > MAX_MUTATIONS_PER_BATCH {
        return Err(Error::with_message(
            ErrorCode::PayloadTooLarge,
            format!(
                "At most {MAX_MUTATIONS_PER_BATCH} mutations per batch ({} were sent).",
                raw.mutations.len()
            ),
        ));
    }
    // Replays answer from one look-up per batch, made again inside the transaction (once it
    // holds the org's write lock) for the rest, so two pushes of the same id never race. A
    // batch answered wholly from it opens no transaction.
    let mut stored = {
        let mut conn = state.store.pool.acquire().await?;
        stored_results(&mut conn, caller, raw.mutations.iter().map(|m| &*m.id)).await?
    };
    let mut mutations = Vec::with_capacity(raw.mutations.len());
    for (index, m) in raw.mutations.into_iter().enumerate() {
        let change = if stored.contains_key(&*m.id) {
            None
        } else {
            Some(serde_json::from_str(m.change.get()).map_err(|e| body_error(&e, Some(index)))?)
        };
        mutations.push(Pushed {
            id: m.id,
            base_version: m.base_version,
            change,
        });
    }
    let mutations = mutations;
    let valid = |id: &str| !id.is_empty() && id.len() <= MUTATION_ID_MAX_LEN;
    // Hash outside the transaction: it takes tens of milliseconds and must not hold the
    // org's write lock.
    let mut prepared = Vec::with_capacity(mutations.len());
    for mutation in &mutations {
        prepared.push(match &mutation.change {
            Some(change) if valid(&mutation.id) => Some(members::prepare(change).await),
            _ => None,
        });
    }
    let mut outcomes: Vec<Option<Answer>> = vec![None; mutations.len()];
    // Ids applied or refused earlier in this batch, by index: a repeated id answers the
    // same (filled in at the end, once new accounts' ids are known).
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut repeated: Vec<(usize, usize)> = Vec::new();
    let mut open: Option<Open> = None;
    for (index, prepared) in prepared.into_iter().enumerate() {
        let mutation = &mutations[index];
        if let Some(outcome) = stored.get(&*mutation.id) {
            outcomes[index] = Some(Answer::Json(outcome.clone()));
            continue;
        }
        if let Some(&earlier) = first.get(&*mutation.id) {
            repeated.push((index, earlier));
            continue;
        }
        let (Some(prepared), Some(change)) = (prepared, &mutation.change) else {
            outcomes[index] = Some(Answer::Outcome(MutationOutcome::Rejected {
                code: ErrorCode::InvalidInput,
                message: format!("id: a mutation id has 1 to {MUTATION_ID_MAX_LEN} characters"),
            }));
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
                match begin_batch(state, caller, &mutations, index, &mut stored).await {
                    Err(error) if attempt < 3 && members::is_transient(&error) => {
                        tracing::info!(%error, attempt, "retrying a batch after a transient conflict");
                    }
                    answer => break Some(answer?),
                }
            };
            if let Some(outcome) = stored.get(&*mutation.id) {
                outcomes[index] = Some(Answer::Json(outcome.clone()));
                continue;
            }
        }
        let Some(o) = open.as_mut() else {
            return Err(Error::internal("a mutation to apply without a transaction"));
        };
        let outcome = apply_one(
            state,
            caller,
            &mut o.batch,
            index,
            change,
            mutation.base_version,
            prepared,
        )
        .await?;
        // What was stored answers a repeated id later in the batch; conflicts and internal
        // failures are not stored.
        let kept = match &outcome {
            MutationOutcome::Applied { .. } => true,
            MutationOutcome::Rejected { code, .. } => *code != ErrorCode::Internal,
            MutationOutcome::Conflict { .. } => false,
        };
        if kept {
            o.to_store.push(index);
            first.insert(&mutation.id, index);
        }
        outcomes[index] = Some(Answer::Outcome(outcome));
    }
    if let Some(done) = open {
        done.finish(state, caller, &mut outcomes).await?;
    }
    for (index, earlier) in repeated {
        outcomes[index] = outcomes[earlier].clone();
    }
    // `MutationResults` as serde writes it (a result is its id followed by its outcome's
    // fields), spliced from each outcome's JSON object.
    let mut json = Vec::with_capacity(mutations.len() * 64 + 16);
    json.extend_from_slice(b"{\"results\":[");
    for (n, (mutation, outcome)) in mutations.iter().zip(outcomes).enumerate() {
        let outcome = match outcome {
            Some(Answer::Json(text)) => text,
            Some(Answer::Outcome(outcome)) => {
                serde_json::to_string(&outcome).map_err(Error::internal)?
            }
            None => return Err(Error::internal("a mutation without an answer")),
        };
        if n > 0 {
            json.push(b',');
        }
        json.extend_from_slice(b"{\"id\":");
        serde_json::to_writer(&mut json, &*mutation.id).map_err(Error::internal)?;
        let fields = outcome
            .trim()
            .strip_prefix('{')
            .ok_or_else(|| Error::internal("a stored mutation result is not a JSON object"))?
            .trim_start();
        if !fields.starts_with('}') {
            json.push(b',');
        }
        json.extend_from_slice(fields.as_bytes());
    }
    json.extend_from_slice(b"]}");
    Ok(PushAnswer(json))
}

/// A batch's open transaction and the results (by index) to store in it.
struct Open<'m> {
    batch: members::BatchTx,
    mutations: &'m [Pushed<'m>],
    to_store: Vec<usize>,
}

impl Open<'_> {
    /// Writes what is held back, fills in new accounts' ids, stores the results (whose JSON
    /// then answers them too), commits, and wakes the mail task.
    async fn finish(
        mut self,
        state: &AppState,
        caller: &OrgCaller,
        outcomes: &mut [Option<Answer>],
    ) -> Result<()> {
        self.batch.flush().await?;
        for (index, id) in self.batch.take_new_ids() {
            if let Some(Answer::Outcome(MutationOutcome::Applied { user_id, .. })) =
                outcomes.get_mut(index).and_then(Option::as_mut)
            {
                *user_id = id;
            }
        }
        // Serialised once: the stored text answers the push too.
        for &index in &self.to_store {
            if let Some(slot) = outcomes.get_mut(index)
                && let Some(Answer::Outcome(outcome)) = slot
            {
                let text = serde_json::to_string(outcome).map_err(Error::internal)?;
                *slot = Some(Answer::Json(text));
            }
        }
        let mut to_store = Vec::with_capacity(self.to_store.len());
        for &index in &self.to_store {
            if let (Some(mutation), Some(Some(Answer::Json(text)))) =
                (self.mutations.get(index), outcomes.get(index))
            {
                to_store.push((&*mutation.id, text.as_str()));
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
    mutations: &'m [Pushed<'m>],
    from: usize,
    stored: &mut HashMap<String, String>,
) -> Result<Open<'m>> {
    let mut batch = members::BatchTx::begin(state, caller).await?;
    let rest = &mutations[from..];
    let found = stored_results(
        &mut batch.tx,
        caller,
        rest.iter()
            .filter(|m| !stored.contains_key(&*m.id))
            .map(|m| &*m.id),
    )
    .await?;
    stored.extend(found);
    batch.expect(
        rest.iter()
            .enumerate()
            .filter(|(_, m)| !stored.contains_key(&*m.id))
            .filter_map(|(offset, m)| Some((from + offset, m.change.as_ref()?))),
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
    change: &MutationKind,
    base_version: Option<i64>,
    prepared: Result<members::Prepared>,
) -> Result<MutationOutcome> {
    let pre = Precondition { base_version };
    let error = match prepared {
        Err(error) => error,
        Ok(prepared) => {
            match batch
                .apply(state, caller, index, change, pre, &prepared)
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
    settle(state, caller, batch, change, base_version, error).await
}

/// Stores a batch's results (each its outcome's JSON), a few hundred rows per statement.
async fn store_results(
    tx: &mut store::Tx,
    state: &AppState,
    caller: &OrgCaller,
    results: &[(&str, &str)],
) -> Result<()> {
    let now = state.clock.now_ms();
    for chunk in results.chunks(store::MULTI_ROW_CHUNK) {
        let mut q = Query::many(tx);
        let mut rows = Vec::with_capacity(chunk.len());
        for (id, result) in chunk {
            rows.push(format!(
                "({}, {}, {}, {}, {})",
                q.int(caller.account_id),
                q.text(*id),
                q.int(caller.org_id),
                q.text(*result),
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

/// The stored results of the caller's mutations among `ids`: each outcome's JSON text, as
/// stored (answered as it is, never parsed).
///
/// The rows come back as one JSON array of `[id, result]` pairs: one value instead of a row
/// per id spares the driver's per-row work (see [`sql::json_rows`]).
async fn stored_results<'i>(
    conn: &mut sqlx::AnyConnection,
    caller: &OrgCaller,
    ids: impl Iterator<Item = &'i str>,
) -> Result<HashMap<String, String>> {
    let mut stored = HashMap::new();
    let ids: Vec<&str> = ids.collect();
    for chunk in ids.chunks(MAX_MUTATIONS_PER_BATCH) {
        let mut q = Query::many(conn);
        let account = q.int(caller.account_id);
        let ids: Vec<String> = chunk.iter().map(|id| q.text(*id)).collect();
        if q.on_sqlite() {
            q.push(&format!(
                "SELECT json_group_array(json_array(mutation_id, json(result))) AS page \
                 FROM mutation_results WHERE account_id = {account} AND mutation_id IN ({})",
                ids.join(", ")
            ));
        } else {
            // A join with the list, not `IN (...)`: PostgreSQL's generic plan for a prepared
            // `IN` of 1000 parameters rebuilds the array for every row of the account's
            // results and compares each (hundreds of milliseconds a batch once the plan
            // switched). SQLite plans `IN` well and the join badly.
            q.push(&format!(
                "SELECT CAST(json_agg(json_build_array(r.mutation_id, CAST(r.result AS json))) AS TEXT) AS page \
                 FROM (VALUES ({})) AS v \
                 JOIN mutation_results r ON r.mutation_id = v.column1 WHERE r.account_id = {account}",
                ids.join("), (")
            ));
        }
        // An empty aggregate is NULL on PostgreSQL and `[]` on SQLite.
        let page: Option<String> = q.build().fetch_one(&mut *conn).await?.try_get("page")?;
        let Some(page) = page else { continue };
        let rows: Vec<(String, &RawValue)> = serde_json::from_str(&page)
            .map_err(|e| Error::internal(format!("stored mutation results do not parse: {e}")))?;
        for (id, result) in rows {
            stored.insert(id, result.get().to_owned());
        }
    }
    Ok(stored)
}

/// The answer to a mutation that failed (already rolled back to its savepoint).
async fn settle(
    state: &AppState,
    caller: &OrgCaller,
    batch: &mut members::BatchTx,
    change: &MutationKind,
    base_version: Option<i64>,
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
    let user_id = change.target();
    if denied.code == ErrorCode::VersionMismatch
        || (denied.code == ErrorCode::NotFound && base_version.is_some())
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
