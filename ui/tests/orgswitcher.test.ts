import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import OrgSwitcher from '../src/lib/components/OrgSwitcher.svelte';
import { orgEntries } from '../src/lib/stores/orgs.svelte';
import { org } from './helpers';

const ORGS = [
  org(1, { name: 'Northwind Partners', kind: 'partner', members: 42 }),
  org(2, { name: 'Contoso', kind: 'client', partner_org_id: 1, via_partner: true, members: 1500 }),
  org(3, { name: 'Adventure Works', kind: 'client', partner_org_id: 1, via_partner: true }),
  org(4, { name: 'Blue Yonder', kind: 'standard', role: 'viewer_admin' }),
  // its partner is not in the list: shown at the top level
  org(5, { name: 'Fabrikam', kind: 'client', partner_org_id: 99, role: 'user_admin' }),
];

const itemIds = () =>
  screen.getAllByTestId(/^org-item-/).map((el) => [Number(el.dataset.testid!.slice(9)), Number(el.dataset.depth)]);

describe('org switcher', () => {
  it('nests clients under their partner only when the partner is listed', () => {
    expect(orgEntries(ORGS).map((e) => [e.org.id, e.depth])).toEqual([
      [4, 0],
      [5, 0],
      [1, 0],
      [3, 1],
      [2, 1],
    ]);
  });

  it('opens a list with role and member count, and searches it', async () => {
    const onpick = vi.fn();
    render(OrgSwitcher, { orgs: ORGS, current: ORGS[3], onpick });
    expect(screen.getByTestId('org-switcher')).toHaveTextContent('Blue Yonder');
    await fireEvent.click(screen.getByTestId('org-switcher'));
    expect(itemIds()).toEqual([
      [4, 0],
      [5, 0],
      [1, 0],
      [3, 1],
      [2, 1],
    ]);
    const contoso = screen.getByTestId('org-item-2');
    expect(contoso).toHaveTextContent('Admin');
    expect(contoso).toHaveTextContent('1,500');
    expect(screen.getByTestId('org-item-5')).toHaveTextContent('User Admin');

    await fireEvent.input(screen.getByTestId('org-switcher-search'), { target: { value: 'cont' } });
    expect(itemIds()).toEqual([[2, 0]]);
    expect(screen.getByTestId('org-item-2')).toHaveTextContent('via Northwind Partners');

    await fireEvent.input(screen.getByTestId('org-switcher-search'), { target: { value: 'zzz' } });
    expect(screen.queryAllByTestId(/^org-item-/)).toHaveLength(0);
  });

  it('picks an org from the keyboard', async () => {
    const onpick = vi.fn();
    render(OrgSwitcher, { orgs: ORGS, current: ORGS[3], onpick });
    await fireEvent.click(screen.getByTestId('org-switcher'));
    const search = screen.getByTestId('org-switcher-search');
    await fireEvent.input(search, { target: { value: 'works' } });
    await fireEvent.keyDown(search, { key: 'Enter' });
    expect(onpick).toHaveBeenCalledWith(3);
  });

  it('moves through the list with the arrow keys', async () => {
    const onpick = vi.fn();
    render(OrgSwitcher, { orgs: ORGS, current: ORGS[3], onpick });
    await fireEvent.click(screen.getByTestId('org-switcher'));
    const search = screen.getByTestId('org-switcher-search');
    await fireEvent.keyDown(search, { key: 'ArrowDown' });
    await fireEvent.keyDown(search, { key: 'ArrowDown' });
    await fireEvent.keyDown(search, { key: 'Enter' });
    expect(onpick).toHaveBeenCalledWith(1);
    await waitFor(() => expect(screen.queryByTestId('org-switcher-search')).toBeNull());
  });
});

describe('an org not synced yet', () => {
  it('says so instead of a member count of 0', async () => {
    const orgs = [
      org(1, { name: 'Northwind Partners', kind: 'partner', members: 6 }),
      org(2, { name: 'Contoso', kind: 'client', partner_org_id: 1, via_partner: true, synced_at: null, members: 0 }),
      org(3, { name: 'Empty Co', kind: 'client', partner_org_id: 1, via_partner: true, members: 0 }),
    ];
    render(OrgSwitcher, { orgs, current: orgs[0], onpick: vi.fn() });
    await fireEvent.click(screen.getByTestId('org-switcher'));
    expect(screen.getByTestId('org-item-2')).toHaveTextContent('not synced');
    expect(screen.getByTestId('org-item-2')).not.toHaveTextContent(/\b0\b/);
    // synced and empty: a real 0
    expect(screen.getByTestId('org-item-3')).toHaveTextContent('0');
    expect(screen.getByTestId('org-item-3')).not.toHaveTextContent('not synced');
  });
});
