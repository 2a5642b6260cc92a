// Generated from the Rust types in src/view/ by `LANYARD_WRITE_TS=1 cargo test -p lanyard
// --lib typescript`; `make test` fails when this file and the Rust types disagree.
// Do not edit by hand.

export type SessionState = "signed_in" | "signed_out" | "expired";

export type ConnectorState = "granted" | "denied" | "needs_sign_in" | "unsupported" | "misconfigured" | "unreachable" | "pending";

/**
 * Which leg failed.
 */
export type Stage = "discovery" | "token_exchange" | "jwt_bearer" | "mcp";

/**
 * Why a connector is not granted: safe to show and to store (no secrets, scrubbed text).
 */
export type ConnectorError = { stage: Stage, 
/**
 * The server's OAuth error code, or a Lanyard code such as `issuer_mismatch`.
 */
code: string, description?: string, 
/**
 * What to do about it, written for a person.
 */
hint: string, };

export type ConnectorView = { id: string, name: string, mcp_url: string, state: ConnectorState, 
/**
 * RFC 3339; null means unknown (opaque token without expires_in), shown as such.
 */
expires_at: string | null, scopes: Array<string>, tools: number | null, error?: ConnectorError, };

export type SessionView = { state: SessionState, issuer?: string, subject?: string, email?: string, 
/**
 * When the IdP session (the ID token, or the refresh token if it is what renews) ends.
 * RFC 3339.
 */
expires_at: string | null, 
/**
 * Whether Lanyard can renew it without the user: it holds an IdP refresh token, and
 * renewing is not failing right now (an IdP outage makes it `false` until a retry works).
 */
renewable: boolean, };

export type StatusView = { version: 1, session: SessionView, connectors: Array<ConnectorView>, };

/** Each connector state in product.md's words (`ConnectorState::label`). */
export const STATE_LABELS: Record<ConnectorState, string> = {
  granted: "Granted",
  denied: "Not granted by your organisation",
  needs_sign_in: "Sign in",
  unsupported: "Not available zero-touch",
  misconfigured: "Set-up problem: tell your IT admin",
  unreachable: "Can't reach the server; retrying",
  pending: "Checking…",
};

/** Each state in one or two words, for a compact row (`ConnectorState::word`). */
export const STATE_WORDS: Record<ConnectorState, string> = {
  granted: "Granted",
  denied: "Not granted",
  needs_sign_in: "Sign in",
  unsupported: "Not zero-touch",
  misconfigured: "Set-up problem",
  unreachable: "Can't reach",
  pending: "Checking…",
};
