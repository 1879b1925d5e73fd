// The forms that change things, as plain data: the detail's edit form and the changes it
// stages, the add-user form, the multi-row grid (client checks, spreadsheet paste), and
// refusals mapped back onto fields. The rules themselves are the Rust side's: these checks
// only catch what can be said before asking (empty, not an email, not a date).

import { PROFILE_FIELDS } from './changes';
import { ROLE_LABEL, today } from './format';
import {
  ROLES,
  type Checked,
  type Member,
  type MemberEdit,
  type MemberProperty,
  type MutationKind,
  type NewMember,
  type Onboarding,
  type ProfileFields,
  type ProfileKey,
  type PropertyDefinition,
  type PropertyKind,
  type Role,
  type UserId,
  type WorkspaceId,
} from './types';

export const MAX_WORKSPACES = 10;
export const MIN_PASSWORD = 12;
export const MAX_PASSWORD = 128;

/** Field errors by key: a profile key, `role`, `workspaces`, `guest_expires`, `prop:<key>`, or `form`. */
export type FieldErrors = Record<string, string>;

// ---- values ----

const EMAIL = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+\.[^\s@<>(),;:"[\]\\.]+$/;

export function emailProblem(email: string): string | null {
  const e = email.trim();
  if (!e) return 'Enter an email address.';
  if (!EMAIL.test(e)) return 'Not an email address (name@example.com).';
  return null;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00`);
  return !Number.isNaN(d.getTime()) && today(d.getTime()) === s;
}

/** A guest end date's shape and range (after today, at most 365 days ahead). */
export function guestDateProblem(date: string, now: number = Date.now()): string | null {
  const d = date.trim();
  if (!d) return 'A guest needs an end date.';
  if (!isDate(d)) return 'Use a date like 2025-12-31.';
  if (d <= today(now)) return 'The end date must be after today.';
  if (d > guestDateMax(now)) return 'At most 365 days ahead.';
  return null;
}

export function guestDateMin(now: number = Date.now()): string {
  return today(now + 86_400_000);
}

export function guestDateMax(now: number = Date.now()): string {
  return today(now + 365 * 86_400_000);
}

const norm = (s: string) => s.toLowerCase().replace(/\[[^\]]*\]/g, '').replace(/[\s\-_.]/g, '');

const ROLE_ALIASES: Record<string, Role> = {
  organizationadmin: 'admin',
  orgadmin: 'admin',
  viewonlyadmin: 'viewer_admin',
  vieweradmin: 'viewer_admin',
  readonlyadmin: 'viewer_admin',
  organizationuser: 'member',
  user: 'member',
};

/** A role by key (`user_admin`) or the documents' names (`User Admin`), ignoring case and separators. */
export function parseRole(text: string): Role | null {
  const n = norm(text);
  if (!n) return null;
  for (const r of ROLES) if (norm(r) === n || norm(ROLE_LABEL[r]) === n) return r;
  return ROLE_ALIASES[n] ?? null;
}

/** A property's stored value as its input holds it. */
export function propertyInput(kind: PropertyKind, value: unknown): string | boolean {
  if (kind.type === 'bool') return value === true || value === 'true';
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : String(value);
}

/** An input's value for the wire: `null` when empty; an error for a malformed one. */
export function propertyValue(kind: PropertyKind, input: string | boolean): { value: unknown } | { error: string } {
  if (kind.type === 'bool') return { value: input === true };
  const s = String(input).trim();
  if (!s) return { value: null };
  switch (kind.type) {
    case 'number': {
      const n = Number(s);
      return Number.isFinite(n) ? { value: n } : { error: 'Enter a number.' };
    }
    case 'date':
      return isDate(s) ? { value: s } : { error: 'Use a date like 2025-12-31.' };
    case 'one_of':
      return kind.options.includes(s) ? { value: s } : { error: `One of ${kind.options.join(', ')}.` };
    default:
      return { value: s };
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  const n = (v: unknown) => (v === undefined || v === '' ? null : v);
  return JSON.stringify(n(a)) === JSON.stringify(n(b));
}

const kindOf = (d: PropertyDefinition): PropertyKind =>
  d.type === 'one_of' ? { type: 'one_of', options: d.options } : { type: d.type };

// ---- the detail's edit form ----

export interface EditForm {
  profile: Record<ProfileKey, string>;
  properties: Record<string, string | boolean>;
  role: Role;
  workspaces: WorkspaceId[];
  guestExpires: string;
}

export function editFormOf(m: Member, props: readonly MemberProperty[]): EditForm {
  const profile = {} as Record<ProfileKey, string>;
  for (const f of PROFILE_FIELDS) profile[f.key] = m[f.key] ?? '';
  const properties: Record<string, string | boolean> = {};
  for (const p of props) properties[p.key] = propertyInput(p.kind, m.properties?.[p.key]);
  return { profile, properties, role: m.role, workspaces: [...(m.workspaces ?? [])], guestExpires: m.guest_expires ?? '' };
}

export type EditPart = 'edit' | 'role' | 'workspaces';

export interface EditPlan {
  changes: MutationKind[];
  /** what each change in `changes` is, by position (refusal.index) */
  parts: EditPart[];
  /** client-side problems; nothing is asked while there are any */
  errors: FieldErrors;
}

/**
 * What Save stages: one edit_member for the profile, properties and a guest's end date,
 * then change_role and assign_workspaces when those changed. `base` is the row as it
 * stands with the changes already staged.
 */
export function editChanges(
  user: UserId,
  base: Member,
  form: EditForm,
  props: readonly MemberProperty[],
  now: number = Date.now(),
): EditPlan {
  const errors: FieldErrors = {};
  const changes: MutationKind[] = [];
  const parts: EditPart[] = [];

  const profile: ProfileFields = {};
  for (const f of PROFILE_FIELDS) {
    const v = form.profile[f.key].trim();
    if (v !== (base[f.key] ?? '').trim()) profile[f.key] = v;
  }
  const properties: Record<string, unknown> = {};
  for (const p of props) {
    const parsed = propertyValue(p.kind, form.properties[p.key] ?? '');
    if ('error' in parsed) {
      errors[`prop:${p.key}`] = parsed.error;
      continue;
    }
    // compare with the stored value as its input would read it back (an unset bool is false)
    const stored = propertyValue(p.kind, propertyInput(p.kind, base.properties?.[p.key]));
    const before = 'error' in stored ? base.properties?.[p.key] : stored.value;
    if (!sameValue(parsed.value, before)) properties[p.key] = parsed.value;
  }
  const edit: MemberEdit = {};
  if (Object.keys(profile).length) edit.profile = profile;
  if (Object.keys(properties).length) edit.properties = properties;

  const guestBefore = base.role === 'guest';
  const guestAfter = form.role === 'guest';
  if (guestAfter && (!guestBefore || form.guestExpires !== (base.guest_expires ?? ''))) {
    const problem = guestDateProblem(form.guestExpires, now);
    if (problem) errors.guest_expires = problem;
  }
  if (guestBefore && guestAfter && form.guestExpires !== (base.guest_expires ?? '')) edit.guest_expires = form.guestExpires;

  if (Object.keys(edit).length) {
    changes.push({ type: 'edit_member', user_id: user, edit });
    parts.push('edit');
  }
  if (form.role !== base.role) {
    changes.push({
      type: 'change_role',
      user_id: user,
      role: form.role,
      ...(guestAfter ? { guest_expires: form.guestExpires } : {}),
    });
    parts.push('role');
  }
  const before = [...(base.workspaces ?? [])].sort((a, b) => a - b);
  const after = [...form.workspaces].sort((a, b) => a - b);
  if (JSON.stringify(before) !== JSON.stringify(after)) {
    if (form.workspaces.length > MAX_WORKSPACES) errors.workspaces = `At most ${MAX_WORKSPACES} workspaces at once.`;
    changes.push({ type: 'assign_workspaces', user_id: user, workspaces: [...form.workspaces] });
    parts.push('workspaces');
  }
  return { changes, parts, errors };
}

/** Refusals on the edit form's fields: the refusal's field, else the part its change is. */
export function editRefusals(plan: Pick<EditPlan, 'parts'>, checked: Checked): FieldErrors {
  const errors: FieldErrors = {};
  for (const r of checked.refused) {
    const part = plan.parts[r.index];
    const key = r.field ?? (part === 'role' ? 'role' : part === 'workspaces' ? 'workspaces' : 'form');
    errors[key] = errors[key] ? `${errors[key]} ${r.reason}` : r.reason;
  }
  return errors;
}

// ---- the single add form ----

export interface AddForm {
  email: string;
  role: Role;
  profile: Record<ProfileKey, string>;
  workspaces: WorkspaceId[];
  guestExpires: string;
  properties: Record<string, string | boolean>;
  onboarding: Onboarding;
  password: string;
}

export function emptyAddForm(defs: readonly PropertyDefinition[]): AddForm {
  const profile = {} as Record<ProfileKey, string>;
  for (const f of PROFILE_FIELDS) profile[f.key] = '';
  const properties: Record<string, string | boolean> = {};
  for (const d of defs) properties[d.key] = d.type === 'bool' ? false : '';
  return { email: '', role: 'member', profile, workspaces: [], guestExpires: '', properties, onboarding: 'invite', password: '' };
}

export const needsPassword = (o: Onboarding) => o === 'set_and_email' || o === 'set_silently';

/** The add_member change for the form, or the problems to fix first. */
export function addMemberOf(
  form: AddForm,
  defs: readonly PropertyDefinition[],
  now: number = Date.now(),
): { change: MutationKind; errors: null } | { change: null; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const emailErr = emailProblem(form.email);
  if (emailErr) errors.email = emailErr;
  if (form.role === 'guest') {
    const p = guestDateProblem(form.guestExpires, now);
    if (p) errors.guest_expires = p;
  }
  if (form.workspaces.length > MAX_WORKSPACES) errors.workspaces = `At most ${MAX_WORKSPACES} workspaces at once.`;
  if (needsPassword(form.onboarding)) {
    if (form.password.length < MIN_PASSWORD) errors.password = `At least ${MIN_PASSWORD} characters.`;
    else if (form.password.length > MAX_PASSWORD) errors.password = `At most ${MAX_PASSWORD} characters.`;
  }
  const properties: Record<string, unknown> = {};
  for (const d of defs) {
    const parsed = propertyValue(kindOf(d), form.properties[d.key] ?? '');
    if ('error' in parsed) errors[`prop:${d.key}`] = parsed.error;
    else if (parsed.value === null && d.required && d.type !== 'bool') errors[`prop:${d.key}`] = `${d.label} is required.`;
    else if (parsed.value !== null) properties[d.key] = parsed.value;
  }
  if (Object.keys(errors).length) return { change: null, errors };
  const profile: ProfileFields = {};
  for (const f of PROFILE_FIELDS) {
    const v = form.profile[f.key].trim();
    if (v) profile[f.key] = v;
  }
  const member: NewMember = { email: form.email.trim(), role: form.role, onboarding: form.onboarding };
  if (Object.keys(profile).length) member.profile = profile;
  if (form.workspaces.length) member.workspaces = [...form.workspaces];
  if (form.role === 'guest') member.guest_expires = form.guestExpires.trim();
  if (Object.keys(properties).length) member.properties = properties;
  if (needsPassword(form.onboarding)) member.password = form.password;
  return { change: { type: 'add_member', member }, errors: null };
}

/** Refusals of a single add: on their field, the rest on the form. */
export function addRefusals(checked: Checked): FieldErrors {
  const errors: FieldErrors = {};
  for (const r of checked.refused) {
    const key = r.field ?? 'form';
    errors[key] = errors[key] ? `${errors[key]} ${r.reason}` : r.reason;
  }
  return errors;
}

// ---- the multi-row grid ----

export const GRID_FIELDS = ['email', 'first_name', 'last_name', 'role', 'title', 'guest_expires'] as const;
export type GridField = (typeof GRID_FIELDS)[number];
export type GridRow = Record<GridField, string>;

export const GRID_LABEL: Record<GridField, string> = {
  email: 'Email',
  first_name: 'First name',
  last_name: 'Last name',
  role: 'Role',
  title: 'Title',
  guest_expires: 'Guest until',
};

export function emptyRow(): GridRow {
  return { email: '', first_name: '', last_name: '', role: ROLE_LABEL.member, title: '', guest_expires: '' };
}

/** A row with nothing but the default role is left out, not an error. */
export function isBlankRow(row: GridRow): boolean {
  return GRID_FIELDS.every((f) => f === 'role' || !row[f].trim());
}

/** Cell errors are keyed `<row>:<field>`; a row's own error `<row>:` */
export const cellKey = (row: number, field: GridField | '') => `${row}:${field}`;

/** What can be said about the rows before asking the rules. */
export function checkGrid(rows: readonly GridRow[], now: number = Date.now()): FieldErrors {
  const errors: FieldErrors = {};
  const seen = new Map<string, number>();
  rows.forEach((row, i) => {
    if (isBlankRow(row)) return;
    const emailErr = emailProblem(row.email);
    if (emailErr) errors[cellKey(i, 'email')] = emailErr;
    else {
      const e = row.email.trim().toLowerCase();
      const first = seen.get(e);
      if (first !== undefined) errors[cellKey(i, 'email')] = `Same email as row ${first + 1}.`;
      else seen.set(e, i);
    }
    const role = parseRole(row.role);
    if (!row.role.trim()) errors[cellKey(i, 'role')] = 'Choose a role.';
    else if (!role) errors[cellKey(i, 'role')] = `Unknown role “${row.role.trim()}”.`;
    if (role === 'guest') {
      const p = guestDateProblem(row.guest_expires, now);
      if (p) errors[cellKey(i, 'guest_expires')] = p;
    } else if (role && row.guest_expires.trim()) {
      errors[cellKey(i, 'guest_expires')] = 'Only guests have an end date.';
    }
  });
  return errors;
}

/** The grid's non-blank rows (their indices) as add_member changes. */
export function gridChanges(rows: readonly GridRow[], onboarding: Onboarding): { rows: number[]; changes: MutationKind[] } {
  const out: { rows: number[]; changes: MutationKind[] } = { rows: [], changes: [] };
  rows.forEach((row, i) => {
    if (isBlankRow(row)) return;
    const role = parseRole(row.role) ?? 'member';
    const profile: ProfileFields = {};
    if (row.first_name.trim()) profile.first_name = row.first_name.trim();
    if (row.last_name.trim()) profile.last_name = row.last_name.trim();
    if (row.title.trim()) profile.title = row.title.trim();
    const member: NewMember = { email: row.email.trim(), role, onboarding };
    if (Object.keys(profile).length) member.profile = profile;
    if (role === 'guest') member.guest_expires = row.guest_expires.trim();
    out.rows.push(i);
    out.changes.push({ type: 'add_member', member });
  });
  return out;
}

/** Refusals of a multi-row check on their cells: refusal.index → grid row, refusal.field → cell. */
export function gridRefusals(rowsOf: readonly number[], checked: Checked): FieldErrors {
  const errors: FieldErrors = {};
  for (const r of checked.refused) {
    const row = rowsOf[r.index];
    if (row === undefined) continue;
    const field = r.field && (GRID_FIELDS as readonly string[]).includes(r.field) ? (r.field as GridField) : '';
    const key = cellKey(row, field);
    errors[key] = errors[key] ? `${errors[key]} ${r.reason}` : r.reason;
  }
  return errors;
}

// ---- pasting from a spreadsheet ----

/**
 * Tab-separated text as a spreadsheet copies it: rows by CR/LF, cells by tab, `"…"` quoting
 * (a cell with a newline or tab, `""` for a quote); cells trimmed; trailing blank lines dropped.
 */
export function parseTsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  let atStart = true;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (ch === '"') {
        quoted = false;
        i++;
        continue;
      }
      cell += ch;
      i++;
      continue;
    }
    if (ch === '"' && atStart) {
      quoted = true;
      atStart = false;
      i++;
      continue;
    }
    if (ch === '\t') {
      row.push(cell.trim());
      cell = '';
      atStart = true;
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      row.push(cell.trim());
      rows.push(row);
      row = [];
      cell = '';
      atStart = true;
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    cell += ch;
    atStart = false;
    i++;
  }
  if (cell !== '' || row.length) {
    row.push(cell.trim());
    rows.push(row);
  }
  while (rows.length && rows[rows.length - 1].every((c) => c === '')) rows.pop();
  return rows;
}

const HEADER_ALIASES: Record<string, GridField> = {
  email: 'email',
  emailaddress: 'email',
  mail: 'email',
  username: 'email',
  login: 'email',
  firstname: 'first_name',
  first: 'first_name',
  givenname: 'first_name',
  lastname: 'last_name',
  last: 'last_name',
  surname: 'last_name',
  familyname: 'last_name',
  role: 'role',
  title: 'title',
  jobtitle: 'title',
  guestexpires: 'guest_expires',
  guestuntil: 'guest_expires',
  guestenddate: 'guest_expires',
  enddate: 'guest_expires',
  expires: 'guest_expires',
};

export function headerField(cell: string): GridField | null {
  return HEADER_ALIASES[norm(cell)] ?? null;
}

/** A first line that names columns (no email in it, at least one known header). */
export function headerOf(cells: readonly string[]): (GridField | null)[] | null {
  if (cells.some((c) => c.includes('@'))) return null;
  const fields = cells.map(headerField);
  return fields.some((f) => f !== null) ? fields : null;
}

export interface Pasted {
  rows: GridRow[];
  /** cells written, `<row>:<field>` */
  touched: string[];
}

/**
 * Paste a block into the grid at (row, field): with a header line its columns go where
 * their names say (unknown ones are skipped); without one they fill from that column on.
 * Rows are added as needed; a recognised role is written as its name.
 */
export function pasteInto(rows: readonly GridRow[], at: number, field: GridField, block: string[][]): Pasted {
  const next = rows.map((r) => ({ ...r }));
  const touched: string[] = [];
  if (!block.length) return { rows: next, touched };
  const header = headerOf(block[0]);
  const data = header ? block.slice(1) : block;
  const start = GRID_FIELDS.indexOf(field);
  const columns: (GridField | null)[] = header ?? block[0].map((_, k) => GRID_FIELDS[start + k] ?? null);
  const width = Math.max(...data.map((r) => r.length), 0);
  for (let k = columns.length; k < width; k++) columns.push(header ? null : (GRID_FIELDS[start + k] ?? null));
  data.forEach((cells, d) => {
    const i = at + d;
    while (next.length <= i) next.push(emptyRow());
    columns.forEach((f, k) => {
      if (!f) return;
      let v = cells[k] ?? '';
      if (f === 'role') {
        const r = parseRole(v);
        if (r) v = ROLE_LABEL[r];
      }
      next[i][f] = v;
      touched.push(cellKey(i, f));
    });
  });
  return { rows: next, touched };
}
