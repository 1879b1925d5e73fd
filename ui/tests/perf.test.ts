import { describe, expect, it } from 'vitest';
import { perf } from '../src/lib/perf';

const painted = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 5)));

describe('perf hooks', () => {
  it('times keystrokes and org switches to the next painted rows, and marks the first rows once', async () => {
    const probe = window.__orgdesk;
    perf.searchStarted();
    perf.searchStarted();
    perf.switchStarted();
    perf.rowsApplied(true);
    await painted();
    expect(probe.searchLatencies).toHaveLength(2);
    expect(probe.switchLatencies).toHaveLength(1);
    expect(performance.getEntriesByName('orgdesk:first-rows')).toHaveLength(1);
    perf.rowsApplied(true);
    await painted();
    expect(performance.getEntriesByName('orgdesk:first-rows')).toHaveLength(1);
    expect(probe.searchLatencies).toHaveLength(2);
  });

  it('counts skeleton rows that appear while a frame probe runs', async () => {
    const probe = window.__orgdesk;
    probe.startFrameProbe();
    const row = document.createElement('div');
    row.dataset.testid = 'row-skeleton';
    row.dataset.index = '7';
    document.body.appendChild(row);
    await painted();
    await painted();
    row.remove();
    const frames = probe.stopFrameProbe();
    expect(frames.length).toBeGreaterThan(0);
    expect(probe.blankRowsSeen).toBe(1);
  });
});
