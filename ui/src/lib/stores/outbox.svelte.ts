// The local outbox as the UI sees it: staging (one change, a form's changes all or none, a
// bulk action), the open changes for the Pending changes panel (reloaded on
// `outbox-changed` while the panel watches), undo and conflict resolution.
//
// The rules are the Rust side's (`domain`): nothing here decides whether a change is allowed.

import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import * as ipc from '../ipc';
import { laterChanges, type NameContext } from '../changes';
import type {
  BulkAction,
  Checked,
  IpcError,
  MutationKind,
  OrgId,
  PropertyDefinition,
  PropertyKind,
  Resolution,
  Selection,
  StagedChange,
} from '../types';

interface OrgNames {
  workspaces: Map<number, string>;
  properties: Map<string, PropertyDefinition>;
}

export const RESOLUTION_DONE: Record<Resolution, string> = {
  keep_mine: 'Kept yours: staged again on the server’s row.',
  take_theirs: 'Took the server’s version.',
  drop: 'Dropped the change.',
};

export class OutboxStore {
  changes = $state<StagedChange[]>([]);
  loaded = $state(false);
  loading = $state(false);
  error = $state<IpcError | null>(null);
  /** the Pending changes panel is open: reload on `outbox-changed` */
  watching = $state(false);
  /** changes an undo or resolve is running for */
  busy = new SvelteSet<string>();
  /** per change: why its undo or resolve failed */
  failures = new SvelteMap<string, string>();
  /** what the last undo or resolve did */
  notice = $state<string | null>(null);

  pending = $derived(this.changes.filter((c) => c.state === 'pending').length);
  conflicts = $derived(this.changes.filter((c) => c.state === 'conflict').length);
  rejected = $derived(this.changes.filter((c) => c.state === 'rejected').length);
  orgIds = $derived([...new Set(this.changes.map((c) => c.org_id))]);

  private seq = 0;
  private names = new SvelteMap<OrgId, OrgNames>();

  // ---- staging ----

  stage(org: OrgId, changes: MutationKind[], onlyCheck: boolean): Promise<Checked> {
    return ipc.stageChanges(org, changes, onlyCheck);
  }

  /**
   * A form's changes all or none: check them, and stage only when none is refused.
   * `staged` is false when something was refused (nothing was staged then).
   */
  async stageAll(org: OrgId, changes: MutationKind[]): Promise<{ checked: Checked; staged: boolean }> {
    const check = await ipc.stageChanges(org, changes, true);
    if (check.refused.length) return { checked: check, staged: false };
    const done = await ipc.stageChanges(org, changes, false);
    return { checked: done, staged: done.refused.length === 0 };
  }

  stageBulk(org: OrgId, selection: Selection, action: BulkAction, onlyCheck: boolean): Promise<Checked> {
    return ipc.stageBulk(org, selection, action, onlyCheck);
  }

  // ---- the open changes ----

  async load(): Promise<void> {
    const seq = ++this.seq;
    this.loading = true;
    try {
      const list = await ipc.pendingChanges(null);
      if (seq !== this.seq) return;
      this.changes = list ?? [];
      this.error = null;
      this.loaded = true;
      for (const id of [...this.failures.keys()]) if (!this.changes.some((c) => c.id === id)) this.failures.delete(id);
      void this.loadNames();
    } catch (e) {
      if (seq !== this.seq) return;
      this.error = ipc.toIpcError(e);
    } finally {
      if (seq === this.seq) this.loading = false;
    }
  }

  /** The panel opens: load, and keep loading on `outbox-changed`. */
  watch(): Promise<void> {
    this.watching = true;
    this.notice = null;
    return this.load();
  }

  unwatch() {
    this.watching = false;
  }

  /** `outbox-changed` */
  onChanged(_orgs: OrgId[]) {
    if (this.watching) void this.load();
  }

  /** Later pending changes to the same member that an undo of `id` takes back too. */
  laterThan(id: string): StagedChange[] {
    return laterChanges(this.changes, id);
  }

  /** Take back a pending change (and the later ones to the same member). */
  async undo(id: string): Promise<string[] | null> {
    if (this.busy.has(id)) return null;
    this.busy.add(id);
    this.failures.delete(id);
    try {
      const taken = await ipc.withdrawChange(id);
      const gone = new Set(taken ?? [id]);
      this.changes = this.changes.filter((c) => !gone.has(c.id));
      this.notice = gone.size === 1 ? 'Took back 1 change.' : `Took back ${gone.size} changes.`;
      return [...gone];
    } catch (e) {
      this.failures.set(id, ipc.toIpcError(e).message);
      return null;
    } finally {
      this.busy.delete(id);
    }
  }

  /** Resolve a conflict or a rejection. */
  async resolve(id: string, resolution: Resolution): Promise<boolean> {
    if (this.busy.has(id)) return false;
    this.busy.add(id);
    this.failures.delete(id);
    try {
      const next = await ipc.resolveChange(id, resolution);
      const i = this.changes.findIndex((c) => c.id === id);
      if (i >= 0) {
        const copy = [...this.changes];
        if (next && next.id !== id) copy.splice(i, 1, next);
        else if (next) copy[i] = next;
        else copy.splice(i, 1);
        this.changes = copy;
      }
      this.notice = RESOLUTION_DONE[resolution];
      return true;
    } catch (e) {
      this.failures.set(id, ipc.toIpcError(e).message);
      return false;
    } finally {
      this.busy.delete(id);
    }
  }

  // ---- names for the descriptions ----

  /** Workspace names and property labels of `org` (loaded once per org). */
  context(org: OrgId): NameContext {
    const n = this.names.get(org);
    return {
      workspaceName: (id) => n?.workspaces.get(id),
      propertyLabel: (key) => n?.properties.get(key)?.label,
      propertyKind: (key) => {
        const d = n?.properties.get(key);
        if (!d) return undefined;
        return (d.type === 'one_of' ? { type: 'one_of', options: d.options } : { type: d.type }) as PropertyKind;
      },
    };
  }

  private async loadNames() {
    for (const org of this.orgIds) {
      if (this.names.has(org)) continue;
      this.names.set(org, { workspaces: new Map(), properties: new Map() });
      const [ws, props] = await Promise.all([
        ipc.workspaces(org).catch(() => null),
        ipc.propertyDefinitions(org).catch(() => null),
      ]);
      this.names.set(org, {
        workspaces: new Map((ws ?? []).map((w) => [w.id, w.name])),
        properties: new Map((props ?? []).map((p) => [p.key, p])),
      });
    }
  }

  reset() {
    this.seq += 1;
    this.changes = [];
    this.loaded = false;
    this.loading = false;
    this.error = null;
    this.watching = false;
    this.busy.clear();
    this.failures.clear();
    this.notice = null;
    this.names.clear();
  }
}

export const outbox = new OutboxStore();
