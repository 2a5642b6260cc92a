// Words, icons and tones for the Details view and the Diagnostics page: step verdicts, readiness
// outcomes, clock offsets, signatures and decoded claim values. Like states.ts, colour is only a
// second signal: every look comes with an icon shape and words.
import type { CheckOutcome, ClockVerdict, OriginOffset, SignatureCheck, Verdict } from './backend/types';
import type { IconName, Tone } from './states';

export interface Look {
  label: string;
  icon: IconName;
  tone: Tone;
}

export const VERDICT_LOOKS: Record<Verdict, Look> = {
  ok: { label: 'OK', icon: 'check', tone: 'ok' },
  info: { label: 'Info', icon: 'minus', tone: 'neutral' },
  fallback: { label: 'Not here; tried the next address', icon: 'minus', tone: 'neutral' },
  recovered: { label: 'Failed, then worked on retry', icon: 'check', tone: 'attention' },
  failed: { label: 'Failed', icon: 'alert', tone: 'problem' },
};

export const CHECK_LOOKS: Record<CheckOutcome, Look> = {
  pass: { label: 'Pass', icon: 'check', tone: 'ok' },
  fail: { label: 'Fail', icon: 'alert', tone: 'problem' },
  skipped: { label: 'Skipped', icon: 'minus', tone: 'neutral' },
};

/** A verdict or outcome this window does not know still renders, in words. */
export function lookOf<K extends string>(table: Record<K, Look>, key: string): Look {
  return table[key as K] ?? { label: key, icon: 'question', tone: 'neutral' };
}

/** "38 ms", "3.0 s". */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** "42 s", "4 min 2 s", "2 h 5 min" (diagnose::clock::human_secs). */
export function humanSecs(secs: number): string {
  const s = Math.abs(Math.trunc(secs));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** One server's clock against this computer's, in words. */
export function offsetText(o: OriginOffset): string {
  if (o.offset_secs === 0) return 'Same time as this computer';
  return `${humanSecs(o.offset_secs)} ${o.offset_secs > 0 ? 'ahead of' : 'behind'} this computer`;
}

export function clockVerdictText(v: ClockVerdict): string {
  switch (v.kind) {
    case 'unknown':
      return 'Not measured yet: no server has answered with a date.';
    case 'in_sync':
      return "This computer's clock agrees with the servers.";
    case 'local_clock':
      return `This computer's clock is off by ${humanSecs(v.offset_secs)} (${v.offset_secs > 0 ? 'ahead' : 'behind'}).`;
    case 'servers':
      return `Some servers' clocks are off: ${v.origins.join(', ')}.`;
    default:
      return 'Unknown clock result.';
  }
}

export function signatureLook(sig: SignatureCheck): Look & { detail: string } {
  switch (sig.result) {
    case 'verified':
      return {
        label: 'Signature verified',
        icon: 'check',
        tone: 'ok',
        detail: `${sig.alg}${sig.kid ? `, key ${sig.kid}` : ''}, published by ${sig.issuer}`,
      };
    case 'invalid':
      return { label: 'Signature does not verify', icon: 'alert', tone: 'problem', detail: sig.why };
    default:
      return { label: 'Signature not verified', icon: 'minus', tone: 'neutral', detail: sig.why };
  }
}

/** Claims that hold epoch seconds. */
const TIME_CLAIMS = new Set(['iat', 'nbf', 'exp', 'auth_time']);

/** A decoded claim value for a person: times as local dates, lists space-separated. */
export function formatClaim(key: string, value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number' && TIME_CLAIMS.has(key)) {
    const d = new Date(value * 1000);
    return Number.isNaN(d.getTime()) ? String(value) : `${d.toLocaleString()} (${d.toISOString()})`;
  }
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The claims side by side across the flow, each with the keys worth showing first. */
export const CLAIM_STAGES = [
  { key: 'requested', heading: 'Requested', first: ['audience', 'resource', 'scope', 'client_id'] },
  { key: 'id_jag', heading: 'In the ID-JAG', first: ['aud', 'resource', 'scope', 'client_id', 'sub', 'iss', 'exp'] },
  { key: 'granted', heading: 'Granted', first: ['scope', 'expires_at', 'token_type'] },
] as const;

/** A stage's claims as a map, when they are one. `KeyClaims` holds any JSON value (Rust:
 * `serde_json::Value`); the engine records objects, anything else is shown as it is. */
export function claimEntries(value: unknown, first: readonly string[] = []): [string, unknown][] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'object' && !Array.isArray(value)) return orderedClaims(value as Record<string, unknown>, first);
  return [['value', value]];
}

/** Entries of a claim map, the `first` keys leading in that order, the rest alphabetically. */
export function orderedClaims(map: Record<string, unknown>, first: readonly string[] = []): [string, unknown][] {
  const lead = first.filter((k) => k in map).map((k): [string, unknown] => [k, map[k]]);
  const rest = Object.keys(map)
    .filter((k) => !first.includes(k))
    .sort()
    .map((k): [string, unknown] => [k, map[k]]);
  return [...lead, ...rest];
}
