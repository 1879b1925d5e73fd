import { describe, expect, it } from 'vitest';
import { RosterStore, WINDOW_SIZE, MAX_WINDOWS } from '../src/lib/stores/roster.svelte';
import { PrefsStore } from '../src/lib/stores/prefs.svelte';
import type { RosterWindow } from '../src/lib/types';
import { backend, COUNTS, deferred, flush, windowOf, type WindowArgs } from './helpers';

function rosterBackend(total = 100_000, extra: (cmd: string, args: Record<string, unknown>) => unknown = () => null) {
  return backend((cmd, args) => {
    if (cmd === 'roster_window') {
      const a = args as unknown as WindowArgs;
      return windowOf(a.offset, a.limit, total);
    }
    return extra(cmd, args);
  });
}

async function openStore(total = 100_000) {
  const ipc = rosterBackend(total);
  const store = new RosterStore(new PrefsStore());
  await store.setOrg(1, total);
  return { ipc, store };
}

describe('roster windows', () => {
  it('asks for windows aligned to 200 rows and serves repeats from the cache', async () => {
    const { ipc, store } = await openStore();
    store.ensureRange(0, 20, 0);
    store.ensureRange(0, 20, 0); // in flight: no second request
    await flush();
    store.ensureRange(5, 25, 1); // cached
    await flush();
    expect(ipc.of('roster_window').map((c) => [c.args.offset, c.args.limit])).toEqual([[0, WINDOW_SIZE]]);
    expect(store.rowAt(7)?.id).toBe(8);
    expect(store.total).toBe(100_000);

    store.ensureRange(1234, 1260, 1);
    await flush();
    const offsets = ipc.of('roster_window').map((c) => c.args.offset as number);
    expect(offsets).toContain(1200);
    for (const c of ipc.of('roster_window')) {
      expect((c.args.offset as number) % WINDOW_SIZE, 'aligned offset').toBe(0);
      expect(c.args.limit).toBe(WINDOW_SIZE);
      expect(c.args.org).toBe(1);
    }
  });

  it('prefetches the next window in the scroll direction near an edge', async () => {
    const { ipc, store } = await openStore();
    store.ensureRange(160, 190, 1);
    await flush();
    expect(ipc.of('roster_window').map((c) => c.args.offset)).toEqual([0, 200]);

    store.ensureRange(410, 440, -1);
    await flush();
    expect(ipc.of('roster_window').map((c) => c.args.offset)).toEqual([0, 200, 400]);
    store.ensureRange(405, 430, -1); // within 50 rows of 400 going up: 200 is cached already
    store.ensureRange(605, 630, -1);
    await flush();
    expect(ipc.of('roster_window').map((c) => c.args.offset)).toEqual([0, 200, 400, 600]);
  });

  it('keeps at most a dozen windows, least recently used out first', async () => {
    const { store } = await openStore();
    for (let w = 0; w < 16; w++) {
      store.ensureRange(w * WINDOW_SIZE + 100, w * WINDOW_SIZE + 120, 0);
      await flush();
    }
    const cached = store.cachedWindows();
    expect(cached.length).toBe(MAX_WINDOWS);
    expect(cached).not.toContain(0);
    expect(cached).toContain(15 * WINDOW_SIZE);
  });

  it('drops a late answer to an older query', async () => {
    const answers = new Map<string, ReturnType<typeof deferred<RosterWindow>>>();
    backend((cmd, args) => {
      if (cmd !== 'roster_window') return null;
      const a = args as unknown as WindowArgs;
      const d = deferred<RosterWindow>();
      answers.set(a.query.search, d);
      return d.promise;
    });
    const store = new RosterStore(new PrefsStore());
    await store.setOrg(1);
    store.ensureRange(0, 20, 0);
    store.setSearch('a');
    store.setSearch('al');
    const newest = windowOf(0, 3, 3);
    newest.rows[0].name = 'Alice';
    answers.get('al')!.resolve(newest);
    await flush();
    answers.get('a')!.resolve(windowOf(0, 200, 5000));
    answers.get('')!.resolve(windowOf(0, 200, 100_000));
    await flush();
    expect(store.total).toBe(3);
    expect(store.rowAt(0)?.name).toBe('Alice');
    expect(store.query.search).toBe('al');
  });

  it('keeps the old rows on screen while a new query is asked', async () => {
    const pending = deferred<RosterWindow>();
    let first = true;
    backend((cmd, args) => {
      if (cmd !== 'roster_window') return null;
      const a = args as unknown as WindowArgs;
      if (first) {
        first = false;
        return windowOf(a.offset, a.limit, 1000);
      }
      return pending.promise;
    });
    const store = new RosterStore(new PrefsStore());
    await store.setOrg(1);
    store.ensureRange(0, 20, 0);
    await flush();
    store.setSearch('b');
    expect(store.rowAt(0)?.id).toBe(1);
    expect(store.loaded).toBe(false);
    pending.resolve({ ...windowOf(0, 0, 0), rows: [] });
    await flush();
    expect(store.rowAt(0)).toBeUndefined();
    expect(store.total).toBe(0);
    expect(store.loaded).toBe(true);
  });

  it('updates the tab counts from each answer, and again when the cache changes', async () => {
    let counts = COUNTS;
    backend((cmd, args) => {
      if (cmd !== 'roster_window') return null;
      const a = args as unknown as WindowArgs;
      return windowOf(a.offset, a.limit, counts.all, counts);
    });
    const store = new RosterStore(new PrefsStore());
    await store.setOrg(1);
    store.ensureRange(0, 20, 0);
    await flush();
    expect(store.counts).toEqual(COUNTS);
    counts = { ...COUNTS, all: 100_001, pending: 1201 };
    store.refresh();
    expect(store.rowAt(0)?.id, 'old rows stay while the cache is read again').toBe(1);
    await flush();
    expect(store.counts?.pending).toBe(1201);
    expect(store.total).toBe(100_001);
  });

  it('sends the query as the contract spells it', async () => {
    const { ipc, store } = await openStore();
    store.setQuery({ tab: 'guests', role: 'guest', workspace: 7, inactive_days: 90 });
    store.toggleSort('email');
    store.toggleSort('email');
    await flush();
    const last = ipc.of('roster_window').at(-1)!.args as unknown as WindowArgs;
    expect(last.query).toEqual({
      tab: 'guests',
      search: '',
      role: 'guest',
      status: null,
      workspace: 7,
      inactive_days: 90,
      sort: 'email',
      descending: true,
    });
  });
});

