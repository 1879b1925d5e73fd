// The outbox store (load, refresh on outbox-changed, undo, resolve) and the Pending changes
// panel (changes in words with diffs, conflicts side by side, undo, push now with progress).
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import * as ipc from '../src/lib/ipc';
import { OutboxStore, outbox } from '../src/lib/stores/outbox.svelte';
import { onCacheChanged, onOutboxChanged } from '../src/lib/controller';
import PendingChangesPanel from '../src/lib/components/PendingChangesPanel.svelte';
import SyncBadge from '../src/lib/components/SyncBadge.svelte';
import { INITIAL_STATUS } from '../src/lib/stores/sync.svelte';
import type { Member, StagedChange } from '../src/lib/types';
import { backend, flush, member } from './helpers';

const ann: Member = { ...member(7), first_name: 'Ann', last_name: 'Smith', workspaces: [1] };

function staged(id: string, over: Partial<StagedChange> = {}): StagedChange {
  return {
    seq: 1,
    id,
    org_id: 1,
    user_id: 7,
    base_version: 1,
    change: { type: 'change_role', user_id: 7, role: 'user_admin' },
    staged_at: '2025-03-01T10:00:00Z',
    state: 'pending',
    base_row: ann,
    mine: { ...ann, role: 'user_admin' },
    theirs: null,
    applied_version: null,
    refusal: null,
    resolution: null,
    ...over,
  };
}

const ROLE = staged('m-role', { seq: 1 });
const TITLE = staged('m-title', {
  seq: 2,
  change: { type: 'edit_member', user_id: 7, edit: { profile: { title: 'Lead' } } },
  mine: { ...ann, role: 'user_admin', title: 'Lead' },
  base_row: { ...ann, role: 'user_admin' },
});
const CONFLICT = staged('m-conflict', {
  seq: 3,
  user_id: 9,
  state: 'conflict',
  change: { type: 'edit_member', user_id: 9, edit: { profile: { city: 'Bergen' } } },
  base_row: { ...member(9), display_name: 'Bo Berg', city: 'Oslo' },
  mine: { ...member(9), display_name: 'Bo Berg', city: 'Bergen' },
  theirs: { ...member(9), display_name: 'Bo Berg', city: 'Tromsø', title: 'CTO' },
});
const REJECTED = staged('m-rejected', {
  seq: 4,
  user_id: 10,
  state: 'rejected',
  change: { type: 'suspend', user_id: 10 },
  base_row: { ...member(10), display_name: 'Cy' },
  mine: { ...member(10), display_name: 'Cy', status: 'suspended' },
  refusal: { code: 'last_admin', message: 'Every org keeps at least one active admin.' },
});

function outboxBackend(list: () => StagedChange[], extra: (cmd: string, args: Record<string, unknown>) => unknown = () => null) {
  return backend((cmd, args) => {
    switch (cmd) {
      case 'pending_changes':
        return list();
      case 'workspaces':
        return [{ id: 1, name: 'Sales', version: 1 }];
      case 'property_definitions':
        return [];
      default:
        return extra(cmd, args);
    }
  });
}

