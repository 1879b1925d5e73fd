// The `orgdesk` CLI as the specs use it: a second client with a data dir of its own (signed
// in to the same server), or the app's own data dir and profile (one cache, one outbox). It
// runs inside the run's D-Bus session, so it reaches the same Secret Service as the app.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI_BIN } from './paths.mjs';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './server.mjs';
import { freshDataDir } from './app.mjs';

/**
 * Runs `orgdesk --profile <profile> [--json] args…` with ORGDESK_DATA_DIR=dataDir; resolves
 * with {status, stdout, stderr, json} (json parsed when --json), throws when it fails.
 */
export function cli(args, { dataDir, profile = 'default', json = true, input = null, timeout = 60_000, check = true } = {}) {
  const argv = ['--profile', profile, ...(json ? ['--json'] : []), ...args];
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ORGDESK_DATA_DIR: dataDir };
    delete env.ORGDESK_PROFILE;
    delete env.ORGDESK_SERVER;
    delete env.ORGDESK_EMAIL;
    const child = spawn(CLI_BIN, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      const result = { status, stdout, stderr, json: null };
      if (json && stdout.trim()) {
        try {
          result.json = JSON.parse(stdout);
        } catch {
          // several documents or text: leave it to the caller
        }
      }
      if (check && status !== 0) {
        reject(new Error(`orgdesk ${argv.join(' ')} exited ${status}\n${stderr}${stdout}`));
      } else resolve(result);
    });
    child.stdin.end(input ?? '');
  });
}

/** A second client: the CLI signed in to `server` with a data dir of its own, `org` opened. */
export async function secondClient(server, org, { profile = 'second' } = {}) {
  const dataDir = freshDataDir('cli');
  const opts = { dataDir, profile };
  await cli(['login', '--server', server.url, '--email', ADMIN_EMAIL, '--password-stdin'], { ...opts, input: `${ADMIN_PASSWORD}\n` });
  await cli(['orgs'], opts); // the org list, from the server
  await cli(['switch', String(org.id)], opts);
  await cli(['sync'], opts);
  return {
    dataDir,
    profile,
    run: (args, more = {}) => cli(args, { ...opts, ...more }),
  };
}

/** The profiles the app made in its data dir (one folder each under profiles/). */
export function profilesIn(dataDir) {
  const dir = path.join(dataDir, 'profiles');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}
