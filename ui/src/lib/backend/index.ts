// Chooses the backend at startup: the real Tauri host, or the fake so the window runs in a plain
// browser (tests, screenshots, design work).
import { createFakeBackend, DEFAULT_SCENARIO } from './fake';
import { tauriBackend } from './tauri';
import type { Backend } from './types';

export type * from './types';
export { toAppError } from './types';
export { createFakeBackend, SCENARIOS, type ScenarioName } from './fake';

/** `?fake=<scenario>` forces the fake; without Tauri's injected globals there is nothing else. */
export function selectBackend(win: Window): Backend {
  const scenario = new URLSearchParams(win.location.search).get('fake');
  const inTauri = '__TAURI_INTERNALS__' in win;
  if (scenario !== null || !inTauri) return createFakeBackend(scenario || DEFAULT_SCENARIO);
  return tauriBackend;
}