describe('the outbox store', () => {
  it('loads every org’s open changes and the names they need', async () => {
    const calls = outboxBackend(() => [ROLE, TITLE, CONFLICT, REJECTED]);
    const store = new OutboxStore();
    await store.watch();
    expect(calls.of('pending_changes')[0].args).toEqual({ org: null });
    expect(store.changes.map((c) => c.id)).toEqual(['m-role', 'm-title', 'm-conflict', 'm-rejected']);
    expect([store.pending, store.conflicts, store.rejected]).toEqual([2, 1, 1]);
    await waitFor(() => expect(store.context(1).workspaceName?.(1)).toBe('Sales'));
    expect(calls.of('workspaces')).toHaveLength(1);
  });

  it('reloads on outbox-changed while the panel watches, not after', async () => {
    let list = [ROLE];
    const calls = outboxBackend(() => list);
    const store = new OutboxStore();
    const off = await ipc.onOutboxChanged((c) => store.onChanged(c.orgs));
    await store.watch();
    list = [ROLE, TITLE];
    await emit('outbox-changed', { orgs: [1] });
    await waitFor(() => expect(store.changes).toHaveLength(2));
    expect(calls.of('pending_changes')).toHaveLength(2);
    store.unwatch();
    await emit('outbox-changed', { orgs: [1] });
    await flush();
    expect(calls.of('pending_changes')).toHaveLength(2);
    off();
  });

  it('the controller passes outbox-changed on to the shared store', async () => {
    const calls = outboxBackend(() => [ROLE], (cmd) => (cmd === 'orgs' ? { current: null, orgs: [] } : null));
    outbox.watching = true;
    onOutboxChanged({ orgs: [1] });
    await waitFor(() => expect(outbox.changes).toHaveLength(1));
    expect(calls.of('pending_changes')).toHaveLength(1);
    outbox.reset();
  });

  it('an open panel follows a sync that pushed by itself (cache-changed), a closed one does not', async () => {
    let list = [ROLE, TITLE];
    const calls = outboxBackend(() => list, (cmd) => (cmd === 'orgs' ? { current: null, orgs: [] } : null));
    await outbox.watch();
    expect(outbox.changes).toHaveLength(2);
    list = [];
    onCacheChanged({ orgs: [] });
    await waitFor(() => expect(outbox.changes).toHaveLength(0));
    expect(calls.of('pending_changes')).toHaveLength(2);
    outbox.unwatch();
    onCacheChanged({ orgs: [1] });
    await flush();
    expect(calls.of('pending_changes')).toHaveLength(2);
    outbox.reset();
  });

  it('undoes a change with the later ones to the same member', async () => {
    const calls = outboxBackend(
      () => [ROLE, TITLE, CONFLICT],
      (cmd) => (cmd === 'withdraw_change' ? ['m-role', 'm-title'] : null),
    );
    const store = new OutboxStore();
    await store.watch();
    expect(store.laterThan('m-role').map((c) => c.id)).toEqual(['m-title']);
    expect(await store.undo('m-role')).toEqual(['m-role', 'm-title']);
    expect(calls.of('withdraw_change')[0].args).toEqual({ id: 'm-role' });
    expect(store.changes.map((c) => c.id)).toEqual(['m-conflict']);
    expect(store.notice).toBe('Took back 2 changes.');
  });

  it('keeps an undo the Rust side refuses, with its reason', async () => {
    outboxBackend(
      () => [ROLE],
      (cmd) => {
        if (cmd === 'withdraw_change') throw { code: 'invalid_state', message: 'a sync is sending changes' };
        return null;
      },
    );
    const store = new OutboxStore();
    await store.watch();
    expect(await store.undo('m-role')).toBeNull();
    expect(store.changes).toHaveLength(1);
    expect(store.failures.get('m-role')).toBe('a sync is sending changes');
    expect(store.busy.size).toBe(0);
  });

  it('resolves: keep mine re-stages under a new id, take theirs and drop remove it', async () => {
    const restaged = staged('m-conflict-2', { seq: 9, user_id: 9, state: 'pending', change: CONFLICT.change });
    const calls = outboxBackend(
      () => [CONFLICT, REJECTED],
      (cmd, args) => (cmd === 'resolve_change' ? (args.resolution === 'keep_mine' ? restaged : null) : null),
    );
    const store = new OutboxStore();
    await store.watch();
    expect(await store.resolve('m-conflict', 'keep_mine')).toBe(true);
    expect(calls.of('resolve_change')[0].args).toEqual({ id: 'm-conflict', resolution: 'keep_mine' });
    expect(store.changes.map((c) => c.id)).toEqual(['m-conflict-2', 'm-rejected']);
    await store.resolve('m-rejected', 'drop');
    expect(calls.of('resolve_change')[1].args).toEqual({ id: 'm-rejected', resolution: 'drop' });
    expect(store.changes.map((c) => c.id)).toEqual(['m-conflict-2']);
    expect(store.notice).toBe('Dropped the change.');
  });
});

function panel(over: Record<string, unknown> = {}) {
  const list = [ROLE, TITLE, CONFLICT, REJECTED];
  const props = {
    open: true,
    changes: list,
    loading: false,
    error: null,
    busy: new Set<string>(),
    failures: new Map<string, string>(),
    notice: null,
    now: new Date('2025-03-01T10:05:00Z').getTime(),
    syncing: false,
    progress: null,
    paused: false,
    online: true,
    orgName: () => 'Acme',
    names: () => ({ workspaceName: (id: number) => (id === 1 ? 'Sales' : undefined) }),
    laterThan: (id: string) => (id === 'm-role' ? [TITLE] : []),
    onundo: vi.fn(),
    onresolve: vi.fn(),
    onpush: vi.fn(),
    onpause: vi.fn(),
    ...over,
  };
  render(PendingChangesPanel, props);
  return props;
}

