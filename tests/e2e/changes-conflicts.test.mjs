// Changing things 6: conflicts. With the sync paused the app stages new titles for two users;
// a second client (the `orgdesk` CLI with a profile of its own) changes the same two titles on
// the server. Push now: both come back as conflicts, shown side by side in the Pending changes
// panel (started from / mine / theirs, field by field). One is resolved with Keep mine, the
// other with Take theirs; resumed, the app pushes, and the server ends with mine for the first
// (version +2: theirs, then mine) and theirs for the second (version +1).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './support/server.mjs';
import { startApp } from './support/app.mjs';
import { secondClient } from './support/cli.mjs';
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
  waitPendingBadge,
} from './support/flows.mjs';

const SPEC = 'changes-conflicts';

for (const theme of THEMES) {
  describe(`conflicts side by side, keep mine and take theirs (${theme})`, () => {
    let server;
    let app;
    let org;
    let since;
    /** keep mine on the first, take theirs on the second */
    let people;
    const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));
    const shot = (name) => app.screenshot(SPEC, name);
    const conflictRow = (id, field) =>
      app.exec(
        (id, field) => {
          const row = document.querySelector(`[data-testid="conflict-${id}"] [data-testid="conflict-field-${field}"]`);
          if (!row) return null;
          return {
            differs: row.dataset.differs,
            base: row.querySelector('td.muted')?.textContent?.trim(),
            mine: row.querySelector('td.mine')?.textContent?.trim(),
            theirs: row.querySelector('td.theirs')?.textContent?.trim(),
          };
        },
        id,
        field,
      );

    before(async () => {
      server = await startServer({ clients: 2, members: 600 });
      org = (await server.orgs()).find((o) => o.kind === 'client' && o.role === 'admin');
      const plain = (await server.allMembers(org.id)).filter((m) => m.role === 'member' && m.status === 'active' && m.title);
      people = [plain[2], plain[7]].map((m, i) => ({
        ...m,
        mine: `Mine ${i ? 'B' : 'A'} ${theme}`,
        theirs: `Theirs ${i ? 'B' : 'A'} ${theme}`,
      }));
      since = new Date().toISOString();
      app = await startApp({ name: `${SPEC}-${theme}`, theme });
      await signIn(app, server);
      await switchOrgWithSwitcher(app, org);
    });

    after(async () => {
      await app?.stop();
      await server?.dispose();
    });

    step('sync paused: the app stages a new title for two users', async () => {
      await setPaused(app, true);
      for (const p of people) {
        await openDetail(app, p);
        await app.click('detail-edit');
        await app.waitFor('detail-edit-form');
        await app.type('edit-title', p.mine);
        await app.click('detail-save');
        await app.waitText('detail-notice', '1 change staged.');
      }
      await waitPendingBadge(app, 2);
      for (const p of people) assert.equal((await server.member(org.id, p.id)).version, p.version, 'not sent');
    });

    step('a second client (the CLI) changes the same titles on the server', async () => {
      const other = await secondClient(server, org);
      for (const p of people) await other.run(['user', 'edit', String(p.id), '--title', p.theirs]);
      const pushed = await other.run(['outbox', 'push']);
      assert.equal(pushed.json?.applied, 2, `the CLI pushed both: ${pushed.stdout}`);
      for (const p of people) {
        const m = await server.member(org.id, p.id);
        assert.equal(m.title, p.theirs);
        assert.equal(m.version, p.version + 1);
      }
    });

    step('Push now: both are conflicts, side by side in the Pending changes panel', async () => {
      await openPending(app);
      await app.click('push-now');
      const changes = await eventually(
        async () => {
          const open = await openChanges(app);
          return open.length === 2 && open.every((c) => c.state === 'conflict') ? open : null;
        },
        { message: 'two conflicts' },
      );
      for (const p of people) {
        p.change = changes.find((c) => c.user_id === p.id);
        assert.ok(p.change, `a conflict on ${p.email}`);
        await app.waitFor(`conflict-${p.change.id}`);
        await app.waitText(`change-state-${p.change.id}`, 'Conflict');
        const row = await conflictRow(p.change.id, 'title');
        assert.deepEqual(row, { differs: 'true', base: p.title, mine: p.mine, theirs: p.theirs }, 'title: started from / mine / theirs');
        // fields nobody changed are the same on both sides
        const email = await conflictRow(p.change.id, 'email');
        if (email) assert.equal(email.differs, 'false');
      }
      assert.match(await app.text('pending-summary'), /2 need you/);
      await assertNoErrors(app, 'with conflicts shown'); // a conflict is a decision, not an error
      await shot('conflict');
    });

    step('Keep mine on the first, Take theirs on the second; resumed, the server has the result', async () => {
      const [a, b] = people;
      await app.click(`resolve-keep-${a.change.id}`);
      await app.waitText('pending-notice', 'Kept yours');
      await app.waitFor(`conflict-${a.change.id}`, { gone: true });
      await app.click(`resolve-theirs-${b.change.id}`);
      await app.waitText('pending-notice', 'Took the server');
      await app.waitFor(`conflict-${b.change.id}`, { gone: true });
      const open = await openChanges(app);
      assert.equal(open.length, 1, 'mine staged again, theirs taken');
      assert.equal(open[0].user_id, a.id);
      assert.equal(open[0].state, 'pending');
      assert.equal(open[0].base_version, a.version + 1, "staged again on the server's row");
      await shot('conflict-resolved');

      // resume from the panel: the app pushes by itself
      await app.click('pending-pause');
      await app.waitFor('pending-paused', { gone: true });
      await eventually(async () => (await server.member(org.id, a.id)).title === a.mine, { message: 'mine on the server' });
      await waitPendingBadge(app, 0);
      const ma = await server.member(org.id, a.id);
      assert.equal(ma.title, a.mine);
      assert.equal(ma.version, a.version + 2, 'theirs then mine');
      const mb = await server.member(org.id, b.id);
      assert.equal(mb.title, b.theirs);
      assert.equal(mb.version, b.version + 1, 'theirs only');
      assert.deepEqual((await server.audit(org.id, { target: a.id, from: since })).map((e) => e.action), ['member.edited', 'member.edited']);
      assert.deepEqual((await server.audit(org.id, { target: b.id, from: since })).map((e) => e.action), ['member.edited']);
      assert.deepEqual(await openChanges(app), []);
      // the open panel follows the push
      await app.waitFor('pending-empty', { timeout: 15_000 });
      await closePending(app);

      // the app's cache shows the server's final values
      await openDetail(app, a);
      await app.waitText('detail-title', a.mine);
      await openDetail(app, b);
      await app.waitText('detail-title', b.theirs);
      await assertNoErrors(app, 'after resolving');
    });
  });
}
