// Changing things 3: a bulk role change on a selection made with click, Ctrl+click and
// Ctrl+Shift+click: every admin of a client and three members, to View Only Admin. The rules
// check every row first: the dialog says how many will change and lists the refused row (the
// last admin) with its reason; Confirm stages the others, the app pushes them, and the server
// has each changed once while the refused admin is untouched.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './support/server.mjs';
import { startApp } from './support/app.mjs';
import {
  THEMES,
  assertNoErrors,
  clickWith,
  eventually,
  guarded,
  selectOption,
  signIn,
  switchOrgWithSwitcher,
  waitPendingBadge,
} from './support/flows.mjs';

const SPEC = 'changes-bulk';
const ROSTER_QUERY = { tab: 'all', search: '', role: null, status: null, workspace: null, inactive_days: null, sort: 'name', descending: false };

for (const theme of THEMES) {
  describe(`bulk role change with a refused row (${theme})`, () => {
    let server;
    let app;
    let org;
    let since;
    let admins;
    let plain;
    let selected;
    let versions;
    let refusedId;
    const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));
    const shot = (name) => app.screenshot(SPEC, name);

    /** The roster as the app orders it (All, by name), from its own cache. */
    async function appOrder() {
      const out = [];
      for (;;) {
        const w = await app.invoke('roster_window', { org: org.id, query: ROSTER_QUERY, offset: out.length, limit: 500 });
        out.push(...w.rows);
        if (!w.rows.length || out.length >= w.total) return out;
      }
    }

    /** Scrolls the table so that row `index` is on screen, and waits for it. */
    async function scrollTo(index, id) {
      await app.exec((i) => {
        const table = document.querySelector('[data-testid="roster-table"]');
        const row = document.querySelector('[data-testid^="row-"]');
        const h = row ? row.getBoundingClientRect().height : 32;
        table.scrollTop = Math.max(0, (i - 3) * h);
      }, index);
      await app.waitFor(`row-${id}`);
      await app.waitRows();
    }

    before(async () => {
      server = await startServer({ clients: 3, members: 900 });
      const orgs = await server.orgs();
      for (const o of orgs.filter((x) => x.kind === 'client' && x.role === 'admin')) {
        const a = (await server.allMembers(o.id, { role: 'admin' })).filter((m) => m.status === 'active');
        if (a.length === 2) {
          org = o;
          break;
        }
      }
      assert.ok(org, 'a client with two active admins');
      since = new Date().toISOString();
      app = await startApp({ name: `${SPEC}-${theme}`, theme });
      await signIn(app, server);
      await switchOrgWithSwitcher(app, org);
    });

    after(async () => {
      await app?.stop();
      await server?.dispose();
    });

    step('select both admins (click, Ctrl+click) and three members (Ctrl+click, Ctrl+Shift+click)', async () => {
      const rows = await appOrder();
      const at = new Map(rows.map((r, i) => [r.id, i]));
      admins = rows.filter((r) => r.role === 'admin' && r.status === 'active');
      assert.equal(admins.length, 2);
      const isPlain = (r) => r && r.role === 'member' && r.status === 'active';
      const start = rows.findIndex((r, i) => i > 5 && isPlain(r) && isPlain(rows[i + 1]) && isPlain(rows[i + 2]));
      plain = rows.slice(start, start + 3);
      const before = await server.allMembers(org.id);
      versions = new Map(before.map((m) => [m.id, m]));

      await scrollTo(at.get(admins[0].id), admins[0].id);
      await clickWith(app, `row-${admins[0].id}`);
      await app.waitText('selection-count', '1 selected');
      await scrollTo(at.get(admins[1].id), admins[1].id);
      await clickWith(app, `row-${admins[1].id}`, ['ctrl']);
      await app.waitText('selection-count', '2 selected');
      await scrollTo(start, plain[0].id);
      await clickWith(app, `row-${plain[0].id}`, ['ctrl']);
      await app.waitText('selection-count', '3 selected');
      await clickWith(app, `row-${plain[2].id}`, ['ctrl', 'shift']);
      await app.waitText('selection-count', '5 selected');
      selected = [...admins, ...plain];
      const marked = await app.exec(() =>
        [...document.querySelectorAll('[data-testid^="row-"][aria-selected="true"]')].map((e) => Number(e.dataset.testid.slice(4))),
      );
      for (const p of plain) assert.ok(marked.includes(p.id), `${p.name} shows selected`);
      await app.waitFor('bulk-bar');
    });

    step('Change role → View Only Admin: 4 will change, the last admin refused with the reason', async () => {
      await app.click('bulk-change-role');
      await app.waitFor('bulk-dialog');
      await selectOption(app, 'bulk-role', 'viewer_admin');
      await app.waitText('bulk-will-change', /users? will be changed/, { timeout: 30_000 });
      const summary = (await app.text('bulk-will-change')).replace(/\s+/g, ' ');
      assert.equal(summary, '4 users will be changed, 1 refused.');

      // the same question to the rules, to know which one and why
      const check = await app.invoke('stage_bulk', {
        org: org.id,
        selection: { type: 'ids', ids: selected.map((m) => m.id) },
        action: { type: 'change_role', role: 'viewer_admin' },
        onlyCheck: true,
      });
      assert.equal(check.allowed, 4);
      assert.equal(check.refused.length, 1);
      const [refusal] = check.refused;
      assert.equal(refusal.code, 'last_admin');
      assert.ok(admins.some((a) => a.id === refusal.user_id), 'an admin is refused');
      refusedId = refusal.user_id;
      const who = admins.find((a) => a.id === refusedId);

      await app.waitText(`bulk-refused-${refusedId}`, who.email);
      const row = await app.text(`bulk-refused-${refusedId}`);
      assert.ok(row.includes(who.name), `the refused row names ${who.name}: ${row}`);
      assert.ok(row.includes(refusal.reason), `and says why: ${row}`);
      assert.equal(await app.exec(() => document.querySelectorAll('[data-testid^="bulk-refused-"]').length), 1, 'one refused row');
      await app.waitText('bulk-confirm', 'Change role 4');
      await shot('bulk-refused');
    });

    step('Confirm: the four others are changed on the server once, the last admin is not', async () => {
      await app.click('bulk-confirm');
      await app.waitFor('bulk-dialog', { gone: true });
      const changed = selected.filter((m) => m.id !== refusedId);
      await eventually(
        async () => {
          const now = await Promise.all(changed.map((m) => server.member(org.id, m.id)));
          return now.every((m) => m.role === 'viewer_admin');
        },
        { message: 'the four on the server as viewer_admin' },
      );
      for (const m of changed) {
        const now = await server.member(org.id, m.id);
        assert.equal(now.version, versions.get(m.id).version + 1, `${m.email}: version +1`);
        const events = await server.audit(org.id, { target: m.id, from: since });
        assert.deepEqual(events.map((e) => e.action), ['member.role_changed'], `${m.email}: once`);
      }
      const kept = await server.member(org.id, refusedId);
      assert.equal(kept.role, 'admin');
      assert.equal(kept.version, versions.get(refusedId).version);
      assert.deepEqual(await server.audit(org.id, { target: refusedId, from: since }), []);
      await waitPendingBadge(app, 0);
      // the app shows what the server has
      await eventually(
        () =>
          app.exec(
            (ids) =>
              ids.every((id) => document.querySelector(`[data-testid="row-${id}"] .td-role`)?.textContent?.includes('View Only Admin')),
            changed.filter((m) => plain.includes(m)).map((m) => m.id),
          ),
        { message: 'the rows show View Only Admin' },
      );
      await assertNoErrors(app, 'after the bulk change');
      await shot('bulk-done');
    });
  });
}
