// The backend contract seen from the window: StatusView version 1 (generated from src/view/ into
// status.generated.ts) and the Backend interface that the real Tauri host and the fake both implement.

// The status types come from the Rust ones (src/view/), generated: see status.generated.ts.
export type { ConnectorError, ConnectorState, ConnectorView, SessionState, SessionView, Stage, StatusView } from './status.generated';
import type { ConnectorState, StatusView } from './status.generated';

export type SignInPhase = 'opening_browser' | 'waiting_for_browser' | 'resolving' | 'done' | 'failed';

export interface SignInProgress {
  phase: SignInPhase;
  message?: string;
}

/** What every failed command rejects with. `code` is the host's closed enum; the window only
 * branches on `cancelled` (sign-in cancelled by the person: not an error to show). */
export interface AppError {
  code: string;
  message: string;
}

// ---- Diagnostics (src/diagnose/*.rs). Every view is decoded and redacted by the host: no raw
// token, code or ID-JAG ever crosses IPC (the e2e canary test checks the payloads).

/** `src/trace.rs` StepKind. */
export type StepKind =
  | 'idp_discovery'
  | 'jwks'
  | 'authorization'
  | 'callback'
  | 'token'
  | 'device_authorization'
  | 'device_poll'
  | 'refresh'
  | 'mcp_probe'
  | 'protected_resource_metadata'
  | 'authorization_server_metadata'
  | 'token_exchange'
  | 'jwt_bearer'
  | 'mcp_initialize'
  | 'mcp_tools_list'
  | 'mcp_tool_call'
  | 'revocation';

/** `src/oauth_error.rs`: the RFC 6749 §5.2 error body. */
export interface OAuthError {
  error: string;
  error_description?: string;
  error_uri?: string;
}

/** `diagnose::catalogue::Endpoint`: where an error was met. */
export type Endpoint =
  | 'oidc_callback'
  | 'id_token'
  | 'idp_token'
  | 'idp_token_exchange'
  | 'idp_refresh'
  | 'connector_jwt_bearer'
  | 'mcp'
  | 'discovery'
  | 'network'
  | 'tls'
  | 'session';

/** `diagnose::catalogue::Explanation`: why it failed and what to do, for two readers. */
export interface Explanation {
  code: string;
  endpoint: Endpoint;
  cause: string;
  /** What the employee does. */
  employee: string;
  /** What the admin checks. */
  admin: string;
  /** False when the code is not in the catalogue; `cause` then quotes the server. */
  known: boolean;
  /** The server's own `error_description`, scrubbed. */
  server_description?: string;
  /** Set when a time-related failure is explained by clock skew. */
  clock_note?: string;
}

/** `diagnose::timeline::Verdict`. */
export type Verdict = 'ok' | 'info' | 'fallback' | 'recovered' | 'failed';

/** `diagnose::timeline::TimelineStep`. */
export interface TimelineStep {
  kind: StepKind;
  /** The leg, for a person ("Token exchange at the IdP (ID-JAG)"). */
  leg: string;
  method: string;
  /** Already redacted by the host. */
  url: string;
  status: number | null;
  verdict: Verdict;
  /** RFC 3339. */
  started_at: string;
  duration_ms: number;
  oauth_error?: OAuthError;
  note?: string;
  explanation?: Explanation;
}

/** Decoded claim values: strings, numbers (epoch seconds for times), arrays, objects. */
export type ClaimMap = Record<string, unknown>;

/** `diagnose::timeline::KeyClaims`: requested → ID-JAG → granted. */
export interface KeyClaims {
  /** `{audience, resource, scope, client_id}`. */
  requested?: ClaimMap;
  /** The ID-JAG's claims, handles (`jti`) as fingerprints. */
  id_jag?: ClaimMap;
  /** `{scope, expires_at, token_type}`. */
  granted?: ClaimMap;
  findings?: string[];
}

/** `diagnose::timeline::Timeline`. */
export interface Timeline {
  /** `"sign-in"` or the connector id. */
  name: string;
  outcome: 'empty' | 'ok' | 'failed';
  steps: TimelineStep[];
  failure?: Explanation;
  key_claims: KeyClaims;
}

/** `diagnose::clock::OriginOffset`. */
export interface OriginOffset {
  origin: string;
  label?: string;
  /** Server clock minus local clock: positive = the server is ahead. */
  offset_secs: number;
  samples: number;
  off: boolean;
}

/** `diagnose::clock::ClockVerdict` (internally tagged by `kind`). */
export type ClockVerdict =
  | { kind: 'unknown' }
  | { kind: 'in_sync' }
  /** Local clock minus the servers': positive = this computer is ahead. */
  | { kind: 'local_clock'; offset_secs: number }
  | { kind: 'servers'; origins: string[] };

/** `diagnose::clock::ClockCheck`. */
export interface ClockCheck {
  origins: OriginOffset[];
  verdict: ClockVerdict;
  /** One sentence for a person, when something is off. */
  warning?: string;
}

