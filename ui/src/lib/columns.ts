// The roster's columns: the built-in fields a user can choose from, and one per custom
// property (`prop:<key>`). Widths are fixed so header and rows line up exactly.

import type { PropertyDefinition, PropertyKind, RosterSort } from './types';

export interface ColumnDef {
  key: string;
  label: string;
  width: number;
  /** set on the columns the roster can sort by */
  sort?: RosterSort;
  /** set on custom property columns */
  property?: { key: string; kind: PropertyKind };
}

export const BUILTIN_COLUMNS: readonly ColumnDef[] = [
  { key: 'name', label: 'Name', width: 200, sort: 'name' },
  { key: 'email', label: 'Email', width: 250, sort: 'email' },
  { key: 'role', label: 'Role', width: 200 },
  { key: 'status', label: 'Status', width: 105 },
  { key: 'title', label: 'Title', width: 170 },
  { key: 'company', label: 'Company', width: 170 },
  { key: 'office', label: 'Office', width: 130 },
  { key: 'city', label: 'City', width: 130 },
  { key: 'phone', label: 'Phone', width: 140 },
  { key: 'workspaces', label: 'Workspaces', width: 190 },
  { key: 'guest_expires', label: 'Guest until', width: 120 },
  { key: 'last_active', label: 'Last active', width: 215, sort: 'last_active' },
  { key: 'created', label: 'Created', width: 115, sort: 'created' },
];

export const DEFAULT_COLUMNS: readonly string[] = ['name', 'email', 'role', 'status', 'workspaces', 'last_active', 'created'];

export function propertyColumns(defs: readonly PropertyDefinition[]): ColumnDef[] {
  return defs.map((d) => {
    const kind: PropertyKind = d.type === 'one_of' ? { type: 'one_of', options: d.options } : { type: d.type };
    return { key: `prop:${d.key}`, label: d.label, width: d.type === 'bool' ? 100 : 150, property: { key: d.key, kind } };
  });
}

/** The chosen keys, in the chooser's order, that still exist (a property may be gone). */
export function resolveColumns(keys: readonly string[], available: readonly ColumnDef[]): ColumnDef[] {
  const chosen = new Set(keys);
  const cols = available.filter((c) => chosen.has(c.key));
  return cols.length ? cols : available.filter((c) => c.key === 'name');
}
