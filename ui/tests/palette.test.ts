import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import CommandPalette from '../src/lib/components/CommandPalette.svelte';
import { member, org } from './helpers';

const ORGS = [
  org(1, { name: 'Northwind Partners', kind: 'partner' }),
  org(2, { name: 'Contoso', kind: 'client', partner_org_id: 1 }),
  org(3, { name: 'Blue Yonder' }),
];

function palette(over: Record<string, unknown> = {}) {
  const opener = document.createElement('button');
  opener.textContent = 'opener';
  opener.className = 'opener';
  document.body.appendChild(opener);
  opener.focus();
  const props = {
    open: true,
    orgs: ORGS,
    currentOrg: ORGS[0],
    demo: true,
    online: true,
    findUsers: vi.fn(async (q: string) =>
      q.startsWith('ali') ? [member(42, { name: 'Alice Andersen', email: 'alice@contoso.example' })] : [],
    ),
    onorg: vi.fn(),
    onuser: vi.fn(),
    onaction: vi.fn(),
    ...over,
  };
  render(CommandPalette, props);
  const input = screen.getByTestId('palette-input');
  return { props, input, opener };
}

afterEach(() => document.querySelectorAll('button.opener').forEach((b) => b.remove()));

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('command palette', () => {
  it('finds a user and opens their detail with Enter', async () => {
    const { props, input } = palette();
    expect(screen.getByTestId('palette')).toBeInTheDocument();
    await fireEvent.input(input, { target: { value: 'ali' } });
    await waitFor(() => expect(screen.getByTestId('palette-item-0')).toHaveTextContent('Alice Andersen'));
    expect(props.findUsers).toHaveBeenLastCalledWith('ali');
    await fireEvent.keyDown(input, { key: 'Enter' });
    await settle();
    expect(props.onuser).toHaveBeenCalledWith(expect.objectContaining({ id: 42 }));
  });

  it('switches org by a fuzzy name', async () => {
    const { props, input } = palette();
    await fireEvent.input(input, { target: { value: 'cont' } });
    expect(screen.getByTestId('palette-item-0')).toHaveTextContent('Switch to');
    expect(screen.getByTestId('palette-item-0')).toHaveTextContent('Contoso');
    await fireEvent.keyDown(input, { key: 'Enter' });
    await settle();
    expect(props.onorg).toHaveBeenCalledWith(2);
  });

  it('runs a command with the arrow keys', async () => {
    const { props, input } = palette();
    expect(screen.getByTestId('palette-item-0')).toHaveTextContent('Sync now');
    expect(screen.getByTestId('palette-item-1')).toHaveTextContent('Go offline');
    expect(screen.getByTestId('palette-item-2')).toHaveTextContent('Pending changes');
    expect(screen.getByTestId('palette-item-3')).toHaveTextContent('Add users');
    expect(screen.getByTestId('palette-item-4')).toHaveTextContent('Sign out');
    await fireEvent.keyDown(input, { key: 'ArrowDown' });
    await fireEvent.keyDown(input, { key: 'Enter' });
    await settle();
    expect(props.onaction).toHaveBeenCalledWith('go_offline');
  });

  it('offers Go online when offline and nothing demo-only outside the demo', () => {
    palette({ online: false });
    expect(screen.getByTestId('palette-item-1')).toHaveTextContent('Go online');
  });

  it('leaves out demo commands outside demo mode', () => {
    palette({ demo: false });
    expect(screen.queryByText('Go offline')).toBeNull();
    expect(screen.getByTestId('palette-item-1')).toHaveTextContent('Pending changes');
    expect(screen.getByTestId('palette-item-3')).toHaveTextContent('Sign out');
  });

  it('closes on Escape and gives focus back', async () => {
    const { input, opener } = palette();
    await waitFor(() => expect(document.activeElement).toBe(input));
    await fireEvent.keyDown(input, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByTestId('palette')).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(opener));
  });
});
