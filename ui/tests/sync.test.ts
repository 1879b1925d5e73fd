import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import { SyncStore, INITIAL_STATUS } from '../src/lib/stores/sync.svelte';
import SyncBadge from '../src/lib/components/SyncBadge.svelte';
import type { Progress, SyncOutcome, SyncStatus } from '../src/lib/types';
import { backend, deferred, flush, type ProgressChannel } from './helpers';

const progress = (done: number, over: Partial<Progress> = {}): Progress => ({
  operation: 'sync',
  phase: 'pull',
  label: 'Acme Corp',
  org: 1,
  done,
  total: 5000,
  ...over,
});

function badge(store: SyncStore, asOf: string | null = null) {
  return render(SyncBadge, {
    status: store.status,
    syncing: store.syncing,
    progress: store.progress,
    asOf,
    now: Date.parse('2025-01-01T00:10:00Z'),
    onsync: () => {},
    oncancel: () => {},
  });
}

describe('sync store', () => {
  it('follows sync-status events, and the badge shows them', async () => {
    backend((cmd) => (cmd === 'sync_status' ? INITIAL_STATUS : null));
    const store = new SyncStore();
    await store.start();
    const offline: SyncStatus = { ...INITIAL_STATUS, online: false, pending_changes: 3 };
    await emit('sync-status', offline);
    expect(store.online).toBe(false);
    expect(store.status.pending_changes).toBe(3);

    badge(store, '2025-01-01T00:05:00Z');
    expect(screen.getByTestId('sync-state')).toHaveTextContent('Offline');
    expect(screen.getByTestId('sync-pending')).toHaveTextContent('3 pending');
    expect(screen.getByTestId('sync-as-of')).toHaveTextContent('as of 5 min ago');
    expect(screen.getByTestId('sync-as-of').getAttribute('title')).toMatch(/2025|Dec 31, 2024/);
    expect(screen.getByTestId('sync-now')).toBeInTheDocument();
    store.stop();
  });

  it('shows progress from the sync_now Channel while the sync runs', async () => {
    const outcome = deferred<SyncOutcome>();
    let channel: ProgressChannel | null = null;
    const ipc = backend((cmd, args) => {
      if (cmd === 'sync_now') {
        channel = args.onProgress as ProgressChannel;
        return outcome.promise;
      }
      if (cmd === 'sync_status') return INITIAL_STATUS;
      return null;
    });
    const store = new SyncStore();
    const running = store.syncNow(1);
    await flush();
    expect(ipc.of('sync_now')[0].args.org).toBe(1);
    expect(store.syncing).toBe(true);
    channel!.onmessage(progress(1200));
    expect(store.progress).toEqual(progress(1200));

    badge(store);
    expect(screen.getByTestId('sync-progress')).toHaveTextContent('Acme Corp');
    expect(screen.getByTestId('sync-progress')).toHaveTextContent('1,200 / 5,000');

    outcome.resolve({ type: 'synced', pulled: 5000, pushed: { applied: 0, conflicts: 0, rejected: 0 } });
    expect(await running).toEqual({ type: 'synced', pulled: 5000, pushed: { applied: 0, conflicts: 0, rejected: 0 } });
    expect(store.syncing).toBe(false);
    expect(store.progress).toBeNull();
  });

  it('shows progress of background syncs from status events', async () => {
    backend((cmd) => (cmd === 'sync_status' ? INITIAL_STATUS : null));
    const store = new SyncStore();
    await store.start();
    await emit('sync-status', { ...INITIAL_STATUS, syncing: true, progress: progress(10, { phase: 'push', label: 'Sending changes' }) });
    expect(store.syncing).toBe(true);
    expect(store.progress?.label).toBe('Sending changes');
    await emit('sync-status', { ...INITIAL_STATUS, syncing: false, progress: null });
    expect(store.syncing).toBe(false);
    expect(store.progress).toBeNull();
    store.stop();
  });

  it('a failed sync only changes the badge', async () => {
    backend((cmd) => {
      if (cmd === 'sync_now') throw { code: 'offline', message: 'Could not reach the server' };
      if (cmd === 'sync_status')
        return { ...INITIAL_STATUS, online: false, last_error: { code: 'offline', message: 'Could not reach the server' } };
      return null;
    });
    const store = new SyncStore();
    await expect(store.syncNow(null)).resolves.toBeNull();
    expect(store.error?.code).toBe('offline');
    expect(store.online).toBe(false);
  });
});
