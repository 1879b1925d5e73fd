// Changing things 4: add three users with the multi-row form. One email is bad: submitting
// marks that cell (its error under it, aria-invalid, the error as its title) and stages
// nothing; fixed in place the three are staged at once, pushed, and the server has each one
// once, as a pending invitation.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './support/server.mjs';
import { startApp } from './support/app.mjs';
import {
  THEMES,
  assertNoErrors,
  eventually,
  guarded,
  openChanges,
  pendingBadge,
  signIn,
  switchOrgWithSwitcher,
  waitPendingBadge,
} from './support/flows.mjs';

const SPEC = 'changes-add';

for (const theme of THEMES) {
  describe(`add three users in the grid (${theme})`, () => {
    let server;
    let app;
    let org;
    let since;
    let people;
    let tag;
    const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));
    const shot = (name) => app.screenshot(SPEC, name);
    const cell = (row, field) => app.exec((sel) => {
      const e = document.querySelector(sel);
      return { value: e.value, invalid: e.getAttribute('aria-invalid'), title: e.getAttribute('title') };
    }, `[data-testid="cell-${row}-${field}"]`);

    before(async () => {
      server = await startServer({ clients: 2, members: 600 });
      org = (await server.orgs()).find((o) => o.kind === 'client' && o.role === 'admin');
      const domain = (await server.members(org.id, { limit: 1 })).items[0].email.split('@')[1];
      tag = `${theme}${Date.now() % 100000}`;
      people = [
        { email: `ada.lovelace.${tag}@${domain}`, first: 'Ada', last: 'Lovelace', title: 'Analyst' },
        { email: `grace.hopper.${tag}@${domain}`, bad: `grace.hopper.${tag}.${domain}`, first: 'Grace', last: 'Hopper', title: 'Rear Admiral' },
        { email: `alan.turing.${tag}@${domain}`, first: 'Alan', last: 'Turing', title: '' },
      ];
      since = new Date().toISOString();
      app = await startApp({ name: `${SPEC}-${theme}`, theme });
      await signIn(app, server);
      await switchOrgWithSwitcher(app, org);
    });

    after(async () => {
      await app?.stop();
      await server?.dispose();
    });

    step('three rows typed in, one bad email: the cell says so and nothing is staged', async () => {
      await app.click('add-users');
      await app.waitFor('add-users-dialog');
      await app.click('add-tab-multi');
      await app.waitFor('add-multi');
      for (const [i, p] of people.entries()) {
        await app.type(`cell-${i}-email`, p.bad ?? p.email, { clear: false });
        await app.type(`cell-${i}-first-name`, p.first, { clear: false });
        await app.type(`cell-${i}-last-name`, p.last, { clear: false });
        if (p.title) await app.type(`cell-${i}-title`, p.title, { clear: false });
        assert.equal((await cell(i, 'role')).value, 'Member', 'the role defaults to Member');
      }
      await app.waitText('add-multi-count', '3 users');
      await app.waitText('add-submit', 'Add 3 users');
      await app.click('add-submit');

      const error = await app.waitText('cell-error-1-email', (t) => t.length > 0);
      const bad = await cell(1, 'email');
      assert.equal(bad.invalid, 'true', 'the bad cell is aria-invalid');
      assert.equal(bad.title, error, 'its title is the error');
      assert.equal(await app.exec(() => document.querySelector('[data-testid="cell-1-email"]').getAttribute('aria-describedby')), 'cell-error-1-email');
      for (const i of [0, 2]) {
        assert.equal((await cell(i, 'email')).invalid, null, `row ${i + 1} is fine`);
        assert.equal(await app.exists(`cell-error-${i}-email`), false);
      }
      await app.waitText('add-form-error', 'Fix the marked cells first.');
      assert.match(await app.text('add-multi-count'), /3 users, 1 problem/);
      console.log(`bad email cell: ${error}`);
      assert.equal(await app.exists('add-users-dialog'), true, 'the dialog stays');
      assert.deepEqual(await openChanges(app), [], 'nothing staged');
      assert.equal(await pendingBadge(app), 0);
      await shot('add-cell-error');
    });

    step('fixed in place: the error goes, the three are staged at once and reach the server once', async () => {
      await app.type('cell-1-email', people[1].email);
      await app.waitFor('cell-error-1-email', { gone: true });
      assert.equal((await cell(1, 'email')).invalid, null);
      assert.equal((await cell(1, 'email')).value, people[1].email);
      await app.waitText('add-multi-count', (t) => t.trim() === '3 users');
      await shot('add-fixed');
      await app.click('add-submit');
      await app.waitFor('add-users-dialog', { gone: true, timeout: 30_000 });

      const found = await eventually(
        async () => {
          const all = await Promise.all(people.map((p) => server.memberByEmail(org.id, p.email)));
          return all.every(Boolean) ? all : null;
        },
        { message: 'the three on the server' },
      );
      for (const [i, m] of found.entries()) {
        const p = people[i];
        assert.equal(m.status, 'pending', `${p.email} is a pending invitation`);
        assert.equal(m.role, 'member');
        assert.equal(m.first_name, p.first);
        assert.equal(m.last_name, p.last);
        assert.equal(m.title ?? '', p.title);
        const named = (await server.members(org.id, { search: p.email })).items.filter((x) => x.email === p.email);
        assert.equal(named.length, 1, `${p.email} once`);
        const events = await server.audit(org.id, { target: m.id, from: since });
        assert.deepEqual(events.map((e) => e.action), ['member.added'], `${p.email}: one audit event`);
      }
      assert.equal(await server.memberByEmail(org.id, people[1].bad), null, 'the bad email never went');
      await waitPendingBadge(app, 0);
      // they show in the app's Pending tab
      await app.click('tab-pending');
      await app.type('roster-search', tag, { clear: false });
      for (const m of found) await app.waitFor(`row-${m.id}`, { timeout: 30_000 });
      await assertNoErrors(app, 'after adding users');
      await shot('add-done');
    });
  });
}
