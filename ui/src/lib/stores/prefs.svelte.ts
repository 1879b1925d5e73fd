// Preferences kept in the profile's cache (so per profile), read once and remembered here.

import * as ipc from '../ipc';
import type { OrgId } from '../types';

export class PrefsStore {
  private values = new Map<string, string | null>();

  async get(key: string): Promise<string | null> {
    if (this.values.has(key)) return this.values.get(key) ?? null;
    try {
      const v = await ipc.getPref(key);
      this.values.set(key, v);
      return v;
    } catch {
      return null;
    }
  }

  async set(key: string, value: string): Promise<void> {
    this.values.set(key, value);
    try {
      await ipc.setPref(key, value);
    } catch {
      // kept for this run; the next start falls back to the defaults
    }
  }

  async columns(org: OrgId): Promise<string[] | null> {
    const raw = await this.get(`columns:${org}`);
    if (!raw) return null;
    try {
      const keys: unknown = JSON.parse(raw);
      return Array.isArray(keys) && keys.every((k) => typeof k === 'string') ? keys : null;
    } catch {
      return null;
    }
  }

  setColumns(org: OrgId, keys: string[]): Promise<void> {
    return this.set(`columns:${org}`, JSON.stringify(keys));
  }

  clear() {
    this.values.clear();
  }
}

export const prefs = new PrefsStore();
