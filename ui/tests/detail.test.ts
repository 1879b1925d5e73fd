// The detail panel's actions and Edit mode: every control by its verdict (a refused one
// disabled, the reason as its title and as the text it is described by), Save's changes,
// refusals on their fields, the remove confirmation, pending changes shown.
import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import MemberDetailPanel from '../src/lib/components/MemberDetailPanel.svelte';
import { OutboxStore } from '../src/lib/stores/outbox.svelte';
import { RosterStore } from '../src/lib/stores/roster.svelte';
import { PrefsStore } from '../src/lib/stores/prefs.svelte';
import type { Checked, MemberDetail, MutationKind, Role, StagedChange, Verdict } from '../src/lib/types';
import { backend, flush, member } from './helpers';

const NOW = new Date('2025-03-01T12:00:00').getTime();
const ann = member(7, { name: 'Ann Smith', first_name: 'Ann', last_name: 'Smith', workspaces: [1], properties: { cost_center: 4100 } });

function detailOf(over: Partial<MemberDetail> = {}): MemberDetail {
  return {
    member: ann,
    workspaces: [{ id: 1, name: 'Sales', version: 1 }],
    properties: [{ key: 'cost_center', label: 'Cost center', kind: { type: 'number' }, value: 4100 }],
    invited_by: null,
    staged: [],
    ...over,
  };
}

const OTHER_ROLES: Role[] = ['admin', 'billing_admin', 'user_admin', 'viewer_admin', 'guest'];

function verdicts(over: Partial<Record<string, Partial<Verdict>>> = {}): Verdict[] {
  const base: Verdict[] = [
    { action: 'edit_profile', allowed: true },
    { action: 'assign_workspaces', allowed: true },
    { action: 'set_scope', allowed: true },
    { action: 'suspend', allowed: true },
    { action: 'restore', allowed: false, code: 'invalid_state', reason: 'Only a suspended user can be restored.' },
    { action: 'remove', allowed: true },
    { action: 'resend_invitation', allowed: false, code: 'invalid_state', reason: 'The invitation is not pending.' },
    { action: 'cancel_invitation', allowed: false, code: 'invalid_state', reason: 'The invitation is not pending.' },
    ...OTHER_ROLES.map((role) => ({ action: 'change_role' as const, role, allowed: true })),
  ];
  return base.map((v) => ({ ...v, ...(over[v.action === 'change_role' ? `role:${v.role}` : v.action] ?? {}) }));
}

function panel(opts: { verdicts?: Verdict[]; detail?: MemberDetail; answer?: (changes: MutationKind[], onlyCheck: boolean) => Checked } = {}) {
  const answer = opts.answer ?? ((changes, onlyCheck) => ({ allowed: changes.length, refused: [], staged: onlyCheck ? [] : changes.map((_, i) => `m${i}`) }));
  const ipc = backend((cmd, args) => (cmd === 'stage_changes' ? answer(args.changes as MutationKind[], args.onlyCheck as boolean) : null));
  const outbox = new OutboxStore();
  render(MemberDetailPanel, {
    detail: opts.detail ?? detailOf(),
    loading: false,
    error: null,
    now: NOW,
    verdicts: opts.verdicts ?? verdicts(),
    workspaces: [
      { id: 1, name: 'Sales', version: 1 },
      { id: 2, name: 'Support', version: 1 },
    ],
    onclose: () => {},
    stage: (changes: MutationKind[]) => outbox.stageAll(1, changes),
  });
  return ipc;
}

