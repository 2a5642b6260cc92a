import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { tick } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConnectorState, ConnectorView } from '../lib/backend/types';
import ConnectorRow from './ConnectorRow.svelte';

const T0 = Date.parse('2026-06-01T12:00:00Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function connector(state: ConnectorState, extra: Partial<ConnectorView> = {}): ConnectorView {
  return { id: 'linear', name: 'Linear', mcp_url: 'https://mcp.linear.app/mcp', state, expires_at: null, scopes: [], tools: null, ...extra };
}

const denial = { stage: 'token_exchange', code: 'invalid_target', hint: 'Ask your IT admin if you need Linear.' } as const;

interface RowProps {
  busy?: boolean;
  canRefresh?: boolean;
  expanded?: boolean;
  onDetails?: (id: string) => void;
  onToggle?: (id: string) => void;
}

function renderRow(c: ConnectorView, props: RowProps = {}) {
  const onRefresh = vi.fn();
  const result = render(ConnectorRow, { connector: c, onRefresh, ...props });
  const li = result.container.querySelector('li')!;
  return { ...result, li, onRefresh };
}

describe('ConnectorRow: every state in words and shape, not colour alone', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  it.each<[ConnectorState, Partial<ConnectorView>, string, string, string, string]>([
    ['granted', { expires_at: iso(54 * 60_000 + 30_000) }, 'Granted', 'check', '54 min left', 'Granted'],
    ['denied', { error: denial }, 'Not granted', 'slash', 'by your organisation', 'Not granted by your organisation'],
    ['needs_sign_in', {}, 'Sign in', 'key', '', 'Sign in'],
    ['unsupported', {}, 'Not zero-touch', 'minus', "its server can't yet", 'Not available zero-touch'],
    [
      'misconfigured',
      { error: { stage: 'jwt_bearer', code: 'invalid_client', hint: 'Tell your admin' } },
      'Set-up problem',
      'alert',
      'tell your IT admin',
      'Set-up problem: tell your IT admin',
    ],
    ['unreachable', { expires_at: iso(7 * 60_000 + 1000) }, "Can't reach", 'cloud-off', 'retrying · 7 min left', "Can't reach mcp.linear.app; retrying"],
    ['pending', {}, 'Checking…', 'spinner', '', 'Checking…'],
  ])('%s', (state, extra, word, icon, note, full) => {
    const { li } = renderRow(connector(state, extra));
    expect(li).toHaveAttribute('data-state', state);
    expect(screen.getByRole('listitem', { name: 'Linear' })).toBe(li);
    const label = li.querySelector('.badge')!;
    expect(label).toHaveTextContent(new RegExp(`^${word}$`));
    // The shape that carries the meaning alongside the colour.
    expect(label.querySelector('svg')).toHaveAttribute('data-icon', icon);
    expect(li.querySelector('.note')!.textContent).toBe(note);
    // Collapsed: one line, no details in the document.
    const toggle = within(li).getByRole('button', { expanded: false });
    expect(toggle).toHaveAccessibleName(`Linear ${word} ${note}`.trim());
    // Nothing to point at while closed: the details are not in the document.
    expect(toggle).not.toHaveAttribute('aria-controls');
    expect(li.querySelector('.more')).toBeNull();
    expect(within(li).queryByText(full, { selector: '.full' })).toBeNull();
  });

  it.each<[ConnectorState, Partial<ConnectorView>, string]>([
    ['denied', { error: denial }, 'Not granted by your organisation'],
    ['unsupported', {}, 'Not available zero-touch'],
    ['unreachable', { expires_at: iso(7 * 60_000) }, "Can't reach mcp.linear.app; retrying"],
    ['misconfigured', {}, 'Set-up problem: tell your IT admin'],
  ])('%s, opened: the full words from product.md', (state, extra, full) => {
    const { li } = renderRow(connector(state, extra), { expanded: true });
    expect(within(li).getByRole('button', { expanded: true })).toHaveAttribute('aria-controls', 'more-linear');
    expect(li.querySelector('#more-linear .full')).toHaveTextContent(full);
  });

  it('granted: live countdown from the shared tick, in the row and the open details', async () => {
    const { li } = renderRow(connector('granted', { expires_at: iso(61_000), tools: 4, scopes: ['read', 'write'] }), { expanded: true });
    const note = li.querySelector('.note')!;
    expect(note).toHaveTextContent('1 min left');
    expect(screen.getByText('Expires in 1 min')).toBeInTheDocument();
    expect(screen.getByText('4 tools')).toBeInTheDocument();
    expect(screen.getByText('read')).toBeInTheDocument();
    await vi.advanceTimersByTimeAsync(2000);
    await tick();
    expect(note).toHaveTextContent('59 s left');
    expect(screen.getByText('Expires in 59 s')).toBeInTheDocument();
    await vi.advanceTimersByTimeAsync(59_000);
    await tick();
    expect(note).toHaveTextContent(/^expired$/);
    expect(screen.getByText('Token expired')).toBeInTheDocument();
  });

  it('granted with no known expiry says so honestly', () => {
    const { li } = renderRow(connector('granted', { expires_at: null, tools: 1 }), { expanded: true });
    expect(li.querySelector('.note')).toHaveTextContent(/^expiry unknown$/);
    expect(screen.getByText('Expiry unknown')).toBeInTheDocument();
    expect(screen.getByText('1 tool')).toBeInTheDocument();
    expect(screen.queryByText(/Expires in/)).not.toBeInTheDocument();
  });

  it("denied, opened: the IdP's code and the hint, and no consent fallback", () => {
    renderRow(connector('denied', { error: { ...denial, description: 'audience not allowed' } }), { expanded: true });
    expect(screen.getByText('invalid_target').tagName).toBe('CODE');
    expect(screen.getByText("from the IdP's token exchange")).toBeInTheDocument();
    expect(screen.getByText('Ask your IT admin if you need Linear.')).toBeInTheDocument();
    expect(screen.getByText('audience not allowed')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /consent|authori[sz]e|connect/i })).not.toBeInTheDocument();
  });

  it('unreachable shows the last good expiry; an expired one is only "retrying"', () => {
    renderRow(connector('unreachable', { expires_at: iso(7 * 60_000 + 1000) }), { expanded: true });
    expect(screen.getByText('Last token expires in 7 min')).toBeInTheDocument();
    const gone = renderRow(connector('unreachable', { id: 'b', name: 'B', expires_at: iso(-1000) }));
    expect(gone.li.querySelector('.note')!.textContent).toBe('retrying');
  });

  it('pending and busy rows are aria-busy; settled rows are not; busy says Refreshing…', () => {
    expect(renderRow(connector('pending')).li).toHaveAttribute('aria-busy', 'true');
    const settled = renderRow(connector('granted', { id: 'b', name: 'B' }));
    expect(settled.li).toHaveAttribute('aria-busy', 'false');
    const busy = renderRow(connector('granted', { id: 'c', name: 'C' }), { busy: true });
    expect(busy.li).toHaveAttribute('aria-busy', 'true');
    expect(busy.li.querySelector('.note')!.textContent).toBe('Refreshing…');
  });
});

