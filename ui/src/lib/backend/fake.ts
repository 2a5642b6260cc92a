// A scenario-driven stand-in for the Tauri host, so the window runs in a plain browser for tests,
// screenshots and design work (`?fake=ada`). It mirrors the lab's default directory (product.md):
// ada is granted Atlassian, Granola, Linear, Supabase; denied Asana, Canva, Figma; Slack unsupported.
// Diagnostics and legacy connections live in fake-diagnostics.ts and fake-legacy.ts.
import type {
  AppError,
  Backend,
  ConnectorView,
  SignInProgress,
  StatusView,
} from './types';
import { CLOCK_NOTE, connectorTimeline, doctorReport, readiness, signInTimeline } from './fake-diagnostics';
import { createLegacyStore } from './fake-legacy';
import { createPilotStore } from './fake-pilot';

const ISSUER = 'https://idp.lab.example';
const MIN = 60_000;

type Outcome = Omit<ConnectorView, 'id' | 'name' | 'mcp_url'>;

function connector(id: string, name: string, outcome: Outcome): ConnectorView {
  return { id, name, mcp_url: `https://${id}.lab.example/mcp`, ...outcome };
}

const at = (now: number, minutes: number) => new Date(now + minutes * MIN).toISOString();

const granted = (now: number, minutes: number | null, scopes: string[], tools: number): Outcome => ({
  state: 'granted',
  expires_at: minutes === null ? null : at(now, minutes),
  scopes,
  tools,
});

const denied = (code: string): Outcome => ({
  state: 'denied',
  expires_at: null,
  scopes: [],
  tools: null,
  error: {
    stage: 'token_exchange',
    code,
    description: 'The requested audience is not permitted for this user.',
    hint: 'Your organisation has not given you this connector. Ask your IT admin if you need it.',
  },
});

const unsupported: Outcome = {
  state: 'unsupported',
  expires_at: null,
  scopes: [],
  tools: null,
  error: {
    stage: 'discovery',
    code: 'id_jag_not_supported',
    hint: "This connector's server does not accept organisation-issued grants yet.",
  },
};

const needsSignIn: Outcome = { state: 'needs_sign_in', expires_at: null, scopes: [], tools: null };

/** The same connector once the session is gone: no grant, and no cause left over from before. */
function withoutSession({ id, name, mcp_url }: ConnectorView): ConnectorView {
  return { id, name, mcp_url, ...needsSignIn };
}

function adaConnectors(now: number): ConnectorView[] {
  return [
    connector('asana', 'Asana', denied('invalid_target')),
    connector('atlassian', 'Atlassian', granted(now, 54, ['read:jira-work', 'read:confluence-content'], 6)),
    connector('canva', 'Canva', denied('access_denied')),
    connector('figma', 'Figma', denied('invalid_target')),
    connector('granola', 'Granola', granted(now, null, ['notes:read'], 3)),
    connector('linear', 'Linear', granted(now, 65, ['read', 'write'], 4)),
    connector('slack', 'Slack', unsupported),
    connector('supabase', 'Supabase', granted(now, 12, ['projects:read'], 9)),
  ];
}

/**
 * A bigger organisation: ada's eight and 22 more, in every settled state, so the compact
 * window's scrolling list, sticky summary and filter box (past 12) can be seen and tested.
 */
