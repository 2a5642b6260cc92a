import { describe, expect, it } from 'vitest';
import type { ConnectorState, ConnectorView, StatusView } from './backend/types';
import { describeChanges, groupConnectors, lookFor, matchesFilter, rowNote, signInPhaseText, stateLabel, summarize } from './states';

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

describe('the compact row', () => {
  it('has a short word per state, each different, so rows stay one line', () => {
    const words = ALL.map((s) => lookFor(s).word);
    expect(new Set(words).size).toBe(ALL.length);
    for (const w of words) expect(w.length).toBeLessThanOrEqual(14);
  });

  it('notes the time left, or a short reason where there is no token', () => {
    expect(rowNote(row('a', 'granted'), '54 min')).toBe('54 min left');
    expect(rowNote(row('a', 'granted'), null)).toBe('expiry unknown');
    expect(rowNote(row('a', 'granted'), 'expired')).toBe('expired');
    expect(rowNote(row('a', 'unreachable'), '4 min')).toBe('retrying · 4 min left');
    expect(rowNote(row('a', 'unreachable'), 'expired')).toBe('retrying');
    expect(rowNote(row('a', 'denied'), null)).toBe('by your organisation');
    expect(rowNote(row('a', 'misconfigured'), null)).toBe('tell your IT admin');
    expect(rowNote(row('a', 'unsupported'), null)).toBe("its server can't yet");
    expect(rowNote(row('a', 'needs_sign_in'), null)).toBe('');
  });
});

describe('summarize', () => {
  it("says ada's policy as the issue does", () => {
    const ada = [
      ...['atlassian', 'granola', 'linear', 'supabase'].map((id) => row(id, 'granted')),
      ...['asana', 'canva', 'figma'].map((id) => row(id, 'denied')),
      row('slack', 'unsupported'),
    ];
    expect(summarize(ada)).toBe('4 working · 3 not assigned · 1 not zero-touch');
  });

  it('puts what needs action first, counts one and many, and keeps unknown states in their words', () => {
    expect(
      summarize([row('a', 'granted'), row('b', 'misconfigured'), row('c', 'needs_sign_in'), row('d', 'needs_sign_in'), row('e', 'quarantined' as ConnectorState), row('f', 'unreachable'), row('g', 'pending')]),
    ).toBe('1 set-up problem · 1 unreachable · 2 need sign-in · 1 working · 1 checking · 1 quarantined');
    expect(summarize([])).toBe('');
  });
});

describe('matchesFilter', () => {
  const linear = row('lin-01', 'denied', 'Linear');
  it.each(['lin', 'LINEAR', 'lin-01', 'not granted', 'Not granted by your', 'not assigned', '  linear  ', ''])('"%s" matches', (q) => {
    expect(matchesFilter(linear, q)).toBe(true);
  });
  it.each(['figma', 'asana', 'working', 'zero'])('"%s" does not', (q) => {
    expect(matchesFilter(linear, q)).toBe(false);
  });
  it('matches the host an unreachable connector names', () => {
    const down = { ...row('x', 'unreachable', 'X'), error: { stage: 'token_exchange', code: 'network', hint: '' } } as const;
    expect(matchesFilter(down, 'acme.okta', 'https://acme.okta.com')).toBe(true);
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
    expect(signInPhaseText({ phase: 'waiting_for_browser' })).toBe('Finish signing in in your browser; Lanyard then gets your connectors.');
    expect(signInPhaseText({ phase: 'failed', message: 'Port in use' })).toBe('Port in use');
    expect(signInPhaseText({ phase: 'failed' })).toBe('Sign-in failed.');
  });
});
