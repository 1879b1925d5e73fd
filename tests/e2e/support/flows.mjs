// What several specs do: sign in through the form, wait for the roster, open the switcher and
// the palette, and keep a screenshot of whatever was on screen when a step failed.

import assert from 'node:assert/strict';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './server.mjs';
import { tid } from './app.mjs';

/** "100,000" as the UI writes counts (en-US grouping). */
export const count = (n) => n.toLocaleString('en-US');

/** Fills the sign-in form key by key and submits it. */
export async function fillSignIn(app, { server, email = ADMIN_EMAIL, password = ADMIN_PASSWORD }) {
  await app.waitFor('signin-submit');
  await app.type('signin-server', server);
  await app.type('signin-email', email);
  await app.type('signin-password', password);
  await app.click('signin-submit');
}

/** Signs in with the right password and waits for the first roster rows. */
export async function signIn(app, server, { timeout = 60_000 } = {}) {
  await fillSignIn(app, { server: server.url });
  await app.waitFor('org-switcher', { timeout });
  return app.waitRows({ timeout });
}

/** The current org's name as the switcher shows it. */
export async function currentOrgName(app) {
  return app.exec(() => document.querySelector('[data-testid="org-switcher"] .org-name')?.textContent?.trim() ?? null);
}

/** Waits until the switcher names `name` and its roster shows rows (or is empty and loaded). */
export async function waitForOrg(app, name, { timeout = 60_000, rows = true } = {}) {
  await app.waitUntil(
    (name) => document.querySelector('[data-testid="org-switcher"] .org-name')?.textContent?.trim() === name,
    { timeout, message: `the switcher shows ${name}`, args: [name] },
  );
  if (rows) return app.waitRows({ timeout });
  return [];
}

/** Picks `org` in the top bar's switcher. */
export async function switchOrgWithSwitcher(app, org) {
  await app.click('org-switcher');
  await app.waitFor('org-switcher-panel');
  await app.click(`org-item-${org.id}`);
  await app.waitFor('org-switcher-panel', { gone: true });
  return waitForOrg(app, org.name);
}

/** Ctrl+K, the org's name, Enter. */
export async function switchOrgWithPalette(app, org) {
  await app.keys(['Control', 'k']);
  await app.waitFor('palette');
  await app.type('palette-input', org.name, { clear: false });
  await app.waitText('palette-item-0', (t) => t.includes('Switch to') && t.includes(org.name), { timeout: 5_000 });
  await app.keys(['Enter']);
  await app.waitFor('palette', { gone: true });
  return waitForOrg(app, org.name);
}

/** Empties the search box the way a person does: Esc in it. */
export async function clearSearch(app) {
  await app.click('roster-search');
  await app.keys(['Escape']);
  await app.waitUntil(() => document.querySelector('[data-testid="roster-search"]')?.value === '', { message: 'search cleared' });
}

/** The roster's rows on screen as {name, email, role, status} read from their cells. */
export async function rowCells(app) {
  return app.exec(() =>
    [...document.querySelectorAll('[data-testid^="row-"]:not([data-testid="row-skeleton"])')]
      .map((el) => ({
        index: Number(el.dataset.index),
        id: Number(el.dataset.testid.slice(4)),
        name: el.querySelector('.td-name')?.textContent?.trim() ?? '',
        email: el.querySelector('.td-email')?.textContent?.trim() ?? '',
        role: el.querySelector('.td-role .badge')?.textContent?.trim() ?? '',
        status: el.querySelector('.td-status')?.textContent?.trim() ?? '',
        text: el.textContent.trim(),
      }))
      .sort((a, b) => a.index - b.index),
  );
}

/** Every element that says something went wrong: alerts, error notices, detail errors. */
export async function visibleErrors(app) {
  return app.exec(() =>
    [...document.querySelectorAll('[role="alert"], .notice.error, [data-testid$="-error"]')]
      .filter((el) => el.getClientRects().length > 0)
      .map((el) => `${el.dataset.testid ?? el.className}: ${el.textContent.trim()}`),
  );
}

export async function assertNoErrors(app, what) {
  assert.deepEqual(await visibleErrors(app), [], `no error shown ${what}`);
}

/**
 * Wraps a test body: when it throws, a screenshot `<spec>-failed-<test>` is saved beside the
 * others (and the app's log tail is printed) before the error goes on.
 */
export function guarded(spec, getApp, name, fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const app = getApp();
      if (app) {
        const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 60);
        await app.screenshot(spec, `failed-${slug}`).catch(() => {});
        console.error(`--- app log (${app.log}) ---\n${app.logTail(30)}`);
      }
      throw e;
    }
  };
}

export { tid };

// ---- changing things (the changes*.test.mjs specs) ----

