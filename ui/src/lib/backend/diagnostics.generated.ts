// Generated from the Rust types in src/diagnose/, src/trace.rs and
// src/protocol/oauth_error.rs by `LANYARD_WRITE_TS=1 cargo test -p lanyard
// --lib typescript`; `make test` fails when this file and the Rust types disagree.
// Do not edit by hand.

import type { StatusView } from './status.generated';

/**
 * Which leg of the flow a request belongs to (one vocabulary for CLI, app and bundle).
 */
export type StepKind = "idp_discovery" | "jwks" | "authorization" | "callback" | "token" | "device_authorization" | "device_poll" | "refresh" | "mcp_probe" | "protected_resource_metadata" | "authorization_server_metadata" | "token_exchange" | "jwt_bearer" | "mcp_initialize" | "mcp_tools_list" | "mcp_tool_call" | "revocation";

export type OAuthError = { error: string, error_description?: string, error_uri?: string, };

/**
 * Where an error was met.
 */
export type Endpoint = "oidc_callback" | "id_token" | "idp_token" | "idp_token_exchange" | "idp_refresh" | "connector_jwt_bearer" | "mcp" | "discovery" | "network" | "tls" | "session";

/**
 * Why something failed and what to do, for two readers. Safe to show and to bundle.
 */
export type Explanation = { code: string, endpoint: Endpoint, cause: string, 
/**
 * What the employee does.
 */
employee: string, 
/**
 * What the admin checks.
 */
admin: string, 
/**
 * False when the code is not in the catalogue; `cause` then quotes the server.
 */
known: boolean, 
/**
 * The server's own `error_description`, scrubbed.
 */
server_description?: string, 
/**
 * Set by the clock check when a time-related failure is explained by skew.
 */
clock_note?: string, };

export type Verdict = "ok" | "info" | "fallback" | "recovered" | "failed";

export type TimelineStep = { kind: StepKind, 
/**
 * The leg, for a person ("Token exchange at the IdP").
 */
leg: string, method: string, 
/**
 * Already redacted when recorded.
 */
url: string, status: number | null, verdict: Verdict, 
/**
 * RFC 3339.
 */
started_at: string, duration_ms: number, oauth_error?: OAuthError, note?: string, explanation?: Explanation, };

/**
 * What was asked for, what the IdP put in the ID-JAG, what the connector granted.
 */
export type KeyClaims = { 
/**
 * As the trace recorded them: `{audience, resource, scope, client_id}` from the
 * exchange code, though a trace file may hold any JSON value here.
 */
requested?: unknown, 
/**
 * The ID-JAG's claims, handles (`jti`) as fingerprints.
 */
id_jag?: unknown, 
/**
 * `{scope, expires_at, token_type}`.
 */
granted?: unknown, 
/**
 * Differences worth a look ("aud differs from the requested audience").
 */
findings?: Array<string>, };

export type TimelineOutcome = "empty" | "ok" | "failed";

export type Timeline = { 
/**
 * `"sign-in"` or the connector id.
 */
name: string, outcome: TimelineOutcome, steps: Array<TimelineStep>, 
/**
 * Why the flow failed, when it did: from the failed step, or from the recorded error
 * when the failure left no step behind (e.g. no ID-JAG support).
 */
failure?: Explanation, key_claims: KeyClaims, };

export type OriginOffset = { 
/**
 * `scheme://host:port`.
 */
origin: string, 
/**
 * What this server is for a person ("your company's sign-in service (IdP)", "Linear").
 */
label?: string, 
/**
 * Server clock minus local clock, in seconds: positive = the server is ahead.
 */
offset_secs: number, samples: number, 
/**
 * `|offset_secs| > SKEW_WARNING_SECS`.
 */
off: boolean, };

/**
 * Which side is most likely wrong.
 */
export type ClockVerdict = { "kind": "unknown" } | { "kind": "in_sync" } | { "kind": "local_clock", offset_secs: number, } | { "kind": "servers", origins: Array<string>, };

export type ClockCheck = { origins: Array<OriginOffset>, verdict: ClockVerdict, 
/**
 * One sentence for a person, when something is off.
 */
warning?: string, };

export type TokenKind = "id_token" | "access_token" | "id_jag";

export type SignatureCheck = { "result": "verified", issuer: string, kid: string | null, alg: string, } | { "result": "invalid", why: string, } | { "result": "unverifiable", why: string, };

/**
 * One time claim in three forms.
 */
export type TimeClaim = { claim: string, utc: string, local: string, 
/**
 * "in 54 min", "3 min ago".
 */
relative: string, };

export type TokenView = { kind: TokenKind, 
/**
 * `jwt` or `opaque`.
 */
format: string, 
/**
 * Lets support say "the same token" without seeing it.
 */
fingerprint: string, header?: Record<string, unknown>, claims?: Record<string, unknown>, times?: Array<TimeClaim>, signature: SignatureCheck, };

export type CheckId = "protected_resource_metadata" | "unauthorized_challenge" | "valid_token_accepted" | "token_in_header_only" | "audience_validated" | "signature_validated" | "id_jag_grant_advertised" | "issuer_matches" | "revocation_endpoint";

export type CheckOutcome = "pass" | "fail" | "skipped";

export type ReadinessCheck = { id: CheckId, title: string, outcome: CheckOutcome, detail: string, };

export type ReadinessReport = { mcp_url: string, checks: Array<ReadinessCheck>, 
/**
 * No check failed.
 */
ready: boolean, };

export type KeyringCheck = { backend: string, reachable: boolean, error?: string, };

export type Environment = { os: string, os_release?: string, arch: string, app_version: string, keyring: KeyringCheck, state_dir: string, log_file: string, };

export type PolicyCheck = { source: string, idp_issuer: string, connectors: number, 
/**
 * Problems found beyond what loading already refuses (a policy that fails to load
 * never reaches the doctor: `Lanyard::open` reports it).
 */
problems: Array<string>, };

export type NamedToken = { 
/**
 * The connector id, or `idp` for the ID token.
 */
connector: string, token: TokenView, };

export type DoctorReport = { version: 1, 
/**
 * Quote it in the ticket; it names this report (`LY-XXXX-XXXX-XXXX`).
 */
incident_id: string, 
/**
 * RFC 3339.
 */
generated_at: string, environment: Environment, policy: PolicyCheck, status?: StatusView, status_error?: string, clock: ClockCheck, timelines: Array<Timeline>, tokens: Array<NamedToken>, readiness?: Array<ReadinessReport>, };
