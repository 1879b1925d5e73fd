// Staged changes in words: "Change role of Ann Smith to User Admin", each change's diff
// field by field (the row it was staged on against the row it leaves), and a conflict's
// three versions side by side. Pure functions; the outbox store and the panels use them.

import { ROLE_LABEL, STATUS_LABEL, formatDate, formatPropertyValue } from './format';
import type { BulkActionType, Member, MemberDetail, MutationKind, Onboarding, ProfileKey, PropertyKind, StagedChange, WorkspaceId } from './types';

/** Profile fields in the order forms and diffs show them. */
export const PROFILE_FIELDS: readonly { key: ProfileKey; label: string }[] = [
  { key: 'display_name', label: 'Display name' },
  { key: 'first_name', label: 'First name' },
  { key: 'last_name', label: 'Last name' },
  { key: 'title', label: 'Title' },
  { key: 'company', label: 'Company' },
  { key: 'office', label: 'Office' },
  { key: 'phone', label: 'Phone' },
  { key: 'cell_phone', label: 'Cell phone' },
  { key: 'home_phone', label: 'Home phone' },
  { key: 'street', label: 'Street' },
  { key: 'postal_code', label: 'Postal code' },
  { key: 'city', label: 'City' },
];

export const ONBOARDING_LABEL: Record<Onboarding, string> = {
  invite: 'Send an invitation',
  generate_and_email: 'Generate a password and email it',
  set_and_email: 'Set a password and email it',
  set_silently: 'Set a password, no email',
};

export const BULK_LABEL: Record<BulkActionType, string> = {
  change_role: 'Change role',
  add_workspaces: 'Add workspaces',
  remove_workspaces: 'Remove workspaces',
  set_guest_expiry: 'Set guest end date',
  suspend: 'Suspend',
  restore: 'Restore',
  remove: 'Remove',
  resend_invitation: 'Resend invitation',
};

/** testids are kebab-case: `first_name` → `first-name` */
export const kebab = (s: string) => s.replace(/_/g, '-');

/** The name the roster would show: display name, else first and last, else the email. */
export function shownName(m: Pick<Member, 'display_name' | 'first_name' | 'last_name' | 'email'>): string {
  const display = m.display_name?.trim();
  if (display) return display;
  const full = [m.first_name, m.last_name]
    .map((s) => s?.trim())
    .filter(Boolean)
    .join(' ');
  return full || m.email;
}

export interface NameContext {
  workspaceName?: (id: WorkspaceId) => string | undefined;
  propertyKind?: (key: string) => PropertyKind | undefined;
  propertyLabel?: (key: string) => string | undefined;
}

const wsName = (ctx: NameContext, id: WorkspaceId) => ctx.workspaceName?.(id) ?? `#${id}`;
const wsList = (ctx: NameContext, ids: readonly WorkspaceId[]) => (ids.length ? ids.map((id) => wsName(ctx, id)).join(', ') : 'none');

/** Who a change is about, in words. */
export function changeSubject(sc: Pick<StagedChange, 'base_row' | 'mine' | 'theirs' | 'user_id' | 'change'>): string {
  const row = sc.base_row ?? sc.mine ?? sc.theirs;
  if (row) return shownName(row);
  if (sc.change.type === 'add_member') return sc.change.member.email;
  return sc.user_id !== null ? `user #${sc.user_id}` : 'a user';
}