/** The themes a spec runs in: ORGDESK_E2E_THEMES=light,dark (the default) or one of them. */
export const THEMES = (process.env.ORGDESK_E2E_THEMES ?? 'light,dark').split(',').map((t) => t.trim()).filter(Boolean);

/** Brings `member`'s row on screen by searching for their email; returns the row element. */
export async function findRow(app, member) {
  const current = await app.exec(() => document.querySelector('[data-testid="roster-search"]')?.value ?? '');
  if (current !== member.email) {
    if (current) await clearSearch(app);
    await app.type('roster-search', member.email, { clear: false });
  }
  return app.waitFor(`row-${member.id}`, { timeout: 15_000 });
}

/** Opens `member`'s detail (their row found by email, double-clicked). */
export async function openDetail(app, member) {
  const row = await findRow(app, member);
  await row.doubleClick();
  await app.waitFor('detail-panel');
  await app.waitText('detail-email', member.email);
  await waitVerdicts(app);
}

/** Waits until the detail's actions are decided (the rules' verdicts are in). */
export async function waitVerdicts(app) {
  await app.waitUntil(
    () => {
      const edit = document.querySelector('[data-testid="detail-edit"]');
      return !!edit && !/Checking what you may do/.test(edit.getAttribute('title') ?? '');
    },
    { message: 'the detail has its verdicts' },
  );
}

const KEY = { shift: '\uE008', ctrl: '\uE009' };

/** Clicks `id` with modifier keys held (['ctrl'], ['shift'], ['ctrl', 'shift']), as a person does. */
export async function clickWith(app, id, mods = []) {
  const el = await app.waitFor(id);
  await app.browser.performActions([
    { type: 'key', id: 'kb', actions: mods.map((m) => ({ type: 'keyDown', value: KEY[m] })) },
  ]);
  try {
    await el.click();
  } finally {
    await app.browser.releaseActions();
  }
}

/** Picks `value` in the <select> `id` (falls back to setting it and firing change). */
export async function selectOption(app, id, value) {
  const el = await app.waitFor(id);
  try {
    await el.selectByAttribute('value', value);
  } catch {
    // some drivers refuse to click an <option>
  }
  const ok = await app.exec((sel, v) => document.querySelector(sel)?.value === v, tid(id), value);
  if (!ok) {
    await app.exec(
      (sel, v) => {
        const s = document.querySelector(sel);
        s.value = v;
        s.dispatchEvent(new Event('input', { bubbles: true }));
        s.dispatchEvent(new Event('change', { bubbles: true }));
      },
      tid(id),
      value,
    );
  }
}

/** Pauses or resumes the background sync and push from the sync badge. */
export async function setPaused(app, paused) {
  const now = await app.exec(() => document.querySelector('[data-testid="sync-pause"]')?.getAttribute('aria-pressed') === 'true');
  if (now !== paused) await app.click('sync-pause');
  await app.waitFor('sync-paused', { gone: !paused });
}

/** The badge's "N pending" as a number (0 when it is not shown). */
export async function pendingBadge(app) {
  const t = await app.text('sync-pending');
  return t ? Number(t.replace(/[^0-9]/g, '')) : 0;
}

export async function waitPendingBadge(app, n, { timeout = 30_000 } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await pendingBadge(app);
    if (last === n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the badge shows ${last} pending, not ${n}, after ${timeout} ms`);
}

/** Opens the Pending changes panel from the account menu (there whatever the count). */
export async function openPending(app) {
  await app.click('account-menu');
  await app.click('account-pending');
  await app.waitFor('pending-changes');
  await app.waitUntil(() => document.querySelector('[data-testid="pending-changes"]')?.getAttribute('aria-busy') !== 'true', {
    message: 'the pending changes loaded',
  });
}

export async function closePending(app) {
  await app.click('pending-close');
  await app.waitFor('pending-changes', { gone: true });
}

/** The app's open changes (pending, conflicts, rejections) as its own command lists them. */
export function openChanges(app) {
  return app.invoke('pending_changes', { org: null });
}

/** Polls `fn` (in node) until it returns a truthy value; returns it. */
export async function eventually(fn, { timeout = 30_000, interval = 250, message = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  let error;
  while (Date.now() < end) {
    try {
      last = await fn();
      error = null;
      if (last) return last;
    } catch (e) {
      error = e;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`${message} not met after ${timeout} ms (last: ${error ? error.message : JSON.stringify(last)})`);
}

/** Sync now from the badge, and wait for that sync to end (its time recorded, no sync running). */
export async function syncNowAndWait(app, { timeout = 60_000 } = {}) {
  const before = (await app.invoke('sync_status')).last_synced_at;
  await app.click('sync-now');
  return eventually(
    async () => {
      const s = await app.invoke('sync_status');
      return !s.syncing && s.last_synced_at && s.last_synced_at !== before ? s : null;
    },
    { timeout, interval: 100, message: 'a sync ended' },
  );
}
