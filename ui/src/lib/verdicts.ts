// Reading the rules' verdicts for a control: enabled or not, and the reason to show. The
// verdicts come from `allowed_actions` (the same rules the server runs); nothing here decides.

import { ROLE_LABEL } from './format';
import { ROLES, type Role, type Verdict, type VerdictAction } from './types';

export interface Gate {
  allowed: boolean;
  /** why not, for the title and the aria-describedby text; null when allowed */
  reason: string | null;
}

export const CHECKING: Gate = { allowed: false, reason: 'Checking what you may do…' };

export function gate(verdicts: readonly Verdict[] | null, action: VerdictAction, role?: Role): Gate {
  if (verdicts === null) return CHECKING;
  const v = verdicts.find((x) => x.action === action && (role === undefined || x.role === role));
  if (!v) return { allowed: false, reason: 'Not available for this user.' };
  return v.allowed ? { allowed: true, reason: null } : { allowed: false, reason: v.reason || 'Not allowed.' };
}

/** Any of the actions allowed; else the first one's reason. */
export function anyGate(verdicts: readonly Verdict[] | null, gates: Gate[]): Gate {
  if (verdicts === null) return CHECKING;
  const ok = gates.find((g) => g.allowed);
  return ok ?? gates[0] ?? { allowed: false, reason: 'Not available for this user.' };
}

export interface RoleGates {
  /** role → gate, for every role but the current one */
  byRole: Map<Role, Gate>;
  /** every other role refused: the select is disabled with `reason` */
  none: boolean;
  /** the refused roles' reasons, grouped: "Admin, User Admin: reason" */
  reason: string | null;
}

export function roleGates(verdicts: readonly Verdict[] | null, current: Role): RoleGates {
  const byRole = new Map<Role, Gate>();
  for (const r of ROLES) if (r !== current) byRole.set(r, gate(verdicts, 'change_role', r));
  const refused = [...byRole.entries()].filter(([, g]) => !g.allowed);
  const none = refused.length === byRole.size;
  const groups = new Map<string, Role[]>();
  for (const [r, g] of refused) groups.set(g.reason ?? '', [...(groups.get(g.reason ?? '') ?? []), r]);
  let reason: string | null = null;
  if (refused.length) {
    reason =
      none && groups.size === 1
        ? [...groups.keys()][0]
        : [...groups.entries()].map(([why, roles]) => `${roles.map((r) => ROLE_LABEL[r]).join(', ')}: ${why}`).join(' ');
  }
  return { byRole, none, reason };
}
