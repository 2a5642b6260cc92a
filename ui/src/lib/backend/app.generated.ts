// Generated from the Rust types in src-tauri/src/ by `LANYARD_WRITE_TS=1 cargo test -p
// lanyard-app --lib typescript`; `make test` fails when this file and the Rust types
// disagree. Do not edit by hand.

/**
 * The closed set of error codes the UI knows how to present.
 */
export type ErrorCode = "policy_invalid" | "keyring_unavailable" | "not_signed_in" | "cancelled" | "sign_in_failed" | "sign_in_in_progress" | "unknown_connector" | "invalid_input" | "internal";

/**
 * What every failed command rejects with.
 */
export type AppError = { code: ErrorCode, message: string, 
/**
 * The core's precise code (e.g. `issuer_mismatch`), for support; empty when the app
 * itself refused.
 */
detail: string, };

/**
 * Where a sign-in is (event `sign-in-progress`). The host sends `waiting_for_browser` as it
 * starts, then `done` or `failed` once the sign-in and every connector's resolution end.
 */
export type SignInPhase = "waiting_for_browser" | "done" | "failed";

/**
 * One `sign-in-progress` event.
 */
export type SignInProgress = { phase: SignInPhase, 
/**
 * Why it failed, in words for people (`failed` only).
 */
message?: string, };

/**
 * The app's settings (command `get_settings`).
 */
export type Settings = { autostart: boolean, 
/**
 * Minutes before the IdP session lapses at which the user is warned.
 */
session_warning_minutes: number, policy_path: string | null, 
/**
 * The policy marks this as the admin's pilot machine: the window opens on Admin pilot.
 */
pilot_machine: boolean, };

/**
 * What `save_support_bundle` answers: where the file went and the incident id to quote.
 */
export type SupportBundle = { path: string, incidentId: string, };

/**
 * What `save_pilot_report` answers: where the report went.
 */
export type SavedReport = { path: string, };