/** One sentence for a change: "Change role of Ann Smith to User Admin". */
export function describeChange(change: MutationKind, who: string, ctx: NameContext = {}): string {
  switch (change.type) {
    case 'add_member': {
      const m = change.member;
      const name = shownName({ ...m.profile, email: m.email });
      return `Add ${name === m.email ? m.email : `${name} (${m.email})`} as ${ROLE_LABEL[m.role]}`;
    }
    case 'edit_member': {
      const e = change.edit;
      const profile = Object.keys(e.profile ?? {}).length;
      const props = Object.keys(e.properties ?? {}).length;
      if (e.guest_expires && !profile && !props) return `Set the guest end date of ${who} to ${formatDate(e.guest_expires)}`;
      const parts = [profile ? 'profile' : '', props ? 'properties' : '', e.guest_expires ? 'guest end date' : ''].filter(Boolean);
      return `Edit the ${parts.join(', ') || 'profile'} of ${who}`;
    }
    case 'change_role':
      return `Change role of ${who} to ${ROLE_LABEL[change.role]}${
        change.role === 'guest' && change.guest_expires ? ` until ${formatDate(change.guest_expires)}` : ''
      }`;
    case 'assign_workspaces':
      return `Set the workspaces of ${who} to ${wsList(ctx, change.workspaces)}`;
    case 'set_scope':
      return change.scope && change.scope.length
        ? `Limit what ${who} can see to ${change.scope.join(', ')}`
        : `Remove the search scope of ${who}`;
    case 'suspend':
      return `Suspend ${who}`;
    case 'restore':
      return `Restore ${who}`;
    case 'remove':
      return `Remove ${who} from the organization`;
    case 'resend_invitation':
      return `Resend the invitation to ${who}`;
    case 'cancel_invitation':
      return `Cancel the invitation of ${who}`;
  }
}

export function describeStaged(sc: StagedChange, ctx: NameContext = {}): string {
  return describeChange(sc.change, changeSubject(sc), ctx);
}

export interface DiffRow {
  /** kebab-case, for `diff-<field>` testids; properties are `prop-<key>` */
  field: string;
  label: string;
  before: string;
  after: string;
}

type Getter = (m: Member) => string;

function fieldGetters(ctx: NameContext, rows: (Member | null)[]): { field: string; label: string; get: Getter }[] {
  const out: { field: string; label: string; get: Getter }[] = [
    { field: 'email', label: 'Email', get: (m) => m.email },
    { field: 'role', label: 'Role', get: (m) => ROLE_LABEL[m.role] ?? m.role },
    { field: 'status', label: 'Status', get: (m) => STATUS_LABEL[m.status] ?? m.status },
    { field: 'guest-expires', label: 'Guest until', get: (m) => formatDate(m.guest_expires) },
    ...PROFILE_FIELDS.map((f) => ({ field: kebab(f.key), label: f.label, get: (m: Member) => m[f.key] ?? '' })),
    {
      field: 'workspaces',
      label: 'Workspaces',
      get: (m) =>
        [...(m.workspaces ?? [])]
          .map((id) => wsName(ctx, id))
          .sort((a, b) => a.localeCompare(b))
          .join(', '),
    },
    { field: 'scope', label: 'Search scope', get: (m) => (m.scope ?? []).join(', ') },
  ];
  const keys = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r?.properties ?? {})) keys.add(k);
  for (const key of [...keys].sort()) {
    const kind = ctx.propertyKind?.(key);
    out.push({
      field: `prop-${key}`,
      label: ctx.propertyLabel?.(key) ?? key,
      get: (m) => {
        const v = m.properties?.[key];
        if (kind) return formatPropertyValue(kind, v);
        if (v === null || v === undefined) return '';
        return typeof v === 'string' ? v : JSON.stringify(v);
      },
    });
  }
  return out;
}

/**
 * The fields a change changes: `before` → `after`. A removal shows the status going to
 * "Removed"; an add shows every field it sets.
 */
export function diffRows(before: Member | null, after: Member | null, ctx: NameContext = {}): DiffRow[] {
  if (before && !after) return [{ field: 'status', label: 'Status', before: STATUS_LABEL[before.status], after: 'Removed' }];
  const rows: DiffRow[] = [];
  for (const g of fieldGetters(ctx, [before, after])) {
    const b = before ? g.get(before) : '';
    const a = after ? g.get(after) : '';
    if (a !== b) rows.push({ field: g.field, label: g.label, before: b, after: a });
  }
  return rows;
}

