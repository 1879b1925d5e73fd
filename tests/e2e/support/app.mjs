// The real app under WebDriver: one tauri-driver (and so one WebKitWebDriver) per app
// session, the app's environment given to the driver (it passes it down), a data dir of its
// own or one reused to "restart the app". Helpers select by data-testid and wait for text;
// screenshots go to SHOTS_DIR as <spec>-<step>-<light|dark>.png.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { remote } from 'webdriverio';
import { APP_BIN, NATIVE_DRIVER, ROOT, SHOTS_DIR, TAURI_DRIVER } from './paths.mjs';
import { alive, descendants, freePort, pssDetailKiB, pssKiB, stopChild, waitForPort } from './proc.mjs';

export const LOGS_DIR = path.resolve(ROOT, process.env.ORGDESK_E2E_LOGS ?? path.join('target', 'e2e-logs'));
/** The budget: the first window must show something within 5 s of the session start. */
export const FIRST_WINDOW_BUDGET_MS = 5_000;

export const tid = (id) => `[data-testid="${id}"]`;

const madeDirs = [];
process.on('exit', () => {
  if (process.env.ORGDESK_E2E_KEEP) return;
  for (const dir of madeDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh, empty data dir for a new profile (the app keeps profiles and caches there);
 * removed when the test process ends (ORGDESK_E2E_KEEP=1 keeps it).
 */
export function freshDataDir(name = 'app') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `orgdesk-e2e-${name}-`));
  madeDirs.push(dir);
  return dir;
}

let sessionNumber = 0;

export class App {
  constructor({ browser, driver, dataDir, theme, name, log, startedAt }) {
    this.browser = browser;
    this.driver = driver;
    this.dataDir = dataDir;
    this.theme = theme;
    this.name = name;
    this.log = log;
    this.startedAt = startedAt;
    /** ms from asking for the session to the app's first element in the window (its root's first child) */
    this.firstWindowMs = null;
    /** ms from asking for the session to the first screen: an element with a data-testid */
    this.firstScreenMs = null;
  }

  // ---- elements ----

  $(id) {
    return this.browser.$(tid(id));
  }

  $$(selector) {
    return this.browser.$$(selector);
  }

  async waitFor(id, { timeout = 15_000, gone = false } = {}) {
    const end = Date.now() + timeout;
    if (gone) {
      // polled in the page: WebKitWebDriver may answer a find with "stale element" while
      // the element is being removed (a popover closing)
      while (await this.exists(id)) {
        if (Date.now() >= end) throw new Error(`${id} still there after ${timeout} ms`);
        await sleep(50);
      }
      return null;
    }
    for (;;) {
      try {
        const el = await this.$(id);
        await el.waitForExist({ timeout: Math.max(1, end - Date.now()), timeoutMsg: `${id} not there after ${timeout} ms` });
        return el;
      } catch (e) {
        if (!/stale element/i.test(e.message) || Date.now() >= end) throw e;
        await sleep(50);
      }
    }
  }

  async exists(id) {
    return this.browser.execute((sel) => !!document.querySelector(sel), tid(id));
  }

  /** The element's textContent (not WebDriver's rendered text: cheap, and works when hidden). */
  async text(id) {
    return this.browser.execute((sel) => document.querySelector(sel)?.textContent?.trim() ?? null, tid(id));
  }

  /** Waits until `id`'s text matches (a string it contains, a RegExp, or a predicate). */
  async waitText(id, want, { timeout = 15_000 } = {}) {
    const test = typeof want === 'function' ? want : want instanceof RegExp ? (t) => want.test(t) : (t) => t.includes(want);
    let last = null;
    const end = Date.now() + timeout;
    while (Date.now() < end) {
      last = await this.text(id);
      if (last !== null && test(last)) return last;
      await sleep(100);
    }
    throw new Error(`${id}: text ${JSON.stringify(last)} does not match ${want} after ${timeout} ms`);
  }

  /** Polls `fn` (run in the page with `args`) until it returns a truthy value; returns it. */
  async waitUntil(fn, { timeout = 15_000, interval = 100, message = 'condition', args = [] } = {}) {
    const end = Date.now() + timeout;
    let last;
    while (Date.now() < end) {
      last = await this.browser.execute(fn, ...args);
      if (last) return last;
      await sleep(interval);
    }
    throw new Error(`${message} not met after ${timeout} ms (last: ${JSON.stringify(last)})`);
  }

