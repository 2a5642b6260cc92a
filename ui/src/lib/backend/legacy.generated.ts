// Generated from the Rust types in src/legacy/ by `LANYARD_WRITE_TS=1 cargo test -p lanyard
// --lib typescript`; `make test` fails when this file and the Rust types disagree.
// Do not edit by hand.

/**
 * The MCP client application whose store holds an entry.
 */
export type ClientApp = "mcp-remote" | "claude-code" | "codex" | "gemini" | "goose" | "inspector-v2" | "vs-code";

/**
 * One legacy connection as a person sees it. Deliberately holds no token.
 */
export type LegacyEntry = { 
/**
 * Stable across scans: `<client>:<hash of file and key>`.
 */
id: string, client: ClientApp, file: string, server_url: string | null, issuer: string | null, client_id: string | null, account: string | null, 
/**
 * RFC 3339; null when unknown.
 */
expires_at: string | null, has_refresh_token: boolean, 
/**
 * The policy connector this entry belongs to, when it could be matched.
 */
connector_id: string | null, 
/**
 * Lanyard holds a zero-touch grant for that connector, so this entry can go.
 */
covered_by_ema: boolean, 
/**
 * False when Lanyard cannot remove it (VS Code encrypts its tokens).
 */
can_disconnect: boolean, note: string | null, };

export type LegacyScan = { entries: Array<LegacyEntry>, 
/**
 * Files that exist but could not be read or understood (never fatal to the scan).
 */
problems: Array<string>, };

/**
 * What happened at the server.
 */
export type Revocation = { "outcome": "revoked" } | { "outcome": "no_endpoint" } | { "outcome": "failed", reason: string, permanent: boolean, } | { "outcome": "not_attempted" };

/**
 * One entry's outcome. Holds no token.
 */
export type Receipt = { entry_id: string, client: ClientApp | null, connector_id: string | null, removed_locally: boolean, 
/**
 * The private, encrypted copy of the removed entry taken before the change.
 */
backup: string | null, 
/**
 * What `restore` takes to put the local entry back.
 */
backup_id: string | null, revocation: Revocation, 
/**
 * One sentence for a person.
 */
message: string, };
