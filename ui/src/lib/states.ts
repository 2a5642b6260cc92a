// The one place that maps a connector or session state to what a person sees: words, icon, tone
// and where the row sits in the list. The words themselves come from the core
// (`ConnectorState::label`/`word`, generated into backend/status.generated.ts), so the window, the
// CLI and the tray say the same thing.
import type { ConnectorState, ConnectorView, SessionState, SignInProgress, StatusView } from './backend/types';
import { STATE_LABELS, STATE_WORDS } from './backend/status.generated';

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
  /** product.md's words, shown in full when a row is open and in announcements. */
  label: string;
  /** The same state in one or two words, for the compact row. */
  word: string;
  /** The summary line's words for a count of connectors in this state: [one, many]. */
  counted: [string, string];
  icon: IconName;
  tone: Tone;
  group: Group;
}

const LOOKS: Record<ConnectorState, StateLook> = {
  granted: { label: STATE_LABELS.granted, word: STATE_WORDS.granted, counted: ['working', 'working'], icon: 'check', tone: 'ok', group: 'working' },
  pending: { label: STATE_LABELS.pending, word: STATE_WORDS.pending, counted: ['checking', 'checking'], icon: 'spinner', tone: 'busy', group: 'working' },
  needs_sign_in: { label: STATE_LABELS.needs_sign_in, word: STATE_WORDS.needs_sign_in, counted: ['needs sign-in', 'need sign-in'], icon: 'key', tone: 'attention', group: 'attention' },
  misconfigured: {
    label: STATE_LABELS.misconfigured,
    word: STATE_WORDS.misconfigured,
    counted: ['set-up problem', 'set-up problems'],
    icon: 'alert',
    tone: 'problem',
    group: 'attention',
  },
  unreachable: {
    label: STATE_LABELS.unreachable,
    word: STATE_WORDS.unreachable,
    counted: ['unreachable', 'unreachable'],
    icon: 'cloud-off',
    tone: 'attention',
    group: 'attention',
  },
  denied: {
    label: STATE_LABELS.denied,
    word: STATE_WORDS.denied,
    counted: ['not assigned', 'not assigned'],
    icon: 'slash',
    tone: 'neutral',
    group: 'unavailable',
  },
  unsupported: {
    label: STATE_LABELS.unsupported,
    word: STATE_WORDS.unsupported,
    counted: ['not zero-touch', 'not zero-touch'],
    icon: 'minus',
    tone: 'neutral',
    group: 'unavailable',
  },
};

/** Summary order: what needs action first, as in the list. */
const SUMMARY_ORDER: ConnectorState[] = ['misconfigured', 'unreachable', 'needs_sign_in', 'granted', 'pending', 'denied', 'unsupported'];

/** A state this window does not know (a newer host) still renders, in words, without guessing. */
export function lookFor(state: string): StateLook {
  return (
    LOOKS[state as ConnectorState] ?? { label: state, word: state, counted: [state, state], icon: 'question', tone: 'neutral', group: 'attention' }
  );
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

/**
 * The compact row's last column: the time left on the token (live, from the shared tick), or a
 * short reason where there is no token. `left` is timeLeft() of the connector's expiry.
 */
export function rowNote(c: ConnectorView, left: string | null): string {
  switch (c.state) {
    case 'granted':
      return left === null ? 'expiry unknown' : left === 'expired' ? 'expired' : `${left} left`;
    case 'unreachable':
      // The last good token still works until it expires: say for how long.
      return left === null || left === 'expired' ? 'retrying' : `retrying · ${left} left`;
    case 'misconfigured':
      return 'tell your IT admin';
    case 'denied':
      return 'by your organisation';
    case 'unsupported':
      return "its server can't yet";
    default:
      return '';
  }
}

/** ["4 working", "3 not assigned", "1 not zero-touch"]: counts per state, what needs action first. */
export function summaryParts(connectors: ConnectorView[]): string[] {
  const counts = new Map<string, number>();
  for (const c of connectors) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
  const known = SUMMARY_ORDER.filter((s) => counts.has(s));
  const unknown = [...counts.keys()].filter((s) => !(SUMMARY_ORDER as string[]).includes(s)).sort();
  return [...known, ...unknown].map((s) => {
    const n = counts.get(s) ?? 0;
    return `${n} ${lookFor(s).counted[n === 1 ? 0 : 1]}`;
  });
}

/** The summary line: "4 working · 3 not assigned · 1 not zero-touch". */
export function summarize(connectors: ConnectorView[]): string {
  return summaryParts(connectors).join(' · ');
}

/** Whether a connector matches the filter box: by name, id, or any of its state's words. */
export function matchesFilter(c: ConnectorView, query: string, idpIssuer?: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const look = lookFor(c.state);
  return [c.name, c.id, look.word, stateLabel(c, idpIssuer), ...look.counted].some((text) => text.toLowerCase().includes(q));
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
    // The host sends this until the sign-in and every connector are done, so it names both.
    case 'waiting_for_browser':
      return 'Finish signing in in your browser; Lanyard then gets your connectors.';
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
