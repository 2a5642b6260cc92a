// The real backend: Tauri 2 commands and events. The only module that imports @tauri-apps/api.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import {
  toAppError,
  type Backend,
  type DoctorReport,
  type LegacyScan,
  type PilotMatrix,
  type PilotProgress,
  type PolicyCheckSection,
  type ReadinessReport,
  type Receipt,
  type SavedReport,
  type Settings,
  type SignInProgress,
  type StatusView,
  type SupportBundle,
  type Timeline,
} from './types';

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
  getTimeline: (name: string) => call<Timeline>('get_timeline', { name }),
  getDiagnostics: () => call<DoctorReport>('get_diagnostics'),
  runReadiness: (connectorId: string) => call<ReadinessReport>('run_readiness', { connectorId }),
  saveSupportBundle: () => call<SupportBundle>('save_support_bundle'),
  listLegacy: () => call<LegacyScan>('list_legacy'),
  // One command for both: `ids: Option<Vec<String>>`, `covered: Option<bool>` on the Rust side.
  disconnectLegacy: (ids: string[]) => call<Receipt[]>('disconnect_legacy', { ids }),
  disconnectCovered: () => call<Receipt[]>('disconnect_legacy', { ids: null, covered: true }),
  getSettings: () => call<Settings>('get_settings'),
  statusPainted: () => call<void>('status_painted'),
  setAutostart: (enabled: boolean) => call<boolean>('set_autostart', { enabled }),
  pilotPolicyCheck: () => call<PolicyCheckSection>('pilot_policy_check'),
  runPilotMatrix: (users: string[], expected?: string) =>
    call<PilotMatrix>('run_pilot_matrix', { users, expected: expected ?? null }),
  skipPilotUser: () => call<void>('skip_pilot_user'),
  cancelPilotMatrix: () => call<void>('cancel_pilot_matrix'),
  onPilotProgress: (cb) => listen<PilotProgress>('pilot-progress', (e) => cb(e.payload)),
  savePilotReport: () => call<SavedReport>('save_pilot_report'),
};
