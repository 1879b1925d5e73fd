// The only door to the Rust side: every command, channel and event the UI uses, typed.
// A rejected call is always thrown as an IpcError {code, message}.

import { invoke, Channel } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  AppInfo,
  BulkAction,
  CacheChanged,
  Checked,
  ErrorCode,
  IpcError,
  MemberDetail,
  MenuId,
  MutationKind,
  OrgId,
  OrgList,
  OrgSummary,
  OutboxChanged,
  Progress,
  PropertyDefinition,
  Resolution,
  RosterQuery,
  RosterWindow,
  Selection,
  Session,
  SignedIn,
  SignInOutcome,
  SignInRequest,
  StagedChange,
  SyncOutcome,
  SyncStatus,
  UserId,
  Verdict,
  Workspace,
} from './types';

export type { UnlistenFn };

export function isIpcError(e: unknown): e is IpcError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

export function toIpcError(e: unknown): IpcError {
  if (isIpcError(e)) return { code: e.code as ErrorCode, message: e.message };
  if (e instanceof Error) return { code: 'internal', message: e.message };
  return { code: 'internal', message: String(e) };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

export const appInfo = () => call<AppInfo>('app_info');
export const session = () => call<Session>('session');
export const signIn = (req: SignInRequest) => call<SignInOutcome>('sign_in', { ...req });
export const continueSessionOnly = () => call<SignedIn>('continue_session_only');
export const signOut = () => call<void>('sign_out');

export const orgs = () => call<OrgList>('orgs');
export const switchOrg = (org: OrgId) => call<OrgSummary>('switch_org', { org });

export const rosterWindow = (org: OrgId, query: RosterQuery, offset: number, limit: number) =>
  call<RosterWindow>('roster_window', { org, query, offset, limit });
export const memberDetail = (org: OrgId, user: UserId) => call<MemberDetail>('member_detail', { org, user });
export const workspaces = (org: OrgId) => call<Workspace[]>('workspaces', { org });
export const propertyDefinitions = (org: OrgId) => call<PropertyDefinition[]>('property_definitions', { org });

export const syncStatus = () => call<SyncStatus>('sync_status');
export function syncNow(org: OrgId | null, onProgress: (p: Progress) => void): Promise<SyncOutcome> {
  const channel = new Channel<Progress>();
  channel.onmessage = onProgress;
  return call<SyncOutcome>('sync_now', { org, onProgress: channel });
}
export const cancelSync = () => call<void>('cancel_sync');
export const demoSetOffline = (offline: boolean) => call<SyncStatus>('demo_set_offline', { offline });

// ---- changing things: the rules decide, the outbox keeps ----

export const allowedActions = (org: OrgId, user: UserId) => call<Verdict[]>('allowed_actions', { org, user });
export const stageChanges = (org: OrgId, changes: MutationKind[], onlyCheck: boolean) =>
  call<Checked>('stage_changes', { org, changes, onlyCheck });
export const stageBulk = (org: OrgId, selection: Selection, action: BulkAction, onlyCheck: boolean) =>
  call<Checked>('stage_bulk', { org, selection, action, onlyCheck });
export const pendingChanges = (org: OrgId | null) => call<StagedChange[]>('pending_changes', { org });
export const resolveChange = (id: string, resolution: Resolution) =>
  call<StagedChange | null>('resolve_change', { id, resolution });
export const withdrawChange = (id: string) => call<string[]>('withdraw_change', { id });
export const setSyncPaused = (paused: boolean) => call<SyncStatus>('set_sync_paused', { paused });

export const getPref = (key: string) => call<string | null>('get_pref', { key });
export const setPref = (key: string, value: string) => call<void>('set_pref', { key, value });

export const onSyncStatus = (f: (s: SyncStatus) => void): Promise<UnlistenFn> =>
  listen<SyncStatus>('sync-status', (e) => f(e.payload));
export const onCacheChanged = (f: (c: CacheChanged) => void): Promise<UnlistenFn> =>
  listen<CacheChanged>('cache-changed', (e) => f(e.payload));
export const onOutboxChanged = (f: (c: OutboxChanged) => void): Promise<UnlistenFn> =>
  listen<OutboxChanged>('outbox-changed', (e) => f(e.payload));
export const onOrgsChanged = (f: () => void): Promise<UnlistenFn> => listen<null>('orgs-changed', () => f());
export const onMenu = (f: (id: MenuId) => void): Promise<UnlistenFn> =>
  listen<string>('menu', (e) => f(e.payload as MenuId));
