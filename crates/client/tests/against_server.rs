//! The client against the real server, on SQLite and (when configured) PostgreSQL: first
//! and incremental sync, removals, access loss, scope changes, offline edits, conflicts.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Backend, PASSWORD, add_change, add_member, on_server, title_edit};
use orgdesk_client::cache::roster::RosterQuery;
use orgdesk_client::{OrgListChange, OutboxState, Resolution, SyncProgress};
use orgdesk_domain::wire::{
    MAX_MUTATIONS_PER_BATCH, Mutation, MutationBatch, MutationKind, MutationOutcome, UserId,
};
use orgdesk_domain::{Role, SearchScope};

stories!(
    first_sync_fills_the_cache_and_its_search_index,
    incremental_sync_pulls_only_what_changed,
    removals_reach_the_cache,
    losing_access_purges_the_org_and_keeps_its_unsent_changes,
    a_scope_change_rebuilds_the_org_from_the_start,
    edits_made_while_the_server_is_down_are_pushed_once_it_is_back,
    two_clients_editing_the_same_user_see_a_conflict,
    rules_are_checked_offline_before_anything_is_sent,
    a_member_without_the_directory_syncs_without_a_roster,
    a_feed_that_answers_resync_required_is_rebuilt_from_the_start,
    a_members_later_change_waits_for_the_batch_in_flight,
);

async fn a_feed_that_answers_resync_required_is_rebuilt_from_the_start(backend: Backend) {
    let world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let admin = world.api("admin@acme.example").await;
    let ua = add_member(
        &admin,
        org,
        "ua@acme.example",
        "Uma",
        "Admin",
        Role::UserAdmin,
        true,
    )
    .await;
    let hidden = add_member(
        &admin,
        org,
        "hal@other.example",
        "Hal",
        "Hidden",
        Role::Member,
        false,
    )
    .await;
    let client = world.client("ua@acme.example").await;
    client.sync(org).await.expect("first sync");

    // The scope changes between the client's `me/orgs` and its pull: the feed itself must
    // notice the stale cursor.
    let scope = SearchScope::parse(["@acme.example"]).unwrap();
    on_server(
        &admin,
        org,
        MutationKind::SetScope {
            user_id: ua,
            scope: Some(scope),
        },
    )
    .await;
    let mut events = Vec::new();
    let feed = orgdesk_client::ChangeFeed {
        api: &client.api(),
        cache: &client.profile.cache,
        org,
    };
    feed.pull(&mut |event| events.push(event))
        .await
        .expect("pull");
    client.profile.cache.finish_bulk().unwrap();

    assert!(events.contains(&SyncProgress::Resync { org }), "{events:?}");
    assert!(
        client.member(org, hidden).is_none(),
        "rebuilt under the new scope"
    );
    assert!(client.member(org, ua).is_some());
}

async fn a_member_without_the_directory_syncs_without_a_roster(backend: Backend) {
    let world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let admin = world.api("admin@acme.example").await;
    add_member(
        &admin,
        org,
        "mo@acme.example",
        "Mo",
        "Member",
        Role::Member,
        true,
    )
    .await;
    let client = world.client("mo@acme.example").await;

    let (report, _) = client.sync(org).await.expect("not an error");

    assert_eq!(report.not_listable, vec![org]);
    assert!(
        client.profile.cache.org(org).unwrap().is_some(),
        "the org is listed"
    );
    assert!(!client.profile.cache.in_bulk().unwrap());
}

async fn first_sync_fills_the_cache_and_its_search_index(backend: Backend) {
    let world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let admin = world.api("admin@acme.example").await;
    for (email, first, last) in [
        ("ada@acme.example", "Ada", "Lovelace"),
        ("alan@acme.example", "Alan", "Turing"),
        ("grace@acme.example", "Grace", "Hopper"),
    ] {
        add_member(&admin, org, email, first, last, Role::Member, false).await;
    }
    let client = world.client("admin@acme.example").await;
    let (report, events) = client.sync(org).await.expect("first sync");

    assert_eq!(report.pulled.len(), 1);
    let cache = &client.profile.cache;
    assert_eq!(cache.roster_count(org, &RosterQuery::default()).unwrap(), 4);
    let hits = cache.search(org, "lov", 10).unwrap();
    assert_eq!(
        hits[0].member.email, "ada@acme.example",
        "searchable after a bulk load"
    );
    assert!(
        !cache.in_bulk().unwrap(),
        "the index was rebuilt at the end"
    );
    let synced = cache.org(org).unwrap().unwrap();
    assert!(synced.synced_at.is_some(), "synced at is set");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, SyncProgress::Done { .. })),
        "progress reported: {events:?}"
    );
}

