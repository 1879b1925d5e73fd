// Demo mode: `orgdesk-desktop --demo` starts its embedded seeded server, signs in by itself and
// opens Northwind Partners; the palette's "Go offline" / "Go online" simulate the server going.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PARTNER_NAME } from './support/server.mjs';
import { FIRST_WINDOW_BUDGET_MS, startApp } from './support/app.mjs';
import { assertNoErrors, guarded, waitForOrg } from './support/flows.mjs';

const SPEC = 'demo';

describe('demo mode', () => {
  let app;
  const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));

  before(async () => {
    // the first run seeds ~50,000 users before the session answers: the screen may take a while
    app = await startApp({ name: SPEC, args: ['--demo'], screenTimeoutMs: 180_000 });
  });

  after(async () => {
    await app?.stop();
  });

  step('starts, signs in by itself and shows Northwind Partners', async () => {
    console.log(`demo: first window ${Math.round(app.firstWindowMs)} ms, first screen ${Math.round(app.firstScreenMs)} ms`);
    assert.ok(app.firstWindowMs <= FIRST_WINDOW_BUDGET_MS);
    await waitForOrg(app, PARTNER_NAME, { timeout: 180_000 });
    assert.equal(await app.exists('signin-submit'), false, 'no sign-in form');
    await app.waitFor('demo-badge');
    await app.waitText('sync-state', 'Online');
    const counts = await app.text('tab-count-all');
    assert.match(counts, /^[1-9][\d,]*$/, `Northwind Partners has users (${counts})`);
    // its clients are in the switcher
    await app.click('org-switcher');
    await app.waitFor('org-switcher-panel');
    const clients = await app.exec(() => document.querySelectorAll('[data-testid^="org-item-"][data-depth="1"]').length);
    assert.ok(clients >= 10, `the partner's client orgs are listed under it (${clients})`);
    await app.screenshot(SPEC, 'switcher');
    await app.keys(['Escape']);
    await assertNoErrors(app, 'in the demo');
    await app.screenshot(SPEC, 'partner');
  });

  step('"Go offline" and "Go online" from the palette', async () => {
    for (const [command, state] of [
      ['Go offline', 'Offline'],
      ['Go online', 'Online'],
    ]) {
      await app.keys(['Control', 'k']);
      await app.waitFor('palette');
      await app.type('palette-input', command, { clear: false });
      await app.waitText('palette-item-0', command);
      await app.keys(['Enter']);
      await app.waitFor('palette', { gone: true });
      await app.waitText('sync-state', state, { timeout: 30_000 });
      if (state === 'Offline') {
        await app.waitFor('offline-banner');
        await app.screenshot(SPEC, 'offline');
      } else {
        await app.waitFor('offline-banner', { gone: true });
      }
    }
    await assertNoErrors(app, 'after going offline and online');
  });
});
