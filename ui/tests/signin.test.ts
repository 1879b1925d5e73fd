import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import SignIn from '../src/screens/SignIn.svelte';
import { session } from '../src/lib/stores/session.svelte';
import type { SignInOutcome } from '../src/lib/types';
import { backend, flush, type Handler } from './helpers';

const SIGNED_IN = { profile: 'acme', server: 'https://orgdesk.acme.example', email: 'ann@acme.example', account_id: 7, remembered: true };

beforeEach(() => {
  session.session = {
    state: 'signed_out',
    profiles: [
      { name: 'acme', server: 'https://orgdesk.acme.example', email: 'ann@acme.example' },
      { name: 'globex', server: 'https://globex.example', email: 'ann@globex.example' },
    ],
    last_profile: null,
  };
  session.step = 'credentials';
  session.error = null;
  session.keyringMessage = null;
  session.busy = false;
});

async function fill(server: string, email: string, password: string) {
  await fireEvent.input(screen.getByTestId('signin-server'), { target: { value: server } });
  await fireEvent.input(screen.getByTestId('signin-email'), { target: { value: email } });
  await fireEvent.input(screen.getByTestId('signin-password'), { target: { value: password } });
}

async function submitWith(handler: Handler) {
  const ipc = backend(handler);
  render(SignIn);
  await fill('https://orgdesk.example', 'ann@acme.example', 'correct horse battery');
  await fireEvent.click(screen.getByTestId('signin-submit'));
  await flush();
  return ipc;
}

const failWith = (code: string, message = 'from rust') => () => {
  throw { code, message };
};

describe('sign-in', () => {
  it('sends the form and enters the session', async () => {
    const ipc = await submitWith((cmd) => (cmd === 'sign_in' ? ({ type: 'signed_in', session: SIGNED_IN } satisfies SignInOutcome) : null));
    expect(ipc.of('sign_in')[0].args).toEqual({
      server: 'https://orgdesk.example',
      email: 'ann@acme.example',
      password: 'correct horse battery',
      totp: null,
      remember: true,
    });
    expect(session.signedIn?.email).toBe('ann@acme.example');
  });

  it('says the email or password is wrong', async () => {
    await submitWith(failWith('invalid_credentials'));
    expect(screen.getByTestId('signin-error')).toHaveTextContent('The email or password is not right.');
  });

  it('says the account is locked for a while when rate limited', async () => {
    await submitWith(failWith('rate_limited'));
    expect(screen.getByTestId('signin-error')).toHaveTextContent(/Too many sign-in attempts.*locked for a while/);
  });

  it('names the server it could not reach', async () => {
    await submitWith(failWith('offline'));
    expect(screen.getByTestId('signin-error')).toHaveTextContent(
      'Could not reach https://orgdesk.example. Check the address and your network.',
    );
  });

  it('explains a bad server address', async () => {
    await submitWith(failWith('invalid_input', "'orgdesk' is not a server address (https://…)"));
    expect(screen.getByTestId('signin-error')).toHaveTextContent("'orgdesk' is not a server address");
  });

  it('asks for the TOTP code, and says when the code is wrong', async () => {
    let calls = 0;
    const ipc = await submitWith((cmd) => {
      if (cmd !== 'sign_in') return null;
      calls += 1;
      if (calls === 1) return { type: 'totp_required' };
      throw { code: 'invalid_credentials', message: 'x' };
    });
    expect(screen.queryByTestId('signin-error')).toBeNull();
    const totp = screen.getByTestId('signin-totp');
    expect(totp).toBeVisible();
    await fireEvent.input(totp, { target: { value: '123456' } });
    await fireEvent.submit(totp.closest('form')!);
    await flush();
    expect(ipc.of('sign_in')[1].args.totp).toBe('123456');
    expect(screen.getByTestId('signin-error')).toHaveTextContent('That code is not right');
  });

  it('offers a session-only sign-in when the keyring is unavailable', async () => {
    const ipc = await submitWith((cmd) => {
      if (cmd === 'sign_in') return { type: 'keyring_unavailable', message: 'No Secret Service is running.' };
      if (cmd === 'continue_session_only') return { ...SIGNED_IN, remembered: false };
      return null;
    });
    expect(screen.getByTestId('signin-keyring')).toHaveTextContent('No Secret Service is running.');
    await fireEvent.click(screen.getByTestId('signin-session-only'));
    await flush();
    expect(ipc.of('continue_session_only')).toHaveLength(1);
    expect(session.signedIn?.remembered).toBe(false);
  });

  it('cancels a session-only sign-in by signing out', async () => {
    const ipc = await submitWith((cmd) =>
      cmd === 'sign_in' ? { type: 'keyring_unavailable', message: 'No keyring' } : null,
    );
    await fireEvent.click(screen.getByTestId('signin-cancel'));
    await flush();
    expect(ipc.of('sign_out')).toHaveLength(1);
    expect(ipc.of('continue_session_only')).toHaveLength(0);
    expect(screen.getByTestId('signin-submit')).toBeInTheDocument();
  });

  it('fills server and email from a remembered profile', async () => {
    backend(() => null);
    render(SignIn);
    await fireEvent.click(screen.getByTestId('signin-profile-globex'));
    expect(screen.getByTestId('signin-server')).toHaveValue('https://globex.example');
    expect(screen.getByTestId('signin-email')).toHaveValue('ann@globex.example');
  });

  it('shows a busy button while signing in', async () => {
    let release!: (v: unknown) => void;
    backend((cmd) => (cmd === 'sign_in' ? new Promise((r) => (release = r)) : null));
    render(SignIn);
    await fill('https://orgdesk.example', 'ann@acme.example', 'pw');
    await fireEvent.click(screen.getByTestId('signin-submit'));
    await flush();
    expect(screen.getByTestId('signin-submit')).toBeDisabled();
    expect(screen.getByTestId('signin-submit')).toHaveTextContent('Signing in');
    release({ type: 'totp_required' });
    await flush();
    expect(screen.getByTestId('signin-submit')).not.toBeDisabled();
  });
});
