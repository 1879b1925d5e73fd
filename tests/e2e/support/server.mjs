// A throwaway orgdesk-server: a temp dir with its SQLite database and mailbox, seeded with the
// demo data (Northwind Partners and its clients), served on a free loopback port that stays
// the same across stop() and start() so the app sees "the same server" come back.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SERVER_BIN } from './paths.mjs';
import { freePort, stopChild, waitForPort } from './proc.mjs';

export const ADMIN_EMAIL = 'demo@northwind.example';
export const ADMIN_PASSWORD = 'demo-password-1';
export const PARTNER_NAME = 'Northwind Partners';

export class TestServer {
  constructor({ dir, port, seed }) {
    this.dir = dir;
    this.port = port;
    this.seed = seed;
    this.url = `http://127.0.0.1:${port}`;
    this.child = null;
    this.token = null;
  }

  get db() {
    return path.join(this.dir, 'server.db');
  }

  /** Serve (again) on the same port. */
  async start() {
    if (this.child) return;
    const log = fs.openSync(path.join(this.dir, 'server.log'), 'a');
    const child = spawn(SERVER_BIN, ['--database', this.db, 'serve', '--listen', `127.0.0.1:${this.port}`], {
      env: { ...process.env, ORGDESK_MAIL__MAILBOX_DIR: path.join(this.dir, 'mailbox'), RUST_LOG: process.env.RUST_LOG ?? 'warn' },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    await waitForPort(this.port, { child, timeout: 30_000 });
  }

  /** Stop serving: the port is closed until start(). */
  async stop() {
    const child = this.child;
    this.child = null;
    await stopChild(child);
  }

  /** Stop and remove the temp dir. */
  async dispose() {
    await this.stop();
    if (!process.env.ORGDESK_E2E_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- the REST API, as the partner admin ----

  async request(method, route, body, { token = this.token } = {}) {
    const res = await fetch(this.url + route, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
    return json;
  }

  async login(email = ADMIN_EMAIL, password = ADMIN_PASSWORD) {
    const { token } = await this.request('POST', '/api/v1/auth/login', { email, password }, { token: null });
    this.token = token;
    return token;
  }

  async api(method, route, body) {
    if (!this.token) await this.login();
    return this.request(method, route, body);
  }

  orgs() {
    return this.api('GET', '/api/v1/me/orgs');
  }

  /** One page of members (`query` as in MemberQuery: tab, search, role, sort, after, limit). */
  members(org, query = {}) {
    const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null));
    return this.api('GET', `/api/v1/orgs/${org}/members?${qs}`);
  }

  /** Every member of `org` in the server's order (pages of 1,000). */
  async allMembers(org, query = {}) {
    const out = [];
    let after;
    do {
      const page = await this.members(org, { ...query, limit: 1000, after });
      out.push(...page.items);
      after = page.next;
    } while (after);
    return out;
  }

  member(org, user) {
    return this.api('GET', `/api/v1/orgs/${org}/members/${user}`);
  }

  /** Apply mutations (wire MutationKind values) through the sync endpoint; returns the results. */
  async mutate(org, changes) {
    const mutations = changes.map(({ base_version, ...change }) => ({
      id: `e2e-${randomUUID()}`,
      ...(base_version !== undefined ? { base_version } : {}),
      change,
    }));
    const answer = await this.api('POST', `/api/v1/orgs/${org}/mutations`, { mutations });
    for (const r of answer.results) if (r.outcome !== 'applied') throw new Error(`mutation not applied: ${JSON.stringify(r)}`);
    return answer.results;
  }

  /** The member of `org` with this email (any tab), or null. */
  async memberByEmail(org, email) {
    const page = await this.members(org, { search: email, limit: 50 });
    return page.items.find((m) => m.email.toLowerCase() === email.toLowerCase()) ?? null;
  }

  /** Every audit event of `org` matching `query` (action, target, actor, from, to), newest first. */
  async audit(org, query = {}) {
    const out = [];
    let after;
    do {
      const qs = new URLSearchParams(
        Object.entries({ ...query, limit: 500, after }).filter(([, v]) => v !== undefined && v !== null),
      );
      const page = await this.api('GET', `/api/v1/orgs/${org}/audit?${qs}`);
      out.push(...page.items);
      after = page.next;
    } while (after);
    return out;
  }

  /** Change a member's title through the API (the change the app must pick up). */
  async setTitle(org, member, title) {
    return this.mutate(org, [
      { type: 'edit_member', user_id: member.id, edit: { profile: { title } }, base_version: member.version },
    ]);
  }
}

/**
 * A new server: seeds `clients` client orgs with `members` members in all (see
 * `orgdesk-server seed-demo`), then serves. `template` (a path) seeds once per run and copies.
 */
export async function startServer({ clients = 3, members = 2000, serve = true } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orgdesk-e2e-server-'));
  const db = path.join(dir, 'server.db');
  const seeded = spawnSync(
    SERVER_BIN,
    ['--database', db, 'seed-demo', '--clients', String(clients), '--members', String(members), '--json'],
    { encoding: 'utf8', env: { ...process.env, ORGDESK_MAIL__MAILBOX_DIR: path.join(dir, 'mailbox') } },
  );
  if (seeded.status !== 0) throw new Error(`seed-demo failed (${seeded.status}): ${seeded.stderr}`);
  const seed = JSON.parse(seeded.stdout.trim().split('\n').pop());
  const server = new TestServer({ dir, port: await freePort(), seed });
  if (serve) await server.start();
  return server;
}

/** A loopback address where nothing listens (for the "unreachable server" message). */
export async function closedUrl() {
  return `http://127.0.0.1:${await freePort()}`;
}