async fn incremental_sync_pulls_only_what_changed(backend: Backend) {
    let world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let admin = world.api("admin@acme.example").await;
    let ada = add_member(
        &admin,
        org,
        "ada@acme.example",
        "Ada",
        "L",
        Role::Member,
        false,
    )
    .await;
    for i in 0..20 {
        let email = format!("user{i}@acme.example");
        add_member(
            &admin,
            org,
            &email,
            "User",
            &i.to_string(),
            Role::Member,
            false,
        )
        .await;
    }
    let client = world.client("admin@acme.example").await;
    client.sync(org).await.expect("first sync");
    let before = client.member(org, ada).unwrap();

    on_server(&admin, org, title_edit(ada, "Countess")).await;
    let (report, _) = client.sync(org).await.expect("incremental sync");

    assert_eq!(report.pulled, vec![(org, 1)], "only the changed row");
    let after = client.member(org, ada).unwrap();
    assert_eq!(after.profile.title.as_deref(), Some("Countess"));
    assert!(after.version > before.version);
    assert_eq!(
        client.profile.cache.search(org, "countess", 5).unwrap()[0]
            .member
            .id,
        ada
    );
}

async fn removals_reach_the_cache(backend: Backend) {
    let world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let admin = world.api("admin@acme.example").await;
    let ada = add_member(
        &admin,
        org,
        "ada@acme.example",
        "Ada",
        "Lovelace",
        Role::Member,
        false,
    )
    .await;
    let client = world.client("admin@acme.example").await;
    client.sync(org).await.expect("first sync");
    assert!(client.member(org, ada).is_some());

    let removed = on_server(&admin, org, MutationKind::Remove { user_id: ada }).await;
    assert!(
        matches!(removed, MutationOutcome::Applied { .. }),
        "{removed:?}"
    );
    client.sync(org).await.expect("sync");

    assert!(
        client.member(org, ada).is_none(),
        "the tombstone removed the row"
    );
    assert!(
        client
            .profile
            .cache
            .search(org, "lovelace", 5)
            .unwrap()
            .is_empty()
    );
}

async fn losing_access_purges_the_org_and_keeps_its_unsent_changes(backend: Backend) {
    let world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let admin = world.api("admin@acme.example").await;
    let ua = add_member(
        &admin,
        org,
        "ua@acme.example",
        "Uma",
        "Admin",
        Role::UserAdmin,
        true,
    )
    .await;
    let ada = add_member(
        &admin,
        org,
        "ada@acme.example",
        "Ada",
        "L",
        Role::Member,
        false,
    )
    .await;
    let client = world.client("ua@acme.example").await;
    client.sync(org).await.expect("first sync");
    let staged = client
        .stage(org, title_edit(ada, "Staged offline"))
        .expect("staged");

    on_server(&admin, org, MutationKind::Remove { user_id: ua }).await;
    let (report, _) = client.sync(org).await.expect("sync after access loss");

    assert!(
        report.org_changes.iter().any(
            |c| matches!(c, OrgListChange::Purged { org: o, rejected_changes: 1, .. } if *o == org)
        ),
        "{report:?}"
    );
    assert!(client.profile.cache.org(org).unwrap().is_none());
    assert!(
        client.member(org, ada).is_none(),
        "the org's rows are deleted"
    );
    let kept = client
        .profile
        .cache
        .outbox()
        .get(&staged.id)
        .unwrap()
        .unwrap();
    assert_eq!(kept.state, OutboxState::Rejected, "kept for export");
    assert_eq!(kept.refusal.unwrap().code.as_str(), "forbidden");
}

