import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import { createFakeBackend, type ScenarioName } from './lib/backend/fake';
import type { Backend } from './lib/backend/types';

function setup(scenario: ScenarioName, stepMs = 0) {
  const backend = createFakeBackend(scenario, { stepMs });
  const user = userEvent.setup();
  render(App, { backend });
  return { backend, user };
}

const signedInAs = () => screen.findByText('ada@lab.example');

/** Opens a connector's row (its details show in place) by clicking it, as a person would. */
async function openRow(user: ReturnType<typeof userEvent.setup>, name: string) {
  const row = screen.getByRole('listitem', { name });
  await user.click(within(row).getByRole('button', { expanded: false }));
  return row;
}

describe('App: loading, empty, error', () => {
  it('shows a loading state until the status arrives', () => {
    setup('loading');
    expect(screen.getByText('Loading your status…')).toHaveAttribute('aria-busy', 'true');
  });

  it('tells the host once that the first status is painted (the start-up time in its log)', async () => {
    const backend = createFakeBackend('ada');
    const painted = vi.spyOn(backend, 'statusPainted');
    render(App, { backend });
    await signedInAs();
    await waitFor(() => expect(painted).toHaveBeenCalledTimes(1));
    await backend.refresh();
    await new Promise((r) => setTimeout(r, 50));
    expect(painted).toHaveBeenCalledTimes(1);
  });

  it('shows the empty state when signed in with no connectors in policy', async () => {
    setup('empty');
    expect(await screen.findByText(/No connectors in your organisation's policy yet/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Refresh all' })).not.toBeInTheDocument();
  });

  it('shows code and message when getStatus fails, and retries', async () => {
    const { backend, user } = setup('error');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent("Couldn't load your status.");
    expect(alert).toHaveTextContent('The state file could not be read.');
    expect(within(alert).getByText('internal').tagName).toBe('CODE');
    expect(within(alert).getByText('state_unavailable').tagName).toBe('CODE');
    const getStatus = vi.spyOn(backend, 'getStatus');
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(getStatus).toHaveBeenCalledTimes(1);
  });

  it('shows code and message when a command fails, keeping the last status', async () => {
    const { backend, user } = setup('ada');
    await signedInAs();
    vi.spyOn(backend, 'refresh').mockRejectedValue({ code: 'keyring_unavailable', message: 'The keyring is locked.' });
    await openRow(user, 'Linear');
    await user.click(screen.getByRole('button', { name: 'Refresh Linear' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The keyring is locked.');
    expect(within(alert).getByText('keyring_unavailable').tagName).toBe('CODE');
    expect(screen.getByText('ada@lab.example')).toBeInTheDocument();
    await user.click(within(alert).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});

describe('App: ada signed in (4 granted, 3 denied, 1 unsupported)', () => {
  it('shows the session and groups connectors', async () => {
    setup('ada');
    await signedInAs();
    expect(screen.getByRole('heading', { name: 'Signed in' })).toBeInTheDocument();
    expect(screen.getByText('idp.lab.example')).toBeInTheDocument();
    expect(screen.getByText('00u1ada0lab0example')).toBeInTheDocument();
    expect(screen.getByText(/^Session ends in 8 h 1[12] min/)).toBeInTheDocument();

    const working = screen.getByRole('list', { name: /Working/ });
    expect(within(working).getAllByRole('listitem').map((li) => li.getAttribute('data-state'))).toEqual(
      Array(4).fill('granted'),
    );
    const unavailable = screen.getByRole('list', { name: /Not available to you/ });
    expect([...unavailable.querySelectorAll('li')].map((li) => li.querySelector('.badge')?.textContent)).toEqual([
      'Not granted',
      'Not granted',
      'Not granted',
      'Not zero-touch',
    ]);
    expect(within(unavailable).getAllByText('by your organisation')).toHaveLength(3);
    expect(screen.getByText('expiry unknown')).toBeInTheDocument();
    expect(screen.queryByRole('list', { name: /Needs attention/ })).not.toBeInTheDocument();
    expect(document.getElementById('connectors-summary')).toHaveTextContent(/^4 working · 3 not assigned · 1 not zero-touch$/);
    // Compact: every row closed, no per-row buttons until one is opened.
    expect(screen.getAllByRole('button', { expanded: false })).toHaveLength(8);
    expect(screen.queryByRole('button', { name: /^Refresh [A-Z]/ })).not.toBeInTheDocument();
  });

  it('Refresh calls the backend with the connector id; Refresh all with none', async () => {
    const { backend, user } = setup('ada');
    await signedInAs();
    const refresh = vi.spyOn(backend, 'refresh');
    const row = await openRow(user, 'Supabase');
    await user.click(screen.getByRole('button', { name: 'Refresh Supabase' }));
    expect(refresh).toHaveBeenLastCalledWith('supabase');
    await waitFor(() => expect(row.querySelector('.note')).toHaveTextContent(/^(59 min|1 h 00 min) left$/));
    expect(within(row).getByText(/^Expires in (59|1 h 00) min/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Refresh all' }));
    expect(refresh).toHaveBeenLastCalledWith();
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it('Sign out calls the backend and shows the signed-out state', async () => {
    const { backend, user } = setup('ada');
    await signedInAs();
    const signOut = vi.spyOn(backend, 'signOut');
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(signOut).toHaveBeenCalledWith();
    expect(await screen.findByRole('heading', { name: 'Not signed in' })).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('Not signed in.');
  });
});

describe('App: signed out and sign-in', () => {
  it('says what to do, and rows ask for sign-in without Refresh buttons', async () => {
    setup('signed-out');
    expect(await screen.findByRole('heading', { name: 'Not signed in' })).toBeInTheDocument();
    expect(screen.getByText(/Sign in once with your company account/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Refresh/ })).not.toBeInTheDocument();
    // Signed out nothing is broken: one calm group, not eight "needs attention" rows.
    expect(screen.queryByRole('list', { name: /Needs attention/ })).not.toBeInTheDocument();
    const waiting = screen.getByRole('list', { name: /Available after you sign in/ });
    expect(within(waiting).getAllByRole('listitem')).toHaveLength(8);
    // No cause left over from an earlier session: signed out is just "Sign in".
    expect(within(waiting).getAllByText('Sign in')).toHaveLength(8);
    expect(screen.queryByText('invalid_target')).not.toBeInTheDocument();
  });

  it('expired session says so and offers Sign in', async () => {
    setup('expired');
    expect(await screen.findByRole('heading', { name: 'Session expired' })).toBeInTheDocument();
    expect(screen.getByText(/has expired and cannot renew by itself/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
  });

  it('Sign in calls the backend, then shows the result and announces it politely', async () => {
    const { backend, user } = setup('signed-out');
    const signIn = vi.spyOn(backend, 'signIn');
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    expect(signIn).toHaveBeenCalledWith();
    await signedInAs();
    expect(screen.getByRole('status')).toHaveTextContent(/Signed in as ada@lab\.example\. .*Linear: Granted/);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('shows progress with Cancel; Cancel calls the backend and is not an error', async () => {
    const { backend, user } = setup('signed-out', 150);
    const cancel = vi.spyOn(backend, 'cancelSignIn');
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Finish signing in in your browser; Lanyard then gets your connectors.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(cancel).toHaveBeenCalledWith();
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Not signed in' })).toBeInTheDocument();
  });

  it('a failed sign-in shows the code and message', async () => {
    const { user } = setup('idp-unreachable');
    await signedInAs();
    // The token exchange failed, so each row names the IdP, not the connector.
    for (const name of ['Atlassian', 'Granola', 'Linear', 'Supabase']) {
      const row = await openRow(user, name);
      expect(row.querySelector('.badge')).toHaveTextContent("Can't reach");
      expect(within(row).getByText("Can't reach idp.lab.example; retrying")).toBeInTheDocument();
    }
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent("Can't reach idp.lab.example");
    expect(within(alert).getByText('sign_in_failed').tagName).toBe('CODE');
    expect(within(alert).getByText('unreachable').tagName).toBe('CODE');
  });

  it('follows a sign-in started elsewhere (the tray) through events', async () => {
    let emit: (p: Parameters<Parameters<Backend['onSignInProgress']>[0]>[0]) => void = () => {};
    const backend = createFakeBackend('signed-out', { stepMs: 0 });
    backend.onSignInProgress = async (cb) => {
      emit = cb;
      return () => {};
    };
    render(App, { backend });
    await screen.findByRole('button', { name: 'Sign in' });
    emit({ phase: 'waiting_for_browser' });
    expect(await screen.findByText('Finish signing in in your browser; Lanyard then gets your connectors.')).toBeInTheDocument();
    emit({ phase: 'failed', message: 'Callback timed out.' });
    expect(await screen.findByRole('alert')).toHaveTextContent('Callback timed out.');
  });
});

describe('App: every state and the shared countdown', () => {
  it('renders each state once, with unreachable first and pending busy', async () => {
    const { user } = setup('every-state');
    await signedInAs();
    const attention = screen.getByRole('list', { name: /Needs attention/ });
    expect(within(attention).getAllByRole('listitem').map((li) => li.dataset.state)).toEqual([
      'misconfigured',
      'needs_sign_in',
      'unreachable',
    ]);
    expect(screen.getByRole('listitem', { name: 'Atlassian' })).toHaveAttribute('aria-busy', 'true');
    await openRow(user, 'Supabase');
    expect(screen.getByText("Can't reach supabase.lab.example; retrying")).toBeInTheDocument();
    await openRow(user, 'Canva');
    expect(screen.getByText('invalid_client')).toBeInTheDocument();
  });

  it('all countdowns tick together', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    try {
      vi.setSystemTime(Date.parse('2026-06-01T12:00:00Z'));
      const { backend } = setup('every-state');
      const painted = vi.spyOn(backend, 'statusPainted');
      await signedInAs();
      expect(screen.getByText('54 min left')).toBeInTheDocument();
      expect(screen.getByText('retrying · 7 min left')).toBeInTheDocument();
      // The one-off "first status painted" frame (jsdom drives frames with an interval) ends.
      await vi.advanceTimersByTimeAsync(20);
      await new Promise((r) => setTimeout(r, 10)); // setTimeout is real here
      expect(painted).toHaveBeenCalledTimes(1);
      // One interval drives every row and the session card.
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(60_500);
      await waitFor(() => expect(screen.getByText('53 min left')).toBeInTheDocument());
      expect(screen.getByText('retrying · 6 min left')).toBeInTheDocument();
      expect(screen.getByText(/^Session ends in 8 h 11 min/)).toBeInTheDocument();
    } finally {
      vi.useRealTimers();
    }
  });
});
