// The pure parts: spreadsheet paste, role names, the edit form's changes, change descriptions
// and diffs.
import { describe, expect, it } from 'vitest';
import {
  checkGrid,
  editChanges,
  editFormOf,
  editRefusals,
  emptyRow,
  guestDateProblem,
  headerOf,
  parseRole,
  parseTsv,
  pasteInto,
} from '../src/lib/forms';
import { conflictRows, describeStaged, diffRows, laterChanges, stagedDiff } from '../src/lib/changes';
import type { Member, StagedChange } from '../src/lib/types';
import { member } from './helpers';

const NOW = new Date('2025-03-01T12:00:00').getTime();

function staged(id: string, over: Partial<StagedChange> = {}): StagedChange {
  return {
    seq: 1,
    id,
    org_id: 1,
    user_id: 7,
    base_version: 1,
    change: { type: 'suspend', user_id: 7 },
    staged_at: '2025-03-01T10:00:00Z',
    state: 'pending',
    base_row: null,
    mine: null,
    theirs: null,
    applied_version: null,
    refusal: null,
    resolution: null,
    ...over,
  };
}

describe('spreadsheet text', () => {
  it('reads tabs, CRLF, quoted cells with tabs and newlines, and drops trailing blank lines', () => {
    expect(parseTsv('a\tb\r\n"x\ty"\t"two\nlines"\r\n" said ""hi"" "\t\r\n\r\n')).toEqual([
      ['a', 'b'],
      ['x\ty', 'two\nlines'],
      ['said "hi"', ''],
    ]);
    expect(parseTsv('  spaced  \t z ')).toEqual([['spaced', 'z']]);
  });

  it('takes a first line as a header only when it names columns and holds no email', () => {
    expect(headerOf(['E-mail', 'First', 'Surname', 'Role [Required]', 'Shoe size'])).toEqual([
      'email',
      'first_name',
      'last_name',
      'role',
      null,
    ]);
    expect(headerOf(['ann@acme.example', 'Email'])).toBeNull();
    expect(headerOf(['Ann', 'Smith'])).toBeNull();
  });

  it('pastes by header names, skipping unknown columns', () => {
    const { rows, touched } = pasteInto([emptyRow()], 0, 'title', [
      ['Shoe size', 'Last Name', 'Email'],
      ['44', 'Smith', 'ann@acme.example'],
    ]);
    expect(rows[0]).toMatchObject({ email: 'ann@acme.example', last_name: 'Smith', first_name: '', role: 'Member' });
    expect(touched.sort()).toEqual(['0:email', '0:last_name']);
  });

  it('reads role names as the documents write them', () => {
    expect(parseRole('User Admin')).toBe('user_admin');
    expect(parseRole('user_admin')).toBe('user_admin');
    expect(parseRole('View Only Admin')).toBe('viewer_admin');
    expect(parseRole('Organization User')).toBe('member');
    expect(parseRole('billing-admin')).toBe('billing_admin');
    expect(parseRole('owner')).toBeNull();
  });

  it('checks rows before asking: duplicates, unknown roles, guest dates, blank rows left out', () => {
    const rows = [
      { ...emptyRow(), email: 'a@acme.example' },
      emptyRow(),
      { ...emptyRow(), email: 'A@acme.example ' },
      { ...emptyRow(), email: 'b@acme.example', role: 'owner' },
      { ...emptyRow(), email: 'c@acme.example', guest_expires: '2025-05-01' },
      { ...emptyRow(), email: 'd@acme.example', role: 'guest', guest_expires: '2025-03-01' },
    ];
    expect(checkGrid(rows, NOW)).toEqual({
      '2:email': 'Same email as row 1.',
      '3:role': 'Unknown role “owner”.',
      '4:guest_expires': 'Only guests have an end date.',
      '5:guest_expires': 'The end date must be after today.',
    });
  });

  it('bounds a guest end date to after today and a year ahead', () => {
    expect(guestDateProblem('2025-03-02', NOW)).toBeNull();
    expect(guestDateProblem('2026-03-02', NOW)).toBe('At most 365 days ahead.');
    expect(guestDateProblem('2025-02-30', NOW)).toBe('Use a date like 2025-12-31.');
  });
});