describe('roster selection', () => {
  async function loaded() {
    const { ipc, store } = await openStore(1000);
    store.ensureRange(0, 20, 0);
    await flush();
    return { ipc, store };
  }

  it('click selects one, Ctrl/Cmd+click toggles', async () => {
    const { store } = await loaded();
    store.click(3);
    expect(store.selectionCount).toBe(1);
    expect(store.isSelected(4)).toBe(true);
    store.click(5, { toggle: true });
    expect(store.selectionCount).toBe(2);
    store.click(5, { toggle: true });
    expect(store.selectionCount).toBe(1);
    store.click(8);
    expect(store.selectionCount).toBe(1);
    expect(store.isSelected(9)).toBe(true);
    expect(store.isSelected(4)).toBe(false);
  });

  it('Shift+click selects the range from the anchor, across unloaded windows too', async () => {
    const { ipc, store } = await loaded();
    store.click(2);
    store.click(6, { range: true });
    await flush();
    expect(store.selectionCount).toBe(5);
    expect([3, 4, 5, 6, 7].every((id) => store.isSelected(id))).toBe(true);

    store.click(10);
    await store.selectRange(10, 650);
    expect(store.selectionCount).toBe(641);
    expect(ipc.of('roster_window').map((c) => c.args.offset)).toEqual(expect.arrayContaining([200, 400, 600]));
  });

  it('Ctrl+A selects every matching row, loaded or not; Ctrl+click then leaves one out', async () => {
    const { store } = await loaded();
    store.selectAll();
    expect(store.allSelected).toBe(true);
    expect(store.selectionCount).toBe(1000);
    expect(store.isSelected(999)).toBe(true);
    store.click(0, { toggle: true });
    expect(store.selectionCount).toBe(999);
    expect(store.isSelected(1)).toBe(false);
  });

  it('a query change or Escape clears the selection', async () => {
    const { store } = await loaded();
    store.selectAll();
    store.setTab('active');
    expect(store.selectionCount).toBe(0);
    store.ensureRange(0, 20, 0);
    await flush();
    store.click(1);
    store.clearSelection();
    expect(store.selectionCount).toBe(0);
  });

  it('arrow keys move the focused row and select it; Shift extends', async () => {
    const { store } = await loaded();
    store.move(1);
    expect(store.focusIndex).toBe(0);
    store.move(1);
    store.move(1, true);
    await flush();
    expect(store.focusIndex).toBe(2);
    expect(store.selectionCount).toBe(2);
  });
});

describe('roster columns', () => {
  it('are saved per org and restored', async () => {
    const saved = new Map<string, string>();
    const ipc = rosterBackend(10, (cmd, args) => {
      if (cmd === 'get_pref') return saved.get(args.key as string) ?? null;
      if (cmd === 'set_pref') saved.set(args.key as string, args.value as string);
      if (cmd === 'property_definitions')
        return [{ id: 1, key: 'cost_center', label: 'Cost center', required: false, version: 1, type: 'text' }];
      return null;
    });
    const store = new RosterStore(new PrefsStore());
    await store.setOrg(1);
    expect(store.columns.map((c) => c.key)).toEqual(['name', 'email', 'role', 'status', 'workspaces', 'last_active', 'created']);
    await store.toggleColumn('title');
    await store.toggleColumn('prop:cost_center');
    await store.toggleColumn('workspaces');
    expect(ipc.of('set_pref').at(-1)!.args.key).toBe('columns:1');
    expect(JSON.parse(saved.get('columns:1')!)).toEqual([
      'name',
      'email',
      'role',
      'status',
      'title',
      'last_active',
      'created',
      'prop:cost_center',
    ]);
    expect(store.columns.find((c) => c.key === 'prop:cost_center')?.label).toBe('Cost center');

    await store.setOrg(2);
    expect(store.columnKeys).not.toContain('title');

    const again = new RosterStore(new PrefsStore());
    await again.setOrg(1);
    expect(again.columnKeys).toEqual(JSON.parse(saved.get('columns:1')!));
  });
});
