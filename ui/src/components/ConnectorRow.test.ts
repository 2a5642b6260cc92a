import { render, screen } from '@testing-library/svelte';
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

function renderRow(c: ConnectorView, props: { busy?: boolean; canRefresh?: boolean } = {}) {
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

  it.each<[ConnectorState, Partial<ConnectorView>, string, string]>([
    ['granted', { expires_at: iso(54 * 60_000 + 30_000) }, 'Granted', 'check'],
    ['denied', { error: denial }, 'Not granted by your organisation', 'slash'],
    ['needs_sign_in', {}, 'Sign in', 'key'],
    ['unsupported', {}, 'Not available zero-touch', 'minus'],
    ['misconfigured', { error: { stage: 'jwt_bearer', code: 'invalid_client', hint: 'Tell your admin' } }, 'Set-up problem: tell your IT admin', 'alert'],
    ['unreachable', { expires_at: iso(7 * 60_000) }, "Can't reach mcp.linear.app; retrying", 'cloud-off'],
    ['pending', {}, 'Checking…', 'spinner'],
  ])('%s', (state, extra, words, icon) => {
    const { li } = renderRow(connector(state, extra));
    expect(li).toHaveAttribute('data-state', state);
    const label = li.querySelector('.badge')!;
    expect(label).toHaveTextContent(words);
    // The shape that carries the meaning alongside the colour.
    expect(label.querySelector('svg')).toHaveAttribute('data-icon', icon);
    expect(screen.getByRole('listitem', { name: 'Linear' })).toBe(li);
  });

  it('granted: live countdown from the shared tick', async () => {
    renderRow(connector('granted', { expires_at: iso(61_000), tools: 4, scopes: ['read', 'write'] }));
    expect(screen.getByText('Expires in 1 min')).toBeInTheDocument();
    expect(screen.getByText('4 tools')).toBeInTheDocument();
    expect(screen.getByText('read')).toBeInTheDocument();
    await vi.advanceTimersByTimeAsync(2000);
    await tick();
    expect(screen.getByText('Expires in 59 s')).toBeInTheDocument();
    await vi.advanceTimersByTimeAsync(59_000);
    await tick();
    expect(screen.getByText('Token expired')).toBeInTheDocument();
  });

  it('granted with no known expiry says so honestly', () => {
    renderRow(connector('granted', { expires_at: null, tools: 1 }));
    expect(screen.getByText('expiry unknown')).toBeInTheDocument();
    expect(screen.getByText('1 tool')).toBeInTheDocument();
    expect(screen.queryByText(/Expires in/)).not.toBeInTheDocument();
  });

  it("denied shows the IdP's code and the hint, and no consent fallback", () => {
    renderRow(connector('denied', { error: { ...denial, description: 'audience not allowed' } }));
    expect(screen.getByText('invalid_target').tagName).toBe('CODE');
    expect(screen.getByText('Ask your IT admin if you need Linear.')).toBeInTheDocument();
    expect(screen.getByText('audience not allowed')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /consent|authori[sz]e|connect/i })).not.toBeInTheDocument();
  });

  it('unreachable shows the last good expiry', () => {
    renderRow(connector('unreachable', { expires_at: iso(7 * 60_000 + 1000) }));
    expect(screen.getByText('Last token expires in 7 min')).toBeInTheDocument();
  });

  it('pending and busy rows are aria-busy; settled rows are not', () => {
    expect(renderRow(connector('pending')).li).toHaveAttribute('aria-busy', 'true');
    const settled = renderRow(connector('granted', { id: 'b', name: 'B' }));
    expect(settled.li).toHaveAttribute('aria-busy', 'false');
    const busy = renderRow(connector('granted', { id: 'c', name: 'C' }), { busy: true });
    expect(busy.li).toHaveAttribute('aria-busy', 'true');
  });
});

describe('ConnectorRow: Refresh', () => {
  it('calls onRefresh with the connector id', async () => {
    const { onRefresh } = renderRow(connector('granted'));
    await userEvent.click(screen.getByRole('button', { name: 'Refresh Linear' }));
    expect(onRefresh).toHaveBeenCalledWith('linear');
  });

  it('ignores clicks while busy, keeping the button focusable', async () => {
    const { onRefresh } = renderRow(connector('granted'), { busy: true });
    const button = screen.getByRole('button', { name: 'Refresh Linear' });
    expect(button).toHaveAttribute('aria-disabled', 'true');
    expect(button).not.toBeDisabled();
    await userEvent.click(button);
    expect(onRefresh).not.toHaveBeenCalled();
  });

  it('offers no Refresh when signed out', () => {
    renderRow(connector('needs_sign_in'), { canRefresh: false });
    expect(screen.queryByRole('button')).not.toBeInTheDocument();
  });
});

describe('ConnectorRow: Details', () => {
  it('opens the Details view with the connector id, only when the list offers it', async () => {
    const onDetails = vi.fn();
    render(ConnectorRow, { connector: connector('denied', { error: denial }), onRefresh: vi.fn(), onDetails, canRefresh: false });
    const button = screen.getByRole('button', { name: 'Details for Linear' });
    expect(button).toHaveAttribute('id', 'details-linear');
    await userEvent.click(button);
    expect(onDetails).toHaveBeenCalledWith('linear');
  });
});
