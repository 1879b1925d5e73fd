// Sync status for the badge: the last `sync-status` event, the progress of the sync in
// flight (from its Channel or from status events of background syncs), and Sync now.
// A failed sync only changes the badge: nothing here throws.

import * as ipc from '../ipc';
import type { IpcError, OrgId, Progress, SyncOutcome, SyncStatus } from '../types';

export const INITIAL_STATUS: SyncStatus = {
  online: true,
  syncing: false,
  paused: false,
  simulated_offline: false,
  pending_changes: 0,
  last_synced_at: null,
  last_error: null,
  progress: null,
};

export class SyncStore {
  status = $state<SyncStatus>({ ...INITIAL_STATUS });
  progress = $state<Progress | null>(null);
  /** a sync_now this window started and is waiting for */
  running = $state(false);
  lastOutcome = $state<SyncOutcome | null>(null);
  error = $state<IpcError | null>(null);

  syncing = $derived(this.running || this.status.syncing);
  online = $derived(this.status.online);

  private unlisten: (() => void) | null = null;

  async start() {
    this.stop();
    const un = await ipc.onSyncStatus((s) => this.apply(s));
    this.unlisten = un;
    try {
      this.apply(await ipc.syncStatus());
    } catch {
      // the badge keeps its defaults until the first event
    }
  }

  stop() {
    this.unlisten?.();
    this.unlisten = null;
  }

  apply(s: SyncStatus) {
    this.status = s;
    if (s.progress && s.progress.phase !== 'done') this.progress = s.progress;
    else if (!this.running) this.progress = null;
  }

  /** Sync one org (or just the org list with null); resolves with the outcome, never throws. */
  async syncNow(org: OrgId | null): Promise<SyncOutcome | null> {
    this.running = true;
    this.error = null;
    try {
      const outcome = await ipc.syncNow(org, (p) => {
        this.progress = p.phase === 'done' ? null : p;
      });
      this.lastOutcome = outcome;
      return outcome;
    } catch (e) {
      this.error = ipc.toIpcError(e);
      return null;
    } finally {
      this.running = false;
      this.progress = this.status.syncing && this.status.progress?.phase !== 'done' ? this.status.progress : null;
      try {
        this.apply(await ipc.syncStatus());
      } catch {
        // keep the last known status
      }
    }
  }

  async cancel() {
    try {
      await ipc.cancelSync();
    } catch (e) {
      this.error = ipc.toIpcError(e);
    }
  }

  /** Pause (or resume) background syncing and its push; Sync now still works. */
  async setPaused(paused: boolean) {
    try {
      this.apply(await ipc.setSyncPaused(paused));
    } catch (e) {
      this.error = ipc.toIpcError(e);
    }
  }

  /** Demo mode only: pretend the server is unreachable (or back). */
  async setOffline(offline: boolean) {
    try {
      this.apply(await ipc.demoSetOffline(offline));
    } catch (e) {
      this.error = ipc.toIpcError(e);
    }
  }
}

export const sync = new SyncStore();
