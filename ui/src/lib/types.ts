// The wire types of the desktop's IPC, exactly as the Rust commands serialise them
// (snake_case fields). Keep in step with src-tauri; ipc.ts is their only consumer at the edge.

export type OrgId = number;
export type UserId = number;
export type WorkspaceId = number;

export type Role = 'admin' | 'billing_admin' | 'user_admin' | 'viewer_admin' | 'member' | 'guest';
export type Status = 'pending' | 'active' | 'expired' | 'suspended';
export type OrgKind = 'standard' | 'partner' | 'client';

export type ErrorCode =
  | 'forbidden'
  | 'role_not_allowed'
  | 'self_remove'
  | 'self_role'
  | 'out_of_scope'
  | 'last_admin'
  | 'too_many_workspaces'
  | 'guest_expiry_required'
  | 'guest_expiry_past'
  | 'email_taken'
  | 'invalid_state'
  | 'invalid_input'
  | 'bad_request'
  | 'payload_too_large'
  | 'unauthenticated'
  | 'invalid_credentials'
  | 'totp_required'
  | 'rate_limited'
  | 'not_found'
  | 'version_mismatch'
  | 'resync_required'
  | 'internal'
  | 'offline'
  | 'cache'
  | 'keyring'
  | 'protocol';

export interface IpcError {
  code: ErrorCode;
  message: string;
}

export interface Member {
  id: UserId;
  email: string;
  role: Role;
  status: Status;
  display_name?: string;
  first_name?: string;
  last_name?: string;
  phone?: string;
  title?: string;
  company?: string;
  office?: string;
  street?: string;
  postal_code?: string;
  city?: string;
  cell_phone?: string;
  home_phone?: string;
  workspaces?: WorkspaceId[];
  scope?: string[];
  /** YYYY-MM-DD */
  guest_expires?: string;
  properties?: Record<string, unknown>;
  invited_by?: UserId;
  invited_at?: string;
  invitation_expires_at?: string;
  created_at: string;
  last_active_at?: string;
  last_sign_in_at?: string;
  version: number;
}

/**
 * `name` is what the roster shows and sorts by; the Rust side computes it. `pending_changes`:
 * staged changes to this member not yet settled (absent when 0); the row itself is the
 * server's as of the last sync.
 */
export type RosterRow = Member & { name: string; pending_changes?: number };

export interface Workspace {
  id: WorkspaceId;
  name: string;
  version: number;
}

export type PropertyKind =
  | { type: 'text' }
  | { type: 'number' }
  | { type: 'date' }
  | { type: 'bool' }
  | { type: 'one_of'; options: string[] };

export type PropertyDefinition = {
  id: number;
  key: string;
  label: string;
  required: boolean;
  version: number;
} & PropertyKind;

export interface AppInfo {
  version: string;
  demo: boolean;
}

export interface ProfileSummary {
  name: string;
  server: string | null;
  email: string | null;
}

export interface SignedIn {
  profile: string;
  server: string;
  email: string;
  account_id: number;
  /** false: this session only (no keyring) */
  remembered: boolean;
}

export type Session =
  | { state: 'signed_out'; profiles: ProfileSummary[]; last_profile: string | null }
  | ({ state: 'signed_in' } & SignedIn);

export type SignInOutcome =
  | { type: 'signed_in'; session: SignedIn }
  | { type: 'totp_required' }
  | { type: 'keyring_unavailable'; message: string };

export interface SignInRequest {
  server: string;
  email: string;
  password: string;
  totp: string | null;
  remember: boolean;
}

export interface OrgSummary {
  id: OrgId;
  name: string;
  kind: OrgKind;
  role: Role;
  via_partner: boolean;
  partner_org_id: OrgId | null;
  synced_at: string | null;
  /** false: the caller's role may not list this roster */
  listable: boolean;
  /** cached */
  members: number;
  pending_changes: number;
}

export interface OrgList {
  current: OrgId | null;
  orgs: OrgSummary[];
}

export type RosterTab = 'all' | 'pending' | 'active' | 'guests' | 'suspended';
export type RosterSort = 'name' | 'email' | 'created' | 'last_active';

export interface RosterQuery {
  tab: RosterTab;
  search: string;
  role: Role | null;
  status: Status | null;
  workspace: WorkspaceId | null;
  inactive_days: number | null;
  sort: RosterSort;
  descending: boolean;
}

export interface TabCounts {
  all: number;
  pending: number;
  active: number;
  guests: number;
  suspended: number;
}

export interface RosterWindow {
  offset: number;
  rows: RosterRow[];
  total: number;
  /** "1,000+ matches" */
  total_capped: boolean;
  counts: TabCounts;
  counts_capped: boolean;
  as_of: string | null;
}

export interface MemberProperty {
  key: string;
  label: string;
  kind: PropertyKind;
  value: unknown;
}

export interface MemberDetail {
  member: RosterRow;
  workspaces: Workspace[];
  properties: MemberProperty[];
  invited_by: { id: UserId; name: string; email: string } | null;
  /** this member's open changes (pending, conflicts, rejections), oldest first */
  staged?: StagedChange[];
  /** the row as every pending change leaves it, applied in order (null without any, or when they remove the member) */
  pending_row?: RosterRow | null;
  /** the pending changes remove the member */
  pending_removal?: boolean;
}

export interface Progress {
  operation: 'sync';
  phase: 'orgs' | 'push' | 'pull' | 'rebuild' | 'done';
  label: string;
  org: OrgId | null;
  done: number;
  total: number | null;
}