export type TokenKind = 'id_token' | 'access_token' | 'id_jag';

/** `diagnose::inspect::SignatureCheck` (internally tagged by `result`). */
export type SignatureCheck =
  | { result: 'verified'; issuer: string; kid: string | null; alg: string }
  | { result: 'invalid'; why: string }
  | { result: 'unverifiable'; why: string };

/** `diagnose::inspect::TimeClaim`. */
export interface TimeClaim {
  claim: string;
  utc: string;
  local: string;
  /** "in 54 min", "3 min ago". */
  relative: string;
}

/** `diagnose::inspect::TokenView`: decoded, never the token itself. */
export interface TokenView {
  kind: TokenKind;
  /** `jwt` or `opaque`. */
  format: string;
  fingerprint: string;
  header?: ClaimMap;
  claims?: ClaimMap;
  times?: TimeClaim[];
  signature: SignatureCheck;
}

/** `diagnose::doctor::NamedToken`: `connector` is a connector id, or `idp` for the ID token. */
export interface NamedToken {
  connector: string;
  token: TokenView;
}

export interface KeyringCheck {
  backend: string;
  reachable: boolean;
  error?: string;
}

export interface Environment {
  os: string;
  os_release?: string;
  arch: string;
  app_version: string;
  keyring: KeyringCheck;
  state_dir: string;
  log_file: string;
}

export interface PolicyCheck {
  source: string;
  idp_issuer: string;
  connectors: number;
  problems: string[];
}

/** `diagnose::readiness::CheckId`. */
export type CheckId =
  | 'protected_resource_metadata'
  | 'unauthorized_challenge'
  | 'valid_token_accepted'
  | 'token_in_header_only'
  | 'audience_validated'
  | 'signature_validated'
  | 'id_jag_grant_advertised'
  | 'issuer_matches'
  | 'revocation_endpoint';

export type CheckOutcome = 'pass' | 'fail' | 'skipped';

export interface ReadinessCheck {
  id: CheckId;
  title: string;
  outcome: CheckOutcome;
  detail: string;
}

/** `diagnose::readiness::ReadinessReport`. */
export interface ReadinessReport {
  mcp_url: string;
  checks: ReadinessCheck[];
  /** No check failed. */
  ready: boolean;
}

/** `diagnose::doctor::DoctorReport` (version 1). */
export interface DoctorReport {
  version: number;
  /** `LY-XXXX-XXXX-XXXX`: quote it in the ticket. */
  incident_id: string;
  generated_at: string;
  environment: Environment;
  policy: PolicyCheck;
  status?: StatusView;
  status_error?: string;
  clock: ClockCheck;
  timelines: Timeline[];
  tokens: NamedToken[];
  readiness?: ReadinessReport[];
}

/** What `save_support_bundle` answers: where the file went and the id to quote. */
export interface SupportBundle {
  path: string;
  incidentId: string;
}

// ---- Legacy connections (src/legacy/*.rs).

/** `legacy::ClientApp` (kebab-case). */
export type ClientApp = 'mcp-remote' | 'claude-code' | 'codex' | 'gemini' | 'goose' | 'inspector-v2' | 'vs-code';

/** `legacy::LegacyEntry`: holds no token. */
export interface LegacyEntry {
  /** Stable across scans: `<client>:<hash>`. */
  id: string;
  client: ClientApp;
  file: string;
  server_url: string | null;
  issuer: string | null;
  client_id: string | null;
  account: string | null;
  /** RFC 3339; null when unknown. */
  expires_at: string | null;
  has_refresh_token: boolean;
  /** The policy connector this entry belongs to, when matched. */
  connector_id: string | null;
  /** Lanyard holds a zero-touch grant for that connector, so this entry can go. */
  covered_by_ema: boolean;
  /** False when Lanyard cannot remove it (VS Code encrypts its tokens). */
  can_disconnect: boolean;
  note: string | null;
}

/** `legacy::ScanReport`. */
export interface LegacyScan {
  entries: LegacyEntry[];
  /** Files that exist but could not be read (never fatal). */
  problems: string[];
}

/** `legacy::Revocation` (internally tagged by `outcome`). */
export type Revocation =
  | { outcome: 'revoked' }
  /** No revocation endpoint: the grant may persist at the provider. */
  | { outcome: 'no_endpoint' }
  /** Queued for retry. */
  | { outcome: 'failed'; reason: string }
  | { outcome: 'not_attempted' };

/** `legacy::Receipt`: one entry's outcome. */
export interface Receipt {
  entry_id: string;
  client: ClientApp | null;
  connector_id: string | null;
  removed_locally: boolean;
  /** The private copy of the file taken before the change. */
  backup: string | null;
  backup_id: string | null;
  revocation: Revocation;
  /** One sentence for a person. */
  message: string;
}

