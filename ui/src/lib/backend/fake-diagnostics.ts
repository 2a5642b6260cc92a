// Diagnostics for the fake backend: per-connector timelines derived from the fake status (granted,
// denied with invalid_target, IdP down, unsupported…), the doctor report with its clock check and
// token summaries, and readiness reports. Wording follows src/diagnose/catalogue/table.rs.
import type {
  ClockCheck,
  ConnectorView,
  DoctorReport,
  Endpoint,
  Explanation,
  NamedToken,
  ReadinessCheck,
  ReadinessReport,
  StatusView,
  StepKind,
  Timeline,
  TimelineStep,
  Verdict,
} from './types';

const ISSUER = 'https://idp.lab.example';
const SEND_BUNDLE = 'Tell IT and attach the support bundle (`lanyard doctor --bundle`).';

/** The few catalogue entries the fake needs: [cause, employee, admin], `{who}` filled in. */
const CATALOGUE: Record<string, [string, string, string]> = {
  'idp_token_exchange/invalid_target': [
    "The organisation hasn't assigned {who} to this user (no resource connection for this audience and resource)",
    'Ask IT to give you access to {who}.',
    "Check the user's group assignment for {who}'s resource connection in the IdP (audience = the connector's authorization-server issuer, resource = its MCP URL).",
  ],
  'idp_token_exchange/access_denied': [
    "The organisation's policy refused access to {who} for this user",
    'Ask IT to give you access to {who}.',
    "Check the IdP's access policy and the user's assignment for {who}'s connection; a blanket deny rule also gives this.",
  ],
  'discovery/no_id_jag_support': [
    "{who}'s authorization server does not advertise the ID-JAG grant (authorization_grant_profiles_supported / jwt-bearer)",
    "{who} can't be connected zero-touch yet; connect it from the app that uses it.",
    'Ask {who} whether Enterprise-Managed Authorization is available for your tenant.',
  ],
  'network/connect_refused': [
    "Nothing is listening at the server's address (connection refused)",
    'Check your network or VPN; Lanyard retries on its own.',
    'Check that the server is running and that the URL and port in the policy are right.',
  ],
  'network/timeout': [
    'A server did not answer in time',
    'Check your network or VPN; Lanyard retries on its own.',
    "Check that the server is up and reachable from the user's network (proxy, firewall).",
  ],
  'connector_jwt_bearer/invalid_client': [
    "{who}'s authorization server did not accept Lanyard's client credentials",
    SEND_BUNDLE,
    "Check the connector's client_id, secret and token_endpoint_auth_method in the policy against {who}'s registration.",
  ],
  'connector_jwt_bearer/invalid_grant': [
    "{who}'s authorization server did not accept the ID-JAG even after one retry with a fresh one (signature, audience, client_id, expiry, replay or resource)",
    SEND_BUNDLE,
    "Check the trust between {who} and the IdP: trusted issuer and keys, the client_id mapping in the IdP (it must equal Lanyard's client id at {who}), the audience (= {who}'s issuer), and the clocks.",
  ],
};

export function explain(endpoint: Endpoint, code: string, who: string, serverDescription?: string): Explanation {
  const entry = CATALOGUE[`${endpoint}/${code}`];
  const fill = (s: string) => s.replaceAll('{who}', who);
  const base = entry
    ? { cause: fill(entry[0]), employee: fill(entry[1]), admin: fill(entry[2]), known: true }
    : { cause: `Unknown error code "${code}"`, employee: SEND_BUNDLE, admin: 'Look the code up in the server documentation.', known: false };
  return { code, endpoint, ...base, ...(serverDescription ? { server_description: serverDescription } : {}) };
}

interface StepSpec {
  kind: StepKind;
  leg: string;
  method?: string;
  url: string;
  status: number | null;
  verdict?: Verdict;
  ms?: number;
  note?: string;
}

function steps(now: number, specs: StepSpec[]): TimelineStep[] {
  let t = now - 60_000;
  return specs.map((s) => {
    const started = new Date(t).toISOString();
    t += (s.ms ?? 40) + 5;
    return {
      kind: s.kind,
      leg: s.leg,
      method: s.method ?? 'GET',
      url: s.url,
      status: s.status,
      verdict: s.verdict ?? 'ok',
      started_at: started,
      duration_ms: s.ms ?? 40,
      ...(s.note ? { note: s.note } : {}),
    };
  });
}

const asUrl = (c: ConnectorView) => `https://${c.id}.lab.example`;

