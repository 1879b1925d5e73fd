// Story 5: quit and restart the app on the same data dir: the session is still signed in
// (its token is in the Secret Service, not in a file), and the roster is back from the cache.
// Without the Secret Service item, the same data dir asks to sign in again: the token was
// there and nowhere else.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, ADMIN_EMAIL } from './support/server.mjs';
import { FIRST_WINDOW_BUDGET_MS, freshDataDir, startApp } from './support/app.mjs';
import { assertNoErrors, count, currentOrgName, guarded, signIn } from './support/flows.mjs';
import { deleteSecret, orgdeskSecrets, secretAttributes } from './support/keyring.mjs';

const SPEC = 'restart';

describe('restart', () => {
  let server;
  let app;
  let dataDir;
  let orgName;
  let members;
  let secretsBefore;
  const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));

  before(async () => {
    server = await startServer({ clients: 2, members: 600 });
    dataDir = freshDataDir(SPEC);
    secretsBefore = new Set(orgdeskSecrets());
  });

  after(async () => {
    await app?.stop();
    await server?.dispose();
  });

  step('signs in, and the token goes to the Secret Service', async () => {
    app = await startApp({ name: SPEC, dataDir });
    await signIn(app, server);
    orgName = await currentOrgName(app);
    const org = (await server.orgs()).find((o) => o.name === orgName);
    members = await server.allMembers(org.id);
    await app.waitText('tab-count-all', count(members.length));
    const added = orgdeskSecrets().filter((s) => !secretsBefore.has(s));
    assert.equal(added.length, 1, 'one new Orgdesk item in the Secret Service');
    const attrs = secretAttributes(added[0]);
    assert.equal(attrs.service, 'orgdesk');
    assert.ok(fs.existsSync(path.join(dataDir, 'profiles')), 'the profile is in the data dir');
    await app.stop();
    app = null;
  });

  step('restarted on the same data dir it is still signed in, with the roster from the cache', async () => {
    app = await startApp({ name: SPEC, dataDir });
    console.log(`restart: first window ${Math.round(app.firstWindowMs)} ms, first screen ${Math.round(app.firstScreenMs)} ms`);
    assert.ok(app.firstWindowMs <= FIRST_WINDOW_BUDGET_MS);
    await app.waitFor('org-switcher');
    assert.equal(await app.exists('signin-submit'), false, 'no sign-in form');
    assert.equal(await currentOrgName(app), orgName, 'the same org is open');
    await app.waitRows();
    await app.waitText('tab-count-all', count(members.length));
    await app.waitText('sync-state', 'Online', { timeout: 30_000 });
    const probe = await app.probe();
    console.log(`restart: first rows painted ${Math.round(probe.firstRows)} ms after the page started`);
    await assertNoErrors(app, 'after the restart');
    await app.screenshot(SPEC, 'signed-in-again');
    await app.stop();
    app = null;
  });

  step('without its Secret Service item the profile asks for the password again', async () => {
    for (const item of orgdeskSecrets().filter((s) => !secretsBefore.has(s))) {
      if (secretAttributes(item).username && !secretAttributes(item).username.endsWith('/cache-key')) deleteSecret(item);
    }
    app = await startApp({ name: SPEC, dataDir });
    await app.waitFor('signin-submit');
    assert.equal(await app.exists('org-switcher'), false);
    // the remembered profile fills the form: only the password is missing
    assert.equal(await app.exec(() => document.querySelector('[data-testid="signin-email"]').value), ADMIN_EMAIL);
    assert.equal(await app.exec(() => document.querySelector('[data-testid="signin-server"]').value), server.url);
    await app.screenshot(SPEC, 'signed-out-profile');
  });
});
