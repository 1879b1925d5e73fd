// How values read on screen: role and status names, counts, dates and relative times.

import type { OrgKind, PropertyKind, Role, RosterTab, Status } from './types';

export const ROLE_LABEL: Record<Role, string> = {
  admin: 'Admin',
  billing_admin: 'Billing Admin',
  user_admin: 'User Admin',
  viewer_admin: 'View Only Admin',
  member: 'Member',
  guest: 'Guest',
};

export const STATUS_LABEL: Record<Status, string> = {
  pending: 'Pending',
  active: 'Active',
  expired: 'Expired',
  suspended: 'Suspended',
};

export const KIND_LABEL: Record<OrgKind, string> = {
  standard: 'Org',
  partner: 'Partner',
  client: 'Client',
};

export const TAB_LABEL: Record<RosterTab, string> = {
  all: 'All',
  pending: 'Pending',
  active: 'Active',
  guests: 'Guests',
  suspended: 'Suspended',
};

const numberFormat = new Intl.NumberFormat('en-US');

export function formatCount(n: number, capped = false): string {
  return capped ? `${numberFormat.format(n)}+` : numberFormat.format(n);
}

/** "100,000 users", "1 user", "1,000+ matches" */
export function formatTotal(total: number, capped: boolean, searching: boolean): string {
  const noun = searching ? (total === 1 && !capped ? 'match' : 'matches') : total === 1 && !capped ? 'user' : 'users';
  return `${formatCount(total, capped)} ${noun}`;
}

function parse(iso: string): Date | null {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

const dateFormat = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', day: 'numeric' });
const dateTimeFormat = new Intl.DateTimeFormat('en-US', {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/** "Mar 4, 2025" from an RFC 3339 time or a YYYY-MM-DD date (read as a calendar day). */
export function formatDate(value: string | null | undefined): string {
  if (!value) return '';
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const d = day ? new Date(`${value}T00:00:00`) : parse(value);
  return d ? dateFormat.format(d) : value;
}

export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '';
  const d = parse(value);
  return d ? dateTimeFormat.format(d) : value;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", then the date. */
export function formatRelative(value: string | null | undefined, now: number): string {
  if (!value) return 'never';
  const d = parse(value);
  if (!d) return value;
  const s = Math.round((now - d.getTime()) / 1000);
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  const days = Math.round(h / 24);
  if (days < 30) return days === 1 ? 'yesterday' : `${days} days ago`;
  return formatDate(value);
}

/** Today as YYYY-MM-DD in local time. */
export function today(now: number = Date.now()): string {
  const d = new Date(now);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A guest end date on or before today: access has ended (or ends today). */
export function guestEndReached(date: string | undefined, now: number = Date.now()): boolean {
  return !!date && date <= today(now);
}

export function formatPropertyValue(kind: PropertyKind, value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  switch (kind.type) {
    case 'bool':
      return value === true || value === 'true' ? 'Yes' : 'No';
    case 'date':
      return typeof value === 'string' ? formatDate(value) : String(value);
    case 'number':
      return typeof value === 'number' ? numberFormat.format(value) : String(value);
    default:
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

/**
 * Fuzzy match for names: every typed character in order, each one either continuing the
 * previous match or starting a word ("acme" → "Acme Corp", "nw" → "North Wind").
 * Returns a score (higher is better) or null.
 */
export function fuzzyScore(text: string, typed: string): number | null {
  const q = typed.trim().toLowerCase();
  if (!q) return 0;
  const t = text.toLowerCase();
  const direct = t.indexOf(q);
  if (direct >= 0) return 1000 - direct * 2 - (t.length - q.length) / 100 + (direct === 0 ? 100 : 0);
  let score = 0;
  let ti = 0;
  let prev = -2;
  for (const ch of q) {
    if (ch === ' ') continue;
    let found = -1;
    for (let i = ti; i < t.length; i++) {
      if (t[i] !== ch) continue;
      const wordStart = i === 0 || /[^a-z0-9]/.test(t[i - 1]);
      if (i === prev + 1 || wordStart) {
        found = i;
        score += i === prev + 1 ? 5 : 3;
        break;
      }
    }
    if (found < 0) return null;
    prev = found;
    ti = found + 1;
  }
  return score;
}
