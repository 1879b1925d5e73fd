// Bulk actions: the dialog checks first ("N will change", each refused row with its reason),
// then Confirm stages with the same selection; the roster's bar opens it for the selection.
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import BulkDialog from '../src/lib/components/BulkDialog.svelte';
import Roster from '../src/screens/Roster.svelte';
import { OutboxStore } from '../src/lib/stores/outbox.svelte';
import { defaultQuery, roster } from '../src/lib/stores/roster.svelte';
import { orgs } from '../src/lib/stores/orgs.svelte';
import type { BulkAction, BulkActionType, Checked, Selection } from '../src/lib/types';
import { backend, deferred, member, org, windowOf, type WindowArgs } from './helpers';

const NOW = new Date('2025-03-01T12:00:00').getTime();

function dialog(type: BulkActionType, answer: (onlyCheck: boolean) => Checked | Promise<Checked>) {
  const ipc = backend((cmd, args) => (cmd === 'stage_bulk' ? answer(args.onlyCheck as boolean) : null));
  const store = new OutboxStore();
  const selection: Selection = { type: 'matching', query: { ...defaultQuery(), tab: 'active', search: 'acme' }, except: [3] };
  const people = vi.fn(async (ids: number[]) => new Map(ids.map((id) => [id, { name: `Person ${id}`, email: `p${id}@acme.example` }])));
  const ondone = vi.fn();
  render(BulkDialog, {
    open: true,
    type,
    count: 4,
    countLabel: 'All 4 selected',
    workspaces: [
      { id: 1, name: 'Sales', version: 1 },
      { id: 2, name: 'Support', version: 1 },
    ],
    now: NOW,
    check: (action: BulkAction) => store.stageBulk(1, selection, action, true),
    confirm: (action: BulkAction) => store.stageBulk(1, selection, action, false),
    people,
    ondone,
  });
  return { ipc, selection, people, ondone };
}

const REFUSED: Checked = {
  allowed: 3,
  refused: [{ index: 1, user_id: 5, field: null, code: 'last_admin', reason: 'Every org keeps at least one active admin.' }],
  staged: [],
};

describe('the bulk dialog', () => {
  it('checks once the role is chosen, lists the refused rows, and confirms with the same selection', async () => {
    const { ipc, selection, people, ondone } = dialog('change_role', (onlyCheck) =>
      onlyCheck ? REFUSED : { ...REFUSED, staged: ['a', 'b', 'c'] },
    );
    expect(screen.getByTestId('bulk-dialog')).toHaveTextContent('Change role');
    expect(screen.getByTestId('bulk-confirm')).toBeDisabled();
    expect(ipc.of('stage_bulk')).toHaveLength(0);

    await fireEvent.change(screen.getByTestId('bulk-role'), { target: { value: 'member' } });
    await waitFor(() => expect(screen.getByTestId('bulk-will-change')).toHaveTextContent('3 users will be changed, 1 refused.'));
    const row = screen.getByTestId('bulk-refused-5');
    expect(within(screen.getByTestId('bulk-refused')).getAllByRole('row')).toHaveLength(2);
    expect(row).toHaveTextContent('Every org keeps at least one active admin.');
    await waitFor(() => expect(row).toHaveTextContent('Person 5'));
    expect(people).toHaveBeenCalledWith([5]);
    expect(ipc.of('stage_bulk')[0].args).toEqual({ org: 1, selection, action: { type: 'change_role', role: 'member' }, onlyCheck: true });

    await fireEvent.click(screen.getByTestId('bulk-confirm'));
    await waitFor(() => expect(ondone).toHaveBeenCalled());
    const calls = ipc.of('stage_bulk');
    expect(calls).toHaveLength(2);
    expect(calls[1].args).toEqual({ org: 1, selection, action: { type: 'change_role', role: 'member' }, onlyCheck: false });
    expect(ondone.mock.calls[0][0].staged).toEqual(['a', 'b', 'c']);
    await waitFor(() => expect(screen.queryByTestId('bulk-dialog')).toBeNull());
  });

  it('checks a parameterless action at once, showing a busy state while the rules run', async () => {
    const answer = deferred<Checked>();
    const { ipc } = dialog('suspend', () => answer.promise);
    await waitFor(() => expect(screen.getByTestId('bulk-checking')).toHaveTextContent('Checking 4 users…'));
    expect(screen.getByTestId('bulk-dialog')).toHaveAttribute('aria-busy', 'true');
    await waitFor(() => expect(ipc.of('stage_bulk')[0]?.args.action).toEqual({ type: 'suspend' }));
    answer.resolve({ allowed: 4, refused: [], staged: [] });
    await waitFor(() => expect(screen.getByTestId('bulk-will-change')).toHaveTextContent('4 users will be changed.'));
    expect(screen.queryByTestId('bulk-refused')).toBeNull();
    expect(screen.getByTestId('bulk-confirm')).toBeEnabled();
  });

  it('says how many rows a workspace change leaves as they are', async () => {
    const { ipc } = dialog('add_workspaces', () => ({ allowed: 1, refused: [], staged: [] }));
    await fireEvent.click(screen.getByTestId('bulk-workspaces-2'));
    await waitFor(() => expect(screen.getByTestId('bulk-will-change')).toHaveTextContent('1 user will be changed, 3 already as asked.'));
    expect(ipc.of('stage_bulk')[0].args.action).toEqual({ type: 'add_workspaces', workspaces: [2] });
  });

  it('needs a valid future date before checking a guest end date', async () => {
    const { ipc } = dialog('set_guest_expiry', () => ({ allowed: 4, refused: [], staged: [] }));
    await fireEvent.input(screen.getByTestId('bulk-guest-expires'), { target: { value: '2025-02-01' } });
    expect(screen.getByTestId('bulk-date-error')).toHaveTextContent('The end date must be after today.');
    expect(screen.getByTestId('bulk-confirm')).toBeDisabled();
    await fireEvent.input(screen.getByTestId('bulk-guest-expires'), { target: { value: '2025-05-01' } });
    await waitFor(() => expect(screen.getByTestId('bulk-will-change')).toHaveTextContent('4 users will be changed.'));
    expect(ipc.of('stage_bulk').map((c) => c.args.action)).toEqual([{ type: 'set_guest_expiry', date: '2025-05-01' }]);
  });
});

