// The Secret Service of the run's D-Bus session (gnome-keyring-daemon started by run.sh),
// read with gdbus: which Orgdesk items it holds.

import { execFileSync } from 'node:child_process';

function gdbus(...args) {
  return execFileSync('gdbus', ['call', '--session', '--dest', 'org.freedesktop.secrets', ...args], { encoding: 'utf8' });
}

/** Object paths of the Secret Service items with attribute service=orgdesk (unlocked and locked). */
export function orgdeskSecrets() {
  const out = gdbus(
    '--object-path',
    '/org/freedesktop/secrets',
    '--method',
    'org.freedesktop.Secret.Service.SearchItems',
    "{'service': 'orgdesk'}",
  );
  return [...out.matchAll(/objectpath '([^']+)'/g)].map((m) => m[1]);
}

/** The attributes of one item. */
export function secretAttributes(item) {
  const out = gdbus(
    '--object-path',
    item,
    '--method',
    'org.freedesktop.DBus.Properties.Get',
    'org.freedesktop.Secret.Item',
    'Attributes',
  );
  return Object.fromEntries([...out.matchAll(/'([^']+)': '([^']*)'/g)].map((m) => [m[1], m[2]]));
}

/** Deletes one item (as if the keyring lost the token). */
export function deleteSecret(item) {
  gdbus('--object-path', item, '--method', 'org.freedesktop.Secret.Item.Delete');
}
