// Timing hooks read back by the end-to-end tests and benchmarks through
// `window.__orgdesk`. Cheap when nobody reads them: a few numbers pushed to arrays.

export interface OrgdeskProbe {
  ready: boolean;
  /** input event → rows painted, one entry per search keystroke (ms) */
  searchLatencies: number[];
  /** switcher pick → new org's rows painted (ms) */
  switchLatencies: number[];
  /** skeleton rows that appeared in a painted frame while a frame probe ran */
  blankRowsSeen: number;
  startFrameProbe(): void;
  /** rAF frame deltas (ms) since startFrameProbe */
  stopFrameProbe(): number[];
}

let firstRowsMarked = false;
let pendingSearches: number[] = [];
let pendingSwitch: number | null = null;
let probe: { deltas: number[]; last: number; handle: number; blankSeen: Set<string> } | null = null;

function afterPaint(f: () => void) {
  requestAnimationFrame(() => setTimeout(f, 0));
}

function frame(t: number) {
  if (!probe) return;
  probe.deltas.push(t - probe.last);
  probe.last = t;
  // a skeleton row counts once per appearance, not once per frame it stays
  const seen = new Set<string>();
  for (const el of document.querySelectorAll<HTMLElement>('[data-testid="row-skeleton"]')) {
    const index = el.dataset.index ?? '';
    seen.add(index);
    if (!probe.blankSeen.has(index)) state.blankRowsSeen += 1;
  }
  probe.blankSeen = seen;
  probe.handle = requestAnimationFrame(frame);
}

const state: OrgdeskProbe = {
  ready: false,
  searchLatencies: [],
  switchLatencies: [],
  blankRowsSeen: 0,
  startFrameProbe() {
    if (probe) cancelAnimationFrame(probe.handle);
    probe = { deltas: [], last: performance.now(), handle: 0, blankSeen: new Set() };
    probe.handle = requestAnimationFrame(frame);
  },
  stopFrameProbe() {
    if (!probe) return [];
    cancelAnimationFrame(probe.handle);
    const deltas = probe.deltas;
    probe = null;
    return deltas;
  },
};

declare global {
  interface Window {
    __orgdesk: OrgdeskProbe;
  }
}

if (typeof window !== 'undefined') window.__orgdesk = state;

export const perf = {
  markReady() {
    state.ready = true;
  },
  /** Called when a search keystroke's input event arrives. */
  searchStarted() {
    pendingSearches.push(performance.now());
  },
  /** Called when a user picks another org. */
  switchStarted() {
    pendingSwitch = performance.now();
  },
  /**
   * Called once the roster applied an answer for the newest query; the rows are in the
   * DOM after Svelte's flush, and painted after the next frame.
   */
  rowsApplied(hasRows: boolean) {
    const searches = pendingSearches;
    const switched = pendingSwitch;
    pendingSearches = [];
    pendingSwitch = null;
    const markFirst = hasRows && !firstRowsMarked;
    if (markFirst) firstRowsMarked = true;
    if (!searches.length && switched === null && !markFirst) return;
    afterPaint(() => {
      const now = performance.now();
      for (const t of searches) state.searchLatencies.push(now - t);
      if (switched !== null) state.switchLatencies.push(now - switched);
      if (markFirst) performance.mark('orgdesk:first-rows');
    });
  },
  /** Forget a pending switch timing (the new org shows no rows: first sync, not listable). */
  switchSettled() {
    pendingSwitch = null;
  },
};
