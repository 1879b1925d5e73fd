// Story 4: offline. With the server gone the badge says Offline, "as of" keeps the time of the
// last sync, and reviewing goes on from the cache (search, tabs, a user's detail) with no
// error shown. When the server is back (the app retries every 10 s) the badge goes Online and
// a change made meanwhile through the API shows in the app.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './support/server.mjs';
import { startApp } from './support/app.mjs';
import { assertNoErrors, clearSearch, count, currentOrgName, guarded, rowCells, signIn } from './support/flows.mjs';

const SPEC = 'offline';

describe('offline review', () => {
  let server;
  let app;
  let org;
  let members;
  /** the user whose title changes while the app is offline */
  let target;
  let asOfBefore;
  const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));
  const syncedAt = async () => (await app.invoke('orgs')).orgs.find((o) => o.id === org.id).synced_at;
  let syncedBefore;
  const asOfTitle = () => app.exec(() => document.querySelector('[data-testid="sync-as-of"]')?.getAttribute('title'));

  async function openDetail(id) {
    const row = await app.waitFor(`row-${id}`);
    await row.doubleClick();
    await app.waitFor('detail-panel');
    await app.waitText('detail-email', members.find((m) => m.id === id).email);
  }

  before(async () => {
    server = await startServer({ clients: 2, members: 600 });
    app = await startApp({ name: SPEC });
    await signIn(app, server);
    const name = await currentOrgName(app);
    org = (await server.orgs()).find((o) => o.name === name);
    members = await server.allMembers(org.id);
  });

  after(async () => {
    await app?.stop();
    await server?.dispose();
  });

  step('with the server stopped the badge says Offline and "as of" stays', async () => {
    await app.waitText('sync-state', 'Online');
    asOfBefore = await asOfTitle();
    syncedBefore = await syncedAt();
    assert.ok(asOfBefore && syncedBefore, 'synced: "as of" has a time');
    const rows = await rowCells(app);
    target = members.find((m) => m.id === rows[2].id);

    await server.stop();
    await app.click('sync-now');
    await app.waitText('sync-state', 'Offline', { timeout: 60_000 });
    await app.waitFor('offline-banner');
    assert.equal(await asOfTitle(), asOfBefore, '"as of" still the last sync');
    assert.equal(await syncedAt(), syncedBefore, 'the cache is as of the last sync');
    assert.match(await app.text('sync-as-of'), /^as of /);
    assert.match(await app.text('offline-banner'), /Offline — showing the cache as of/);
    await assertNoErrors(app, 'when the server went away');
    await app.screenshot(SPEC, 'offline');
  });

  step('search, tabs and the detail work from the cache', async () => {
    const someone = members.find((m) => m.status === 'active' && m.last_name && /^[A-Za-z]+$/.test(m.last_name));
    await app.type('roster-search', someone.last_name);
    await app.waitFor(`row-${someone.id}`);
    await openDetail(someone.id);
    await app.screenshot(SPEC, 'offline-search-detail');
    await app.click('detail-close');
    await app.waitFor('detail-panel', { gone: true });
    await clearSearch(app);
    await app.waitText('roster-total', `${count(members.length)} users`);

    const pending = members.filter((m) => m.status === 'pending' && m.role !== 'guest');
    await app.click('tab-pending');
    await app.waitText('roster-total', `${count(pending.length)} users`);
    const rows = await app.waitRows();
    const ids = new Set(pending.map((m) => m.id));
    for (const r of rows) assert.ok(ids.has(Number(r.id)), `${r.id} is pending`);
    await app.click('tab-all');
    await app.waitText('roster-total', `${count(members.length)} users`);

    await openDetail(target.id);
    await app.waitText('detail-title', target.title ?? '—');
    assert.equal(await app.text('sync-state'), 'Offline');
    assert.equal(await asOfTitle(), asOfBefore);
    assert.equal(await syncedAt(), syncedBefore);
    await assertNoErrors(app, 'while reviewing offline');
  });

  step('the server comes back: Online, and a change made meanwhile shows', async () => {
    await server.start();
    const title = `Offline Reviewer ${Date.now() % 100000}`;
    await server.setTitle(org.id, await server.member(org.id, target.id), title);
    const t0 = Date.now();
    // the app retries every 10 s while offline
    await app.waitText('sync-state', 'Online', { timeout: 30_000 });
    await app.waitFor('offline-banner', { gone: true });
    await app.waitText('detail-title', title, { timeout: 30_000 });
    console.log(`back online and the change shown ${Date.now() - t0} ms after the server restarted`);
    assert.ok(new Date(await syncedAt()) > new Date(syncedBefore), '"as of" moved on');
    assert.match(await app.text('sync-as-of'), /as of just now/);
    await assertNoErrors(app, 'after coming back online');
    await app.screenshot(SPEC, 'online-again');
  });
});
