// Legacy connections (issue 4) against the fake backend: the list, VS Code's explanation, the
// confirmation that lists what will happen before anything does, and the receipts.
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import { createFakeBackend, type ScenarioName } from './lib/backend/fake';

async function setup(scenario: ScenarioName = 'ada') {
  const backend = createFakeBackend(scenario, { stepMs: 0 });
  const user = userEvent.setup();
  render(App, { backend });
  await screen.findByRole('heading', { name: 'Legacy connections' });
  return { backend, user };
}

const legacyList = () => screen.findByRole('list', { name: 'Legacy connections' });
const row = (name: RegExp | string) => screen.getByRole('listitem', { name });

describe('Legacy connections: the list', () => {
  it('lists each entry with its app, connector or URL, account, expiry, refresh token and coverage', async () => {
    await setup();
    const list = await legacyList();
    expect(within(list).getAllByRole('listitem').map((li) => li.dataset.client)).toEqual([
      'claude-code',
      'mcp-remote',
      'codex',
      'gemini',
      'vs-code',
      'goose',
      'inspector-v2',
    ]);
    const claude = row('Claude Code → Linear');
    expect(claude).toHaveTextContent('Account ada@lab.example');
    expect(claude).toHaveTextContent(/Expires in (39|40) min/);
    expect(claude).toHaveTextContent('Has a refresh token');
    expect(within(claude).getByText('Covered by zero-touch')).toBeInTheDocument();
    expect(row('mcp-remote → Atlassian')).toHaveTextContent('Expired');
    expect(row('Codex CLI → Granola')).toHaveTextContent('Expiry unknown');
    expect(row('Codex CLI → Granola')).toHaveTextContent('No refresh token');
    // Unmapped: the server URL stands in for the connector; Asana is denied, so not covered.
    const goose = row('Goose → https://mcp.notion.example/mcp');
    expect(within(goose).queryByText('Covered by zero-touch')).not.toBeInTheDocument();
    expect(within(row('MCP Inspector → Asana')).queryByText('Covered by zero-touch')).not.toBeInTheDocument();
    expect(within(list).getAllByText('Covered by zero-touch')).toHaveLength(5);
    expect(screen.getByText('1 file could not be read')).toBeInTheDocument();
  });

  it("VS Code's Disconnect is disabled and says to use VS Code's own command", async () => {
    await setup();
    await legacyList();
    const vscode = row('VS Code → Linear');
    const button = within(vscode).getByRole('button', { name: 'Disconnect VS Code from Linear' });
    expect(button).toBeDisabled();
    expect(button).toHaveAccessibleDescription(/Authentication: Remove Dynamic Authentication Providers/);
    expect(vscode).toHaveTextContent("Lanyard can't remove this: VS Code encrypts its tokens.");
  });

  it('signed out, nothing is covered, so there is no Disconnect all', async () => {
    await setup('signed-out');
    await legacyList();
    expect(screen.queryByText('Covered by zero-touch')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Disconnect all/ })).not.toBeInTheDocument();
  });

  it('says so when there are none', async () => {
    await setup('empty');
    expect(await screen.findByText('No saved sign-ins from other MCP apps on this computer.')).toBeInTheDocument();
  });
});

