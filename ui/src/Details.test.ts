// The Details view (issue 5) against the fake backend: a connector's or the sign-in's timeline,
// the failure explained for the employee and the admin, the key claims, focus in and out.
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import { createFakeBackend, type ScenarioName } from './lib/backend/fake';

/** Clicks a Details button; a connector's sits in its row, which is opened first. */
async function clickDetails(user: ReturnType<typeof userEvent.setup>, button: string) {
  const connector = /^Details for (.+)$/.exec(button)?.[1];
  if (connector) {
    const row = screen.getByRole('listitem', { name: connector });
    const closed = within(row).queryByRole('button', { expanded: false });
    if (closed) await user.click(closed);
  }
  await user.click(screen.getByRole('button', { name: button }));
}

async function open(scenario: ScenarioName, button: string) {
  const backend = createFakeBackend(scenario, { stepMs: 0 });
  const getTimeline = vi.spyOn(backend, 'getTimeline');
  const user = userEvent.setup();
  render(App, { backend });
  await screen.findByText('ada@lab.example');
  await clickDetails(user, button);
  return { backend, user, getTimeline };
}

const steps = () => screen.getAllByRole('listitem').filter((li) => li.classList.contains('step'));

describe('Details: a denial (invalid_target at the token exchange)', () => {
  it('shows each step, the failed one with status and OAuth code, and moves focus to the page', async () => {
    const { getTimeline } = await open('ada', 'Details for Asana');
    expect(getTimeline).toHaveBeenCalledWith('asana');
    const heading = screen.getByRole('heading', { name: 'Details: Asana' });
    expect(heading).toHaveFocus();
    // The list is gone while the page is open.
    expect(screen.queryByRole('button', { name: 'Refresh all' })).not.toBeInTheDocument();
    await screen.findByRole('heading', { name: 'Steps' });
    const rows = steps();
    expect(rows.map((li) => li.querySelector('.leg')?.textContent)).toEqual([
      'MCP probe (no token)',
      'Protected-resource metadata',
      'Authorization-server metadata',
      'Token exchange at the IdP (ID-JAG)',
    ]);
    const failed = rows[3];
    expect(failed).toHaveAttribute('data-verdict', 'failed');
    expect(within(failed).getByText('Failed')).toBeInTheDocument();
    expect(within(failed).getByText('HTTP 400')).toBeInTheDocument();
    expect(within(failed).getByText('invalid_target').tagName).toBe('CODE');
    expect(within(failed).getByText('POST https://idp.lab.example/oauth2/v1/token')).toBeInTheDocument();
    expect(within(rows[0]).getByText('38 ms')).toBeInTheDocument();
  });

  it('explains the failure separately for the employee and the IT admin, with the server words', async () => {
    await open('ada', 'Details for Asana');
    const why = await screen.findByRole('region', { name: 'Why it failed' });
    expect(why).toHaveTextContent("The organisation hasn't assigned Asana to this user");
    const you = within(why).getByRole('heading', { name: 'What you can do' });
    expect(you.nextElementSibling).toHaveTextContent('Ask IT to give you access to Asana.');
    const admin = within(why).getByRole('heading', { name: 'For your IT admin' });
    expect(admin.nextElementSibling).toHaveTextContent("Check the user's group assignment for Asana's resource connection");
    expect(why).toHaveTextContent('The server said: The requested audience is not permitted for this user.');
    expect(within(why).queryByText(/Clock:/)).not.toBeInTheDocument();
  });

  it('Back (and Escape) return to the list with focus on the Details button', async () => {
    const { user } = await open('ada', 'Details for Asana');
    await user.click(screen.getByRole('button', { name: 'Back' }));
    // The row stayed open across the page change, so its Details button is there to take focus.
    expect(screen.getByRole('button', { name: 'Details for Asana' })).toHaveFocus();
    await clickDetails(user, 'Details for Figma');
    expect(screen.getByRole('heading', { name: 'Details: Figma' })).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(screen.getByRole('button', { name: 'Details for Figma' })).toHaveFocus();
  });
});