/** A change's diff; an add that the Rust side did not project is shown from the request. */
export function stagedDiff(sc: StagedChange, ctx: NameContext = {}): DiffRow[] {
  if (sc.change.type === 'add_member') {
    const m = sc.change.member;
    const mine: Member = sc.mine ?? {
      id: 0,
      email: m.email,
      role: m.role,
      status: 'pending',
      ...m.profile,
      workspaces: m.workspaces,
      guest_expires: m.guest_expires,
      properties: m.properties,
      created_at: sc.staged_at,
      version: 0,
    };
    const rows = diffRows(null, mine, ctx).filter((r) => r.field !== 'status');
    rows.push({ field: 'onboarding', label: 'Onboarding', before: '', after: ONBOARDING_LABEL[m.onboarding ?? 'invite'] });
    if (m.password) rows.push({ field: 'password', label: 'Password', before: '', after: m.password });
    return rows;
  }
  if (sc.change.type === 'resend_invitation' || sc.change.type === 'cancel_invitation') {
    const rows = diffRows(sc.base_row, sc.mine, ctx);
    if (rows.length) return rows;
    const what = sc.change.type === 'resend_invitation' ? 'A new invitation (the old link stops working)' : 'Cancelled';
    return [{ field: 'invitation', label: 'Invitation', before: '', after: what }];
  }
  return diffRows(sc.base_row, sc.mine, ctx);
}

export interface ConflictRow {
  field: string;
  label: string;
  base: string;
  mine: string;
  theirs: string;
  /** mine and theirs disagree */
  differs: boolean;
}

/** Every field where the base, mine or theirs disagree; a removed row reads "Removed". */
export function conflictRows(sc: StagedChange, ctx: NameContext = {}): ConflictRow[] {
  const { base_row: base, mine, theirs } = sc;
  const rows: ConflictRow[] = [];
  const read = (m: Member | null, g: Getter) => (m ? g(m) : 'Removed');
  for (const g of fieldGetters(ctx, [base, mine, theirs])) {
    const b = base ? g.get(base) : '';
    const m = read(mine, g.get);
    const t = read(theirs, g.get);
    if (b === m && m === t) continue;
    rows.push({ field: g.field, label: g.label, base: b, mine: m, theirs: t, differs: m !== t });
  }
  if (!rows.length && (!mine || !theirs)) {
    rows.push({
      field: 'status',
      label: 'Status',
      base: base ? STATUS_LABEL[base.status] : '',
      mine: mine ? STATUS_LABEL[mine.status] : 'Removed',
      theirs: theirs ? STATUS_LABEL[theirs.status] : 'Removed',
      differs: !mine !== !theirs,
    });
  }
  return rows;
}

/** Later pending changes to the same member that a withdrawal of `id` takes back too. */
export function laterChanges(changes: readonly StagedChange[], id: string): StagedChange[] {
  const c = changes.find((x) => x.id === id);
  if (!c || c.user_id === null) return [];
  return changes.filter(
    (x) => x.id !== id && x.state === 'pending' && x.org_id === c.org_id && x.user_id === c.user_id && x.seq > c.seq,
  );
}

/**
 * The row as this member's pending changes leave it, if any: the Rust side applies them all
 * in order (`pending_row`); each change's own `mine` holds only that change on the server's
 * row, so the last one's is the fallback for an older answer.
 */
export function pendingRow(
  staged: readonly StagedChange[] | undefined,
  detail?: Pick<MemberDetail, 'pending_row' | 'pending_removal'>,
): { row: Member | null; removed: boolean } | null {
  const pending = (staged ?? []).filter((s) => s.state === 'pending');
  if (!pending.length) return null;
  if (detail && (detail.pending_row !== undefined || detail.pending_removal !== undefined)) {
    return { row: detail.pending_row ?? null, removed: !!detail.pending_removal };
  }
  const last = pending[pending.length - 1];
  return { row: last.mine, removed: last.mine === null && last.change.type === 'remove' };
}

export const CHANGE_STATE_LABEL: Record<StagedChange['state'], string> = {
  pending: 'Pending',
  applied: 'Applied',
  conflict: 'Conflict',
  rejected: 'Rejected',
  resolved: 'Resolved',
};
