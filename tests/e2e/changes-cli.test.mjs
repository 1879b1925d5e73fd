// Changing things 8: one outbox for the app and the CLI. With the app's data dir and the
// profile it made (named after the server's host and port), `orgdesk outbox list` lists a
// change staged in the app (sync paused), the same change by id. The other way round: a
// change the CLI stages in that profile shows in the app's Pending changes panel, and the
// app's Push now sends both, each once.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './support/server.mjs';
import { startApp } from './support/app.mjs';
import { cli, profilesIn } from './support/cli.mjs';
import {
  THEMES,
  assertNoErrors,
  closePending,
  guarded,
  openChanges,
  openDetail,
  openPending,
  setPaused,
  signIn,
  switchOrgWithSwitcher,
  waitPendingBadge,
} from './support/flows.mjs';

const SPEC = 'changes-cli';

for (const theme of THEMES.slice(0, 1)) {
  describe(`the app and the CLI share one outbox (${theme})`, () => {
    let server;
    let app;
    let org;
    let since;
    let profile;
    let fromApp;
    let fromCli;
    const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));
    const shot = (name) => app.screenshot(SPEC, name);
    const appCli = (args) => cli(args, { dataDir: app.dataDir, profile });

    before(async () => {
      server = await startServer({ clients: 2, members: 600 });
      org = (await server.orgs()).find((o) => o.kind === 'client' && o.role === 'admin');
      const plain = (await server.allMembers(org.id)).filter((m) => m.role === 'member' && m.status === 'active');
      [fromApp, fromCli] = [plain[6], plain[12]];
      since = new Date().toISOString();
      app = await startApp({ name: `${SPEC}-${theme}`, theme });
      await signIn(app, server);
      await switchOrgWithSwitcher(app, org);
    });

    after(async () => {
      await app?.stop();
      await server?.dispose();
    });

    step('a change staged in the app is in `orgdesk outbox list` over the same cache', async () => {
      await setPaused(app, true);
      await openDetail(app, fromApp);
      await app.click('detail-edit');
      await app.waitFor('detail-edit-form');
      await app.type('edit-title', 'Staged In The App');
      await app.click('detail-save');
      await app.waitText('detail-notice', '1 change staged.');
      const [staged] = await openChanges(app);

      const profiles = profilesIn(app.dataDir);
      assert.deepEqual(profiles, [`127.0.0.1-${server.port}`], 'the profile is named after the server');
      [profile] = profiles;
      const listed = (await appCli(['outbox', 'list'])).json;
      assert.equal(listed.length, 1, `one change: ${JSON.stringify(listed)}`);
      assert.equal(listed[0].id, staged.id, 'the same change');
      assert.equal(listed[0].state, 'pending');
      assert.equal(listed[0].org_id, org.id);
      assert.equal(listed[0].user_id, fromApp.id);
      assert.deepEqual(listed[0].change, staged.change);
      const text = (await cli(['outbox', 'list'], { dataDir: app.dataDir, profile, json: false })).stdout;
      console.log(`orgdesk outbox list:\n${text}`);
      assert.ok(text.includes(staged.id.slice(0, 8)) || text.includes(fromApp.email) || text.includes(String(fromApp.id)), 'the table names it');
    });

    step('a change the CLI stages in the same profile shows in the app; Push now sends both once', async () => {
      const staged = (await appCli(['--org', String(org.id), 'user', 'edit', String(fromCli.id), '--title', 'Staged In The CLI'])).json;
      assert.equal(staged.user_id, fromCli.id);
      // the app learns of it when it next counts (a sync, a change of its own): noted, not held to
      console.log(`the badge right after the CLI staged: ${await app.text('sync-pending')} (the outbox holds 2)`);
      await openPending(app);
      await app.waitFor(`change-${staged.id}`);
      assert.match(await app.text('pending-summary'), /^2 waiting to be sent/);
      await shot('cli-change-in-app');
      await app.click('push-now');
      await app.waitFor('pending-empty', { timeout: 30_000 });
      await closePending(app);
      await waitPendingBadge(app, 0);

      for (const [m, title] of [
        [fromApp, 'Staged In The App'],
        [fromCli, 'Staged In The CLI'],
      ]) {
        const now = await server.member(org.id, m.id);
        assert.equal(now.title, title);
        assert.equal(now.version, m.version + 1, `${m.email}: once`);
        assert.deepEqual((await server.audit(org.id, { target: m.id, from: since })).map((e) => e.action), ['member.edited']);
      }
      assert.deepEqual((await appCli(['outbox', 'list'])).json, [], 'the CLI sees the outbox empty too');
      await setPaused(app, false);
      await assertNoErrors(app, 'after pushing');
    });
  });
}
