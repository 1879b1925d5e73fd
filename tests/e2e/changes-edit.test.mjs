// Changing things 1: edit a user in the detail panel. Edit → a new title → Save stages one
// change: the row and the detail say it is not yet on the server and the badge counts it.
// Pushed from the Pending changes panel (sync paused) it lands on the server once (version
// +1, one audit event); with the sync running the app pushes the next edit by itself.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './support/server.mjs';
import { startApp } from './support/app.mjs';
import {
  THEMES,
  assertNoErrors,
  closePending,
  eventually,
  guarded,
  openChanges,
  openDetail,
  openPending,
  pendingBadge,
  setPaused,
  signIn,
  switchOrgWithSwitcher,
  syncNowAndWait,
  waitPendingBadge,
} from './support/flows.mjs';

const SPEC = 'changes-edit';

for (const theme of THEMES) {
  describe(`edit a user in the detail (${theme})`, () => {
    let server;
    let app;
    let org;
    let members;
    let since;
    /** [first edited user, second edited user] */
    let people;
    const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));
    const shot = (name) => app.screenshot(SPEC, name);
    const edits = (user) => server.audit(org.id, { target: user.id, from: since });

    /** Edit → title → Save in the open detail; returns after the form closed. */
    async function editTitle(title, { screenshot } = {}) {
      await app.click('detail-edit');
      await app.waitFor('detail-edit-form');
      await app.type('edit-title', title);
      await app.waitUntil(() => document.querySelector('[data-testid="detail-save"]')?.disabled === false, {
        message: 'Save enabled once something changed',
      });
      if (screenshot) await shot(screenshot);
      await app.click('detail-save');
      await app.waitFor('detail-edit-form', { gone: true });
      await app.waitText('detail-notice', '1 change staged.');
    }

    before(async () => {
      server = await startServer({ clients: 2, members: 600 });
      org = (await server.orgs()).find((o) => o.kind === 'client' && o.role === 'admin');
      members = await server.allMembers(org.id);
      const plain = members.filter((m) => m.role === 'member' && m.status === 'active' && m.title);
      people = [plain[3], plain[11]];
      since = new Date().toISOString();
      app = await startApp({ name: `${SPEC}-${theme}`, theme });
      await signIn(app, server);
      await switchOrgWithSwitcher(app, org);
    });

    after(async () => {
      await app?.stop();
      await server?.dispose();
    });

    step('Edit → new title → Save: the row is marked pending, nothing sent while paused', async () => {
      const [a] = people;
      const before = await server.member(org.id, a.id);
      await setPaused(app, true);
      await openDetail(app, a);
      await app.waitText('detail-title', a.title);
      await app.click('detail-edit');
      await app.waitFor('detail-edit-form');
      assert.equal(await app.exec(() => document.querySelector('[data-testid="edit-title"]').value), a.title, 'Edit starts from the row');
      await app.click('detail-cancel');
      await app.waitFor('detail-edit-form', { gone: true });

      const title = `Head of Testing ${theme}`;
      await editTitle(title, { screenshot: 'detail-edit' });
      await app.waitFor(`row-pending-${a.id}`);
      await app.waitFor('detail-pending');
      assert.match(await app.text('detail-pending'), /Not yet on the server/);
      await app.waitText('detail-pending-count', '1 pending');
      const diff = await app.exec(() => document.querySelector('[data-testid="detail-pending"] [data-testid="diff-title"]')?.textContent ?? '');
      assert.ok(diff.includes(a.title) && diff.includes(title), `the diff shows before and after: ${diff}`);
      await waitPendingBadge(app, 1);
      await assertNoErrors(app, 'after staging an edit');
      await shot('detail-pending');

      // paused: the server has not seen it
      const still = await server.member(org.id, a.id);
      assert.equal(still.version, before.version);
      assert.equal(still.title, a.title);
      a.expected = { title, version: before.version + 1 };
    });

    step('Push now in the Pending changes panel: on the server once, version +1', async () => {
      const [a] = people;
      const open = await openChanges(app);
      assert.equal(open.length, 1, 'one change staged');
      const [change] = open;
      assert.equal(change.user_id, a.id);
      assert.equal(change.change.type, 'edit_member');
      assert.deepEqual(change.change.edit.profile, { title: a.expected.title });

      await openPending(app);
      await app.waitFor(`change-${change.id}`);
      assert.match(await app.text(`change-text-${change.id}`), /^Edit the profile of /);
      const diff = await app.exec(
        (id) => document.querySelector(`[data-testid="change-${id}"] [data-testid="diff-title"]`)?.textContent ?? '',
        change.id,
      );
      assert.ok(diff.includes(a.expected.title), `the panel's diff: ${diff}`);
      assert.match(await app.text('pending-summary'), /^1 waiting to be sent/);
      await shot('pending-panel');

      await app.click('push-now');
      await app.waitFor('pending-empty', { timeout: 30_000 });
      await app.waitText('pending-empty', 'Nothing pending');
      await closePending(app);

      const after = await server.member(org.id, a.id);
      assert.equal(after.title, a.expected.title);
      assert.equal(after.version, a.expected.version, 'applied once: version +1');
      const events = await edits(a);
      assert.deepEqual(
        events.map((e) => e.action),
        ['member.edited'],
        'one audit event',
      );
      await waitPendingBadge(app, 0);
      await app.waitFor(`row-pending-${a.id}`, { gone: true });
      await app.waitText('detail-title', a.expected.title);
      await app.waitFor('detail-pending', { gone: true });
      await assertNoErrors(app, 'after the push');
    });

    step('with the sync running the app pushes the next edit by itself', async () => {
      const [, b] = people;
      const before = await server.member(org.id, b.id);
      await setPaused(app, false);
      await openDetail(app, b);
      const title = `Chief Pushing Officer ${theme}`;
      const t0 = Date.now();
      await editTitle(title);
      const after = await eventually(
        async () => {
          const m = await server.member(org.id, b.id);
          return m.title === title ? m : null;
        },
        { message: 'the edit on the server' },
      );
      console.log(`staged to on the server by itself in ${Date.now() - t0} ms`);
      assert.equal(after.version, before.version + 1, 'version +1');
      await waitPendingBadge(app, 0);
      await app.waitFor(`row-pending-${b.id}`, { gone: true });
      await app.waitText('detail-title', title);

      // another sync sends nothing again
      await syncNowAndWait(app);
      assert.equal((await server.member(org.id, b.id)).version, before.version + 1);
      assert.equal((await server.member(org.id, people[0].id)).version, people[0].expected.version);
      assert.deepEqual((await edits(b)).map((e) => e.action), ['member.edited']);
      assert.equal(await pendingBadge(app), 0);
      await assertNoErrors(app, 'after the automatic push');
    });
  });
}