/** The connector legs up to the token exchange, which every connector timeline shares. */
function discovery(c: ConnectorView): StepSpec[] {
  return [
    { kind: 'mcp_probe', leg: 'MCP probe (no token)', method: 'POST', url: c.mcp_url, status: 401, ms: 38 },
    {
      kind: 'protected_resource_metadata',
      leg: 'Protected-resource metadata',
      url: `${asUrl(c)}/.well-known/oauth-protected-resource/mcp`,
      status: 200,
      ms: 21,
    },
    {
      kind: 'authorization_server_metadata',
      leg: 'Authorization-server metadata',
      url: `${asUrl(c)}/.well-known/oauth-authorization-server`,
      status: 200,
      ms: 19,
    },
  ];
}

const exchange = (status: number | null, verdict: Verdict = 'ok', note?: string): StepSpec => ({
  kind: 'token_exchange',
  leg: 'Token exchange at the IdP (ID-JAG)',
  method: 'POST',
  url: `${ISSUER}/oauth2/v1/token`,
  status,
  verdict,
  ms: status === null ? 3002 : 64,
  note,
});

function requested(c: ConnectorView) {
  return { audience: asUrl(c), resource: c.mcp_url, scope: c.scopes.length ? c.scopes.join(' ') : 'read', client_id: 'lanyard-desktop' };
}

function grantedTimeline(c: ConnectorView, now: number): Timeline {
  const all = steps(now, [
    ...discovery(c),
    exchange(200),
    { kind: 'jwt_bearer', leg: 'JWT-bearer at the connector', method: 'POST', url: `${asUrl(c)}/oauth/token`, status: 200, ms: 52 },
    { kind: 'mcp_initialize', leg: 'MCP initialize', method: 'POST', url: c.mcp_url, status: 200, ms: 88 },
    { kind: 'mcp_tools_list', leg: 'tools/list', method: 'POST', url: c.mcp_url, status: 200, ms: 47 },
  ]);
  const scope = c.scopes.join(' ');
  return {
    name: c.id,
    outcome: 'ok',
    steps: all,
    key_claims: {
      requested: requested(c),
      id_jag: {
        iss: ISSUER,
        sub: '00u1ada0lab0example',
        aud: asUrl(c),
        resource: c.mcp_url,
        client_id: 'lanyard-desktop',
        scope,
        iat: Math.floor(now / 1000) - 60,
        exp: Math.floor(now / 1000) + 240,
        jti_fingerprint: 'sha256:3f9a…c41e',
      },
      granted: { scope, expires_at: c.expires_at, token_type: 'Bearer' },
      findings: [],
    },
  };
}

function failedAt(c: ConnectorView, now: number, specs: StepSpec[], failure: Explanation, oauthCode?: string): Timeline {
  const all = steps(now, specs);
  const last = all[all.length - 1];
  if (last.verdict === 'failed') {
    last.explanation = failure;
    if (oauthCode) last.oauth_error = { error: oauthCode, ...(failure.server_description ? { error_description: failure.server_description } : {}) };
  }
  return { name: c.id, outcome: 'failed', steps: all, failure, key_claims: { requested: requested(c), findings: [] } };
}

/** A connector's timeline as its fake state implies it; null when nothing was recorded. */
export function connectorTimeline(c: ConnectorView, now: number, clockNote?: string): Timeline {
  const code = c.error?.code ?? '';
  switch (c.state) {
    case 'granted':
      return grantedTimeline(c, now);
    case 'denied': {
      const why = explain('idp_token_exchange', code, c.name, c.error?.description);
      return failedAt(c, now, [...discovery(c), exchange(400, 'failed')], why, code);
    }
    case 'unsupported':
      return failedAt(c, now, discovery(c), explain('discovery', 'no_id_jag_support', c.name));
    case 'unreachable': {
      if (c.error?.stage === 'token_exchange') {
        const note = 'could not connect: Connection refused (os error 111)';
        return failedAt(c, now, [...discovery(c), exchange(null, 'failed', note)], explain('network', 'connect_refused', 'idp.lab.example', note));
      }
      const note = 'timed out after 10 s';
      return failedAt(
        c,
        now,
        [{ kind: 'mcp_probe', leg: 'MCP probe (no token)', method: 'POST', url: c.mcp_url, status: null, verdict: 'failed', ms: 10_000, note }],
        explain('network', 'timeout', c.name, note),
      );
    }
    case 'misconfigured': {
      const why = { ...explain('connector_jwt_bearer', code, c.name, c.error?.description), ...(clockNote ? { clock_note: clockNote } : {}) };
      return failedAt(
        c,
        now,
        [
          ...discovery(c),
          exchange(200),
          { kind: 'jwt_bearer', leg: 'JWT-bearer at the connector', method: 'POST', url: `${asUrl(c)}/oauth/token`, status: 400, verdict: 'failed', ms: 31 },
        ],
        why,
        code,
      );
    }
    default:
      return { name: c.id, outcome: 'empty', steps: [], key_claims: {} };
  }
}