function manyConnectors(now: number): ConnectorView[] {
  const misconfigured: Outcome = {
    state: 'misconfigured',
    expires_at: null,
    scopes: [],
    tools: null,
    error: { stage: 'jwt_bearer', code: 'invalid_client', hint: 'Tell your IT admin: the client secret in the Lanyard policy is wrong or expired.' },
  };
  const unreachable = (stage: 'token_exchange' | 'mcp', minutes: number): Outcome => ({
    state: 'unreachable',
    expires_at: at(now, minutes),
    scopes: ['read'],
    tools: 5,
    error: { stage, code: stage === 'mcp' ? 'timeout' : 'network', hint: 'Lanyard will retry on its own; check your network or VPN.' },
  });
  const more: [string, string, Outcome][] = [
    ['airtable', 'Airtable', granted(now, 41, ['data.records:read'], 7)],
    ['box', 'Box', granted(now, 58, ['root_readonly'], 5)],
    ['clickup', 'ClickUp', denied('access_denied')],
    ['datadog', 'Datadog', granted(now, 23, ['metrics_read', 'logs_read'], 12)],
    ['docusign', 'DocuSign', unsupported],
    ['dropbox', 'Dropbox', granted(now, 3 * 60 + 10, ['files.metadata.read'], 4)],
    ['github', 'GitHub', granted(now, 7, ['repo'], 31)],
    ['gitlab', 'GitLab', misconfigured],
    ['hubspot', 'HubSpot', denied('invalid_target')],
    ['intercom', 'Intercom', granted(now, 49, ['conversations:read'], 6)],
    ['miro', 'Miro', granted(now, 36, ['boards:read'], 3)],
    ['monday', 'Monday', unsupported],
    ['notion', 'Notion', granted(now, 62, ['read_content'], 8)],
    ['pagerduty', 'PagerDuty', unreachable('mcp', 9)],
    ['salesforce', 'Salesforce', granted(now, 118, ['api'], 14)],
    ['sentry', 'Sentry', granted(now, 2, ['project:read', 'event:read'], 10)],
    ['snowflake', 'Snowflake', misconfigured],
    ['stripe', 'Stripe', denied('unauthorized_client')],
    ['vercel', 'Vercel', unreachable('token_exchange', 15)],
    ['workday', 'Workday', { state: 'pending', expires_at: null, scopes: [], tools: null }],
    ['zendesk', 'Zendesk', granted(now, 27, ['read'], 5)],
    ['zoom', 'Zoom', granted(now, 5 * 24 * 60, ['meeting:read'], 4)],
  ];
  return [...adaConnectors(now), ...more.map(([id, name, outcome]) => connector(id, name, outcome))];
}

function signedIn(now: number, connectors: ConnectorView[]): StatusView {
  return {
    version: 1,
    session: {
      state: 'signed_in',
      issuer: ISSUER,
      subject: '00u1ada0lab0example',
      email: 'ada@lab.example',
      expires_at: at(now, 8 * 60 + 12),
      renewable: true,
    },
    connectors,
  };
}

function signedOut(now: number): StatusView {
  return {
    version: 1,
    session: { state: 'signed_out', expires_at: null, renewable: false },
    connectors: adaConnectors(now).map(withoutSession),
  };
}

interface Scenario {
  status(now: number): StatusView;
  /** getStatus rejects with this (the window's error state). */
  statusError?: AppError;
  /** getStatus never settles (the window's loading state). */
  neverLoads?: boolean;
  /** signIn rejects with this after the browser phase. */
  signInError?: AppError;
  /** Status after a successful sign-in; defaults to ada's. */
  afterSignIn?(now: number): StatusView;
  /** The clock check finds this computer 4 minutes ahead (and explains Linear's failure by it). */
  skewedClock?: boolean;
  /** No legacy connections on this machine (default: ada's mixed set). */
  noLegacy?: boolean;
}

