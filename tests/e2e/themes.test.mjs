// Story 6: light and dark. The app follows the OS theme (WebKitGTK reports
// prefers-color-scheme from GTK_THEME=Adwaita / Adwaita:dark); every screen and popup is
// captured in both as <spec>-<step>-<light|dark>.png.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './support/server.mjs';
import { startApp } from './support/app.mjs';
import {
  clearSearch,
  currentOrgName,
  fillSignIn,
  guarded,
  rowCells,
  signIn,
  waitForOrg,
} from './support/flows.mjs';

const SPEC = 'screens';

for (const theme of ['light', 'dark']) {
  describe(`every screen, ${theme}`, () => {
    let server;
    let app;
    let orgs;
    const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));
    const shot = (name) => app.screenshot(SPEC, name);

    before(async () => {
      server = await startServer({ clients: 3, members: 1500 });
      orgs = await server.orgs();
      app = await startApp({ name: `${SPEC}-${theme}`, theme });
    });

    after(async () => {
      await app?.stop();
      await server?.dispose();
    });

    step(`the webview reports prefers-color-scheme: ${theme}`, async () => {
      const seen = await app.exec(() => ({
        dark: matchMedia('(prefers-color-scheme: dark)').matches,
        background: getComputedStyle(document.documentElement).backgroundColor,
      }));
      assert.equal(seen.dark, theme === 'dark', `prefers-color-scheme (page ${seen.background})`);
      const [r, g, b] = seen.background.match(/\d+/g).map(Number);
      const luminance = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
      assert.ok(theme === 'dark' ? luminance < 0.3 : luminance > 0.7, `background ${seen.background} fits ${theme}`);
    });

    step('sign-in: the form and an error', async () => {
      await app.waitFor('signin-submit');
      await shot('signin');
      await fillSignIn(app, { server: server.url, password: 'wrong-password' });
      await app.waitFor('signin-error');
      await shot('signin-error');
    });

    step('the roster, its popups and states', async () => {
      await signIn(app, server);
      await shot('roster');

      await app.click('org-switcher');
      await app.waitFor('org-switcher-panel');
      await shot('org-switcher');
      await app.keys(['Escape']);
      await app.waitFor('org-switcher-panel', { gone: true });

      await app.keys(['Control', 'k']);
      await app.waitFor('palette');
      await shot('palette');
      const someone = (await rowCells(app))[3];
      await app.type('palette-input', someone.name.split(' ')[0], { clear: false });
      await app.waitText('palette-item-0', (t) => t.length > 0);
      await app.waitUntil(() => [...document.querySelectorAll('[data-testid^="palette-item-"]')].some((e) => e.textContent.includes('User')), {
        message: 'users in the palette',
      });
      await shot('palette-search');
      await app.keys(['Escape']);
      await app.waitFor('palette', { gone: true });

      await app.click('column-chooser');
      await app.waitFor('column-chooser-panel');
      await shot('column-chooser');
      await app.keys(['Escape']);
      await app.waitFor('column-chooser-panel', { gone: true });

      await app.click('account-menu');
      await app.waitFor('account-signout');
      await shot('account-menu');
      await app.keys(['Escape']);
      await app.waitFor('account-signout', { gone: true });

      // a range selected with click and Shift+click, then one user's detail
      const rows = await rowCells(app);
      await (await app.waitFor(`row-${rows[1].id}`)).click();
      await app.browser.performActions([
        { type: 'key', id: 'kb', actions: [{ type: 'keyDown', value: '\uE008' }] },
      ]);
      await (await app.waitFor(`row-${rows[5].id}`)).click();
      await app.browser.releaseActions();
      await app.waitText('selection-count', '5 selected');
      await shot('selection');
      await (await app.waitFor(`row-${rows[2].id}`)).doubleClick();
      await app.waitFor('detail-panel');
      await app.waitText('detail-email', rows[2].email);
      await shot('detail');
      await app.click('detail-close');
      await app.waitFor('detail-panel', { gone: true });

      // a guest with an end date in the Guests tab, and a search that finds no one
      await app.click('tab-guests');
      await app.waitRows();
      await shot('tab-guests');
      await app.click('tab-all');
      await app.type('roster-search', 'qqqxxyyzz');
      await app.waitFor('roster-empty');
      await shot('search-empty');
      await clearSearch(app);
      await app.waitRows();
    });

    step('offline: the banner, and an org with no cache yet', async () => {
      await server.stop();
      await app.click('sync-now');
      await app.waitText('sync-state', 'Offline', { timeout: 60_000 });
      await app.waitFor('offline-banner');
      await shot('offline');
      const current = await currentOrgName(app);
      const unsynced = orgs.find((o) => o.name !== current && o.kind === 'client');
      await app.click('org-switcher');
      await app.click(`org-item-${unsynced.id}`);
      await waitForOrg(app, unsynced.name, { rows: false });
      await app.waitFor('roster-first-sync');
      await app.waitText('roster-first-sync', 'Offline');
      await shot('offline-not-synced');
      await server.start();
    });

    step('the first sync of an org, once the server is back', async () => {
      await app.waitText('sync-state', 'Online', { timeout: 30_000 });
      await app.waitRows({ timeout: 60_000 });
      await shot('after-first-sync');
    });
  });
}
