// The backend contract seen from the window: StatusView version 1 (src/status.rs,
// src/connector.rs) and the Backend interface that the real Tauri host and the fake both implement.

export type SessionState = 'signed_in' | 'signed_out' | 'expired';

export type ConnectorState =
  | 'granted'
  | 'denied'
  | 'needs_sign_in'
  | 'unsupported'
  | 'misconfigured'
  | 'unreachable'
  | 'pending';

export type Stage = 'discovery' | 'token_exchange' | 'jwt_bearer' | 'mcp';

export interface ConnectorError {
  stage: Stage;
  /** The server's OAuth error code, or a Lanyard code such as `issuer_mismatch`. */
  code: string;
  description?: string;
  /** What to do about it, written for a person. */
  hint: string;
}

export interface ConnectorView {
  id: string;
  name: string;
  mcp_url: string;
  state: ConnectorState;
  /** RFC 3339; null means unknown (opaque token without expires_in), shown as such. */
  expires_at: string | null;
  scopes: string[];
  tools: number | null;
  error?: ConnectorError;
}

export interface SessionView {
  state: SessionState;
  issuer?: string;
  subject?: string;
  email?: string;
  expires_at: string | null;
  renewable: boolean;
}

export interface StatusView {
  version: 1;
  session: SessionView;
  connectors: ConnectorView[];
}

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
