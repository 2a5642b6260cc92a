// Time left until an expiry, formatted for people, and the one clock every countdown reads.
import { readable } from 'svelte/store';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * "45 s", "54 min", "1 h 05 min", "3 d 04 h", or "expired". Rounds down, so the text never
 * promises more time than is left: 59.9 s shows "59 s", not "1 min".
 */
export function formatRemaining(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return 'expired';
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)} s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min`;
  if (ms < DAY) {
    const h = Math.floor(ms / HOUR);
    const m = Math.floor((ms % HOUR) / MINUTE);
    return `${h} h ${String(m).padStart(2, '0')} min`;
  }
  // Refresh-token sessions can last weeks; minutes stop mattering there.
  const d = Math.floor(ms / DAY);
  const h = Math.floor((ms % DAY) / HOUR);
  return `${d} d ${String(h).padStart(2, '0')} h`;
}

/** Milliseconds from `now` to an RFC 3339 instant; null when the expiry is unknown or unparsable. */
export function remainingMs(expiresAt: string | null | undefined, now: number): number | null {
  if (!expiresAt) return null;
  const t = Date.parse(expiresAt);
  return Number.isNaN(t) ? null : t - now;
}

/** "54 min" / "expired" / null (unknown): what the countdowns show. */
export function timeLeft(expiresAt: string | null | undefined, now: number): string | null {
  const ms = remainingMs(expiresAt, now);
  return ms === null ? null : formatRemaining(ms);
}

/**
 * One 1-second tick shared by every countdown on screen, so rows never disagree and there is a
 * single timer however many connectors there are. It runs only while something subscribes and
 * the page is visible: a window closed to the tray keeps its webview, and a hidden webview should
 * cost nothing (issue 11). When the page shows again it ticks at once, so no stale time is seen.
 */
export const now = readable(Date.now(), (set) => {
  let id: ReturnType<typeof setInterval> | undefined;
  const start = () => {
    if (id !== undefined) return;
    set(Date.now());
    id = setInterval(() => set(Date.now()), SECOND);
  };
  const stop = () => {
    clearInterval(id);
    id = undefined;
  };
  const follow = () => (document.visibilityState === 'hidden' ? stop() : start());
  follow();
  // A fresh time for the first subscriber even while hidden: the value from module load is old.
  if (id === undefined) set(Date.now());
  document.addEventListener('visibilitychange', follow);
  return () => {
    document.removeEventListener('visibilitychange', follow);
    stop();
  };
});
