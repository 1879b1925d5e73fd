// Story 2: reviewing rosters. Switch org through the switcher and through Ctrl+K; search,
// filter by role, switch tab, sort by a header, choose columns (remembered per org when
// switching away and back). Every expectation is checked against the server's own answer.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './support/server.mjs';
import { startApp, tid } from './support/app.mjs';
import {
  assertNoErrors,
  count,
  currentOrgName,
  guarded,
  rowCells,
  signIn,
  switchOrgWithPalette,
  switchOrgWithSwitcher,
  waitForOrg,
} from './support/flows.mjs';

const SPEC = 'roster';

describe('roster review', () => {
  let server;
  let app;
  let orgs;
  /** the org the next steps work in, with its members from the server */
  let org;
  let members;
  const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));
  const byName = (name) => orgs.find((o) => o.name === name);

  /** Waits until the roster shows `total` users and the rows on screen pass `check`. */
  async function waitRoster(total, check = () => true, what = 'roster') {
    await app.waitText('roster-total', (t) => t.startsWith(count(total) + ' '), { timeout: 20_000 });
    const end = Date.now() + 20_000;
    let rows;
    while (Date.now() < end) {
      await app.waitRows({ min: Math.min(total, 1) }).catch(() => {});
      rows = await rowCells(app);
      if ((total === 0 || rows.length) && rows.every(check)) return rows;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${what}: rows never all matched: ${JSON.stringify(rows?.slice(0, 3))}`);
  }

  before(async () => {
    server = await startServer({ clients: 3, members: 2000 });
    orgs = await server.orgs();
    app = await startApp({ name: SPEC });
    await signIn(app, server);
  });

  after(async () => {
    await app?.stop();
    await server?.dispose();
  });

  step('the switcher lists every org and switches to the one picked', async () => {
    const first = byName(await currentOrgName(app));
    assert.ok(first, 'the app opened an org of this account');
    const target = orgs.find((o) => o.kind === 'client' && o.id !== first.id);

    await app.click('org-switcher');
    await app.waitFor('org-switcher-panel');
    for (const o of orgs) assert.ok(await app.exists(`org-item-${o.id}`), `${o.name} is listed`);
    await app.screenshot(SPEC, 'switcher');
    await app.keys(['Escape']);
    await app.waitFor('org-switcher-panel', { gone: true });

    await switchOrgWithSwitcher(app, target);
    const targetMembers = await server.allMembers(target.id);
    await app.waitText('tab-count-all', count(targetMembers.length), { timeout: 60_000 });
    const ids = new Set(targetMembers.map((m) => m.id));
    for (const row of await rowCells(app)) assert.ok(ids.has(row.id), `row ${row.id} belongs to ${target.name}`);
    await assertNoErrors(app, 'after switching');
  });

  step('Ctrl+K switches org from the palette', async () => {
    const current = await currentOrgName(app);
    const target = orgs.filter((o) => o.kind === 'client').sort((a, b) => b.name.localeCompare(a.name)).find((o) => o.name !== current);
    await app.keys(['Control', 'k']);
    await app.waitFor('palette');
    await app.type('palette-input', target.name.slice(0, 6), { clear: false });
    await app.waitText('palette-item-0', (t) => t.includes('Switch to') && t.includes(target.name), { timeout: 5_000 });
    await app.screenshot(SPEC, 'palette');
    await app.keys(['Escape']);
    await app.waitFor('palette', { gone: true });

    await switchOrgWithPalette(app, target);
    const targetMembers = await server.allMembers(target.id);
    await app.waitText('tab-count-all', count(targetMembers.length), { timeout: 60_000 });
    // then back to the biggest client for the rest
    org = orgs.find((o) => o.id === server.seed.client_org_ids[0]);
    await switchOrgWithPalette(app, org);
    members = await server.allMembers(org.id);
    await app.waitText('tab-count-all', count(members.length), { timeout: 60_000 });
    await assertNoErrors(app, 'after the palette');
  });

  step('search as you type finds the users by name', async () => {
    // a surname a handful of users share
    const bySurname = new Map();
    for (const m of members) if (m.last_name) bySurname.set(m.last_name, [...(bySurname.get(m.last_name) ?? []), m]);
    const [surname, namesakes] = [...bySurname].filter(([s, l]) => /^[A-Za-z]+$/.test(s) && l.length >= 3 && l.length <= 15)[0];
    await app.type('roster-search', surname);
    const needle = surname.toLowerCase();
    const rows = await waitRoster(
      // every match is on screen: at least the namesakes; the total says the same number
      await app.waitUntil(
        () => {
          const t = document.querySelector('[data-testid="roster-total"]')?.textContent ?? '';
          const n = Number(t.replace(/[^0-9]/g, ''));
          return document.querySelector('[data-testid="sort-relevance"]') && n > 0 && n < 200 ? n : 0;
        },
        { message: 'a search result total' },
      ),
      (r) => r.text.toLowerCase().includes(needle),
      `search ${surname}`,
    );
    const shown = new Set(rows.map((r) => r.id));
    for (const m of namesakes) assert.ok(shown.has(m.id), `${m.email} is found by "${surname}"`);
    assert.ok(await app.exists('sort-relevance'), 'a search sorts by relevance');
    await app.screenshot(SPEC, 'search');

    // Esc in the search box clears it: the whole roster is back
    await app.keys(['Escape']);
    await waitRoster(members.length);
    assert.equal(await app.exists('sort-relevance'), false);
  });

  step('the role filter shows only that role', async () => {
    const guests = members.filter((m) => m.role === 'guest');
    assert.ok(guests.length > 0);
    await (await app.waitFor('filter-role')).selectByAttribute('value', 'guest');
    const rows = await waitRoster(guests.length, (r) => r.role === 'Guest', 'role filter');
    const ids = new Set(guests.map((m) => m.id));
    for (const r of rows) assert.ok(ids.has(r.id), `${r.email} is a guest on the server`);
    await app.screenshot(SPEC, 'filter-guest');
    await app.click('filter-clear');
    await waitRoster(members.length);
  });

  step('the Suspended tab shows the suspended users with their count', async () => {
    const suspended = members.filter((m) => m.status === 'suspended');
    await app.click('tab-suspended');
    await app.waitText('tab-count-suspended', count(suspended.length));
    const rows = await waitRoster(suspended.length, (r) => r.status === 'Suspended', 'suspended tab');
    const ids = new Set(suspended.map((m) => m.id));
    for (const r of rows) assert.ok(ids.has(r.id), `${r.email} is suspended on the server`);
    assert.equal(await app.exec(() => document.querySelector('[data-testid="tab-suspended"]').getAttribute('aria-selected')), 'true');
    await app.screenshot(SPEC, 'tab-suspended');
    await app.click('tab-all');
    await waitRoster(members.length);
  });

  step('clicking a header sorts by it, again reverses it', async () => {
    const sortOf = (key) => app.exec((sel) => document.querySelector(sel)?.getAttribute('aria-sort'), tid(`col-${key}`));
    const emails = members.map((m) => m.email).sort();
    const byEmail = (await server.members(org.id, { sort: 'email', limit: 1 })).items[0];
    assert.equal(byEmail.email, emails[0], "the server's email order");

    await (await app.browser.$(tid('col-email') + ' button')).click();
    await app.waitUntil((sel) => document.querySelector(sel)?.getAttribute('aria-sort') === 'ascending', { args: [tid('col-email')] });
    assert.equal(await sortOf('name'), 'none');
    await waitRoster(members.length, (r) => r.index !== 0 || r.email === emails[0], 'email ascending');
    await app.screenshot(SPEC, 'sort-email');

    await (await app.browser.$(tid('col-email') + ' button')).click();
    await app.waitUntil((sel) => document.querySelector(sel)?.getAttribute('aria-sort') === 'descending', { args: [tid('col-email')] });
    const rows = await waitRoster(members.length, (r) => r.index !== 0 || r.email === emails.at(-1), 'email descending');
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].email >= rows[i].email, 'descending emails on screen');

    // back to the name order the other steps expect
    await (await app.browser.$(tid('col-name') + ' button')).click();
    const firstByName = (await server.members(org.id, { sort: 'name', limit: 1 })).items[0];
    await app.waitUntil((sel) => document.querySelector(sel)?.getAttribute('aria-sort') === 'ascending', { args: [tid('col-name')] });
    await waitRoster(members.length, (r) => r.index !== 0 || r.id === firstByName.id, 'name ascending');
  });

  step('a chosen column appears and is remembered for the org', async () => {
    assert.equal(await app.exists('col-title'), false, 'no Title column by default');
    await app.click('column-chooser');
    await app.waitFor('column-chooser-panel');
    await app.click('column-toggle-title');
    await app.waitFor('col-title');
    await app.screenshot(SPEC, 'columns');
    await app.keys(['Escape']);
    await app.waitFor('column-chooser-panel', { gone: true });
    // the cells are the server's titles
    const byId = new Map(members.map((m) => [m.id, m]));
    const titles = await app.exec(() =>
      [...document.querySelectorAll('[data-testid^="row-"]:not([data-testid="row-skeleton"])')].map((el) => [
        Number(el.dataset.testid.slice(4)),
        el.querySelector('.td-title')?.textContent?.trim() ?? null,
      ]),
    );
    assert.ok(titles.length > 0);
    for (const [id, title] of titles) assert.equal(title, byId.get(id).title ?? '', `title of ${id}`);

    // another org has its own columns; coming back, the Title column is still there
    const other = orgs.find((o) => o.kind === 'client' && o.id !== org.id);
    await switchOrgWithSwitcher(app, other);
    assert.equal(await app.exists('col-title'), false, `${other.name} keeps its own columns`);
    await switchOrgWithSwitcher(app, org);
    await app.waitFor('col-title');
    await waitForOrg(app, org.name);
    await assertNoErrors(app, 'after choosing columns');
  });
});
