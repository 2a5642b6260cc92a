// The backend contract seen from the window: the core's view types, generated from the Rust ones
// (never edited here), the app crate's own few types, and the Backend interface that the real
// Tauri host and the fake both implement.

// Generated from the core crate (src/) by `LANYARD_WRITE_TS=1 cargo test -p lanyard --lib
// typescript`; `make test` fails when a generated file and the Rust types disagree.
// Status (src/view/): status --json version 1.
export type { ConnectorError, ConnectorState, ConnectorView, SessionState, SessionView, Stage, StatusView } from './status.generated';
// Diagnostics (src/diagnose/, src/trace.rs, src/protocol/oauth_error.rs). Every view is decoded
// and redacted by the host: no raw token, code or ID-JAG ever crosses IPC (the e2e canary test
// checks the payloads).
export type {
  CheckId,
  CheckOutcome,
  ClockCheck,
  ClockVerdict,
  DoctorReport,
  Endpoint,
  Environment,
  Explanation,
  KeyClaims,
  KeyringCheck,
  NamedToken,
  OAuthError,
  OriginOffset,
  PolicyCheck,
  ReadinessCheck,
  ReadinessReport,
  SignatureCheck,
  StepKind,
  TimeClaim,
  Timeline,
  TimelineOutcome,
  TimelineStep,
  TokenKind,
  TokenView,
  Verdict,
} from './diagnostics.generated';
// Legacy connections (src/legacy/): other MCP clients' per-user tokens, never the token itself.
export type { ClientApp, LegacyEntry, LegacyScan, Receipt, Revocation } from './legacy.generated';
// Admin pilot (src/pilot/): the what-if grant matrix of `lanyard pilot matrix --json` (version 1),
// its `pilot-progress` events, and the policy-check section of the pilot report.
export type {
  ConnectorColumn,
  FlowTiming,
  LegGroup,
  MatrixCell,
  MatrixRow,
  Mismatch,
  PilotMatrix,
  PilotProgress,
  PolicyCheckSection,
  PolicyProblem,
  ProgressPhase,
  RowError,
} from './pilot.generated';
import type { StatusView } from './status.generated';
import type { DoctorReport, ReadinessReport, Timeline } from './diagnostics.generated';
import type { LegacyScan, Receipt } from './legacy.generated';
import type { PilotMatrix, PilotProgress, PolicyCheckSection } from './pilot.generated';

// ---- Defined in the app crate (src-tauri), not in the core: written by hand, kept in step with
// the Rust by review (SignInProgress: events.rs; AppError: dto.rs; SupportBundle: support.rs
// SavedBundle; Settings: dto.rs; SavedReport: pilot.rs).

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

/** What `save_support_bundle` answers: where the file went and the id to quote. */
export interface SupportBundle {
  path: string;
  incidentId: string;
}

/** The app's settings (command `get_settings`). */
export interface Settings {
  autostart: boolean;
  session_warning_minutes: number;
  policy_path: string | null;
  /** The policy marks this as the admin's pilot machine: the window opens on Admin pilot. */
  pilot_machine: boolean;
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