/** The sign-in flow: discovery, keys, the browser hand-off, callback, code for tokens. */
export function signInTimeline(status: StatusView, now: number, idpDown: boolean): Timeline {
  if (idpDown) {
    const note = 'could not connect: Connection refused (os error 111)';
    const all = steps(now, [
      { kind: 'idp_discovery', leg: 'IdP discovery', url: `${ISSUER}/.well-known/openid-configuration`, status: null, verdict: 'failed', ms: 3, note },
    ]);
    const failure = explain('network', 'connect_refused', 'idp.lab.example', note);
    all[0].explanation = failure;
    return { name: 'sign-in', outcome: 'failed', steps: all, failure, key_claims: {} };
  }
  if (status.session.state === 'signed_out') return { name: 'sign-in', outcome: 'empty', steps: [], key_claims: {} };
  return {
    name: 'sign-in',
    outcome: 'ok',
    steps: steps(now, [
      { kind: 'idp_discovery', leg: 'IdP discovery', url: `${ISSUER}/.well-known/openid-configuration`, status: 200, ms: 22 },
      { kind: 'authorization', leg: 'Authorization (browser)', url: `${ISSUER}/oauth2/v1/authorize?client_id=lanyard-desktop&state=…&code_challenge=…`, status: null, verdict: 'info', ms: 0 },
      { kind: 'callback', leg: 'Browser callback', url: 'http://127.0.0.1:53682/callback?code=…&state=…', status: 200, ms: 1 },
      { kind: 'token', leg: 'Token (sign-in code)', method: 'POST', url: `${ISSUER}/oauth2/v1/token`, status: 200, ms: 71 },
      { kind: 'jwks', leg: 'IdP signing keys', url: `${ISSUER}/oauth2/v1/keys`, status: 200, ms: 17 },
    ]),
    key_claims: {},
  };
}

export const SKEWED_CLOCK: ClockCheck = {
  origins: [
    { origin: ISSUER, label: "your company's sign-in service (IdP)", offset_secs: -242, samples: 6, off: true },
    { origin: 'https://linear.lab.example', label: 'Linear', offset_secs: -239, samples: 4, off: true },
    { origin: 'https://atlassian.lab.example', label: 'Atlassian', offset_secs: -241, samples: 4, off: true },
  ],
  verdict: { kind: 'local_clock', offset_secs: 241 },
  warning:
    "This computer's clock is 4 min 1 s ahead of every server Lanyard talked to (your company's sign-in service (IdP) (https://idp.lab.example), Linear (https://linear.lab.example), Atlassian (https://atlassian.lab.example)). Turn on automatic date and time; tokens look expired or stale until it is fixed.",
};

export const CLOCK_NOTE =
  "Linear (https://linear.lab.example)'s clock is 3 min 59 s behind this computer's, so its tokens look already expired here. This computer's clock is the one that is off.";

const IN_SYNC: ClockCheck = {
  origins: [
    { origin: ISSUER, label: "your company's sign-in service (IdP)", offset_secs: 1, samples: 6, off: false },
    { origin: 'https://linear.lab.example', label: 'Linear', offset_secs: 0, samples: 4, off: false },
  ],
  verdict: { kind: 'in_sync' },
};

