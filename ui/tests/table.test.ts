import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import RosterTable from '../src/lib/components/RosterTable.svelte';
import { BUILTIN_COLUMNS, DEFAULT_COLUMNS, resolveColumns } from '../src/lib/columns';
import type { RosterRow } from '../src/lib/types';
import { member } from './helpers';

const NOW = Date.parse('2025-06-01T12:00:00Z');

function table(over: Record<string, unknown> = {}) {
  const loaded = new Map<number, RosterRow>();
  for (let i = 0; i < 200; i++) loaded.set(i, member(i + 1));
  loaded.set(1, member(2, { status: 'pending', invited_at: '2025-05-20T09:00:00Z', last_active_at: undefined }));
  loaded.set(2, member(3, { last_active_at: undefined }));
  loaded.set(3, member(4, { role: 'guest', guest_expires: '2025-05-01' }));
  loaded.set(4, member(5, { status: 'suspended' }));
  const props = {
    total: 100_000,
    rowAt: (i: number) => loaded.get(i),
    isSelected: (id: number) => id === 1,
    columns: resolveColumns(DEFAULT_COLUMNS, BUILTIN_COLUMNS),
    sort: 'name' as const,
    descending: false,
    relevance: false,
    focusIndex: -1,
    resetKey: 0,
    workspaceNames: new Map<number, string>(),
    now: NOW,
    fallbackHeight: 600,
    onrange: vi.fn(),
    onrowclick: vi.fn(),
    onopen: vi.fn(),
    onsort: vi.fn(),
    onselectall: vi.fn(),
    onescape: vi.fn(),
    onmove: vi.fn(),
    ...over,
  };
  const r = render(RosterTable, props);
  const grid = screen.getByTestId('roster-table');
  const rows = () => [...grid.querySelectorAll<HTMLElement>('.body > [role="row"]')];
  return { ...r, props, grid, rows };
}

describe('virtual roster table', () => {
  it('puts only the visible rows and some overscan in the DOM for 100,000 users', () => {
    const { grid, rows, props } = table();
    const body = grid.querySelector<HTMLElement>('.body')!;
    expect(body.style.height).toBe(`${100_000 * 30}px`);
    expect(rows().length).toBeGreaterThan(15);
    expect(rows().length).toBeLessThan(60);
    expect(rows()[0].dataset.index).toBe('0');
    expect(rows()[0].style.transform).toBe('translateY(0px)');
    expect(screen.getByTestId('row-1')).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByTestId('row-6')).toHaveAttribute('aria-selected', 'false');
    expect(props.onrange).toHaveBeenCalledWith(0, expect.any(Number), 0);
  });

  it('shows skeleton rows where no window is loaded, reusing the row elements', async () => {
    const { grid, rows, props } = table();
    const before = new Set(rows());
    grid.scrollTop = 50_000 * 30;
    await fireEvent.scroll(grid);
    const after = rows();
    expect(after.every((r) => r.dataset.testid === 'row-skeleton')).toBe(true);
    expect(new Set(after), 'the same row elements, refilled').toEqual(before);
    expect(after.length).toBeLessThan(60);
    const indices = after.map((r) => Number(r.dataset.index)).sort((a, b) => a - b);
    expect(indices[0]).toBeGreaterThanOrEqual(49_980);
    expect(indices.at(-1)).toBeLessThan(50_060);
    expect(props.onrange).toHaveBeenLastCalledWith(50_000, expect.any(Number), 1);

    // scrolling a little within loaded rows keeps the same elements
    grid.scrollTop = 10 * 30;
    await fireEvent.scroll(grid);
    const loaded = new Set(rows());
    grid.scrollTop = 11 * 30;
    await fireEvent.scroll(grid);
    expect(new Set(rows())).toEqual(loaded);
  });

  it('shows pending, never active, guests and suspended users as such', () => {
    table();
    expect(screen.getByTestId('row-2')).toHaveTextContent('Pending · invited May 20, 2025');
    expect(screen.getByTestId('row-3')).toHaveTextContent('Never');
    const guest = screen.getByTestId('row-4');
    expect(guest).toHaveTextContent('until May 1, 2025');
    expect(guest.querySelector('.guest-until')).toHaveClass('warning');
    expect(screen.getByTestId('row-5')).toHaveClass('suspended');
    expect(screen.getByTestId('row-5')).toHaveTextContent('Suspended');
  });

  it('sorts by a header click and marks the sorted column', async () => {
    const { props } = table({ sort: 'email', descending: true });
    expect(screen.getByTestId('col-email')).toHaveAttribute('aria-sort', 'descending');
    expect(screen.getByTestId('col-name')).toHaveAttribute('aria-sort', 'none');
    expect(screen.getByTestId('col-role')).not.toHaveAttribute('aria-sort');
    await fireEvent.click(screen.getByTestId('col-created').querySelector('button')!);
    expect(props.onsort).toHaveBeenCalledWith('created');
  });

  it('shows no sorted column in relevance order', () => {
    table({ relevance: true });
    expect(screen.getByTestId('col-name')).toHaveAttribute('aria-sort', 'none');
  });

  it('selects with clicks and modifiers, opens on double-click', async () => {
    const { props } = table();
    await fireEvent.click(screen.getByTestId('row-3').querySelector('.td')!);
    expect(props.onrowclick).toHaveBeenLastCalledWith(2, { toggle: false, range: false });
    await fireEvent.click(screen.getByTestId('row-6'), { ctrlKey: true });
    expect(props.onrowclick).toHaveBeenLastCalledWith(5, { toggle: true, range: false });
    await fireEvent.click(screen.getByTestId('row-6'), { metaKey: true, shiftKey: true });
    expect(props.onrowclick).toHaveBeenLastCalledWith(5, { toggle: true, range: true });
    await fireEvent.dblClick(screen.getByTestId('row-7'));
    expect(props.onopen).toHaveBeenCalledWith(6);
  });

  it('works from the keyboard while focus is in the table', async () => {
    const { props, grid } = table({ focusIndex: 4 });
    grid.focus();
    await fireEvent.keyDown(grid, { key: 'a', ctrlKey: true });
    expect(props.onselectall).toHaveBeenCalled();
    await fireEvent.keyDown(grid, { key: 'ArrowDown' });
    expect(props.onmove).toHaveBeenLastCalledWith(1, false);
    await fireEvent.keyDown(grid, { key: 'ArrowUp', shiftKey: true });
    expect(props.onmove).toHaveBeenLastCalledWith(-1, true);
    await fireEvent.keyDown(grid, { key: 'Enter' });
    expect(props.onopen).toHaveBeenCalledWith(4);
    await fireEvent.keyDown(grid, { key: 'Escape' });
    expect(props.onescape).toHaveBeenCalled();
    expect(grid).toHaveAttribute('aria-activedescendant', 'roster-row-4');
  });

  it('takes the webview select-all command as Ctrl+A while the table has focus', async () => {
    const { props, grid } = table();
    document.dispatchEvent(new Event('selectstart', { cancelable: true }));
    expect(props.onselectall).not.toHaveBeenCalled();
    grid.focus();
    const e = new Event('selectstart', { cancelable: true });
    document.dispatchEvent(e);
    expect(props.onselectall).toHaveBeenCalledTimes(1);
    expect(e.defaultPrevented).toBe(true);
  });

  it('scrolls the focused row into view', async () => {
    const { grid, rerender, props } = table();
    await rerender({ ...props, focusIndex: 500 });
    expect(grid.scrollTop).toBeGreaterThan(400 * 30);
    expect(grid.scrollTop).toBeLessThanOrEqual(500 * 30);
  });
});