async fn a_scope_change_rebuilds_the_org_from_the_start(backend: Backend) {
    let world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let admin = world.api("admin@acme.example").await;
    let ua = add_member(
        &admin,
        org,
        "ua@acme.example",
        "Uma",
        "Admin",
        Role::UserAdmin,
        true,
    )
    .await;
    let kept = add_member(
        &admin,
        org,
        "kim@kept.example",
        "Kim",
        "Kept",
        Role::Member,
        false,
    )
    .await;
    let hidden = add_member(
        &admin,
        org,
        "hal@other.example",
        "Hal",
        "Hidden",
        Role::Member,
        false,
    )
    .await;
    let client = world.client("ua@acme.example").await;
    client.sync(org).await.expect("first sync");
    assert!(client.member(org, hidden).is_some());

    let scope = SearchScope::parse(["@kept.example"]).unwrap();
    let set = on_server(
        &admin,
        org,
        MutationKind::SetScope {
            user_id: ua,
            scope: Some(scope),
        },
    )
    .await;
    assert!(matches!(set, MutationOutcome::Applied { .. }), "{set:?}");
    let (report, _) = client.sync(org).await.expect("sync after the scope change");

    assert!(
        report.org_changes.contains(&OrgListChange::Rebuild { org }),
        "{report:?}"
    );
    assert!(client.member(org, kept).is_some());
    assert!(
        client.member(org, ua).is_some(),
        "a scoped user still sees themselves"
    );
    assert!(
        client.member(org, hidden).is_none(),
        "out-of-scope rows are gone after the rebuild"
    );
    assert!(
        client
            .profile
            .cache
            .search(org, "hal", 5)
            .unwrap()
            .is_empty()
    );
}

async fn edits_made_while_the_server_is_down_are_pushed_once_it_is_back(backend: Backend) {
    let mut world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let admin = world.api("admin@acme.example").await;
    let ada = add_member(
        &admin,
        org,
        "ada@acme.example",
        "Ada",
        "L",
        Role::Member,
        false,
    )
    .await;
    let client = world.client("admin@acme.example").await;
    client.sync(org).await.expect("first sync");

    world.stop().await;
    client
        .stage(org, title_edit(ada, "Made offline"))
        .expect("staged offline");
    let error = client.sync(org).await.expect_err("the server is down");
    assert_eq!(error.code(), "offline", "{error}");
    assert_eq!(client.open_changes(org).len(), 1);
    assert_eq!(
        client
            .profile
            .cache
            .roster_count(org, &RosterQuery::default())
            .unwrap(),
        2,
        "the cache stays readable"
    );

    world.restart().await;
    let (report, _) = client.sync(org).await.expect("sync once back");

    assert_eq!(report.pushed.applied, 1);
    assert!(client.open_changes(org).is_empty());
    let on_server = admin.member(org, ada).await.expect("read back");
    assert_eq!(on_server.profile.title.as_deref(), Some("Made offline"));
    assert_eq!(client.member(org, ada).unwrap().version, on_server.version);
}

async fn two_clients_editing_the_same_user_see_a_conflict(backend: Backend) {
    let world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let admin = world.api("admin@acme.example").await;
    add_member(
        &admin,
        org,
        "bea@acme.example",
        "Bea",
        "Second",
        Role::Admin,
        true,
    )
    .await;
    let ada = add_member(
        &admin,
        org,
        "ada@acme.example",
        "Ada",
        "L",
        Role::Member,
        false,
    )
    .await;
    let first = world.client("admin@acme.example").await;
    let second = world.client("bea@acme.example").await;
    first.sync(org).await.expect("sync");
    second.sync(org).await.expect("sync");

    first.stage(org, title_edit(ada, "From the first")).unwrap();
    let mine = second
        .stage(org, title_edit(ada, "From the second"))
        .unwrap();
    let (report, _) = first.sync(org).await.expect("first pushes");
    assert_eq!(report.pushed.applied, 1);
    let (report, _) = second.sync(org).await.expect("second pushes");
    assert_eq!(report.pushed.conflicts, 1, "{report:?}");

    let conflict = second
        .profile
        .cache
        .outbox()
        .get(&mine.id)
        .unwrap()
        .unwrap();
    assert_eq!(conflict.state, OutboxState::Conflict);
    assert_eq!(
        conflict.theirs.as_ref().unwrap().profile.title.as_deref(),
        Some("From the first")
    );
    assert_eq!(
        conflict.mine.as_ref().unwrap().profile.title.as_deref(),
        Some("From the second")
    );

    let today = chrono::Utc::now().date_naive();
    let again = second
        .profile
        .cache
        .outbox()
        .resolve(&mine.id, Resolution::KeepMine, today, chrono::Utc::now())
        .unwrap()
        .expect("re-staged");
    assert_eq!(again.base_version, Some(conflict.theirs.unwrap().version));
    let (report, _) = second.sync(org).await.expect("second pushes again");
    assert_eq!(report.pushed.applied, 1);
    let row = admin.member(org, ada).await.unwrap();
    assert_eq!(row.profile.title.as_deref(), Some("From the second"));
}