describe('the detail panel’s actions', () => {
  it('disables a refused action with its reason as title and described-by text', () => {
    panel({ verdicts: verdicts({ suspend: { allowed: false, code: 'last_admin', reason: 'Every org keeps at least one active admin.' } }) });
    const suspend = screen.getByTestId('action-suspend');
    expect(suspend).toBeDisabled();
    expect(suspend).toHaveAttribute('title', 'Every org keeps at least one active admin.');
    const reason = screen.getByTestId('reason-suspend');
    expect(reason).toHaveTextContent('Every org keeps at least one active admin.');
    expect(suspend.getAttribute('aria-describedby')).toBe(reason.id);
    expect(screen.getByTestId('action-remove')).toBeEnabled();
    expect(screen.getByTestId('detail-edit')).toBeEnabled();
    // resend only shows for a pending user
    expect(screen.queryByTestId('action-resend')).toBeNull();
  });

  it('disables Edit when the rules refuse every edit, with the reason', () => {
    const no = { allowed: false, code: 'forbidden' as const, reason: 'A View Only Admin changes nothing.' };
    panel({
      verdicts: verdicts({
        edit_profile: no,
        assign_workspaces: no,
        ...Object.fromEntries(OTHER_ROLES.map((r) => [`role:${r}`, no])),
      }),
    });
    expect(screen.getByTestId('detail-edit')).toBeDisabled();
    expect(screen.getByTestId('detail-edit')).toHaveAttribute('title', 'A View Only Admin changes nothing.');
    expect(screen.getByTestId('reason-edit')).toHaveTextContent('A View Only Admin changes nothing.');
  });

  it('asks before removing, then stages the removal', async () => {
    const ipc = panel();
    await fireEvent.click(screen.getByTestId('action-remove'));
    await waitFor(() => expect(screen.getByTestId('remove-dialog')).toHaveTextContent('Remove Ann Smith?'));
    expect(ipc.of('stage_changes')).toHaveLength(0);
    await fireEvent.click(screen.getByTestId('remove-confirm'));
    await waitFor(() => expect(screen.getByTestId('detail-notice')).toHaveTextContent('Removal staged.'));
    expect(ipc.of('stage_changes').map((c) => [c.args.onlyCheck, c.args.changes])).toEqual([
      [true, [{ type: 'remove', user_id: 7 }]],
      [false, [{ type: 'remove', user_id: 7 }]],
    ]);
  });

  it('shows the member’s pending changes with their values', () => {
    const sc: StagedChange = {
      seq: 3,
      id: 'c1',
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
    };
    panel({ detail: detailOf({ member: { ...ann, pending_changes: 1 }, staged: [sc] }) });
    expect(screen.getByTestId('detail-pending-count')).toHaveTextContent('1 pending');
    const change = screen.getByTestId('detail-change-c1');
    expect(change).toHaveTextContent('Change role of this user to User Admin');
    expect(within(change).getByTestId('diff-role')).toHaveTextContent('Member→User Admin');
  });
});

describe('the detail panel’s Edit mode', () => {
  it('disables a refused role with its reason, and stages profile, role and workspaces in one call', async () => {
    const ipc = panel({
      verdicts: verdicts({ 'role:admin': { allowed: false, code: 'forbidden', reason: 'Only an admin can make admins.' } }),
    });
    await fireEvent.click(screen.getByTestId('detail-edit'));
    const role = screen.getByTestId('edit-role') as HTMLSelectElement;
    const admin = [...role.options].find((o) => o.value === 'admin')!;
    expect(admin.disabled).toBe(true);
    expect(admin.title).toBe('Only an admin can make admins.');
    expect(screen.getByTestId('reason-role')).toHaveTextContent('Admin: Only an admin can make admins.');
    expect(role).toBeEnabled();
    expect([...role.options].find((o) => o.value === 'user_admin')!.disabled).toBe(false);

    await fireEvent.input(screen.getByTestId('edit-title'), { target: { value: 'Team lead' } });
    await fireEvent.input(screen.getByTestId('edit-first-name'), { target: { value: 'Anne' } });
    await fireEvent.input(screen.getByTestId('edit-prop-cost_center'), { target: { value: '4200' } });
    await fireEvent.change(role, { target: { value: 'user_admin' } });
    await fireEvent.click(screen.getByTestId('edit-workspaces-2'));
    await fireEvent.click(screen.getByTestId('detail-save'));

    await waitFor(() => expect(screen.queryByTestId('detail-edit-form')).toBeNull());
    expect(screen.getByTestId('detail-notice')).toHaveTextContent('3 changes staged.');
    const calls = ipc.of('stage_changes');
    expect(calls.map((c) => c.args.onlyCheck)).toEqual([true, false]);
    expect(calls[1].args).toEqual({
      org: 1,
      onlyCheck: false,
      changes: [
        { type: 'edit_member', user_id: 7, edit: { profile: { first_name: 'Anne', title: 'Team lead' }, properties: { cost_center: 4200 } } },
        { type: 'change_role', user_id: 7, role: 'user_admin' },
        { type: 'assign_workspaces', user_id: 7, workspaces: [1, 2] },
      ],
    });
  });

  it('disables the whole role select when every role is refused, and shows refusals on their fields', async () => {
    const self = { allowed: false, code: 'self_role' as const, reason: 'No one changes their own role.' };
    const ipc = panel({
      verdicts: verdicts(Object.fromEntries(OTHER_ROLES.map((r) => [`role:${r}`, self]))),
      answer: (changes) => ({
        allowed: 1,
        refused: [{ index: 1, user_id: 7, field: 'workspaces', code: 'too_many_workspaces', reason: 'At most 10 workspaces can be granted at once.' }, { index: 0, user_id: 7, field: 'phone', code: 'invalid_input', reason: 'phone: not an E.164 number' }],
        staged: [],
      }),
    });
    await fireEvent.click(screen.getByTestId('detail-edit'));
    expect(screen.getByTestId('edit-role')).toBeDisabled();
    expect(screen.getByTestId('edit-role')).toHaveAttribute('title', 'No one changes their own role.');
    expect(screen.getByTestId('reason-role')).toHaveTextContent('No one changes their own role.');

    await fireEvent.input(screen.getByTestId('edit-phone'), { target: { value: '12' } });
    await fireEvent.click(screen.getByTestId('edit-workspaces-2'));
    await fireEvent.click(screen.getByTestId('detail-save'));
    await waitFor(() => expect(screen.getByTestId('edit-error-phone')).toHaveTextContent('phone: not an E.164 number'));
    expect(screen.getByTestId('edit-phone')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByTestId('edit-error-workspaces')).toHaveTextContent('At most 10 workspaces');
    // only checked: nothing staged, still editing
    expect(ipc.of('stage_changes').map((c) => c.args.onlyCheck)).toEqual([true]);
    expect(screen.getByTestId('detail-edit-form')).toBeInTheDocument();

    await fireEvent.input(screen.getByTestId('edit-phone'), { target: { value: '+4722334455' } });
    expect(screen.queryByTestId('edit-error-phone')).toBeNull();
    await fireEvent.click(screen.getByTestId('detail-cancel'));
    expect(screen.queryByTestId('detail-edit-form')).toBeNull();
    await flush();
  });

  it('keeps a guest’s end date under the guest verdict', async () => {
    const guest = { ...ann, role: 'guest' as const, guest_expires: '2025-04-01' };
    panel({
      detail: detailOf({ member: guest }),
      verdicts: [
        ...verdicts().filter((v) => !(v.action === 'change_role' && v.role === 'guest')),
        { action: 'change_role', role: 'member', allowed: true },
        { action: 'set_guest_expiry', allowed: false, code: 'forbidden', reason: 'Not yours to extend.' },
      ],
    });
    await fireEvent.click(screen.getByTestId('detail-edit'));
    expect(screen.getByTestId('edit-guest-expires')).toBeDisabled();
    expect(screen.getByTestId('edit-guest-expires')).toHaveAttribute('title', 'Not yours to extend.');
    expect(screen.getByTestId('reason-guest-expires')).toHaveTextContent('Not yours to extend.');
  });
});