describe('the edit form’s changes', () => {
  const props = [
    { key: 'cost_center', label: 'Cost center', kind: { type: 'number' as const }, value: 4100 },
    { key: 'remote', label: 'Remote', kind: { type: 'bool' as const }, value: false },
  ];
  const base: Member = { ...member(7), first_name: 'Ann', phone: '+15550001', workspaces: [1, 2], properties: { cost_center: 4100 } };

  it('stages one edit_member for profile and properties, then role and workspaces', () => {
    const form = editFormOf(base, props);
    form.profile.first_name = 'Anne';
    form.profile.phone = '';
    form.profile.title = ' Lead ';
    form.properties.remote = true;
    form.role = 'user_admin';
    form.workspaces = [2, 3];
    const plan = editChanges(7, base, form, props, NOW);
    expect(plan.errors).toEqual({});
    expect(plan.parts).toEqual(['edit', 'role', 'workspaces']);
    expect(plan.changes).toEqual([
      { type: 'edit_member', user_id: 7, edit: { profile: { first_name: 'Anne', phone: '', title: 'Lead' }, properties: { remote: true } } },
      { type: 'change_role', user_id: 7, role: 'user_admin' },
      { type: 'assign_workspaces', user_id: 7, workspaces: [2, 3] },
    ]);
    // refusals land on the refusal's field, else on the part its change is
    expect(
      editRefusals(plan, {
        allowed: 1,
        refused: [
          { index: 0, user_id: 7, field: 'phone', code: 'invalid_input', reason: 'phone: not E.164' },
          { index: 1, user_id: 7, field: null, code: 'self_role', reason: 'No one changes their own role.' },
        ],
        staged: [],
      }),
    ).toEqual({ phone: 'phone: not E.164', role: 'No one changes their own role.' });
  });

  it('asks nothing for an unchanged form; a new guest needs an end date in change_role', () => {
    expect(editChanges(7, base, editFormOf(base, props), props, NOW).changes).toEqual([]);
    const form = editFormOf(base, props);
    form.role = 'guest';
    expect(editChanges(7, base, form, props, NOW).errors).toEqual({ guest_expires: 'A guest needs an end date.' });
    form.guestExpires = '2025-06-01';
    expect(editChanges(7, base, form, props, NOW).changes).toEqual([
      { type: 'change_role', user_id: 7, role: 'guest', guest_expires: '2025-06-01' },
    ]);
    const guest: Member = { ...base, role: 'guest', guest_expires: '2025-04-01' };
    const g = editFormOf(guest, props);
    g.guestExpires = '2025-05-01';
    expect(editChanges(7, guest, g, props, NOW).changes).toEqual([
      { type: 'edit_member', user_id: 7, edit: { guest_expires: '2025-05-01' } },
    ]);
  });
});

describe('changes in words', () => {
  const ann: Member = { ...member(7), first_name: 'Ann', last_name: 'Smith', role: 'member', workspaces: [1] };
  const names = { workspaceName: (id: number) => ({ 1: 'Sales', 2: 'Support' })[id] };

  it('describes each kind with the member’s name', () => {
    const role = staged('r', {
      change: { type: 'change_role', user_id: 7, role: 'user_admin' },
      base_row: ann,
      mine: { ...ann, role: 'user_admin' },
    });
    expect(describeStaged(role)).toBe('Change role of Ann Smith to User Admin');
    expect(stagedDiff(role)).toEqual([{ field: 'role', label: 'Role', before: 'Member', after: 'User Admin' }]);
    const ws = staged('w', { change: { type: 'assign_workspaces', user_id: 7, workspaces: [1, 2] }, base_row: ann, mine: { ...ann, workspaces: [1, 2] } });
    expect(describeStaged(ws, names)).toBe('Set the workspaces of Ann Smith to Sales, Support');
    expect(stagedDiff(ws, names)).toEqual([{ field: 'workspaces', label: 'Workspaces', before: 'Sales', after: 'Sales, Support' }]);
    const rm = staged('x', { change: { type: 'remove', user_id: 7 }, base_row: ann, mine: null });
    expect(describeStaged(rm)).toBe('Remove Ann Smith from the organization');
    expect(stagedDiff(rm)).toEqual([{ field: 'status', label: 'Status', before: 'Active', after: 'Removed' }]);
    const add = staged('a', {
      user_id: null,
      change: { type: 'add_member', member: { email: 'new@acme.example', role: 'guest', guest_expires: '2025-06-01', password: '(set)', onboarding: 'set_silently' } },
    });
    expect(describeStaged(add)).toBe('Add new@acme.example as Guest');
    expect(stagedDiff(add).map((r) => [r.field, r.after])).toEqual([
      ['email', 'new@acme.example'],
      ['role', 'Guest'],
      ['guest-expires', 'Jun 1, 2025'],
      ['onboarding', 'Set a password, no email'],
      ['password', '(set)'],
    ]);
    expect(diffRows(ann, { ...ann, title: 'Lead', properties: { x: 1 } }).map((r) => r.field)).toEqual(['title', 'prop-x']);
  });

  it('lays a conflict out field by field, marking where mine and theirs differ', () => {
    const c = staged('c', {
      state: 'conflict',
      change: { type: 'edit_member', user_id: 7, edit: { profile: { title: 'Lead' } } },
      base_row: ann,
      mine: { ...ann, title: 'Lead' },
      theirs: { ...ann, title: 'Manager', city: 'Oslo' },
    });
    expect(conflictRows(c)).toEqual([
      { field: 'title', label: 'Title', base: '', mine: 'Lead', theirs: 'Manager', differs: true },
      { field: 'city', label: 'City', base: '', mine: '', theirs: 'Oslo', differs: true },
    ]);
  });

  it('finds the later pending changes an undo takes with it', () => {
    const list = [
      staged('a', { seq: 1 }),
      staged('b', { seq: 2, user_id: 8 }),
      staged('c', { seq: 3 }),
      staged('d', { seq: 4, state: 'conflict' }),
      staged('e', { seq: 5 }),
    ];
    expect(laterChanges(list, 'a').map((c) => c.id)).toEqual(['c', 'e']);
    expect(laterChanges(list, 'e')).toEqual([]);
  });
});