describe('Legacy connections: Disconnect all covered by zero-touch', () => {
  it('confirms first, listing backup, removal and revocation per entry; Cancel does nothing', async () => {
    const { backend, user } = await setup();
    await legacyList();
    const covered = vi.spyOn(backend, 'disconnectLegacy');
    const all = screen.getByRole('button', { name: 'Disconnect all covered by zero-touch (4)' });
    await user.click(all);
    const dialog = screen.getByRole('dialog', { name: 'Disconnect 4 covered by zero-touch?' });
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    const plans = within(dialog).getAllByRole('listitem').filter((li) => li.querySelector('strong'));
    expect(plans.map((li) => li.querySelector('strong')?.textContent)).toEqual([
      'Claude Code → Linear',
      'mcp-remote → Atlassian',
      'Codex CLI → Granola',
      'Gemini CLI → Supabase',
    ]);
    expect(within(plans[0]).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'Back up /home/ada/.claude/.credentials.json',
      'Remove the entry from Claude Code',
      'Revoke the grant at linear.lab.example',
    ]);
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(covered).not.toHaveBeenCalled();
    expect(all).toHaveFocus();
    // Escape cancels too.
    await user.click(all);
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(covered).not.toHaveBeenCalled();
  });

  it('keeps Tab inside the dialog', async () => {
    const { user } = await setup();
    await legacyList();
    await user.click(screen.getByRole('button', { name: /Disconnect all/ }));
    const dialog = screen.getByRole('dialog');
    await user.tab();
    expect(within(dialog).getByRole('button', { name: 'Disconnect' })).toHaveFocus();
    await user.tab();
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
  });

  it('after confirming, shows a receipt per entry with each outcome and backup, and lists again', async () => {
    const { backend, user } = await setup();
    await legacyList();
    const scan = await backend.listLegacy();
    const listed = scan.entries.filter((e) => e.covered_by_ema && e.can_disconnect).map((e) => e.id);
    const covered = vi.spyOn(backend, 'disconnectLegacy');
    await user.click(screen.getByRole('button', { name: /Disconnect all/ }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Disconnect' }));
    // Exactly what the dialog listed, not a fresh scan's idea of "covered".
    expect(covered).toHaveBeenCalledTimes(1);
    expect(new Set(covered.mock.calls[0][0])).toEqual(new Set(listed));
    expect(listed).toHaveLength(4);
    const receipts = await screen.findByRole('region', { name: 'What happened' });
    expect(within(receipts).getByRole('heading', { name: 'What happened' })).toHaveFocus();
    const items = within(receipts).getAllByRole('listitem');
    expect(items.map((li) => li.dataset.outcome)).toEqual(['revoked', 'revoked', 'no_endpoint', 'failed']);
    expect(items[0]).toHaveTextContent('Claude Code → Linear');
    expect(items[0]).toHaveTextContent('Revoked at the server');
    expect(items[2]).toHaveTextContent('Removed locally only — the grant may persist at the provider');
    expect(items[3]).toHaveTextContent('Revocation failed — will retry');
    expect(items[3]).toHaveTextContent('connection refused');
    expect(within(items[0]).getByText(/legacy-backups\/.*\/\.credentials\.json$/)).toHaveClass('backup');
    expect(screen.getByRole('status')).toHaveTextContent('Disconnected 4 of 4; 2 revoked at the server.');
    // Listed again: what was removed is gone; VS Code (which Lanyard cannot touch) stays.
    const list = await legacyList();
    await vi.waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(3));
    expect(row('VS Code → Linear')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Disconnect all/ })).not.toBeInTheDocument();
    await user.click(within(receipts).getByRole('button', { name: 'Done' }));
    expect(screen.queryByRole('region', { name: 'What happened' })).not.toBeInTheDocument();
  });
});

describe('Legacy connections: one entry', () => {
  it('Disconnect on one row confirms, then disconnects exactly that id', async () => {
    const { backend, user } = await setup();
    await legacyList();
    const one = vi.spyOn(backend, 'disconnectLegacy');
    await user.click(screen.getByRole('button', { name: 'Disconnect Goose from https://mcp.notion.example/mcp' }));
    const dialog = screen.getByRole('dialog', { name: 'Disconnect Goose?' });
    expect(dialog).toHaveTextContent('Revoke the grant at mcp.notion.example');
    expect(one).not.toHaveBeenCalled();
    await user.click(within(dialog).getByRole('button', { name: 'Disconnect' }));
    expect(one).toHaveBeenCalledWith(['goose:9f31']);
    const receipts = await screen.findByRole('region', { name: 'What happened' });
    expect(receipts).toHaveTextContent('Goose → https://mcp.notion.example/mcp');
    expect(receipts).toHaveTextContent('Revoked at the server');
  });

  it('a failed disconnect shows the code', async () => {
    const { backend, user } = await setup();
    await legacyList();
    vi.spyOn(backend, 'disconnectLegacy').mockRejectedValueOnce({ code: 'internal', message: 'File is locked.' });
    await user.click(screen.getByRole('button', { name: 'Disconnect MCP Inspector from Asana' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Disconnect' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('File is locked.');
    expect(within(alert).getByText('internal')).toBeInTheDocument();
  });
});