describe('the roster store’s detail', () => {
  it('asks the rules’ verdicts with the detail', async () => {
    const v = verdicts();
    const ipc = backend((cmd) => {
      if (cmd === 'member_detail') return detailOf();
      if (cmd === 'allowed_actions') return v;
      if (cmd === 'roster_window') return { offset: 0, rows: [], total: 0, total_capped: false, counts: null, counts_capped: false, as_of: null };
      return [];
    });
    const store = new RosterStore(new PrefsStore());
    await store.setOrg(1);
    store.openDetail(7);
    await waitFor(() => expect(store.detailVerdicts).toEqual(v));
    expect(ipc.of('allowed_actions')[0].args).toEqual({ org: 1, user: 7 });
    expect(store.selection()).toEqual({ type: 'ids', ids: [] });
  });
});

describe('the pending row', () => {
  it('is the Rust side’s row with every pending change applied, not the last change’s own row', async () => {
    const { pendingRow } = await import('../src/lib/changes');
    const base = { id: 3, email: 'a@b.example', role: 'member', status: 'active', created_at: '2026-01-01T00:00:00Z', version: 1 } as const;
    const staged = [
      { seq: 1, id: 'a', org_id: 9, user_id: 3, base_version: 1, staged_at: '', state: 'pending', base_row: base, mine: { ...base, title: 'Lead' }, theirs: null, applied_version: null, refusal: null, resolution: null, change: { type: 'edit_member', user_id: 3, edit: { profile: { title: 'Lead' } } } },
      { seq: 2, id: 'b', org_id: 9, user_id: 3, base_version: 1, staged_at: '', state: 'pending', base_row: base, mine: { ...base, role: 'user_admin' }, theirs: null, applied_version: null, refusal: null, resolution: null, change: { type: 'change_role', user_id: 3, role: 'user_admin' } },
    ] as never;
    const both = { ...base, name: 'A', title: 'Lead', role: 'user_admin' } as never;
    expect(pendingRow(staged, { pending_row: both, pending_removal: false })?.row).toBe(both);
    // an answer without pending_row: the last change's row
    expect(pendingRow(staged)?.row).toMatchObject({ role: 'user_admin' });
    expect(pendingRow([] as never, { pending_row: null, pending_removal: false })).toBeNull();
  });
});