async fn rules_are_checked_offline_before_anything_is_sent(backend: Backend) {
    let world = world!(backend);
    let (org, admin_id) = world.org("Acme", "admin@acme.example").await;
    let client = world.client("admin@acme.example").await;
    client.sync(org).await.expect("sync");
    let admin = world.api("admin@acme.example").await;
    let ua = add_member(
        &admin,
        org,
        "ua@acme.example",
        "Uma",
        "Admin",
        Role::UserAdmin,
        true,
    )
    .await;
    let ua_client = world.client("ua@acme.example").await;
    ua_client.sync(org).await.expect("sync");

    let error = ua_client
        .stage(org, MutationKind::Remove { user_id: admin_id })
        .expect_err("a user admin cannot remove an admin");
    assert_eq!(error.code(), "role_not_allowed");
    let error = client
        .stage(
            org,
            MutationKind::ChangeRole {
                user_id: admin_id,
                role: Role::Member,
                guest_expires: None,
            },
        )
        .expect_err("no one changes their own role");
    assert_eq!(error.code(), "self_role");
    assert!(
        ua_client
            .profile
            .cache
            .outbox()
            .open_changes(None)
            .unwrap()
            .is_empty()
    );
    let _ = (ua, PASSWORD);
}

/// A push records a batch's results while the next batch is on its way. That next batch
/// must not hold a later change to a member of the batch in flight: it was staged on the
/// version the first change creates, and is rebased only when that result is recorded.
/// Sent early, it would come back a false conflict.
async fn a_members_later_change_waits_for_the_batch_in_flight(backend: Backend) {
    let world = world!(backend);
    let (org, _) = world.org("Acme", "admin@acme.example").await;
    let admin = world.api("admin@acme.example").await;
    let members = 1_200;
    let mut users: Vec<UserId> = Vec::new();
    let adds: Vec<Mutation> = (0..members)
        .map(|i| Mutation {
            id: uuid::Uuid::now_v7().to_string(),
            base_version: None,
            change: add_change(
                &format!("m{i:04}@acme.example"),
                "M",
                "M",
                Role::Member,
                false,
            ),
        })
        .collect();
    for chunk in adds.chunks(MAX_MUTATIONS_PER_BATCH) {
        let batch = MutationBatch {
            mutations: chunk.to_vec(),
        };
        for result in admin.push(org, &batch).await.unwrap().results {
            match result.outcome {
                MutationOutcome::Applied { user_id, .. } => users.push(user_id),
                other => panic!("adding a member: {other:?}"),
            }
        }
    }
    let client = world.client("admin@acme.example").await;
    client.sync(org).await.expect("first sync");

    // One title per member: the first batch is the first 1,000, the second the other 200.
    // Then a second title for eleven members of each.
    let twice: Vec<UserId> = users[..11]
        .iter()
        .chain(&users[1_100..1_111])
        .copied()
        .collect();
    let changes: Vec<MutationKind> = users
        .iter()
        .map(|&user| title_edit(user, "First"))
        .chain(twice.iter().map(|&user| title_edit(user, "Second")))
        .collect();
    let today = chrono::Utc::now().date_naive();
    client
        .profile
        .cache
        .outbox()
        .stage_many(org, changes, today, chrono::Utc::now())
        .unwrap();

    let (report, events) = client.sync(org).await.expect("push");

    assert_eq!(report.pushed.applied, members + twice.len(), "{report:?}");
    assert_eq!(report.pushed.conflicts, 0, "{report:?}");
    let sent: Vec<usize> = events
        .iter()
        .filter_map(|event| match event {
            SyncProgress::Pushed { sent, .. } => Some(*sent),
            _ => None,
        })
        .collect();
    // The second titles of the first batch's members go once its results are recorded, in
    // the third batch; those of the second batch's members in the fourth.
    assert_eq!(sent, [1_000, 200, 11, 11]);
    for (index, &user) in users.iter().enumerate() {
        let on_server = admin.member(org, user).await.unwrap();
        let expected = if twice.contains(&user) {
            "Second"
        } else {
            "First"
        };
        assert_eq!(
            on_server.profile.title.as_deref(),
            Some(expected),
            "member {index}"
        );
        let cached = client.member(org, user).unwrap();
        assert_eq!(cached.version, on_server.version, "member {index}");
        assert_eq!(
            cached.profile.title.as_deref(),
            Some(expected),
            "member {index}"
        );
    }
    assert!(client.open_changes(org).is_empty());
}
