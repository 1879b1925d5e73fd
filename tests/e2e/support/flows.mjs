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