describe('Details: granted, IdP down, clock skew, sign-in', () => {
  it('a grant shows requested → ID-JAG → granted claims decoded, and no raw token', async () => {
    await open('ada', 'Details for Linear');
    const claims = await screen.findByRole('region', { name: 'Key claims across steps' });
    const stage = (key: string) => claims.querySelector(`[data-stage="${key}"]`) as HTMLElement;
    expect(within(stage('requested')).getByText('audience').nextElementSibling).toHaveTextContent('https://linear.lab.example');
    expect(within(stage('requested')).getByText('resource').nextElementSibling).toHaveTextContent('https://linear.lab.example/mcp');
    expect(within(stage('id_jag')).getByText('scope').nextElementSibling).toHaveTextContent('read write');
    // Epoch seconds become a date a person can read, with the exact instant in UTC.
    expect(within(stage('id_jag')).getByText('exp').nextElementSibling).toHaveTextContent(/\(\d{4}-\d\d-\d\dT.*Z\)/);
    expect(within(stage('granted')).getByText('token_type').nextElementSibling).toHaveTextContent('Bearer');
    expect(screen.getByText('Worked')).toBeInTheDocument();
    expect(steps()).toHaveLength(7);
    expect(steps().every((li) => li.dataset.verdict === 'ok')).toBe(true);
    expect(document.body.innerHTML).not.toMatch(/eyJ|labsecret_/);
  });

  it('IdP down: the exchange got no answer, explained as connection refused', async () => {
    await open('idp-unreachable', 'Details for Linear');
    await screen.findByRole('heading', { name: 'Steps' });
    const last = steps().at(-1)!;
    expect(within(last).getByText('No HTTP answer')).toBeInTheDocument();
    expect(within(last).getByText('3.0 s')).toBeInTheDocument();
    expect(within(last).getByText(/Connection refused/)).toBeInTheDocument();
    const why = screen.getByRole('region', { name: 'Why it failed' });
    expect(within(why).getByText('connect_refused')).toBeInTheDocument();
    expect(why).toHaveTextContent('Check your network or VPN; Lanyard retries on its own.');
  });

  it('a time-related failure carries the clock note', async () => {
    await open('clock-skew', 'Details for Linear');
    const why = await screen.findByRole('region', { name: 'Why it failed' });
    expect(within(why).getByText('invalid_grant')).toBeInTheDocument();
    expect(why).toHaveTextContent("Clock: Linear (https://linear.lab.example)'s clock is 3 min 59 s behind this computer's");
  });

  it('the sign-in has its own Details entry', async () => {
    const { getTimeline } = await open('ada', 'Sign-in details');
    expect(getTimeline).toHaveBeenCalledWith('sign-in');
    expect(screen.getByRole('heading', { name: 'Details: Sign-in' })).toHaveFocus();
    await screen.findByRole('heading', { name: 'Steps' });
    expect(steps().map((li) => li.dataset.verdict)).toEqual(['ok', 'info', 'ok', 'ok', 'ok']);
    expect(screen.getByText('Authorization (browser)')).toBeInTheDocument();
  });

  it('nothing recorded yet says so', async () => {
    const backend = createFakeBackend('signed-out', { stepMs: 0 });
    const user = userEvent.setup();
    render(App, { backend });
    await user.click(await screen.findByRole('button', { name: 'Sign-in details' }));
    expect(await screen.findByText(/Nothing recorded yet/)).toBeInTheDocument();
  });

  it('a failed load shows the code and can retry', async () => {
    const backend = createFakeBackend('ada', { stepMs: 0 });
    const getTimeline = vi.spyOn(backend, 'getTimeline').mockRejectedValueOnce({ code: 'internal', message: 'No trace file.', detail: 'state_unavailable' });
    const user = userEvent.setup();
    render(App, { backend });
    await screen.findByText('ada@lab.example');
    await clickDetails(user, 'Details for Slack');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('No trace file.');
    expect(within(alert).getByText('internal')).toBeInTheDocument();
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(getTimeline).toHaveBeenCalledTimes(2);
    expect(await screen.findByText('no_id_jag_support')).toBeInTheDocument();
    expect(screen.getByText("Slack can't be connected zero-touch yet; connect it from the app that uses it.")).toBeInTheDocument();
  });
});
