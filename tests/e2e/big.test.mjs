// Story 3: the 100,000-user client. The first sync brings every user into the cache; the
// table scrolls to the last of 100,000 rows (the one the server sorts last by name) and to it
// again from the keyboard (End), and Enter opens that user's detail.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './support/server.mjs';
import { startApp } from './support/app.mjs';
import { assertNoErrors, count, guarded, rowCells, signIn, switchOrgWithSwitcher, currentOrgName } from './support/flows.mjs';

const SPEC = 'big';
const MEMBERS = 100_000;

describe('a 100,000-user org', () => {
  let server;
  let app;
  let org;
  /** the server's members in its name order (id order within equal names) */
  let sorted;
  const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));

  before(async () => {
    server = await startServer({ clients: 1, members: MEMBERS });
    assert.equal(server.seed.client_members[0], MEMBERS);
    org = (await server.orgs()).find((o) => o.id === server.seed.client_org_ids[0]);
    app = await startApp({ name: SPEC });
  });

  after(async () => {
    await app?.stop();
    await server?.dispose();
  });

  step('signs in and syncs all 100,000 users', async () => {
    const [all] = await Promise.all([server.allMembers(org.id, { sort: 'name' }), signIn(app, server, { timeout: 240_000 })]);
    sorted = all;
    assert.equal(sorted.length, MEMBERS);
    if ((await currentOrgName(app)) !== org.name) await switchOrgWithSwitcher(app, org);
    await app.waitText('tab-count-all', count(MEMBERS), { timeout: 240_000 });
    await app.waitText('roster-total', `${count(MEMBERS)} users`);
    const rows = await rowCells(app);
    assert.equal(rows[0].id, sorted[0].id, 'the first row is the first by name on the server');
    await app.screenshot(SPEC, 'top');
  });

  step('scrolls to the last of 100,000 rows', async () => {
    const last = sorted.at(-1);
    // as when the scroll bar is dragged to the bottom
    await app.exec(() => {
      const t = document.querySelector('[data-testid="roster-table"]');
      t.scrollTop = t.scrollHeight;
    });
    const row = await app.waitUntil(
      () => {
        const el = document.querySelector(`[data-index="99999"]:not([data-testid="row-skeleton"])`);
        return el ? { id: Number(el.dataset.testid.slice(4)), name: el.querySelector('.td-name')?.textContent?.trim() } : null;
      },
      { timeout: 20_000, message: 'row 99,999 painted with data' },
    );
    assert.equal(row.id, last.id, `the last row is ${last.email}`);
    assert.equal(row.name, last.display_name ?? [last.first_name, last.last_name].filter(Boolean).join(' '));
    const rows = await app.waitRows();
    assert.equal(rows.at(-1).index, MEMBERS - 1);
    await app.screenshot(SPEC, 'bottom');
  });

  step('Home and End move through the whole roster from the keyboard; Enter opens the user', async () => {
    const table = await app.waitFor('roster-table');
    await table.click();
    await app.keys(['Home']);
    await app.waitUntil(() => document.querySelector('[data-testid="roster-table"]').scrollTop === 0, { message: 'back at the top' });
    await app.waitRows();
    await app.keys(['End']);
    const last = sorted.at(-1);
    await app.waitUntil((id) => document.querySelector(`[data-testid="row-${id}"][aria-selected="true"]`), {
      args: [last.id],
      message: 'the last row focused and selected',
      timeout: 20_000,
    });
    await app.keys(['Enter']);
    await app.waitFor('detail-panel');
    await app.waitText('detail-email', last.email);
    const member = await server.member(org.id, last.id);
    await app.waitText('detail-title', member.title ?? '—');
    assert.equal(await app.text('detail-name'), member.display_name ?? [member.first_name, member.last_name].filter(Boolean).join(' '));
    await assertNoErrors(app, 'with the detail open');
    await app.screenshot(SPEC, 'detail');
  });
});