/** The app's settings (command `get_settings`). */
export interface Settings {
  autostart: boolean;
  session_warning_minutes: number;
  policy_path: string | null;
  /** The policy marks this as the admin's pilot machine: the window opens on Admin pilot. */
  pilot_machine: boolean;
}

// ---- Admin pilot (src/pilot/*.rs): the what-if grant matrix of `lanyard pilot matrix --json`
// (version 1) and the policy-check section of the pilot report.

export type Mismatch = 'over_grant' | 'under_grant';

export interface MatrixCell {
  id: string;
  state: ConnectorState;
  /** The IdP's or connector's error code when there is a cause. */
  code?: string;
  /** Present when an expected-grants file was compared. */
  expected?: boolean;
  mismatch?: Mismatch;
}

export interface MatrixRow {
  user: string;
  signed_in: boolean;
  /** Why the user is not signed in (`login_required`, `cancelled`, …). */
  error?: { code: string; message: string };
  connectors: MatrixCell[];
}

export interface PilotMatrix {
  version: 1;
  users: MatrixRow[];
  columns: { id: string; name: string }[];
  /** Problems with the expected-grants file, or clean-up that did not complete. */
  problems?: string[];
  cancelled?: boolean;
  compared?: boolean;
}

/** Tauri event `pilot-progress`, before and after each user's turn. */
export interface PilotProgress {
  index: number;
  total: number;
  user: string;
  phase: 'signing_in' | 'done' | 'not_signed_in';
  granted?: number;
  error?: { code: string; message: string };
}

export interface PolicyCheckSection {
  source: string;
  checked_by: string;
  /** `warning`: works, but not fully (not counted as a failure). */
  problems: { path?: string; message: string; fix?: string; warning?: boolean }[];
}

export interface SavedReport {
  path: string;
}

export interface Backend {
  getStatus(): Promise<StatusView>;
  /** Resolves when sign-in and the resolution of every connector complete. */
  signIn(): Promise<StatusView>;
  cancelSignIn(): Promise<void>;
  signOut(): Promise<StatusView>;
  /** One connector, or every connector when `connectorId` is omitted. */
  refresh(connectorId?: string): Promise<StatusView>;
  /** Tauri event `status-changed`; resolves to an unsubscribe function. */
  onStatus(cb: (s: StatusView) => void): Promise<() => void>;
  /** Tauri event `sign-in-progress`. */
  onSignInProgress(cb: (p: SignInProgress) => void): Promise<() => void>;
  /** The per-leg timeline of `"sign-in"` or a connector id (command `get_timeline`). */
  getTimeline(name: string): Promise<Timeline>;
  /** The doctor report without network probes (command `get_diagnostics`). */
  getDiagnostics(): Promise<DoctorReport>;
  /** Readiness checks against one connector's MCP server (command `run_readiness`). */
  runReadiness(connectorId: string): Promise<ReadinessReport>;
  /** Writes the redacted support bundle (command `save_support_bundle`). */
  saveSupportBundle(): Promise<SupportBundle>;
  /** Legacy per-user OAuth entries of other MCP clients (command `list_legacy`). */
  listLegacy(): Promise<LegacyScan>;
  /** Back up, remove and revoke these entries (command `disconnect_legacy`). */
  disconnectLegacy(ids: string[]): Promise<Receipt[]>;
  /** Every entry covered by a zero-touch grant that can be disconnected. */
  disconnectCovered(): Promise<Receipt[]>;
  /** Command `get_settings`. */
  getSettings(): Promise<Settings>;
  /** Start Lanyard at login, or not (command `set_autostart`); resolves to the new value. */
  setAutostart(enabled: boolean): Promise<boolean>;
  /** Admin pilot: the policy check (command `pilot_policy_check`). */
  pilotPolicyCheck(): Promise<PolicyCheckSection>;
  /** Signs in each test user in a throw-away profile; `expected` is JSON or CSV text. */
  runPilotMatrix(users: string[], expected?: string): Promise<PilotMatrix>;
  /** Ends the current test user's sign-in (their row: not signed in); the run goes on. */
  skipPilotUser(): Promise<void>;
  cancelPilotMatrix(): Promise<void>;
  /** Tauri event `pilot-progress`. */
  onPilotProgress(cb: (p: PilotProgress) => void): Promise<() => void>;
  /** Writes the pilot report (HTML) with the last matrix (command `save_pilot_report`). */
  savePilotReport(): Promise<SavedReport>;
}

/** Normalises whatever a command rejected with into `{code, message}`, so the UI has one shape. */
export function toAppError(e: unknown): AppError {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as AppError).code === 'string') {
    const message = (e as Partial<AppError>).message;
    return { code: (e as AppError).code, message: typeof message === 'string' ? message : '' };
  }
  if (e instanceof Error) return { code: 'internal', message: e.message };
  return { code: 'internal', message: typeof e === 'string' ? e : 'Unexpected error' };
}
