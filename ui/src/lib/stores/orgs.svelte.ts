// The orgs this account can open, which one is current, and the switcher's ordering:
// partners with their clients nested under them, or a ranked flat list while searching.

import * as ipc from '../ipc';
import { fuzzyScore } from '../format';
import type { IpcError, OrgId, OrgSummary } from '../types';

export interface OrgEntry {
  org: OrgSummary;
  /** 1 for a client nested under its partner */
  depth: number;
  /** the partner's name, shown for a client when not nested */
  partnerName: string | null;
}

const byName = (a: OrgSummary, b: OrgSummary) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });

/**
 * Without a search: partners and standard orgs by name, each partner followed by its clients
 * (nested only when the partner itself is in the list). With a search: matches ranked.
 */
export function orgEntries(list: readonly OrgSummary[], search = ''): OrgEntry[] {
  const ids = new Map(list.map((o) => [o.id, o]));
  const partnerName = (o: OrgSummary) => (o.partner_org_id !== null ? (ids.get(o.partner_org_id)?.name ?? null) : null);
  if (search.trim()) {
    return list
      .map((org) => ({ org, score: fuzzyScore(org.name, search) }))
      .filter((e): e is { org: OrgSummary; score: number } => e.score !== null)
      .sort((a, b) => b.score - a.score || byName(a.org, b.org))
      .map(({ org }) => ({ org, depth: 0, partnerName: partnerName(org) }));
  }
  const nested = (o: OrgSummary) => o.kind === 'client' && o.partner_org_id !== null && ids.has(o.partner_org_id);
  const out: OrgEntry[] = [];
  for (const org of [...list].filter((o) => !nested(o)).sort(byName)) {
    out.push({ org, depth: 0, partnerName: partnerName(org) });
    if (org.kind !== 'partner') continue;
    for (const client of list.filter((c) => nested(c) && c.partner_org_id === org.id).sort(byName)) {
      out.push({ org: client, depth: 1, partnerName: org.name });
    }
  }
  return out;
}

/** A listable org whose cache has never been filled: the roster shows the first-sync state. */
export function needsFirstSync(org: OrgSummary | null): boolean {
  return !!org && org.listable && org.synced_at === null;
}

export class OrgsStore {
  list = $state<OrgSummary[]>([]);
  current = $state<OrgId | null>(null);
  loaded = $state(false);
  error = $state<IpcError | null>(null);

  currentOrg = $derived(this.list.find((o) => o.id === this.current) ?? null);

  async load(): Promise<void> {
    try {
      const res = await ipc.orgs();
      this.list = res.orgs;
      if (res.current !== null && res.orgs.some((o) => o.id === res.current)) this.current = res.current;
      else if (this.current !== null && !res.orgs.some((o) => o.id === this.current)) this.current = null;
      this.error = null;
    } catch (e) {
      this.error = ipc.toIpcError(e);
    } finally {
      this.loaded = true;
    }
  }

  /** Make `id` the current org (the Rust side marks it opened). */
  async open(id: OrgId): Promise<OrgSummary | null> {
    try {
      const summary = await ipc.switchOrg(id);
      const i = this.list.findIndex((o) => o.id === id);
      if (i >= 0) this.list[i] = summary;
      else this.list.push(summary);
      this.current = id;
      this.error = null;
      return summary;
    } catch (e) {
      this.error = ipc.toIpcError(e);
      return null;
    }
  }

  reset() {
    this.list = [];
    this.current = null;
    this.loaded = false;
    this.error = null;
  }
}

export const orgs = new OrgsStore();
