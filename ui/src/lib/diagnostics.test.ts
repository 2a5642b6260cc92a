import { describe, expect, it } from 'vitest';
import { claimEntries, clockVerdictText, formatClaim, formatDuration, humanSecs, lookOf, offsetText, orderedClaims, signatureLook, VERDICT_LOOKS } from './diagnostics';

describe('diagnostics words', () => {
  it('formats durations and clock offsets like the CLI', () => {
    expect(formatDuration(38)).toBe('38 ms');
    expect(formatDuration(3002)).toBe('3.0 s');
    expect([humanSecs(42), humanSecs(-242), humanSecs(7500)]).toEqual(['42 s', '4 min 2 s', '2 h 5 min']);
    expect(offsetText({ origin: 'x', offset_secs: -242, samples: 1, off: true })).toBe('4 min 2 s behind this computer');
    expect(offsetText({ origin: 'x', offset_secs: 3, samples: 1, off: false })).toBe('3 s ahead of this computer');
    expect(offsetText({ origin: 'x', offset_secs: 0, samples: 1, off: false })).toBe('Same time as this computer');
  });

  it('names every clock verdict', () => {
    expect(clockVerdictText({ kind: 'local_clock', offset_secs: -95 })).toBe("This computer's clock is off by 1 min 35 s (behind).");
    expect(clockVerdictText({ kind: 'servers', origins: ['https://a'] })).toMatch('https://a');
    expect(clockVerdictText({ kind: 'unknown' })).toMatch(/Not measured/);
  });

  it('decodes claim values: times readable with the UTC instant, lists space-separated', () => {
    expect(formatClaim('exp', 1780315200)).toMatch(/\(2026-06-01T12:00:00\.000Z\)$/);
    expect(formatClaim('scope', ['read', 'write'])).toBe('read write');
    expect(formatClaim('cnf', { jkt: 'abc' })).toBe('{"jkt":"abc"}');
    expect(formatClaim('sub', null)).toBe('—');
    // A number that is not a time claim stays a number.
    expect(formatClaim('tools', 4)).toBe('4');
  });

  it('orders claims: the named ones first, the rest alphabetically', () => {
    expect(orderedClaims({ z: 1, scope: 's', a: 2, aud: 'x' }, ['aud', 'scope']).map(([k]) => k)).toEqual(['aud', 'scope', 'a', 'z']);
  });

  it('shows a stage of key claims that is not an object as it is (KeyClaims holds any JSON value)', () => {
    expect(claimEntries({ scope: 's', aud: 'x' }, ['aud'])).toEqual([['aud', 'x'], ['scope', 's']]);
    expect(claimEntries(undefined)).toEqual([]);
    expect(claimEntries(null)).toEqual([]);
    expect(claimEntries('opaque')).toEqual([['value', 'opaque']]);
    expect(claimEntries(['a', 'b'])).toEqual([['value', ['a', 'b']]]);
  });

  it('has words and a shape for every verdict and signature result, and survives unknown ones', () => {
    for (const look of Object.values(VERDICT_LOOKS)) expect(look.label && look.icon).toBeTruthy();
    expect(lookOf(VERDICT_LOOKS, 'brand_new')).toEqual({ label: 'brand_new', icon: 'question', tone: 'neutral' });
    expect(signatureLook({ result: 'invalid', why: 'bad sig' })).toMatchObject({ label: 'Signature does not verify', tone: 'problem', detail: 'bad sig' });
    expect(signatureLook({ result: 'verified', issuer: 'https://i', kid: null, alg: 'ES256' }).detail).toBe('ES256, published by https://i');
  });
});
