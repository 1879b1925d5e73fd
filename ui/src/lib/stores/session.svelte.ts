// Who is signed in: app info, the session from the keyring at start, and the sign-in flow
// (TOTP step, keyring-unavailable choice, the error a person can act on).

import * as ipc from '../ipc';
import type { AppInfo, IpcError, ProfileSummary, Session, SignedIn, SignInRequest } from '../types';

export type SignInStep = 'credentials' | 'totp' | 'keyring';

/** The sign-in error as the person at the keyboard should read it. */
export function signInMessage(err: IpcError, ctx: { server: string; totpShowing: boolean }): string {
  switch (err.code) {
    case 'invalid_credentials':
      return ctx.totpShowing
        ? 'That code is not right. Enter the current 6-digit code from your authenticator app.'
        : 'The email or password is not right.';
    case 'rate_limited':
      return 'Too many sign-in attempts: the account is locked for a while. Wait a few minutes and try again.';
    case 'offline':
      return `Could not reach ${ctx.server || 'the server'}. Check the address and your network.`;
    case 'invalid_input':
      return err.message || 'Enter a valid server address, such as https://orgdesk.example.com.';
    case 'totp_required':
      return 'Enter the code from your authenticator app.';
    default:
      return err.message || 'Sign-in failed.';
  }
}

export class SessionStore {
  info = $state<AppInfo | null>(null);
  session = $state<Session | null>(null);
  loadError = $state<IpcError | null>(null);

  step = $state<SignInStep>('credentials');
  busy = $state(false);
  error = $state<IpcError | null>(null);
  keyringMessage = $state<string | null>(null);

  signedIn = $derived<SignedIn | null>(this.session?.state === 'signed_in' ? this.session : null);
  profiles = $derived<ProfileSummary[]>(this.session?.state === 'signed_out' ? this.session.profiles : []);
  lastProfile = $derived<string | null>(this.session?.state === 'signed_out' ? this.session.last_profile : null);
  demo = $derived(this.info?.demo ?? false);

  async load() {
    this.loadError = null;
    try {
      const [info, session] = await Promise.all([ipc.appInfo(), ipc.session()]);
      this.info = info;
      this.session = session;
    } catch (e) {
      this.loadError = ipc.toIpcError(e);
      this.session = { state: 'signed_out', profiles: [], last_profile: null };
    }
  }

  private enter(s: SignedIn) {
    this.session = { state: 'signed_in', ...s };
    this.step = 'credentials';
    this.keyringMessage = null;
    this.error = null;
  }

  async signIn(req: SignInRequest): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.error = null;
    try {
      const outcome = await ipc.signIn(req);
      switch (outcome.type) {
        case 'signed_in':
          this.enter(outcome.session);
          break;
        case 'totp_required':
          this.step = 'totp';
          break;
        case 'keyring_unavailable':
          this.step = 'keyring';
          this.keyringMessage = outcome.message;
          break;
      }
    } catch (e) {
      const err = ipc.toIpcError(e);
      if (err.code === 'totp_required') this.step = 'totp';
      this.error = err;
    } finally {
      this.busy = false;
    }
  }

  async continueSessionOnly() {
    this.busy = true;
    this.error = null;
    try {
      this.enter(await ipc.continueSessionOnly());
    } catch (e) {
      this.error = ipc.toIpcError(e);
    } finally {
      this.busy = false;
    }
  }

  /** Cancel at the keyring step: the Rust side forgets the in-memory token. */
  async cancelKeyring() {
    this.busy = true;
    try {
      await ipc.signOut();
    } catch {
      // nothing was remembered; back to the form either way
    } finally {
      this.busy = false;
      this.step = 'credentials';
      this.keyringMessage = null;
    }
  }

  async signOut() {
    try {
      await ipc.signOut();
    } catch {
      // signing out locally still ends the session on this screen
    }
    this.step = 'credentials';
    this.error = null;
    try {
      this.session = await ipc.session();
    } catch {
      this.session = { state: 'signed_out', profiles: this.profiles, last_profile: null };
    }
  }

  resetStep() {
    this.step = 'credentials';
    this.error = null;
  }
}

export const session = new SessionStore();