function tokens(status: StatusView, now: number): NamedToken[] {
  if (status.session.state !== 'signed_in') return [];
  const secs = Math.floor(now / 1000);
  const time = (claim: string, at: number, relative: string) => {
    const d = new Date(at * 1000);
    return { claim, utc: d.toISOString(), local: d.toString(), relative };
  };
  const out: NamedToken[] = [
    {
      connector: 'idp',
      token: {
        kind: 'id_token',
        format: 'jwt',
        fingerprint: 'sha256:9c1e…07ab',
        header: { alg: 'RS256', kid: 'lab-2026-06', typ: 'JWT' },
        claims: { iss: ISSUER, sub: '00u1ada0lab0example', aud: 'lanyard-desktop', email: 'ada@lab.example', iat: secs - 600, exp: secs + 3000, nonce: 'sha256:51d0…aa12' },
        times: [time('iat', secs - 600, '10 min ago'), time('exp', secs + 3000, 'in 50 min')],
        signature: { result: 'verified', issuer: ISSUER, kid: 'lab-2026-06', alg: 'RS256' },
      },
    },
  ];
  for (const c of status.connectors.filter((c) => c.state === 'granted')) {
    out.push(
      c.expires_at === null
        ? {
            connector: c.id,
            token: {
              kind: 'access_token',
              format: 'opaque',
              fingerprint: `sha256:${c.id.slice(0, 4)}…0f0f`,
              signature: { result: 'unverifiable', why: 'an opaque token has no signature to check' },
            },
          }
        : {
            connector: c.id,
            token: {
              kind: 'access_token',
              format: 'jwt',
              fingerprint: `sha256:${c.id.slice(0, 4)}…d00d`,
              header: { alg: 'ES256', typ: 'at+jwt' },
              claims: { iss: asUrl(c), aud: c.mcp_url, sub: '00u1ada0lab0example', scope: c.scopes.join(' '), exp: Math.floor(Date.parse(c.expires_at) / 1000), jti: 'sha256:77b2…e901' },
              times: [time('exp', Math.floor(Date.parse(c.expires_at) / 1000), 'soon')],
              signature: { result: 'unverifiable', why: 'not checked' },
            },
          },
    );
  }
  return out;
}

export function doctorReport(status: StatusView, now: number, skewed: boolean, incidentId: string): DoctorReport {
  return {
    version: 1,
    incident_id: incidentId,
    generated_at: new Date(now).toISOString(),
    environment: {
      os: 'linux',
      os_release: 'Ubuntu 24.04',
      arch: 'x86_64',
      app_version: '0.1.0',
      keyring: { backend: 'secret-service', reachable: true },
      state_dir: '/home/ada/.local/state/lanyard',
      log_file: '/home/ada/.local/state/lanyard/lanyard.log',
    },
    policy: { source: '/etc/lanyard/policy.json', idp_issuer: ISSUER, connectors: status.connectors.length, problems: [] },
    status,
    clock: skewed ? SKEWED_CLOCK : IN_SYNC,
    timelines: [],
    tokens: tokens(status, now),
  };
}

const check = (id: ReadinessCheck['id'], title: string, outcome: ReadinessCheck['outcome'], detail: string): ReadinessCheck => ({
  id,
  title,
  outcome,
  detail,
});

/** A granted connector passes; without a token the token checks are skipped; unsupported fails. */
export function readiness(c: ConnectorView): ReadinessReport {
  const held = c.state === 'granted' && c.expires_at !== null;
  const tokenCheck = (id: ReadinessCheck['id'], title: string, pass: string): ReadinessCheck =>
    held ? check(id, title, 'pass', pass) : check(id, title, 'skipped', 'Needs a token for this connector; Lanyard holds none.');
  const advertises = c.state !== 'unsupported';
  const checks: ReadinessCheck[] = [
    check('protected_resource_metadata', 'Publishes protected-resource metadata (RFC 9728)', 'pass', `${c.mcp_url} names ${asUrl(c)}.`),
    check('unauthorized_challenge', 'Answers 401 + WWW-Authenticate to a missing or invalid token', 'pass', 'Bearer challenge with resource_metadata.'),
    tokenCheck('valid_token_accepted', 'Accepts its own valid token', 'initialize answered 200.'),
    tokenCheck('token_in_header_only', 'Refuses a token in the query string', 'Answered 401.'),
    tokenCheck('audience_validated', "Refuses another connector's token (audience)", 'Answered 401 to a Linear token.'),
    tokenCheck('signature_validated', 'Refuses a tampered token', 'Answered 401.'),
    check(
      'id_jag_grant_advertised',
      'Authorization server advertises the ID-JAG profile and jwt-bearer',
      advertises ? 'pass' : 'fail',
      advertises ? 'Both are in the metadata.' : 'authorization_grant_profiles_supported is missing from the metadata.',
    ),
    check('issuer_matches', 'Authorization-server metadata issuer matches exactly', 'pass', `issuer is ${asUrl(c)}.`),
    check('revocation_endpoint', 'Authorization server has a revocation endpoint (RFC 7009)', c.id === 'granola' ? 'fail' : 'pass', c.id === 'granola' ? 'No revocation_endpoint in the metadata.' : 'revocation_endpoint is published.'),
  ];
  return { mcp_url: c.mcp_url, checks, ready: checks.every((x) => x.outcome !== 'fail') };
}