describe('the Pending changes panel', () => {
  it('describes each change with its diff, and undoes one saying what goes with it', async () => {
    const props = panel();
    expect(screen.getByTestId('pending-summary')).toHaveTextContent('2 waiting to be sent · 2 need you');
    const role = screen.getByTestId('change-m-role');
    expect(role).toHaveTextContent('Change role of Ann Smith to User Admin');
    expect(within(role).getByTestId('change-state-m-role')).toHaveTextContent('Pending');
    expect(within(role).getByTestId('diff-role')).toHaveTextContent('Member→User Admin');
    expect(within(role).getByTestId('undo-note-m-role')).toHaveTextContent('1 later change to this user goes with it');
    expect(within(screen.getByTestId('change-m-title')).getByTestId('diff-title')).toHaveTextContent('Lead');
    expect(screen.queryByTestId('undo-note-m-title')).toBeNull();
    await fireEvent.click(screen.getByTestId('undo-m-role'));
    expect(props.onundo).toHaveBeenCalledWith('m-role');
  });

  it('lays a conflict side by side and resolves it three ways; a rejection shows its reason', async () => {
    const props = panel();
    const table = screen.getByTestId('conflict-m-conflict');
    const city = within(table).getByTestId('conflict-field-city');
    expect(city).toHaveTextContent('Oslo');
    expect(city).toHaveTextContent('Bergen');
    expect(city).toHaveTextContent('Tromsø');
    expect(city).toHaveClass('differs');
    expect(within(table).getByTestId('conflict-field-title')).toHaveAttribute('data-differs', 'true');
    await fireEvent.click(screen.getByTestId('resolve-keep-m-conflict'));
    await fireEvent.click(screen.getByTestId('resolve-theirs-m-conflict'));
    await fireEvent.click(screen.getByTestId('resolve-drop-m-conflict'));
    expect(props.onresolve.mock.calls).toEqual([
      ['m-conflict', 'keep_mine'],
      ['m-conflict', 'take_theirs'],
      ['m-conflict', 'drop'],
    ]);
    expect(screen.getByTestId('rejected-m-rejected')).toHaveTextContent('Every org keeps at least one active admin.');
    expect(screen.getByTestId('change-text-m-rejected')).toHaveTextContent('Suspend Cy');
    await fireEvent.click(screen.getByTestId('resolve-drop-m-rejected'));
    expect(props.onresolve).toHaveBeenLastCalledWith('m-rejected', 'drop');
  });

  it('pushes now with progress, and pauses', async () => {
    const props = panel({
      syncing: true,
      progress: { operation: 'sync', phase: 'push', label: 'Sent 400 changes to Acme', org: 1, done: 400, total: 1000 },
    });
    expect(screen.getByTestId('push-progress')).toHaveTextContent('Sent 400 changes to Acme');
    expect(screen.getByTestId('push-progress')).toHaveTextContent('400 / 1,000');
    expect(screen.getByTestId('push-now')).toBeDisabled();
    await fireEvent.click(screen.getByTestId('pending-pause'));
    expect(props.onpause).toHaveBeenCalledWith(true);
  });
});

describe('the sync badge', () => {
  it('opens the pending changes from its count and pauses the push', async () => {
    const onpending = vi.fn();
    const onpause = vi.fn();
    render(SyncBadge, {
      status: { ...INITIAL_STATUS, pending_changes: 1000, paused: true },
      syncing: false,
      progress: null,
      asOf: null,
      now: Date.now(),
      onsync: () => {},
      oncancel: () => {},
      onpending,
      onpause,
    });
    expect(screen.getByTestId('sync-paused')).toHaveTextContent('Paused');
    await fireEvent.click(screen.getByTestId('sync-pending'));
    expect(onpending).toHaveBeenCalled();
    expect(screen.getByTestId('sync-pause')).toHaveTextContent('Resume');
    await fireEvent.click(screen.getByTestId('sync-pause'));
    expect(onpause).toHaveBeenCalledWith(false);
  });
});
