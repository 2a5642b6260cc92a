// The one place that maps a connector or session state to what a person sees: words, icon, tone
// and where the row sits in the list. Words follow product.md's connector states table.
import type { ConnectorState, ConnectorView, SessionState, SignInProgress, StatusView } from './backend/types';

export type IconName = 'check' | 'slash' | 'key' | 'minus' | 'alert' | 'cloud-off' | 'spinner' | 'question';

/** Colour is a second signal only: every tone comes with an icon shape and words. */
export type Tone = 'ok' | 'neutral' | 'attention' | 'problem' | 'busy';

/**
 * List order, and why: what someone must act on comes first, because a tray glance is for
 * spotting trouble ("Needs attention": sign in, tell the admin, check the network). Then what
 * works, with its expiry. Last, what policy or the vendor decided ("Not available to you"):
 * nothing on this machine can change it, so it should not crowd the top.
 * `pending` sits with granted because a renewal of a granted connector (the everyday case)
 * briefly passes through pending, and a row that jumped groups on every renewal would move under
 * the reader's eyes and lose keyboard focus.
 */
export type Group = 'attention' | 'working' | 'unavailable' | 'signed_out';

export const GROUPS: { id: Group; heading: string }[] = [
  { id: 'attention', heading: 'Needs attention' },
  { id: 'working', heading: 'Working' },
  { id: 'unavailable', heading: 'Not available to you' },
];

export interface StateLook {
  label: string;
  icon: IconName;
  tone: Tone;
  group: Group;
}

const LOOKS: Record<ConnectorState, StateLook> = {
  granted: { label: 'Granted', icon: 'check', tone: 'ok', group: 'working' },
  pending: { label: 'Checking…', icon: 'spinner', tone: 'busy', group: 'working' },
  needs_sign_in: { label: 'Sign in', icon: 'key', tone: 'attention', group: 'attention' },
  misconfigured: { label: 'Set-up problem: tell your IT admin', icon: 'alert', tone: 'problem', group: 'attention' },
  unreachable: { label: "Can't reach the server; retrying", icon: 'cloud-off', tone: 'attention', group: 'attention' },
  denied: { label: 'Not granted by your organisation', icon: 'slash', tone: 'neutral', group: 'unavailable' },
  unsupported: { label: 'Not available zero-touch', icon: 'minus', tone: 'neutral', group: 'unavailable' },
};

/** A state this window does not know (a newer host) still renders, in words, without guessing. */
export function lookFor(state: string): StateLook {
  return LOOKS[state as ConnectorState] ?? { label: state, icon: 'question', tone: 'neutral', group: 'attention' };
}

/**
 * The state's words for one connector. `unreachable` names the host it cannot reach: the IdP when
 * the token exchange failed (pass the session's issuer), else the connector's own server.
 */
export function stateLabel(c: ConnectorView, idpIssuer?: string): string {
  if (c.state === 'unreachable') {
    const host =
      c.error?.stage === 'token_exchange'
        ? (hostOf(idpIssuer) ?? "your company's sign-in service")
        : (hostOf(c.mcp_url) ?? 'the server');
    return `Can't reach ${host}; retrying`;
  }
  return lookFor(c.state).label;
}

/** What to do next, for states whose label alone does not say it. */
export function stateAdvice(c: ConnectorView): string | null {
  switch (c.state) {
    case 'needs_sign_in':
      return 'Needs your company sign-in: use Sign in above, and this connector follows.';
    default:
      return null;
  }
}

/** Connectors in display groups, each sorted by name so rows keep their place as time passes. */
export function groupConnectors(
  connectors: ConnectorView[],
  signedIn = true,
): { id: Group; heading: string; connectors: ConnectorView[] }[] {
  const byName = (a: ConnectorView, b: ConnectorView) => a.name.localeCompare(b.name);
  // Signed out, nothing is broken: every connector simply waits for the sign-in. One calm
  // group instead of eight alarming "needs attention" rows.
  if (!signedIn) {
    return connectors.length === 0
      ? []
      : [{ id: 'signed_out', heading: 'Available after you sign in', connectors: [...connectors].sort(byName) }];
  }
  return GROUPS.map((g) => ({
    ...g,
    connectors: connectors.filter((c) => lookFor(c.state).group === g.id).sort(byName),
  })).filter((g) => g.connectors.length > 0);
}

export const SESSION_LABELS: Record<SessionState, string> = {
  signed_in: 'Signed in',
  signed_out: 'Not signed in',
  expired: 'Session expired',
};

export function hostOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

/** Which leg failed, in words support staff and admins recognise. */
export const STAGE_LABELS: Record<string, string> = {
  discovery: 'during discovery',
  token_exchange: "from the IdP's token exchange",
  jwt_bearer: "from the connector's authorization server",
  mcp: 'from the MCP server',
};

/** Words for each sign-in phase (event `sign-in-progress`). */
export function signInPhaseText(p: SignInProgress): string {
  switch (p.phase) {
    case 'opening_browser':
      return 'Opening your browser…';
    case 'waiting_for_browser':
      return 'Finish signing in in your browser.';
    case 'resolving':
      return 'Signed in. Getting your connectors…';
    case 'done':
      return 'Signed in.';
    case 'failed':
      return p.message || 'Sign-in failed.';
  }
}

/**
 * What changed between two status views, as one sentence for the polite live region. Only state
 * changes are announced: countdown ticks would make a screen reader talk every second.
 */
export function describeChanges(prev: StatusView, next: StatusView): string {
  const parts: string[] = [];
  if (prev.session.state !== next.session.state) {
    parts.push(
      next.session.state === 'signed_in' && next.session.email
        ? `Signed in as ${next.session.email}`
        : SESSION_LABELS[next.session.state],
    );
  }
  const before = new Map(prev.connectors.map((c) => [c.id, c.state]));
  for (const c of next.connectors) {
    if (before.get(c.id) !== c.state) parts.push(`${c.name}: ${stateLabel(c, next.session.issuer)}`);
  }
  return parts.length ? `${parts.join('. ')}.` : '';
}
