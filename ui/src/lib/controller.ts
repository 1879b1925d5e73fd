// What one user action does across the stores: opening an org (and its first sync),
// reacting to the Rust side's events, signing out.

import * as ipc from './ipc';
import { perf } from './perf';
import { needsFirstSync, orgs } from './stores/orgs.svelte';
import { outbox } from './stores/outbox.svelte';
import { prefs } from './stores/prefs.svelte';
import { roster } from './stores/roster.svelte';
import { session } from './stores/session.svelte';
import { sync } from './stores/sync.svelte';
import type { CacheChanged, OrgId, OutboxChanged } from './types';

/** Open `id`: the roster shows its cache at once, or its first sync when it has none. */
export async function openOrg(id: OrgId, opts: { timed?: boolean } = {}) {
  if (opts.timed && id !== orgs.current) perf.switchStarted();
  const summary = await orgs.open(id);
  if (!summary) {
    perf.switchSettled();
    return;
  }
  void roster.setOrg(id, summary.members);
  if (!summary.listable) perf.switchSettled();
  else if (needsFirstSync(summary)) {
    perf.switchSettled();
    void firstSync(id);
  }
}

export async function firstSync(id: OrgId) {
  await sync.syncNow(id);
  await orgs.load();
  if (roster.org === id) roster.refresh();
}

/** After sign-in (or a session from the keyring): load the orgs and open the last one. */
export async function enterSignedIn() {
  await orgs.load();
  if (orgs.list.length === 0) {
    // a new profile's cache knows no org yet: fetch the list first
    await sync.syncNow(null);
    await orgs.load();
  }
  const target = orgs.current ?? orgs.list.find((o) => o.listable)?.id ?? orgs.list[0]?.id;
  if (target !== undefined && target !== null) await openOrg(target);
}

export function syncCurrent() {
  void sync.syncNow(orgs.current).then(() => orgs.load());
}

/**
 * Push now: a sync sends every org's pending changes first (then pulls the current org),
 * with progress in the badge and the Pending changes panel.
 */
export async function pushNow() {
  await sync.syncNow(orgs.current);
  await orgs.load();
  if (outbox.watching) await outbox.load();
}

export async function signOut() {
  await session.signOut();
  await roster.setOrg(null);
  orgs.reset();
  outbox.reset();
  prefs.clear();
}

export function onCacheChanged(c: CacheChanged) {
  if (roster.org !== null && c.orgs.includes(roster.org) && orgs.currentOrg?.listable) roster.refresh();
  void orgs.load();
  // a sync ran (the background push included): what it sent, and any conflict or rejection
  // it brought back, must show in an open Pending changes panel, not only in the badge
  outbox.onChanged(c.orgs);
}

/** Something was staged, resolved or taken back: the pending list, the rows' marks, the counts. */
export function onOutboxChanged(c: OutboxChanged) {
  outbox.onChanged(c.orgs);
  if (roster.org !== null && c.orgs.includes(roster.org) && orgs.currentOrg?.listable) roster.refresh();
  void orgs.load();
}

/** Listen to the Rust side's events for the life of the window. */
export async function listenAll(onMenu: Parameters<typeof ipc.onMenu>[0]): Promise<() => void> {
  const offs = await Promise.all([
    sync.start().then(() => () => sync.stop()),
    ipc.onCacheChanged(onCacheChanged),
    ipc.onOutboxChanged(onOutboxChanged),
    ipc.onOrgsChanged(() => {
      void orgs.load().then(() => {
        if (orgs.current === null && orgs.list.length && session.signedIn) void enterSignedIn();
      });
    }),
    ipc.onMenu(onMenu),
  ]);
  return () => offs.forEach((off) => off());
}
