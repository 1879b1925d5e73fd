// The roster on screen: the query, a cache of 200-row windows around the viewport, tab
// counts, the selection, the open member's detail and the chosen columns.
//
// Every query change bumps `seq`; an answer carrying an older seq is dropped. The rows of
// the previous query stay on screen until the new answer arrives, so typing never blanks
// the table.

import { SvelteSet } from 'svelte/reactivity';
import * as ipc from '../ipc';
import { perf } from '../perf';
import { BUILTIN_COLUMNS, DEFAULT_COLUMNS, propertyColumns, resolveColumns, type ColumnDef } from '../columns';
import { prefs as defaultPrefs, type PrefsStore } from './prefs.svelte';
import type {
  IpcError,
  MemberDetail,
  OrgId,
  PropertyDefinition,
  RosterQuery,
  RosterRow,
  RosterSort,
  RosterTab,
  Selection,
  TabCounts,
  UserId,
  Verdict,
  Workspace,
} from '../types';

export const WINDOW_SIZE = 200;
export const MAX_WINDOWS = 12;
export const PREFETCH_MARGIN = 50;

export function defaultQuery(): RosterQuery {
  return {
    tab: 'all',
    search: '',
    role: null,
    status: null,
    workspace: null,
    inactive_days: null,
    sort: 'name',
    descending: false,
  };
}

export interface ClickModifiers {
  /** Ctrl on Linux/Windows, Cmd on macOS */
  toggle?: boolean;
  range?: boolean;
}

type Bump = 'org' | 'query' | 'refresh';

export class RosterStore {
  org = $state<OrgId | null>(null);
  query = $state<RosterQuery>(defaultQuery());
  total = $state(0);
  totalCapped = $state(false);
  counts = $state<TabCounts | null>(null);
  countsCapped = $state(false);
  asOf = $state<string | null>(null);
  /** an answer to the current query has arrived */
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  /** bumped on org and query changes: the table scrolls back to the top */
  resetKey = $state(0);
  /** bumped whenever rows arrive; row lookups read it to stay reactive */
  private version = $state(0);

  selectedIds = new SvelteSet<UserId>();
  excludedIds = new SvelteSet<UserId>();
  allSelected = $state(false);
  anchor = $state<number | null>(null);
  focusIndex = $state(-1);

  detailUser = $state<UserId | null>(null);
  detail = $state<MemberDetail | null>(null);
  detailLoading = $state(false);
  detailError = $state<IpcError | null>(null);
  /** the rules' verdicts on every action for the open member; null until known */
  detailVerdicts = $state<Verdict[] | null>(null);
  verdictsError = $state<IpcError | null>(null);

  workspaces = $state<Workspace[]>([]);
  properties = $state<PropertyDefinition[]>([]);
  columnKeys = $state<string[]>([...DEFAULT_COLUMNS]);

  relevance = $derived(this.query.search.trim() !== '');
  filtered = $derived(
    this.query.role !== null || this.query.status !== null || this.query.workspace !== null || this.query.inactive_days !== null,
  );
  selectionCount = $derived(
    this.allSelected ? Math.max(0, this.total - this.excludedIds.size) : this.selectedIds.size,
  );
  availableColumns = $derived<ColumnDef[]>([...BUILTIN_COLUMNS, ...propertyColumns(this.properties)]);
  columns = $derived<ColumnDef[]>(resolveColumns(this.columnKeys, this.availableColumns));
  workspaceNames = $derived(new Map(this.workspaces.map((w) => [w.id, w.name])));

  private seq = 0;
  private detailSeq = 0;
  private findSeq = 0;
  /** current query's windows by start offset; Map order is least recently used first */
  private windows = new Map<number, RosterRow[]>();
  /** an older query's windows, shown until replaced */
  private previous = new Map<number, RosterRow[]>();
  private keepPrevious = false;
  private inflight = new Map<number, Promise<RosterRow[] | null>>();
  private range = { first: 0, last: 40 };

  constructor(private prefs: PrefsStore = defaultPrefs) {}

  /** The row at `index`, or undefined while its window is not loaded. */
  rowAt(index: number): RosterRow | undefined {
    void this.version;
    const start = index - (index % WINDOW_SIZE);
    const rows = this.windows.get(start) ?? this.previous.get(start);
    return rows?.[index - start];
  }

  isSelected(id: UserId): boolean {
    return this.allSelected ? !this.excludedIds.has(id) : this.selectedIds.has(id);
  }

  /** Window starts held for the current query (oldest first); for tests and diagnostics. */
  cachedWindows(): number[] {
    return [...this.windows.keys()];
  }