export interface SyncStatus {
  online: boolean;
  syncing: boolean;
  paused: boolean;
  simulated_offline: boolean;
  pending_changes: number;
  last_synced_at: string | null;
  last_error: IpcError | null;
  progress: Progress | null;
}

export type SyncOutcome =
  | { type: 'synced'; pulled: number; pushed: { applied: number; conflicts: number; rejected: number } }
  | { type: 'offline'; message: string }
  | { type: 'cancelled' }
  | { type: 'busy' };

export interface CacheChanged {
  orgs: OrgId[];
}

/** `outbox-changed`: something was staged, resolved or taken back in these orgs. */
export interface OutboxChanged {
  orgs: OrgId[];
}

// ---- changing things ----

export type VerdictAction =
  | 'edit_profile'
  | 'assign_workspaces'
  | 'set_scope'
  | 'suspend'
  | 'restore'
  | 'remove'
  | 'resend_invitation'
  | 'cancel_invitation'
  | 'set_guest_expiry'
  | 'change_role';

/** The rules' answer (the server's own code) on one action for one member. */
export interface Verdict {
  action: VerdictAction;
  /** change_role: the target role; one verdict per role other than the current */
  role?: Role;
  allowed: boolean;
  code?: ErrorCode;
  reason?: string;
}

export interface ProfileFields {
  display_name?: string;
  first_name?: string;
  last_name?: string;
  /** E.164 */
  phone?: string;
  title?: string;
  company?: string;
  office?: string;
  street?: string;
  postal_code?: string;
  city?: string;
  cell_phone?: string;
  home_phone?: string;
}
export type ProfileKey = keyof ProfileFields;

export type Onboarding = 'invite' | 'generate_and_email' | 'set_and_email' | 'set_silently';

export interface NewMember {
  email: string;
  role: Role;
  profile?: ProfileFields;
  workspaces?: WorkspaceId[];
  /** YYYY-MM-DD, required for guests, in the future */
  guest_expires?: string;
  properties?: Record<string, unknown>;
  onboarding?: Onboarding;
  /** only set_and_email / set_silently; at least 12 characters */
  password?: string;
}

export interface MemberEdit {
  /** absent: keep; '': clear */
  profile?: ProfileFields;
  /** null clears */
  properties?: Record<string, unknown>;
  guest_expires?: string;
}

export type MutationKind =
  | { type: 'add_member'; member: NewMember }
  | { type: 'edit_member'; user_id: UserId; edit: MemberEdit }
  | { type: 'change_role'; user_id: UserId; role: Role; guest_expires?: string }
  | { type: 'assign_workspaces'; user_id: UserId; workspaces: WorkspaceId[] }
  | { type: 'set_scope'; user_id: UserId; scope: string[] | null }
  | { type: 'suspend' | 'restore' | 'remove' | 'resend_invitation' | 'cancel_invitation'; user_id: UserId };

export type RefusalField =
  | 'email'
  | 'password'
  | 'role'
  | 'workspaces'
  | 'guest_expires'
  | 'phone'
  | 'first_name'
  | 'last_name';

export interface Refusal {
  /** position in the request */
  index: number;
  user_id: UserId | null;
  field: RefusalField | null;
  code: ErrorCode;
  reason: string;
}

export interface Checked {
  allowed: number;
  refused: Refusal[];
  /** the staged changes' ids; empty when only checking */
  staged: string[];
}

export type BulkAction =
  | { type: 'change_role'; role: Role; guest_expires?: string }
  | { type: 'add_workspaces'; workspaces: WorkspaceId[] }
  | { type: 'remove_workspaces'; workspaces: WorkspaceId[] }
  | { type: 'set_guest_expiry'; date: string }
  | { type: 'suspend' }
  | { type: 'restore' }
  | { type: 'remove' }
  | { type: 'resend_invitation' };
export type BulkActionType = BulkAction['type'];

export type Selection = { type: 'ids'; ids: UserId[] } | { type: 'matching'; query: RosterQuery; except: UserId[] };

export type OutboxState = 'pending' | 'applied' | 'conflict' | 'rejected' | 'resolved';

export interface StagedChange {
  seq: number;
  id: string;
  org_id: OrgId;
  user_id: UserId | null;
  base_version: number | null;
  change: MutationKind;
  staged_at: string;
  state: OutboxState;
  /** the cached row it was staged on */
  base_row: Member | null;
  /** the row as the change leaves it; null for a removal */
  mine: Member | null;
  /** conflict: the server's row; null if removed there */
  theirs: Member | null;
  applied_version: number | null;
  /** rejected: why */
  refusal: { code: ErrorCode; message: string } | null;
  resolution: string | null;
}

export type Resolution = 'keep_mine' | 'take_theirs' | 'drop';

/** Ids the native menu sends in the `menu` event. */
export type MenuId =
  | 'command_palette'
  | 'sync_now'
  | 'go_offline'
  | 'go_online'
  | 'sign_out'
  | 'switch_org'
  | 'find_user'
  | 'toggle_detail';

export const ROLES: readonly Role[] = ['admin', 'billing_admin', 'user_admin', 'viewer_admin', 'member', 'guest'];
export const STATUSES: readonly Status[] = ['pending', 'active', 'expired', 'suspended'];
export const TABS: readonly RosterTab[] = ['all', 'pending', 'active', 'guests', 'suspended'];

export const ONBOARDINGS: readonly Onboarding[] = ['invite', 'generate_and_email', 'set_and_email', 'set_silently'];

/** Commands the palette runs besides switching org and opening a user. */
export type PaletteAction = 'sync_now' | 'pending_changes' | 'add_users' | 'go_offline' | 'go_online' | 'sign_out';
