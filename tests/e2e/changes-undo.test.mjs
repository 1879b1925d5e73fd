// Changing things 7: undo. With the sync paused, a title edit and a suspension of the same
// user are staged; Undo on the first in the Pending changes panel says the later one goes with
// it, and takes both back: the row and the badge are clear. A change to someone else is then
// pushed; the server has that one and never saw the undone ones.

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
  setPaused,
  signIn,
  switchOrgWithSwitcher,
  syncNowAndWait,
  waitPendingBadge,
} from './support/flows.mjs';

const SPEC = 'changes-undo';

for (const theme of THEMES.slice(0, 1)) {
  describe(`undo a staged change (${theme})`, () => {
    let server;
    let app;
    let org;
    let since;
    let undone;
    let kept;
    const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));
    const shot = (name) => app.screenshot(SPEC, name);

    before(async () => {
      server = await startServer({ clients: 2, members: 600 });
      org = (await server.orgs()).find((o) => o.kind === 'client' && o.role === 'admin');
      const plain = (await server.allMembers(org.id)).filter((m) => m.role === 'member' && m.status === 'active');
      [undone, kept] = [plain[4], plain[8]];
      since = new Date().toISOString();
      app = await startApp({ name: `${SPEC}-${theme}`, theme });
      await signIn(app, server);
      await switchOrgWithSwitcher(app, org);
    });

    after(async () => {
      await app?.stop();
      await server?.dispose();
    });

    step('paused: a title edit and a suspension of one user are staged', async () => {
      await setPaused(app, true);
      await openDetail(app, undone);
      await app.click('detail-edit');
      await app.waitFor('detail-edit-form');
      await app.type('edit-title', 'Never Sent');
      await app.click('detail-save');
      await app.waitText('detail-notice', '1 change staged.');
      await app.click('action-suspend');
      await app.waitText('detail-notice', 'Suspension staged.');
      await waitPendingBadge(app, 2);
      await app.waitFor(`row-pending-${undone.id}`);
      await app.waitText('detail-pending-count', '2 pending');
    });

    step('Undo the first: the later change goes with it, and nothing is left', async () => {
      const [first, second] = await openChanges(app);
      assert.equal(first.change.type, 'edit_member');
      assert.equal(second.change.type, 'suspend');
      await openPending(app);
      await app.waitText(`undo-note-${first.id}`, '1 later change to this user goes with it');
      assert.equal(await app.exists(`undo-note-${second.id}`), false);
      await shot('undo');
      await app.click(`undo-${first.id}`);
      await app.waitText('pending-notice', 'Took back 2 changes.');
      await app.waitFor('pending-empty');
      await closePending(app);
      assert.deepEqual(await openChanges(app), []);
      await waitPendingBadge(app, 0);
      await app.waitFor(`row-pending-${undone.id}`, { gone: true });
      await app.waitFor('detail-pending', { gone: true });
      assert.equal(await app.text('detail-title'), undone.title ?? '—');
      assert.equal(await app.exists('action-suspend'), true, 'not suspended any more');
    });

    step('a change to someone else is pushed; the undone ones never reach the server', async () => {
      await openDetail(app, kept);
      await app.click('detail-edit');
      await app.waitFor('detail-edit-form');
      await app.type('edit-title', 'Sent Once');
      await app.click('detail-save');
      await app.waitText('detail-notice', '1 change staged.');
      await setPaused(app, false);
      await eventually(async () => (await server.member(org.id, kept.id)).title === 'Sent Once', { message: 'the other change on the server' });
      await waitPendingBadge(app, 0);
      await syncNowAndWait(app);

      const m = await server.member(org.id, undone.id);
      assert.equal(m.version, undone.version, 'never changed');
      assert.equal(m.status, 'active');
      assert.equal(m.title ?? null, undone.title ?? null);
      assert.deepEqual(await server.audit(org.id, { target: undone.id, from: since }), []);
      const all = await server.audit(org.id, { from: since });
      assert.deepEqual(all.map((e) => [e.action, e.target_id]), [['member.edited', kept.id]], 'only the kept change');
      await assertNoErrors(app, 'after undo');
    });
  });
}
