// Add users: the multi-row grid (client checks, refusals from the rules on their cells,
// spreadsheet paste, fixing a cell, staging once) and the single form.
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import AddUsersDialog from '../src/lib/components/AddUsersDialog.svelte';
import { OutboxStore } from '../src/lib/stores/outbox.svelte';
import type { Checked, MutationKind, PropertyDefinition } from '../src/lib/types';
import { backend, flush } from './helpers';

const NOW = new Date('2025-03-01T12:00:00').getTime();
const OK: Checked = { allowed: 0, refused: [], staged: [] };

function dialog(handler: (changes: MutationKind[], onlyCheck: boolean) => Checked, definitions: PropertyDefinition[] = []) {
  const ipc = backend((cmd, args) => {
    if (cmd === 'stage_changes') return handler(args.changes as MutationKind[], args.onlyCheck as boolean);
    return null;
  });
  const store = new OutboxStore();
  const ondone = vi.fn();
  const view = render(AddUsersDialog, {
    open: true,
    orgName: 'Acme',
    workspaces: [
      { id: 1, name: 'Sales', version: 1 },
      { id: 2, name: 'Support', version: 1 },
    ],
    definitions,
    now: NOW,
    check: (changes: MutationKind[]) => store.stage(1, changes, true),
    stage: (changes: MutationKind[]) => store.stageAll(1, changes),
    ondone,
  });
  return { ipc, ondone, view };
}

const cell = (row: number, field: string) => screen.getByTestId(`cell-${row}-${field}`) as HTMLInputElement;
const type = (el: HTMLElement, value: string) => fireEvent.input(el, { target: { value } });

async function multi() {
  await fireEvent.click(screen.getByTestId('add-tab-multi'));
  await waitFor(() => expect(screen.getByTestId('add-multi')).not.toHaveAttribute('hidden'));
}

