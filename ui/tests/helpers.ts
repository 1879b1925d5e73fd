// Test data and a scriptable IPC backend for the stores and screens.
import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import type { OrgSummary, Progress, RosterQuery, RosterRow, RosterWindow, TabCounts } from '../src/lib/types';

export function member(id: number, over: Partial<RosterRow> = {}): RosterRow {
  return {
    id,
    email: `user${id}@acme.example`,
    role: 'member',
    status: 'active',
    name: `User ${String(id).padStart(6, '0')}`,
    created_at: '2024-01-02T10:00:00Z',
    last_active_at: '2025-01-02T10:00:00Z',
    version: 1,
    ...over,
  };
}

export function org(id: number, over: Partial<OrgSummary> = {}): OrgSummary {
  return {
    id,
    name: `Org ${id}`,
    kind: 'standard',
    role: 'admin',
    via_partner: false,
    partner_org_id: null,
    synced_at: '2025-01-01T00:00:00Z',
    listable: true,
    members: 10,
    pending_changes: 0,
    ...over,
  };
}

export const COUNTS: TabCounts = { all: 100_000, pending: 1200, active: 97_000, guests: 900, suspended: 900 };

/** A roster_window answer for a roster of `total` synthetic members. */
export function windowOf(offset: number, limit: number, total: number, counts: TabCounts = COUNTS): RosterWindow {
  const rows: RosterRow[] = [];
  for (let i = offset; i < Math.min(total, offset + limit); i++) rows.push(member(i + 1));
  return { offset, rows, total, total_capped: false, counts, counts_capped: false, as_of: '2025-01-01T00:00:00Z' };
}

export interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

export type Handler = (cmd: string, args: Record<string, unknown>) => unknown;

/** Mock the IPC with `handler`, recording every call; unknown commands answer null. */
export function backend(handler: Handler) {
  const calls: Call[] = [];
  mockWindows('main');
  mockIPC(
    (cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      if (!cmd.startsWith('plugin:')) calls.push({ cmd, args: a });
      return handler(cmd, a);
    },
    { shouldMockEvents: true },
  );
  return {
    calls,
    of: (cmd: string) => calls.filter((c) => c.cmd === cmd),
  };
}

/** A promise resolved from outside, to answer an IPC call when the test says so. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const flush = () => new Promise((r) => setTimeout(r, 0));

export type ProgressChannel = { onmessage: (p: Progress) => void };
export type WindowArgs = { org: number; query: RosterQuery; offset: number; limit: number };
