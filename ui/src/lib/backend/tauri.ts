// The real backend: Tauri 2 commands and events. The only module that imports @tauri-apps/api.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { toAppError, type Backend, type SignInProgress, type StatusView } from './types';

/** Commands reject with the host's `{code, message}`; normalise anything else to that shape. */
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toAppError(e);
  }
}

export const tauriBackend: Backend = {
  getStatus: () => call<StatusView>('get_status'),
  signIn: () => call<StatusView>('sign_in'),
  cancelSignIn: () => call<void>('cancel_sign_in'),
  signOut: () => call<StatusView>('sign_out'),
  // Tauri 2 maps the Rust argument `connector_id: Option<String>` to `connectorId`; null is None.
  refresh: (connectorId?: string) => call<StatusView>('refresh', { connectorId: connectorId ?? null }),
  onStatus: (cb) => listen<StatusView>('status-changed', (e) => cb(e.payload)),
  onSignInProgress: (cb) => listen<SignInProgress>('sign-in-progress', (e) => cb(e.payload)),
};
