// The Diagnostics page (issue 5) against the fake backend: environment, clock check, token
// summaries (never a raw token), readiness per connector and the support bundle.
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import { createFakeBackend, type ScenarioName } from './lib/backend/fake';

async function openDiagnostics(scenario: ScenarioName = 'ada') {
  const backend = createFakeBackend(scenario, { stepMs: 0 });
  const user = userEvent.setup();
  render(App, { backend });
  await screen.findByText('ada@lab.example');
  await user.click(screen.getByRole('button', { name: 'Diagnostics' }));
  await screen.findByRole('heading', { name: 'This computer' });
  return { backend, user };
}

const region = (name: string) => screen.getByRole('region', { name });

describe('Diagnostics page', () => {
  it('opens from the header with focus on its heading, and Back returns focus to the button', async () => {
    const { user } = await openDiagnostics();
    expect(screen.getByRole('heading', { name: 'Diagnostics' })).toHaveFocus();
    expect(screen.queryByRole('button', { name: 'Diagnostics' })).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Back' }));
    expect(screen.getByRole('button', { name: 'Diagnostics' })).toHaveFocus();
    expect(screen.getByRole('button', { name: 'Refresh all' })).toBeInTheDocument();
  });

  it('shows the environment: app version, OS and whether the keyring is reachable', async () => {
    await openDiagnostics();
    const env = region('This computer');
    expect(within(env).getByText('Lanyard').nextElementSibling).toHaveTextContent('0.1.0');
    expect(within(env).getByText('System').nextElementSibling).toHaveTextContent('linux (Ubuntu 24.04), x86_64');
    const keyring = within(env).getByText('Keyring').nextElementSibling as HTMLElement;
    expect(keyring).toHaveTextContent('Reachable');
    expect(keyring.querySelector('svg')).toHaveAttribute('data-icon', 'check');
    expect(screen.getByText('LY-0D07-4FB1-E7B7')).toBeInTheDocument();
  });

  it('an in-sync clock says so and warns of nothing', async () => {
    await openDiagnostics();
    const clock = region('Clock');
    expect(clock).toHaveTextContent("This computer's clock agrees with the servers.");
    expect(within(clock).queryByText('Off')).not.toBeInTheDocument();
    expect(within(clock).getByText(/1 s ahead of this computer/)).toBeInTheDocument();
  });

  it('a skewed clock shows the warning sentence and each server offset, marked Off in words', async () => {
    await openDiagnostics('clock-skew');
    const clock = region('Clock');
    expect(clock).toHaveTextContent("This computer's clock is off by 4 min 1 s (ahead).");
    expect(clock).toHaveTextContent(/This computer's clock is 4 min 1 s ahead of every server .* Turn on automatic date and time/);
    const rows = within(clock).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toHaveTextContent("your company's sign-in service (IdP)");
    expect(rows[0]).toHaveTextContent('Off');
    expect(rows[0]).toHaveTextContent('4 min 2 s behind this computer');
    expect(within(rows[1]).getByRole('rowheader')).toHaveTextContent('Linear');
  });

  it('summarises tokens decoded, with signature verdicts, and never a raw token', async () => {
    await openDiagnostics();
    const tokens = region('Tokens');
    const id = within(tokens).getByRole('article', { name: 'ID token (your company sign-in)' });
    expect(id).toHaveTextContent('Signature verified');
    expect(id).toHaveTextContent('RS256, key lab-2026-06, published by https://idp.lab.example');
    expect(within(id).getByText('email').nextElementSibling).toHaveTextContent('ada@lab.example');
    const exp = within(id).getByRole('row', { name: /exp/ });
    expect(exp).toHaveTextContent('in 50 min');
    expect(within(id).getByText('sha256:9c1e…07ab')).toBeInTheDocument();
    const granola = within(tokens).getByRole('article', { name: 'Access token: Granola' });
    expect(granola).toHaveTextContent('opaque (nothing to decode)');
    expect(granola).toHaveTextContent('Signature not verified');
    expect(granola).toHaveTextContent('an opaque token has no signature to check');
    expect(within(tokens).getAllByRole('article')).toHaveLength(5);
    expect(document.body.innerHTML).not.toMatch(/eyJ|labsecret_/);
  });

  it('Check readiness runs per connector and shows pass / fail / skipped with detail', async () => {
    const { backend, user } = await openDiagnostics();
    const run = vi.spyOn(backend, 'runReadiness');
    await user.click(screen.getByRole('button', { name: 'Check readiness of Slack' }));
    expect(run).toHaveBeenCalledWith('slack');
    const slack = await screen.findByRole('list', { name: 'Readiness checks for Slack' });
    const advertised = within(slack).getAllByRole('listitem').find((li) => li.textContent?.includes('advertises the ID-JAG'))!;
    expect(advertised).toHaveAttribute('data-outcome', 'fail');
    expect(advertised).toHaveTextContent('Fail');
    expect(advertised).toHaveTextContent('authorization_grant_profiles_supported is missing');
    expect(screen.getByText('Not ready')).toBeInTheDocument();
    // Without a token, the token checks are skipped, never guessed.
    expect(within(slack).getAllByText('Skipped')).toHaveLength(4);

    await user.click(screen.getByRole('button', { name: 'Check readiness of Linear' }));
    const linear = await screen.findByRole('list', { name: 'Readiness checks for Linear' });
    expect(within(linear).getAllByText('Pass')).toHaveLength(9);
    expect(screen.getByText('Ready')).toBeInTheDocument();
    expect(screen.getByText(/^9 passed, 0 failed, 0 skipped/)).toBeInTheDocument();
  });

  it('a failed readiness check shows its code', async () => {
    const { backend, user } = await openDiagnostics();
    vi.spyOn(backend, 'runReadiness').mockRejectedValueOnce({ code: 'keyring_unavailable', message: 'The keyring is locked.' });
    await user.click(screen.getByRole('button', { name: 'Check readiness of Asana' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent("Couldn't check Asana: The keyring is locked.");
    expect(within(alert).getByText('keyring_unavailable')).toBeInTheDocument();
  });

  it('Save support bundle shows the path, the incident id and that it is safe to attach', async () => {
    const { backend, user } = await openDiagnostics();
    const save = vi.spyOn(backend, 'saveSupportBundle');
    await user.click(screen.getByRole('button', { name: 'Save support bundle' }));
    expect(save).toHaveBeenCalledWith();
    const bundle = region('Support bundle');
    expect(await within(bundle).findByText('/home/ada/Desktop/lanyard-support-LY-0D07-4FB1-E7B1.json')).toBeInTheDocument();
    expect(within(bundle).getByText('LY-0D07-4FB1-E7B1')).toHaveClass('incident');
    expect(within(bundle).getAllByText('Safe to attach: no tokens.').length).toBeGreaterThan(0);
  });
});
