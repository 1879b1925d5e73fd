import { describe, expect, it } from 'vitest';
import * as ipc from '../src/lib/ipc';
import { backend } from './helpers';

describe('ipc', () => {
  it('throws a rejected call as {code, message}, whatever the Rust side threw', async () => {
    backend(() => {
      throw 'boom';
    });
    await expect(ipc.appInfo()).rejects.toEqual({ code: 'internal', message: 'boom' });
    backend(() => {
      throw { code: 'offline', message: 'Could not reach', extra: 1 };
    });
    await expect(ipc.orgs()).rejects.toEqual({ code: 'offline', message: 'Could not reach' });
    backend(() => {
      throw new Error('bad');
    });
    await expect(ipc.session()).rejects.toEqual({ code: 'internal', message: 'bad' });
  });

  it('passes top-level args camelCase and nested objects as they are', async () => {
    const calls = backend(() => null);
    await ipc.signIn({ server: 'https://x', email: 'a@x', password: 'p', totp: null, remember: true });
    await ipc.memberDetail(4, 9);
    await ipc.setPref('columns:4', '["name"]');
    await ipc.syncNow(null, () => {});
    expect(calls.of('sign_in')[0].args).toEqual({ server: 'https://x', email: 'a@x', password: 'p', totp: null, remember: true });
    expect(calls.of('member_detail')[0].args).toEqual({ org: 4, user: 9 });
    expect(calls.of('set_pref')[0].args).toEqual({ key: 'columns:4', value: '["name"]' });
    expect(Object.keys(calls.of('sync_now')[0].args).sort()).toEqual(['onProgress', 'org']);
  });
});