describe('ConnectorRow: opening', () => {
  it('a click on the row asks to toggle it, by id', async () => {
    const onToggle = vi.fn();
    const { li } = renderRow(connector('granted'), { onToggle });
    await userEvent.click(within(li).getByRole('button', { expanded: false }));
    expect(onToggle).toHaveBeenCalledWith('linear');
  });

  it.each(['{Enter}', ' '])('the keyboard (%s) toggles it too', async (key) => {
    const onToggle = vi.fn();
    const { li } = renderRow(connector('granted'), { onToggle });
    within(li).getByRole('button', { expanded: false }).focus();
    await userEvent.keyboard(key);
    expect(onToggle).toHaveBeenCalledTimes(1);
    expect(onToggle).toHaveBeenCalledWith('linear');
  });
});

describe('ConnectorRow: Refresh (in the open row)', () => {
  it('calls onRefresh with the connector id', async () => {
    const { onRefresh } = renderRow(connector('granted'), { expanded: true });
    await userEvent.click(screen.getByRole('button', { name: 'Refresh Linear' }));
    expect(onRefresh).toHaveBeenCalledWith('linear');
  });

  it('ignores clicks while busy, keeping the button focusable', async () => {
    const { onRefresh } = renderRow(connector('granted'), { busy: true, expanded: true });
    const button = screen.getByRole('button', { name: 'Refresh Linear' });
    expect(button).toHaveAttribute('aria-disabled', 'true');
    expect(button).not.toBeDisabled();
    await userEvent.click(button);
    expect(onRefresh).not.toHaveBeenCalled();
  });

  it('offers no Refresh when signed out, nor while the row is closed', () => {
    renderRow(connector('needs_sign_in'), { canRefresh: false, expanded: true });
    expect(screen.queryByRole('button', { name: 'Refresh Linear' })).not.toBeInTheDocument();
    renderRow(connector('granted', { id: 'b', name: 'B' }));
    expect(screen.queryByRole('button', { name: 'Refresh B' })).not.toBeInTheDocument();
  });
});

describe('ConnectorRow: Details', () => {
  it('opens the Details view with the connector id, only when the list offers it', async () => {
    const onDetails = vi.fn();
    renderRow(connector('denied', { error: denial }), { onDetails, canRefresh: false, expanded: true });
    const button = screen.getByRole('button', { name: 'Details for Linear' });
    expect(button).toHaveAttribute('id', 'details-linear');
    await userEvent.click(button);
    expect(onDetails).toHaveBeenCalledWith('linear');
    renderRow(connector('denied', { id: 'b', name: 'B', error: denial }), { expanded: true });
    expect(screen.queryByRole('button', { name: 'Details for B' })).not.toBeInTheDocument();
  });
});