  /**
   * Calls one of the app's own commands from the page (read-only ones: `orgs`,
   * `sync_status`…) to check what the UI shows against the app's state.
   */
  async invoke(cmd, args = {}) {
    const r = await this.browser.executeAsync(
      (cmd, args, done) =>
        window.__TAURI_INTERNALS__.invoke(cmd, args).then(
          (value) => done({ value }),
          (error) => done({ error }),
        ),
      cmd,
      args,
    );
    if ('error' in r) throw new Error(`${cmd}: ${JSON.stringify(r.error)}`);
    return r.value;
  }

  exec(fn, ...args) {
    return this.browser.execute(fn, ...args);
  }

  async click(id) {
    const el = await this.waitFor(id);
    await el.click();
    return el;
  }

  /** Types into an input the way a person does (key events, one input event per character). */
  async type(id, text, { clear = true } = {}) {
    const el = await this.waitFor(id);
    if (clear) await el.clearValue();
    await el.addValue(text);
    return el;
  }

  async keys(keys) {
    await this.browser.keys(keys);
  }

  // ---- the roster ----

  /** Rows on screen with real data: [{index, id, text}] in index order. */
  async rows() {
    return this.exec(() =>
      [...document.querySelectorAll('[data-testid^="row-"]')]
        .filter((el) => el.dataset.testid !== 'row-skeleton')
        .map((el) => ({ index: Number(el.dataset.index), id: el.dataset.testid.slice(4), text: el.textContent.trim() }))
        .sort((a, b) => a.index - b.index),
    );
  }

  /** Waits for the roster to show rows and no skeletons in the viewport; returns the rows. */
  async waitRows({ timeout = 30_000, min = 1 } = {}) {
    await this.waitUntil(
      (min) => {
        const table = document.querySelector('[data-testid="roster-table"]');
        if (!table) return false;
        const box = table.getBoundingClientRect();
        const inView = (el) => {
          const r = el.getBoundingClientRect();
          return r.bottom > box.top + 32 && r.top < box.bottom;
        };
        const skeleton = [...document.querySelectorAll('[data-testid="row-skeleton"]')].some(inView);
        const real = [...document.querySelectorAll('[data-testid^="row-"]')].filter(
          (el) => el.dataset.testid !== 'row-skeleton' && inView(el),
        );
        return !skeleton && real.length >= min;
      },
      { timeout, message: 'roster rows painted', args: [min] },
    );
    return this.rows();
  }

  /** The first row's name cell text (index 0), or null. */
  async firstRowName() {
    return this.exec(() => document.querySelector('[data-index="0"]:not([data-testid="row-skeleton"]) .td-name')?.textContent?.trim() ?? null);
  }

  async rosterTotal() {
    return this.text('roster-total');
  }

  // ---- timings and memory ----

  /** window.__orgdesk (ui/src/lib/perf.ts) and the first-rows mark, read from the page. */
  probe() {
    return this.exec(() => {
      const p = window.__orgdesk;
      const mark = performance.getEntriesByName('orgdesk:first-rows')[0];
      return p
        ? {
            ready: p.ready,
            searchLatencies: [...p.searchLatencies],
            switchLatencies: [...p.switchLatencies],
            blankRowsSeen: p.blankRowsSeen,
            firstRows: mark ? mark.startTime : null,
            timeOrigin: performance.timeOrigin,
          }
        : null;
    });
  }

  /** The app process (a descendant of this session's tauri-driver). */
  appPid() {
    const app = descendants(this.driver.pid).find((p) => p.comm.startsWith('orgdesk-deskto'));
    return app?.pid ?? null;
  }

  /** The app and its WebKit helper processes with PSS in KiB each. */
  processes() {
    const pid = this.appPid();
    if (!pid) return [];
    const procs = [{ pid, comm: 'orgdesk-desktop' }, ...descendants(pid)];
    return procs.map((p) => ({ pid: p.pid, comm: p.comm, pssKiB: pssKiB(p.pid) ?? 0, detailKiB: pssDetailKiB(p.pid) }));
  }

  /** PSS of the app + WebKitWebProcess + WebKitNetworkProcess, in MiB, with the parts. */
  memory() {
    const procs = this.processes();
    const total = procs.reduce((s, p) => s + p.pssKiB, 0);
    return { totalMiB: total / 1024, procs };
  }

  // ---- screenshots ----