describe('the multi-row add form', () => {
  it('keeps what was typed when the org\'s definitions reload meanwhile (a background sync)', async () => {
    const { view } = dialog(() => OK);
    await multi();
    await type(cell(0, 'email'), 'ann@acme.example');
    await type(cell(1, 'first-name'), 'Bob');
    await view.rerender({
      definitions: [{ id: 1, key: 'cost_center', label: 'Cost center', required: false, version: 1, type: 'text' }],
    });
    await flush();
    expect(cell(0, 'email').value).toBe('ann@acme.example');
    expect(cell(1, 'first-name').value).toBe('Bob');
    expect(screen.getByTestId('add-multi-count')).toHaveTextContent('2 users');
  });

  it('marks cells that fail the client checks and asks nothing until they pass', async () => {
    const { ipc } = dialog(() => OK);
    await multi();
    await type(cell(0, 'email'), 'not-an-email');
    await type(cell(1, 'first-name'), 'Bob');
    await type(cell(2, 'email'), 'guest@acme.example');
    await type(cell(2, 'role'), 'Guest');
    await fireEvent.click(screen.getByTestId('add-submit'));

    expect(cell(0, 'email')).toHaveAttribute('aria-invalid', 'true');
    expect(cell(0, 'email').title).toMatch(/Not an email address/);
    expect(screen.getByTestId('cell-error-0-email')).toHaveTextContent('Not an email address');
    expect(cell(1, 'email')).toHaveAttribute('aria-invalid', 'true');
    expect(cell(1, 'email').title).toBe('Enter an email address.');
    expect(cell(2, 'guest-expires')).toHaveAttribute('aria-invalid', 'true');
    expect(cell(2, 'guest-expires').title).toBe('A guest needs an end date.');
    expect(cell(0, 'first-name')).not.toHaveAttribute('aria-invalid');
    expect(screen.getByTestId('add-form-error')).toHaveTextContent('Fix the marked cells first.');
    expect(ipc.of('stage_changes')).toHaveLength(0);

    // fixing a cell clears its error, and only its error
    await type(cell(0, 'email'), 'ann@acme.example');
    expect(cell(0, 'email')).not.toHaveAttribute('aria-invalid');
    expect(screen.queryByTestId('cell-error-0-email')).toBeNull();
    expect(cell(1, 'email')).toHaveAttribute('aria-invalid', 'true');
  });

  it('shows the rules’ refusals on their cells (a refusal without a field on its row) and stages nothing', async () => {
    const { ipc, ondone } = dialog((changes, onlyCheck) => {
      expect(onlyCheck).toBe(true);
      return {
        allowed: changes.length - 2,
        refused: [
          { index: 1, user_id: null, field: 'email', code: 'email_taken', reason: 'That email is already a member.' },
          { index: 2, user_id: null, field: null, code: 'forbidden', reason: 'You may not add users here.' },
        ],
        staged: [],
      };
    });
    await multi();
    // rows 0, 2, 3 are filled; row 1 stays blank and is left out
    await type(cell(0, 'email'), 'a@acme.example');
    await fireEvent.click(screen.getByTestId('add-row'));
    await type(cell(2, 'email'), 'b@acme.example');
    await type(cell(3, 'email'), 'c@acme.example');
    await fireEvent.click(screen.getByTestId('add-submit'));
    await waitFor(() => expect(cell(2, 'email')).toHaveAttribute('aria-invalid', 'true'));

    const calls = ipc.of('stage_changes');
    expect(calls).toHaveLength(1);
    expect(calls[0].args.org).toBe(1);
    expect((calls[0].args.changes as MutationKind[]).map((c) => c.type === 'add_member' && c.member.email)).toEqual([
      'a@acme.example',
      'b@acme.example',
      'c@acme.example',
    ]);
    // refusal.index 1 is the second change: grid row 2
    expect(cell(2, 'email').title).toBe('That email is already a member.');
    expect(screen.getByTestId('row-error-3')).toHaveTextContent('You may not add users here.');
    expect(cell(0, 'email')).not.toHaveAttribute('aria-invalid');
    expect(ondone).not.toHaveBeenCalled();

    await type(cell(2, 'email'), 'b2@acme.example');
    expect(cell(2, 'email')).not.toHaveAttribute('aria-invalid');
    await type(cell(3, 'title'), 'Engineer');
    expect(screen.queryByTestId('row-error-3')).toBeNull();
  });

  it('fills rows and columns from a pasted block with a header line', async () => {
    dialog(() => OK);
    await multi();
    const block = [
      'Email\tFirst Name\tLast Name\tRole\tJob Title',
      'ann@acme.example\tAnn\tSmith\tUser Admin\tLead',
      'bob@acme.example\tBob\tJones\tmember\t',
      'cy@acme.example\tCy\tGuest\tguest\tVisitor',
      '',
    ].join('\r\n');
    await fireEvent.paste(cell(0, 'email'), { clipboardData: { getData: () => block } });
    expect(cell(0, 'email').value).toBe('ann@acme.example');
    expect(cell(0, 'first-name').value).toBe('Ann');
    expect(cell(0, 'role').value).toBe('User Admin');
    expect(cell(0, 'title').value).toBe('Lead');
    expect(cell(1, 'last-name').value).toBe('Jones');
    expect(cell(1, 'role').value).toBe('Member');
    expect(cell(2, 'email').value).toBe('cy@acme.example');
    expect(cell(2, 'role').value).toBe('Guest');
    expect(cell(2, 'title').value).toBe('Visitor');
    expect(screen.queryByTestId('cell-3-email')).toBeNull();
    expect(screen.getByTestId('add-multi-count')).toHaveTextContent('3 users');
  });

  it('pastes a block without a header from the cell it lands in, adding rows as needed', async () => {
    dialog(() => OK);
    await multi();
    await type(cell(0, 'email'), 'keep@acme.example');
    const block = 'Ann\tSmith\nBob\tJones\nCy\tYoung\nDee\tLast\n';
    await fireEvent.paste(cell(1, 'first-name'), { clipboardData: { getData: () => block } });
    expect(cell(0, 'email').value).toBe('keep@acme.example');
    expect(cell(1, 'first-name').value).toBe('Ann');
    expect(cell(1, 'last-name').value).toBe('Smith');
    expect(cell(4, 'first-name').value).toBe('Dee');
    expect(cell(4, 'last-name').value).toBe('Last');
    expect(cell(4, 'email').value).toBe('');
  });

  it('moves down a row on Enter, adding one at the end, without submitting', async () => {
    const { ipc } = dialog(() => OK);
    await multi();
    await fireEvent.keyDown(cell(2, 'title'), { key: 'Enter' });
    await waitFor(() => expect(document.activeElement).toBe(cell(3, 'title')));
    await fireEvent.keyDown(cell(0, 'email'), { key: 'Enter' });
    await waitFor(() => expect(document.activeElement).toBe(cell(1, 'email')));
    expect(screen.queryByTestId('cell-4-email')).toBeNull();
    expect(ipc.of('stage_changes')).toHaveLength(0);
  });

  it('stages every row at once when they all pass', async () => {
    const { ipc, ondone } = dialog((changes, onlyCheck) => ({
      allowed: changes.length,
      refused: [],
      staged: onlyCheck ? [] : changes.map((_, i) => `m${i}`),
    }));
    await multi();
    await fireEvent.paste(cell(0, 'email'), {
      clipboardData: {
        getData: () =>
          'Email\tFirst name\tLast name\tRole\tGuest Expires\na@acme.example\tA\tOne\tMember\t\nb@acme.example\tB\tTwo\tGuest\t2025-06-30\nc@acme.example\tC\tThree\tUser Admin\t',
      },
    });
    await fireEvent.click(screen.getByTestId('add-submit'));
    await waitFor(() => expect(ondone).toHaveBeenCalledWith(3));

    const calls = ipc.of('stage_changes');
    expect(calls.map((c) => c.args.onlyCheck)).toEqual([true, false]);
    const staged = calls.filter((c) => c.args.onlyCheck === false);
    expect(staged).toHaveLength(1);
    expect(staged[0].args.changes).toEqual([
      { type: 'add_member', member: { email: 'a@acme.example', role: 'member', onboarding: 'invite', profile: { first_name: 'A', last_name: 'One' } } },
      {
        type: 'add_member',
        member: {
          email: 'b@acme.example',
          role: 'guest',
          onboarding: 'invite',
          profile: { first_name: 'B', last_name: 'Two' },
          guest_expires: '2025-06-30',
        },
      },
      { type: 'add_member', member: { email: 'c@acme.example', role: 'user_admin', onboarding: 'invite', profile: { first_name: 'C', last_name: 'Three' } } },
    ]);
  });
});