export const SCENARIOS = {
  ada: { status: (now) => signedIn(now, adaConnectors(now)) },
  'signed-out': { status: signedOut },
  many: { status: (now) => signedIn(now, manyConnectors(now)), afterSignIn: (now) => signedIn(now, manyConnectors(now)) },
  expired: {
    status: (now) => ({
      version: 1,
      session: { state: 'expired', issuer: ISSUER, subject: '00u1ada0lab0example', email: 'ada@lab.example', expires_at: at(now, -5), renewable: false },
      connectors: adaConnectors(now).map((c) =>
        c.state === 'granted' ? { ...c, expires_at: at(now, 3) } : withoutSession(c),
      ),
    }),
  },
  'idp-unreachable': {
    status: (now) =>
      signedIn(
        now,
        adaConnectors(now).map((c) =>
          c.state === 'granted'
            ? {
                ...c,
                state: 'unreachable',
                expires_at: at(now, 4),
                error: { stage: 'token_exchange', code: 'network', hint: 'Lanyard will retry on its own; check your network or VPN.' },
              }
            : c,
        ),
      ),
    signInError: { code: 'sign_in_failed', message: "Can't reach idp.lab.example: connection refused.", detail: 'unreachable' },
  },
  'every-state': {
    status: (now) =>
      signedIn(now, [
        connector('linear', 'Linear', granted(now, 54, ['read', 'write'], 4)),
        connector('granola', 'Granola', granted(now, null, ['notes:read'], 3)),
        connector('asana', 'Asana', denied('invalid_target')),
        connector('figma', 'Figma', needsSignIn),
        connector('slack', 'Slack', unsupported),
        connector('canva', 'Canva', {
          state: 'misconfigured',
          expires_at: null,
          scopes: [],
          tools: null,
          error: { stage: 'jwt_bearer', code: 'invalid_client', description: 'Client authentication failed.', hint: 'Tell your IT admin: the client secret for Canva in the Lanyard policy is wrong or expired.' },
        }),
        connector('supabase', 'Supabase', {
          state: 'unreachable',
          expires_at: at(now, 7),
          scopes: ['projects:read'],
          tools: 9,
          error: { stage: 'mcp', code: 'timeout', hint: 'Lanyard will retry on its own.' },
        }),
        connector('atlassian', 'Atlassian', { state: 'pending', expires_at: null, scopes: [], tools: null }),
      ]),
  },
  'clock-skew': {
    status: (now) =>
      signedIn(
        now,
        adaConnectors(now).map((c) =>
          c.id === 'linear'
            ? {
                ...c,
                state: 'misconfigured',
                expires_at: null,
                scopes: [],
                tools: null,
                error: { stage: 'jwt_bearer', code: 'invalid_grant', description: 'ID-JAG is expired', hint: 'Tell your IT admin; your computer clock may be wrong.' },
              }
            : c,
        ),
      ),
    skewedClock: true,
  },
  empty: { status: (now) => signedIn(now, []), afterSignIn: (now) => signedIn(now, []), noLegacy: true },
  error: {
    status: signedOut,
    statusError: { code: 'internal', message: 'The state file could not be read.', detail: 'state_unavailable' },
  },
  loading: { status: signedOut, neverLoads: true },
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;
export const DEFAULT_SCENARIO: ScenarioName = 'ada';

export interface FakeOptions {
  /** Delay between simulated steps; tests pass 0. */
  stepMs?: number;
  /** The policy marks the machine as the admin's pilot machine (Settings.pilot_machine). */
  pilotMachine?: boolean;
}

/** Unknown scenario names fall back to the default, so a typo still shows a window. */
export function createFakeBackend(name: string, options: FakeOptions = {}): Backend {
  let autostart = false;
  const stepMs = options.stepMs ?? 700;
  const scenario: Scenario = SCENARIOS[name as ScenarioName] ?? SCENARIOS[DEFAULT_SCENARIO];
  let current = scenario.status(Date.now());
  const statusListeners = new Set<(s: StatusView) => void>();
  const progressListeners = new Set<(p: SignInProgress) => void>();
  let cancelSignIn: (() => void) | null = null;

  const legacy = createLegacyStore(!scenario.noLegacy);
  let bundles = 0;

  const wait = () => new Promise<void>((resolve) => setTimeout(resolve, stepMs));
  const pilot = createPilotStore(wait);
  const publish = (next: StatusView) => {
    current = next;
    statusListeners.forEach((cb) => cb(structuredClone(next)));
    return structuredClone(next);
  };
  const progress = (p: SignInProgress) => progressListeners.forEach((cb) => cb(p));
  const subscribe = <T>(set: Set<T>, cb: T) => {
    set.add(cb);
    return Promise.resolve(() => void set.delete(cb));
  };

  async function runSignIn(cancelled: () => boolean): Promise<StatusView> {
    const cancelledError: AppError = { code: 'cancelled', message: 'Sign-in was cancelled.', detail: 'cancelled' };
    // As the host: one phase from the start until the sign-in and the connectors are done.
    progress({ phase: 'waiting_for_browser' });
    await wait();
    if (cancelled()) throw cancelledError;
    if (scenario.signInError) {
      progress({ phase: 'failed', message: scenario.signInError.message });
      throw scenario.signInError;
    }
    await wait();
    if (cancelled()) throw cancelledError;
    progress({ phase: 'done' });
    return publish((scenario.afterSignIn ?? SCENARIOS.ada.status)(Date.now()));
  }

  return {
    getStatus() {
      if (scenario.neverLoads) return new Promise(() => {});
      if (scenario.statusError) return Promise.reject(scenario.statusError);
      return Promise.resolve(structuredClone(current));
    },
    signIn() {
      let cancelled = false;
      cancelSignIn = () => (cancelled = true);
      return runSignIn(() => cancelled).finally(() => (cancelSignIn = null));
    },
    async cancelSignIn() {
      cancelSignIn?.();
    },
    async signOut() {
      return publish(signedOut(Date.now()));
    },
    async refresh(connectorId?: string) {
      const targets = (c: ConnectorView) => connectorId === undefined || c.id === connectorId;
      if (!current.connectors.some(targets)) {
        throw { code: 'unknown_connector', message: `No connector "${connectorId}" in the policy.`, detail: 'unknown_connector' } satisfies AppError;
      }
      await wait();
      // A renewal gives granted connectors a fresh hour; other outcomes are decided by policy
      // or the network, so a refresh in the fake leaves them as they are.
      const now = Date.now();
      return publish({
        ...current,
        connectors: current.connectors.map((c) =>
          targets(c) && c.state === 'granted' && c.expires_at !== null ? { ...c, expires_at: at(now, 60) } : c,
        ),
      });
    },
    onStatus: (cb) => subscribe(statusListeners, cb),
    onSignInProgress: (cb) => subscribe(progressListeners, cb),
    async getTimeline(name: string) {
      const now = Date.now();
      if (name === 'sign-in') return signInTimeline(current, now, scenario.signInError?.detail === 'unreachable');
      const c = current.connectors.find((x) => x.id === name);
      if (!c) throw { code: 'unknown_connector', message: `No connector "${name}" in the policy.`, detail: 'unknown_connector' } satisfies AppError;
      return connectorTimeline(c, now, scenario.skewedClock ? CLOCK_NOTE : undefined);
    },
    async getDiagnostics() {
      return doctorReport(structuredClone(current), Date.now(), !!scenario.skewedClock, 'LY-0D07-4FB1-E7B7');
    },
    async runReadiness(connectorId: string) {
      const c = current.connectors.find((x) => x.id === connectorId);
      if (!c) throw { code: 'unknown_connector', message: `No connector "${connectorId}" in the policy.`, detail: '' } satisfies AppError;
      await wait();
      return readiness(c);
    },
    async saveSupportBundle() {
      await wait();
      bundles += 1;
      const incidentId = `LY-0D07-4FB1-E7B${bundles}`;
      return { path: `/home/ada/Desktop/lanyard-support-${incidentId}.json`, incidentId };
    },
    async listLegacy() {
      return legacy.list(current);
    },
    async disconnectLegacy(ids: string[]) {
      await wait();
      return legacy.disconnect(ids);
    },
    async disconnectCovered() {
      await wait();
      return legacy.disconnect(legacy.covered(current));
    },
    async getSettings() {
      await wait();
      return {
        autostart,
        session_warning_minutes: 15,
        policy_path: '/etc/lanyard/policy.json',
        pilot_machine: options.pilotMachine ?? false,
      };
    },
    async statusPainted() {},
    async setAutostart(enabled: boolean) {
      await wait();
      autostart = enabled;
      return autostart;
    },
    pilotPolicyCheck: async () => pilot.policyCheck(),
    runPilotMatrix: (users: string[], expected?: string) => pilot.run(users, expected),
    skipPilotUser: async () => pilot.skip(),
    cancelPilotMatrix: async () => pilot.cancel(),
    onPilotProgress: (cb) => pilot.subscribe(cb),
    savePilotReport: () => pilot.saveReport(),
  };
}