  /** Resolves after two animation frames: what the DOM holds now has been painted. */
  painted() {
    return this.browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(true))));
  }

  async screenshot(spec, step) {
    fs.mkdirSync(SHOTS_DIR, { recursive: true });
    const file = path.join(SHOTS_DIR, `${spec}-${step}-${this.theme}.png`);
    await this.painted();
    await this.browser.saveScreenshot(file);
    return file;
  }

  // ---- the end ----

  /** Ends the WebDriver session (the app quits), waits for the app process to go, stops the driver. */
  async stop() {
    const pid = this.appPid();
    try {
      await this.browser.deleteSession();
    } catch {
      // the app may be gone already
    }
    const end = Date.now() + 10_000;
    while (pid && alive(pid) && Date.now() < end) await sleep(100);
    if (pid && alive(pid)) {
      process.kill(pid, 'SIGKILL');
      while (alive(pid)) await sleep(50);
    }
    await stopChild(this.driver);
  }

  logTail(lines = 40) {
    try {
      return fs.readFileSync(this.log, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

/**
 * Starts tauri-driver and a WebDriver session for the app. `dataDir` reuses a profile (a
 * restart); `theme` is 'light' or 'dark' (GTK_THEME for WebKitGTK's prefers-color-scheme).
 * Fails when the first window shows no element within `budgetMs` (the 5 s), and when
 * no screen (an element with a data-testid) shows within `screenTimeoutMs`.
 */
export async function startApp({
  name = 'app',
  dataDir = freshDataDir(name),
  args = [],
  env = {},
  theme = 'light',
  budgetMs = FIRST_WINDOW_BUDGET_MS,
  screenTimeoutMs = 60_000,
  width = null,
  height = null,
} = {}) {
  fs.mkdirSync(LOGS_DIR, { recursive: true });
  sessionNumber += 1;
  const log = path.join(LOGS_DIR, `${name}-${process.pid}-${sessionNumber}.log`);
  const logFd = fs.openSync(log, 'a');
  const port = await freePort();
  const nativePort = await freePort();
  const driver = spawn(
    TAURI_DRIVER,
    ['--port', String(port), '--native-port', String(nativePort), '--native-driver', NATIVE_DRIVER],
    {
      env: {
        ...process.env,
        ORGDESK_DATA_DIR: dataDir,
        GTK_THEME: theme === 'dark' ? 'Adwaita:dark' : 'Adwaita',
        ...env,
      },
      stdio: ['ignore', logFd, logFd],
    },
  );
  fs.closeSync(logFd);
  try {
    // tauri-driver listens at once; the WebKitWebDriver it starts may take a moment more
    await waitForPort(port, { child: driver });
    await waitForPort(nativePort, { child: driver });
  } catch (e) {
    await stopChild(driver);
    throw e;
  }
  const startedAt = performance.now();
  let browser;
  try {
    browser = await remote({
      hostname: '127.0.0.1',
      port,
      logLevel: process.env.ORGDESK_E2E_WDIO_LOG ?? 'error',
      connectionRetryTimeout: 60_000,
      connectionRetryCount: 0,
      capabilities: {
        'wdio:enforceWebDriverClassic': true,
        'tauri:options': { application: APP_BIN, args: ['--data-dir', dataDir, ...args] },
      },
    });
  } catch (e) {
    await stopChild(driver);
    throw new Error(`no WebDriver session for the app: ${e.message}\n${fs.readFileSync(log, 'utf8').slice(-3000)}`);
  }
  const app = new App({ browser, driver, dataDir, theme, name, log, startedAt });
  try {
    await browser.setTimeout({ script: 60_000 });
    // The window is up when the app's root has rendered anything (the splash while the
    // session loads, the demo's seeding included); the first screen when an element with a
    // data-testid is there (the sign-in form or the top bar).
    for (;;) {
      const page = await browser.execute(() => ({
        window: !!document.querySelector('.app > *'),
        screen: !!document.querySelector('[data-testid]'),
        devServer: /Could not connect to localhost/.test(document.body?.textContent ?? ''),
      }));
      const t = performance.now() - startedAt;
      if (page.window && app.firstWindowMs === null) app.firstWindowMs = t;
      if (page.screen) {
        app.firstScreenMs = t;
        break;
      }
      if (page.devServer) {
        throw new Error(
          `${APP_BIN} loads the dev server (built by cargo without the custom protocol): build it with npx tauri build --debug --no-bundle`,
        );
      }
      if (t > screenTimeoutMs) throw new Error(`no screen after ${Math.round(t)} ms`);
      await sleep(20);
    }
    if (budgetMs && !(app.firstWindowMs <= budgetMs)) {
      throw new Error(`the first window took ${Math.round(app.firstWindowMs)} ms to appear (budget ${budgetMs} ms)`);
    }
    if (width && height) await browser.setWindowSize(width, height).catch(() => {});
  } catch (e) {
    await app.stop();
    throw e;
  }
  return app;
}