describe('the single add form', () => {
  it('needs a password for set_and_email, then stages one add_member with everything filled in', async () => {
    const { ipc, ondone } = dialog(
      (changes, onlyCheck) => ({ allowed: 1, refused: [], staged: onlyCheck ? [] : ['m1'] }),
      [{ id: 1, key: 'cost_center', label: 'Cost center', required: true, version: 1, type: 'number' }],
    );
    await type(screen.getByTestId('add-email'), 'new@acme.example');
    await fireEvent.change(screen.getByTestId('add-role'), { target: { value: 'guest' } });
    await type(screen.getByTestId('add-guest-expires'), '2025-04-01');
    await type(screen.getByTestId('add-first-name'), 'New');
    await fireEvent.click(screen.getByTestId('add-workspaces-2'));
    await fireEvent.click(screen.getByTestId('add-onboarding-set-and-email'));
    await type(screen.getByTestId('add-password'), 'short');
    await fireEvent.click(screen.getByTestId('add-submit'));
    expect(screen.getByTestId('add-error-password')).toHaveTextContent('At least 12 characters.');
    expect(screen.getByTestId('add-error-prop-cost_center')).toHaveTextContent('Cost center is required.');
    expect(ipc.of('stage_changes')).toHaveLength(0);

    await type(screen.getByTestId('add-password'), 'a-long-enough-secret');
    await type(screen.getByTestId('add-prop-cost_center'), '4100');
    await fireEvent.click(screen.getByTestId('add-submit'));
    await waitFor(() => expect(ondone).toHaveBeenCalledWith(1));
    const staged = ipc.of('stage_changes').filter((c) => !c.args.onlyCheck);
    expect(staged[0].args.changes).toEqual([
      {
        type: 'add_member',
        member: {
          email: 'new@acme.example',
          role: 'guest',
          onboarding: 'set_and_email',
          profile: { first_name: 'New' },
          workspaces: [2],
          guest_expires: '2025-04-01',
          properties: { cost_center: 4100 },
          password: 'a-long-enough-secret',
        },
      },
    ]);
  });

  it('shows a refusal on its field', async () => {
    dialog(() => ({
      allowed: 0,
      refused: [{ index: 0, user_id: null, field: 'role', code: 'role_not_allowed', reason: 'A User Admin may only add members and guests.' }],
      staged: [],
    }));
    await type(screen.getByTestId('add-email'), 'x@acme.example');
    await fireEvent.change(screen.getByTestId('add-role'), { target: { value: 'admin' } });
    await fireEvent.click(screen.getByTestId('add-submit'));
    await waitFor(() => expect(screen.getByTestId('add-error-role')).toHaveTextContent('A User Admin may only add members and guests.'));
    expect(screen.getByTestId('add-role')).toHaveAttribute('aria-invalid', 'true');
    await flush();
  });
});
