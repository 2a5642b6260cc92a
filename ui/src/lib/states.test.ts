import { describe, expect, it } from 'vitest';
import type { ConnectorState, ConnectorView, StatusView } from './backend/types';
import { describeChanges, groupConnectors, lookFor, signInPhaseText, stateLabel } from './states';

const ALL: ConnectorState[] = ['granted', 'denied', 'needs_sign_in', 'unsupported', 'misconfigured', 'unreachable', 'pending'];

const row = (id: string, state: ConnectorState, name = id): ConnectorView => ({
  id,
  name,
  mcp_url: `https://${id}.example.com/mcp`,
  state,
  expires_at: null,
  scopes: [],
  tools: null,
});

describe('state looks', () => {
  it("uses product.md's words", () => {
    expect(lookFor('granted').label).toBe('Granted');
    expect(lookFor('denied').label).toBe('Not granted by your organisation');
    expect(lookFor('needs_sign_in').label).toBe('Sign in');
    expect(lookFor('unsupported').label).toBe('Not available zero-touch');
    expect(stateLabel(row('linear', 'unreachable'))).toBe("Can't reach linear.example.com; retrying");
    const idpDown = { ...row('linear', 'unreachable'), error: { stage: 'token_exchange', code: 'network', hint: '' } } as const;
    expect(stateLabel(idpDown, 'https://acme.okta.com')).toBe("Can't reach acme.okta.com; retrying");
    expect(stateLabel(idpDown)).toBe("Can't reach your company's sign-in service; retrying");
  });

  it('gives every state its own icon shape, so colour is never the only signal', () => {
    const icons = ALL.map((s) => lookFor(s).icon);
    expect(new Set(icons).size).toBe(ALL.length);
    expect(icons).not.toContain('question');
  });

  it('renders an unknown state from a newer host in its own words', () => {
    expect(lookFor('quarantined')).toMatchObject({ label: 'quarantined', icon: 'question' });
  });
});

describe('groupConnectors', () => {
  it('puts what needs action first, then what works, then policy outcomes; by name inside', () => {
    const groups = groupConnectors([
      row('slack', 'unsupported', 'Slack'),
      row('linear', 'granted', 'Linear'),
      row('asana', 'denied', 'Asana'),
      row('canva', 'misconfigured', 'Canva'),
      row('atlassian', 'granted', 'Atlassian'),
      row('figma', 'pending', 'Figma'),
      row('supabase', 'unreachable', 'Supabase'),
      row('box', 'needs_sign_in', 'Box'),
    ]);
    expect(groups.map((g) => [g.heading, g.connectors.map((c) => c.name)])).toEqual([
      ['Needs attention', ['Box', 'Canva', 'Supabase']],
      ['Working', ['Atlassian', 'Figma', 'Linear']],
      ['Not available to you', ['Asana', 'Slack']],
    ]);
  });

  it('leaves out empty groups', () => {
    expect(groupConnectors([row('a', 'granted')]).map((g) => g.id)).toEqual(['working']);
    expect(groupConnectors([])).toEqual([]);
  });

  it('puts everything in one calm group when signed out', () => {
    const groups = groupConnectors([row('b', 'needs_sign_in'), row('a', 'needs_sign_in')], false);
    expect(groups.map((g) => g.id)).toEqual(['signed_out']);
    expect(groups[0].heading).toBe('Available after you sign in');
    expect(groups[0].connectors.map((c) => c.id)).toEqual(['a', 'b']);
  });
});

describe('describeChanges', () => {
  const status = (session: StatusView['session']['state'], connectors: ConnectorView[]): StatusView => ({
    version: 1,
    session: { state: session, email: 'ada@lab.example', expires_at: null, renewable: false },
    connectors,
  });

  it('announces session and connector state changes only', () => {
    const before = status('signed_out', [row('linear', 'needs_sign_in', 'Linear'), row('slack', 'unsupported', 'Slack')]);
    const after = status('signed_in', [row('linear', 'granted', 'Linear'), row('slack', 'unsupported', 'Slack')]);
    expect(describeChanges(before, after)).toBe('Signed in as ada@lab.example. Linear: Granted.');
    expect(describeChanges(after, structuredClone(after))).toBe('');
  });
});

describe('signInPhaseText', () => {
  it('words each phase, and shows the failure message', () => {
    expect(signInPhaseText({ phase: 'waiting_for_browser' })).toBe('Finish signing in in your browser.');
    expect(signInPhaseText({ phase: 'failed', message: 'Port in use' })).toBe('Port in use');
    expect(signInPhaseText({ phase: 'failed' })).toBe('Sign-in failed.');
  });
});