  // ---- org and query ----

  /** Show another org: its columns, workspaces and properties; rows come as the table asks. */
  async setOrg(org: OrgId | null, cachedMembers = 0) {
    if (org === this.org) return;
    this.org = org;
    this.query = { ...defaultQuery(), sort: this.query.sort, descending: this.query.descending };
    this.total = cachedMembers;
    this.totalCapped = false;
    this.counts = null;
    this.asOf = null;
    this.workspaces = [];
    this.properties = [];
    this.closeDetail();
    this.bump('org');
    if (org !== null) await Promise.all([this.loadOrgMeta(), this.loadColumns()]);
  }

  setQuery(patch: Partial<RosterQuery>) {
    const next = { ...this.query, ...patch };
    if (JSON.stringify(next) === JSON.stringify(this.query)) return;
    this.query = next;
    this.bump('query');
  }

  setSearch(search: string) {
    this.setQuery({ search });
  }

  setTab(tab: RosterTab) {
    this.setQuery({ tab });
  }

  toggleSort(sort: RosterSort) {
    if (this.query.sort === sort) this.setQuery({ descending: !this.query.descending });
    else this.setQuery({ sort, descending: false });
  }

  clearFilters() {
    this.setQuery({ role: null, status: null, workspace: null, inactive_days: null });
  }

  clearSearchAndFilters() {
    this.setQuery({ search: '', role: null, status: null, workspace: null, inactive_days: null });
  }

  /** The cache changed under us: ask the visible windows again, keeping the old rows shown. */
  refresh() {
    if (this.org === null) return;
    this.bump('refresh');
    void this.loadOrgMeta();
    if (this.detailUser !== null) void this.loadDetail(this.detailUser);
  }

  private bump(kind: Bump) {
    this.seq += 1;
    this.inflight = new Map();
    if (kind === 'org') {
      this.windows = new Map();
      this.previous = new Map();
    } else {
      for (const [start, rows] of this.windows) this.previous.set(start, rows);
      this.windows = new Map();
    }
    this.keepPrevious = kind === 'refresh';
    this.loaded = kind === 'refresh' ? this.loaded : false;
    this.version += 1;
    if (kind !== 'refresh') {
      this.clearSelection();
      this.focusIndex = -1;
      this.resetKey += 1;
      const height = this.range.last - this.range.first;
      this.range = { first: 0, last: height };
    }
    if (this.org !== null && (kind !== 'org' || this.loaded)) this.ensureRange(this.range.first, this.range.last, 0);
  }

  // ---- windows ----

  /**
   * The table shows rows [first, last): load the windows covering them, and the next window
   * in the scroll direction when the viewport is within PREFETCH_MARGIN rows of its edge.
   */
  ensureRange(first: number, last: number, direction: number) {
    this.range = { first, last };
    if (this.org === null) return;
    const end = Math.max(first, last - 1);
    const firstStart = first - (first % WINDOW_SIZE);
    const lastStart = end - (end % WINDOW_SIZE);
    for (let s = firstStart; s <= lastStart; s += WINDOW_SIZE) void this.request(s);
    const next = lastStart + WINDOW_SIZE;
    if (direction >= 0 && next - last <= PREFETCH_MARGIN) void this.request(next);
    const prev = firstStart - WINDOW_SIZE;
    if (direction <= 0 && prev >= 0 && first - firstStart <= PREFETCH_MARGIN) void this.request(prev);
  }

  private request(start: number): Promise<RosterRow[] | null> {
    const cached = this.windows.get(start);
    if (cached) {
      this.windows.delete(start);
      this.windows.set(start, cached);
      return Promise.resolve(cached);
    }
    const pending = this.inflight.get(start);
    if (pending) return pending;
    if (this.org === null) return Promise.resolve(null);
    if (this.loaded && start > 0 && start >= this.total) return Promise.resolve(null);
    const seq = this.seq;
    const query = $state.snapshot(this.query) as RosterQuery;
    const p = ipc.rosterWindow(this.org, query, start, WINDOW_SIZE).then(
      (w) => {
        if (seq !== this.seq) return null;
        this.inflight.delete(start);
        this.store(start, w.rows);
        this.total = w.total;
        this.totalCapped = w.total_capped;
        this.counts = w.counts;
        this.countsCapped = w.counts_capped;
        this.asOf = w.as_of;
        if (this.keepPrevious) this.previous.delete(start);
        else this.previous = new Map();
        this.dropBeyondTotal();
        this.loaded = true;
        this.error = null;
        this.version += 1;
        perf.rowsApplied(w.rows.length > 0);
        return w.rows;
      },
      (e) => {
        if (seq !== this.seq) return null;
        this.inflight.delete(start);
        this.error = ipc.toIpcError(e);
        this.loaded = true;
        perf.switchSettled();
        return null;
      },
    );
    this.inflight.set(start, p);
    return p;
  }

