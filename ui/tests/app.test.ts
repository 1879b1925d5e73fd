// The whole window against a scripted backend: start signed in, see the roster, search,
// switch to a never-synced org, go offline, open a user.
import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import App from '../src/App.svelte';
import { INITIAL_STATUS } from '../src/lib/stores/sync.svelte';
import type { OrgSummary, Progress, SyncStatus } from '../src/lib/types';
import { backend, deferred, member, org, windowOf, type ProgressChannel, type WindowArgs } from './helpers';

describe('the app window', () => {
  it('opens the last org, shows its roster, searches, switches and goes offline', async () => {
    const orgList: OrgSummary[] = [
      org(1, { name: 'Acme Corp', members: 100_000 }),
      org(2, { name: 'Globex', synced_at: null, members: 0 }),
      org(3, { name: 'Initech', listable: false, role: 'member' }),
    ];
    const firstSync = deferred<unknown>();
    let channel: ProgressChannel | null = null;
    let status: SyncStatus = { ...INITIAL_STATUS, last_synced_at: '2025-01-01T00:00:00Z' };
    const ipc = backend((cmd, args) => {
      switch (cmd) {
        case 'app_info':
          return { version: '0.1.0', demo: true };
        case 'session':
          return { state: 'signed_in', profile: 'acme', server: 'https://acme.example', email: 'ann@acme.example', account_id: 1, remembered: true };
        case 'orgs':
          return { current: 1, orgs: orgList };
        case 'switch_org':
          return orgList.find((o) => o.id === args.org);
        case 'sync_status':
          return status;
        case 'roster_window': {
          const a = args as unknown as WindowArgs;
          if (a.query.search) {
            const w = windowOf(0, 0, 0);
            return { ...w, rows: [member(77, { name: 'Alice Search' })], total: 1 };
          }
          return windowOf(a.offset, a.limit, 100_000);
        }
        case 'member_detail':
          return { member: member(args.user as number, { name: 'Alice Search' }), workspaces: [{ id: 1, name: 'Sales', version: 1 }], properties: [], invited_by: null };
        case 'sync_now':
          channel = args.onProgress as ProgressChannel;
          return firstSync.promise;
        case 'demo_set_offline':
          status = { ...status, online: !args.offline, simulated_offline: !!args.offline };
          return status;
        case 'workspaces':
        case 'property_definitions':
          return [];
        default:
          return null;
      }
    });

    render(App);
    await waitFor(() => expect(screen.getByTestId('row-1')).toBeInTheDocument());
    expect(screen.getByTestId('demo-badge')).toBeInTheDocument();
    expect(screen.getByTestId('org-switcher')).toHaveTextContent('Acme Corp');
    expect(screen.getByTestId('roster-total')).toHaveTextContent('100,000 users');
    expect(screen.getByTestId('tab-count-pending')).toHaveTextContent('1,200');
    expect(screen.getByTestId('sync-state')).toHaveTextContent('Online');
    expect(window.__orgdesk.ready).toBe(true);

    // search: every keystroke asks; rows come in relevance order
    await fireEvent.input(screen.getByTestId('roster-search'), { target: { value: 'ali' } });
    await waitFor(() => expect(screen.getByTestId('row-77')).toBeInTheDocument());
    expect(screen.getByTestId('roster-total')).toHaveTextContent('1 match');
    expect(screen.getByTestId('sort-relevance')).toHaveTextContent('Sorted by relevance');
    expect(screen.getByTestId('col-name')).toHaveAttribute('aria-sort', 'none');

    // Enter in the search box moves into the table; Enter opens the detail
    await fireEvent.keyDown(screen.getByTestId('roster-search'), { key: 'Enter' });
    await fireEvent.keyDown(screen.getByTestId('roster-table'), { key: 'Enter' });
    await waitFor(() => expect(screen.getByTestId('detail-panel')).toHaveTextContent('Alice Search'));
    expect(screen.getByTestId('detail-workspaces')).toHaveTextContent('Sales');
    expect(ipc.of('member_detail')[0].args).toEqual({ org: 1, user: 77 });
    await fireEvent.click(screen.getByTestId('detail-close'));
    expect(screen.queryByTestId('detail-panel')).toBeNull();

    // a listable org never synced: first-sync state with progress from the Channel
    await fireEvent.click(screen.getByTestId('org-switcher'));
    await fireEvent.click(screen.getByTestId('org-item-2'));
    await waitFor(() => expect(screen.getByTestId('roster-first-sync')).toHaveTextContent('Syncing Globex for the first time…'));
    await waitFor(() => expect(ipc.of('sync_now').at(-1)?.args.org).toBe(2));
    const p: Progress = { operation: 'sync', phase: 'pull', label: 'Globex members', org: 2, done: 300, total: 900 };
    channel!.onmessage(p);
    await waitFor(() => expect(screen.getByTestId('first-sync-label')).toHaveTextContent('Globex members — 300 of 900'));
    expect(screen.getByTestId('sync-progress')).toHaveTextContent('300 / 900');
    orgList[1] = { ...orgList[1], synced_at: '2025-01-02T00:00:00Z' };
    firstSync.resolve({ type: 'synced', pulled: 900, pushed: { applied: 0, conflicts: 0, rejected: 0 } });
    await waitFor(() => expect(screen.queryByTestId('roster-first-sync')).toBeNull());
    await waitFor(() => expect(screen.getByTestId('row-1')).toBeInTheDocument());

    // a role that may not list members
    await fireEvent.click(screen.getByTestId('org-switcher'));
    await fireEvent.click(screen.getByTestId('org-item-3'));
    await waitFor(() => expect(screen.getByTestId('roster-not-listable')).toHaveTextContent('(Member) cannot list its members'));

    // the native menu's Go offline (demo) shows the banner
    await emit('menu', 'go_offline');
    await waitFor(() => expect(screen.getByTestId('offline-banner')).toHaveTextContent('Offline — showing the cache'));
    expect(screen.getByTestId('sync-state')).toHaveTextContent('Offline');
    expect(ipc.of('demo_set_offline')[0].args).toEqual({ offline: true });

    // Ctrl+K opens the palette
    await fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
    await waitFor(() => expect(screen.getByTestId('palette')).toBeInTheDocument());
    expect(within(screen.getByTestId('palette')).getByTestId('palette-item-1')).toHaveTextContent('Go online');
  });
});
