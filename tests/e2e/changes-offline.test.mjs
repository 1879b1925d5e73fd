// Changing things 5: edits made offline. With the server stopped the app stages a title edit,
// a suspension and a new user; the badge says Offline and counts them pending, and the app
// goes on working from the cache. The server restarted on the same port, the app pushes by
// itself (its offline retry) and every change is on the server exactly once: versions +1,
// one audit event each, one new member; another sync sends nothing again.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './support/server.mjs';
import { startApp } from './support/app.mjs';
import {
  THEMES,
  assertNoErrors,
  clearSearch,
  closePending,
  count,
  eventually,
  guarded,
  openChanges,
  openDetail,
  openPending,
  pendingBadge,
  signIn,
  switchOrgWithSwitcher,
  syncNowAndWait,
  waitPendingBadge,
} from './support/flows.mjs';

const SPEC = 'changes-offline';

for (const theme of THEMES) {
  describe(`edits made offline reach the server once (${theme})`, () => {
    let server;
    let app;
    let org;
    let members;
    let since;
    let edited;
    let suspended;
    let added;
    const before0 = new Map();
    const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));
    const shot = (name) => app.screenshot(SPEC, name);
    const auditOf = async (id) => (await server.audit(org.id, { target: id, from: since })).map((e) => e.action);

    before(async () => {
      server = await startServer({ clients: 2, members: 600 });
      org = (await server.orgs()).find((o) => o.kind === 'client' && o.role === 'admin');
      members = await server.allMembers(org.id);
      const plain = members.filter((m) => m.role === 'member' && m.status === 'active');
      [edited, suspended] = [plain[5], plain[9]];
      const domain = edited.email.split('@')[1];
      added = { email: `offline.hire.${theme}${Date.now() % 100000}@${domain}`, first: 'Offline', last: 'Hire' };
      for (const m of [edited, suspended]) before0.set(m.id, await server.member(org.id, m.id));
      since = new Date().toISOString();
      app = await startApp({ name: `${SPEC}-${theme}`, theme });
      await signIn(app, server);
      await switchOrgWithSwitcher(app, org);
      await app.waitText('sync-state', 'Online');
    });

    after(async () => {
      await app?.stop();
      await server?.dispose();
    });

    step('server stopped: a title edit, a suspension and a new user are staged and counted', async () => {
      await server.stop();
      await openDetail(app, edited);
      await app.click('detail-edit');
      await app.waitFor('detail-edit-form');
      await app.type('edit-title', `Offline Editor ${theme}`);
      await app.click('detail-save');
      await app.waitText('detail-notice', '1 change staged.');
      // staging wakes the push: it finds the server gone
      await app.waitText('sync-state', 'Offline', { timeout: 60_000 });
      await app.waitFor('offline-banner');
      await waitPendingBadge(app, 1);

      await openDetail(app, suspended);
      await app.click('action-suspend');
      await app.waitText('detail-notice', 'Suspension staged.');
      await app.waitFor(`row-pending-${suspended.id}`);
      await waitPendingBadge(app, 2);

      await clearSearch(app);
      await app.click('add-users');
      await app.waitFor('add-users-dialog');
      await app.type('add-email', added.email, { clear: false });
      await app.type('add-first-name', added.first, { clear: false });
      await app.type('add-last-name', added.last, { clear: false });
      await app.click('add-submit');
      await app.waitFor('add-users-dialog', { gone: true, timeout: 30_000 });
      await waitPendingBadge(app, 3);
      assert.equal(await app.text('sync-state'), 'Offline');
      assert.equal((await openChanges(app)).length, 3);
      assert.match(await app.text('sync-pending'), /^3 pending$/);
      await assertNoErrors(app, 'staging offline');
      await shot('offline-pending');
    });

    step('offline the app keeps working: search, tabs, details and the pending list', async () => {
      const other = members.find((m) => m.role === 'member' && m.status === 'active' && m.id !== edited.id && m.id !== suspended.id && m.last_name);
      await openDetail(app, other);
      await app.waitText('detail-email', other.email);
      await clearSearch(app);
      await app.waitText('roster-total', `${count(members.length)} users`);
      await app.click('tab-suspended');
      await app.waitRows();
      await app.click('tab-all');
      await openDetail(app, edited);
      await app.waitFor('detail-pending');
      assert.match(await app.text('detail-pending'), new RegExp(`Offline Editor ${theme}`));
      await openPending(app);
      assert.match(await app.text('pending-summary'), /^3 waiting to be sent/);
      await shot('offline-pending-panel');
      await closePending(app);
      assert.equal(await app.text('sync-state'), 'Offline');
      await assertNoErrors(app, 'working offline');
    });

    step('server back on the same port: every change on the server exactly once', async () => {
      await server.start();
      const t0 = Date.now();
      await app.waitText('sync-state', 'Online', { timeout: 30_000 });
      await waitPendingBadge(app, 0, { timeout: 30_000 });
      console.log(`back online and pushed ${Date.now() - t0} ms after the server restarted`);
      await app.waitFor('offline-banner', { gone: true });

      const check = async () => {
        const e = await server.member(org.id, edited.id);
        assert.equal(e.title, `Offline Editor ${theme}`);
        assert.equal(e.version, before0.get(edited.id).version + 1, 'edited: version +1');
        assert.deepEqual(await auditOf(edited.id), ['member.edited']);
        const s = await server.member(org.id, suspended.id);
        assert.equal(s.status, 'suspended');
        assert.equal(s.version, before0.get(suspended.id).version + 1, 'suspended: version +1');
        assert.deepEqual(await auditOf(suspended.id), ['member.suspended']);
        const found = (await server.members(org.id, { search: added.email })).items.filter((m) => m.email === added.email);
        assert.equal(found.length, 1, 'the new user once');
        assert.equal(found[0].status, 'pending');
        assert.equal(found[0].first_name, added.first);
        assert.deepEqual(await auditOf(found[0].id), ['member.added']);
        const all = await server.audit(org.id, { from: since });
        assert.equal(all.length, 3, `three events in all: ${all.map((x) => x.action).join(', ')}`);
      };
      await eventually(async () => {
        await check();
        return true;
      }, { timeout: 15_000, message: 'the three changes on the server' });
      assert.deepEqual(await openChanges(app), []);

      // another sync: nothing is sent twice
      await syncNowAndWait(app);
      await check();
      assert.equal(await pendingBadge(app), 0);
      await app.waitText('detail-title', `Offline Editor ${theme}`);
      await app.waitFor('detail-pending', { gone: true });
      await assertNoErrors(app, 'after coming back online');
      await shot('offline-pushed');
    });
  });
}