describe('the bulk bar', () => {
  it('shows the selection and opens the dialog for it', async () => {
    const ipc = backend((cmd, args) => {
      switch (cmd) {
        case 'roster_window': {
          const a = args as unknown as WindowArgs;
          const w = windowOf(a.offset, a.limit, 50);
          w.rows[2] = { ...member(3), pending_changes: 2 };
          return w;
        }
        case 'stage_bulk':
          return { allowed: 1, refused: [], staged: [] };
        case 'workspaces':
        case 'property_definitions':
          return [];
        default:
          return null;
      }
    });
    orgs.list = [org(1, { members: 50 })];
    orgs.current = 1;
    await roster.setOrg(1, 50);
    render(Roster, { now: NOW });
    await waitFor(() => expect(screen.getByTestId('row-3')).toBeInTheDocument());
    expect(screen.getByTestId('row-pending-3')).toHaveAttribute('title', '2 changes not yet on the server');
    expect(screen.queryByTestId('bulk-bar')).toBeNull();

    await fireEvent.click(screen.getByTestId('row-3'));
    await fireEvent.click(screen.getByTestId('row-5'), { ctrlKey: true });
    expect(screen.getByTestId('bulk-bar')).toBeInTheDocument();
    expect(screen.getByTestId('selection-count')).toHaveTextContent('2 selected');
    await fireEvent.click(screen.getByTestId('bulk-resend-invitation'));
    await waitFor(() => expect(screen.getByTestId('bulk-will-change')).toBeInTheDocument());
    expect(ipc.of('stage_bulk')[0].args).toEqual({
      org: 1,
      selection: { type: 'ids', ids: [3, 5] },
      action: { type: 'resend_invitation' },
      onlyCheck: true,
    });
    await fireEvent.click(screen.getByTestId('bulk-cancel'));
    await waitFor(() => expect(screen.queryByTestId('bulk-dialog')).toBeNull());

    // Ctrl+A: every matching row, named by the query, with later exclusions
    await fireEvent.keyDown(screen.getByTestId('roster-table'), { key: 'a', ctrlKey: true });
    await fireEvent.click(screen.getByTestId('row-4'), { ctrlKey: true });
    expect(screen.getByTestId('selection-count')).toHaveTextContent('49 selected');
    await fireEvent.click(screen.getByTestId('bulk-restore'));
    await waitFor(() => expect(ipc.of('stage_bulk')).toHaveLength(2));
    expect(ipc.of('stage_bulk')[1].args.selection).toEqual({ type: 'matching', query: defaultQuery(), except: [4] });
    await roster.setOrg(null);
    orgs.reset();
  });
});
