// Generated from the Rust types in src/pilot/ by `LANYARD_WRITE_TS=1 cargo test -p lanyard
// --lib typescript`; `make test` fails when this file and the Rust types disagree.
// Do not edit by hand.

import type { ConnectorState } from './status.generated';

export type Mismatch = "over_grant" | "under_grant";

/**
 * One user × connector cell.
 */
export type MatrixCell = { id: string, state: ConnectorState, 
/**
 * The IdP's or the connector's error code (`invalid_target`, …) when there is a cause.
 */
code?: string, 
/**
 * Whether the expected-grants file says this user should get it (only with `--expect`).
 */
expected?: boolean, mismatch?: Mismatch, };

/**
 * Why a user is "not signed in".
 */
export type RowError = { 
/**
 * The IdP's error (`login_required`, `access_denied`) or Lanyard's (`cancelled`, `timeout`,
 * `wrong_user`, …).
 */
code: string, message: string, };

export type MatrixRow = { user: string, signed_in: boolean, error?: RowError, 
/**
 * Every policy connector, in policy order; empty when the user did not sign in.
 */
connectors: Array<MatrixCell>, };

/**
 * A policy connector as the matrix's column header.
 */
export type ConnectorColumn = { id: string, name: string, };

/**
 * The legs a pilot report shows as columns.
 */
export type LegGroup = "sign_in" | "discovery" | "token_exchange" | "jwt_bearer" | "mcp_check" | "other";

/**
 * One flow's time per leg, in milliseconds (the browser's own time is not a step's).
 */
export type FlowTiming = { 
/**
 * The test user the flow ran for.
 */
user: string, 
/**
 * `"sign-in"` or a connector id.
 */
flow: string, legs: { [key in LegGroup]?: number }, total_ms: number, };

export type PilotMatrix = { version: 1, users: Array<MatrixRow>, columns: Array<ConnectorColumn>, 
/**
 * Problems with the expected-grants file, and clean-up that did not complete.
 */
problems?: Array<string>, 
/**
 * Time per leg for each user's sign-in and connectors.
 */
timings?: Array<FlowTiming>, 
/**
 * The admin cancelled the run: rows after that are "not signed in" (`cancelled`).
 */
cancelled?: boolean, 
/**
 * Whether an expected-grants file was compared.
 */
compared?: boolean, };

export type ProgressPhase = "signing_in" | "done" | "not_signed_in";

/**
 * Sent before and after each user's turn (the app shows it per user).
 */
export type PilotProgress = { 
/**
 * 0-based position in the list of users.
 */
index: number, total: number, user: string, phase: ProgressPhase, 
/**
 * With `done`: how many connectors were granted.
 */
granted?: number, error?: RowError, };

/**
 * One problem the policy check found, in the admin's words.
 */
export type PolicyProblem = { 
/**
 * Where in the policy (`connectors[2].client_secret`), when known.
 */
path?: string, message: string, 
/**
 * What to change.
 */
fix?: string, 
/**
 * Works, but not fully (a connector not zero-touch yet, no revocation endpoint): reported,
 * not counted as a failure.
 */
warning?: boolean, };

/**
 * The policy-check section: `lanyard policy check` (src/admin) on the policy the engine runs
 * with, or the doctor's static checks when that file can't be read again.
 */
export type PolicyCheckSection = { source: string, 
/**
 * Which check ran ("static checks", "static and live checks").
 */
checked_by: string, problems: Array<PolicyProblem>, };