  private store(start: number, rows: RosterRow[]) {
    this.windows.delete(start);
    this.windows.set(start, rows);
    if (this.windows.size <= MAX_WINDOWS) return;
    const { first, last } = this.range;
    for (const key of this.windows.keys()) {
      if (this.windows.size <= MAX_WINDOWS) break;
      const visible = key + WINDOW_SIZE > first && key < last;
      if (!visible) this.windows.delete(key);
    }
  }

  private dropBeyondTotal() {
    for (const key of [...this.windows.keys()]) if (key > 0 && key >= this.total) this.windows.delete(key);
    for (const key of [...this.previous.keys()]) if (key > 0 && key >= this.total) this.previous.delete(key);
  }

  // ---- selection ----

  click(index: number, mods: ClickModifiers = {}) {
    const row = this.rowAt(index);
    if (!row) return;
    this.focusIndex = index;
    if (mods.range && this.anchor !== null) {
      void this.selectRange(this.anchor, index, !!mods.toggle);
      return;
    }
    this.anchor = index;
    if (mods.toggle) {
      this.toggle(row.id);
      return;
    }
    this.selectOnly(row.id);
  }

  toggle(id: UserId) {
    const set = this.allSelected ? this.excludedIds : this.selectedIds;
    if (set.has(id)) set.delete(id);
    else set.add(id);
  }

  selectOnly(id: UserId) {
    this.allSelected = false;
    this.excludedIds.clear();
    this.selectedIds.clear();
    this.selectedIds.add(id);
  }

  /** Select rows a..b (inclusive, either order), loading windows that are not cached. */
  async selectRange(a: number, b: number, additive = false) {
    const lo = Math.max(0, Math.min(a, b));
    const hi = Math.min(Math.max(a, b), Math.max(0, this.total - 1));
    const seq = this.seq;
    const ids: UserId[] = [];
    const starts: number[] = [];
    for (let s = lo - (lo % WINDOW_SIZE); s <= hi; s += WINDOW_SIZE) starts.push(s);
    const windows = await Promise.all(starts.map((s) => this.request(s)));
    if (seq !== this.seq) return;
    windows.forEach((rows, k) => {
      if (!rows) return;
      const s = starts[k];
      for (let i = Math.max(lo, s); i <= Math.min(hi, s + rows.length - 1); i++) ids.push(rows[i - s].id);
    });
    if (this.allSelected) {
      if (!additive) this.excludedIds.clear();
      for (const id of ids) this.excludedIds.delete(id);
      return;
    }
    if (!additive) this.selectedIds.clear();
    for (const id of ids) this.selectedIds.add(id);
  }

  /** Ctrl+A in the table: every row matching the query, loaded or not. */
  selectAll() {
    if (this.total === 0) return;
    this.allSelected = true;
    this.excludedIds.clear();
    this.selectedIds.clear();
  }

  clearSelection() {
    this.allSelected = false;
    this.excludedIds.clear();
    this.selectedIds.clear();
    this.anchor = null;
  }

  /** Arrow keys: move the focused row; plain moves select it, Shift extends from the anchor. */
  move(delta: number, extend = false) {
    if (this.total === 0) return;
    const from = this.focusIndex < 0 ? (delta > 0 ? -1 : this.total) : this.focusIndex;
    const to = Math.min(this.total - 1, Math.max(0, from + delta));
    this.focusIndex = to;
    if (extend) {
      if (this.anchor === null) this.anchor = Math.max(0, from);
      void this.selectRange(this.anchor, to, false);
      return;
    }
    this.anchor = to;
    const row = this.rowAt(to);
    if (row) this.selectOnly(row.id);
  }

  // ---- detail ----

  openDetail(user: UserId) {
    this.detailUser = user;
    void this.loadDetail(user);
  }

  closeDetail() {
    this.detailSeq += 1;
    this.detailUser = null;
    this.detail = null;
    this.detailError = null;
    this.detailLoading = false;
    this.detailVerdicts = null;
    this.verdictsError = null;
  }

  /** The menu's toggle: close an open panel, or open the focused (or only selected) row. */
  toggleDetail() {
    if (this.detailUser !== null) {
      this.closeDetail();
      return;
    }
    const row = this.focusIndex >= 0 ? this.rowAt(this.focusIndex) : undefined;
    const id = row?.id ?? (this.selectedIds.size === 1 ? [...this.selectedIds][0] : undefined);
    if (id !== undefined) this.openDetail(id);
  }

  private async loadDetail(user: UserId) {
    if (this.org === null) return;
    const seq = ++this.detailSeq;
    const org = this.org;
    const other = this.detail?.member.id !== user;
    this.detailLoading = other;
    this.detailError = null;
    if (other) this.detailVerdicts = null;
    const verdicts = ipc.allowedActions(org, user).then(
      (v) => {
        if (seq !== this.detailSeq) return;
        this.detailVerdicts = v ?? [];
        this.verdictsError = null;
      },
      (e) => {
        if (seq !== this.detailSeq) return;
        this.detailVerdicts = [];
        this.verdictsError = ipc.toIpcError(e);
      },
    );
    try {
      const detail = await ipc.memberDetail(org, user);
      if (seq !== this.detailSeq) return;
      this.detail = detail;
      await verdicts;
    } catch (e) {
      if (seq !== this.detailSeq) return;
      this.detail = null;
      this.detailError = ipc.toIpcError(e);
    } finally {
      if (seq === this.detailSeq) this.detailLoading = false;
    }
  }

  /** The selection as a bulk action names it: ids, or every row matching the query but a few. */
  selection(): Selection {
    if (this.allSelected) {
      return { type: 'matching', query: $state.snapshot(this.query) as RosterQuery, except: [...this.excludedIds] };
    }
    return { type: 'ids', ids: [...this.selectedIds] };
  }

  /** A loaded row by id (the windows held now), for names of refused rows. */
  loadedRow(id: UserId): RosterRow | undefined {
    for (const rows of [...this.windows.values(), ...this.previous.values()]) {
      const row = rows.find((r) => r.id === id);
      if (row) return row;
    }
    return undefined;
  }

  /** Names and emails for `ids`: from the loaded windows, else the member's detail. */
  async people(ids: UserId[]): Promise<Map<UserId, { name: string; email: string }>> {
    const out = new Map<UserId, { name: string; email: string }>();
    const index = new Map<UserId, RosterRow>();
    for (const rows of [...this.windows.values(), ...this.previous.values()]) for (const r of rows) index.set(r.id, r);
    const missing: UserId[] = [];
    for (const id of ids) {
      const row = index.get(id);
      if (row) out.set(id, { name: row.name, email: row.email });
      else missing.push(id);
    }
    const org = this.org;
    if (org === null) return out;
    for (let k = 0; k < missing.length; k += 10) {
      const chunk = missing.slice(k, k + 10);
      const found = await Promise.all(chunk.map((id) => ipc.memberDetail(org, id).catch(() => null)));
      found.forEach((d, j) => {
        if (d?.member) out.set(chunk[j], { name: d.member.name, email: d.member.email });
      });
    }
    return out;
  }

  // ---- palette search ----

  /** Up to `limit` users matching `search` in the current org, for the palette. */
  async findUsers(search: string, limit = 8): Promise<RosterRow[] | null> {
    const seq = ++this.findSeq;
    if (this.org === null || !search.trim()) return [];
    try {
      const w = await ipc.rosterWindow(this.org, { ...defaultQuery(), search }, 0, limit);
      return seq === this.findSeq ? w.rows : null;
    } catch {
      return seq === this.findSeq ? [] : null;
    }
  }

  // ---- org metadata and columns ----

  private async loadOrgMeta() {
    const org = this.org;
    if (org === null) return;
    const [ws, props] = await Promise.all([
      ipc.workspaces(org).catch(() => null),
      ipc.propertyDefinitions(org).catch(() => null),
    ]);
    if (org !== this.org) return;
    if (ws) this.workspaces = ws;
    if (props) this.properties = props;
  }

  private async loadColumns() {
    const org = this.org;
    if (org === null) return;
    const keys = await this.prefs.columns(org);
    if (org !== this.org) return;
    this.columnKeys = keys ?? [...DEFAULT_COLUMNS];
  }

  async toggleColumn(key: string) {
    const chosen = new Set(this.columnKeys);
    if (chosen.has(key)) chosen.delete(key);
    else chosen.add(key);
    if (chosen.size === 0) return;
    // keep the chooser's order, and keys of properties not loaded yet
    const known = this.availableColumns.map((c) => c.key);
    const keys = [...known.filter((k) => chosen.has(k)), ...[...chosen].filter((k) => !known.includes(k))];
    this.columnKeys = keys;
    if (this.org !== null) await this.prefs.setColumns(this.org, keys);
  }
}

export const roster = new RosterStore();
