import { get } from 'svelte/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatRemaining, now, remainingMs, timeLeft } from './time';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

describe('formatRemaining', () => {
  it.each([
    [45 * S, '45 s'],
    [59.9 * S, '59 s'],
    [60 * S, '1 min'],
    [54 * MIN + 59 * S, '54 min'],
    [59 * MIN + 59 * S, '59 min'],
    [H, '1 h 00 min'],
    [H + 5 * MIN + 30 * S, '1 h 05 min'],
    [23 * H + 59 * MIN, '23 h 59 min'],
    [24 * H, '1 d 00 h'],
    [3 * 24 * H + 4 * H + 10 * MIN, '3 d 04 h'],
    [500, '0 s'],
  ])('%d ms -> %s', (ms, text) => {
    expect(formatRemaining(ms)).toBe(text);
  });

  it.each([0, -1, -H, Number.NaN, Number.NEGATIVE_INFINITY])('%d ms -> expired', (ms) => {
    expect(formatRemaining(ms)).toBe('expired');
  });
});

describe('remainingMs / timeLeft', () => {
  const t0 = Date.parse('2026-06-01T12:00:00Z');

  it('measures from now to an RFC 3339 instant, with or without offset', () => {
    expect(remainingMs('2026-06-01T12:54:00Z', t0)).toBe(54 * MIN);
    expect(remainingMs('2026-06-01T14:54:00+02:00', t0)).toBe(54 * MIN);
    expect(timeLeft('2026-06-01T13:05:00Z', t0)).toBe('1 h 05 min');
    expect(timeLeft('2026-06-01T11:59:59Z', t0)).toBe('expired');
  });

  it('says unknown (null) rather than guessing', () => {
    expect(remainingMs(null, t0)).toBeNull();
    expect(remainingMs(undefined, t0)).toBeNull();
    expect(remainingMs('', t0)).toBeNull();
    expect(remainingMs('not a date', t0)).toBeNull();
    expect(timeLeft(null, t0)).toBeNull();
  });
});

describe('now (the shared tick)', () => {
  afterEach(() => vi.useRealTimers());

  it('ticks every second while subscribed and stops its timer after', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-06-01T12:00:00Z'));
    const seen: number[] = [];
    const stop = now.subscribe((t) => seen.push(t));
    expect(seen.at(-1)).toBe(Date.parse('2026-06-01T12:00:00Z'));
    vi.advanceTimersByTime(3000);
    expect(seen.at(-1)).toBe(Date.parse('2026-06-01T12:00:03Z'));
    expect(vi.getTimerCount()).toBe(1);
    stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives a fresh time to a new subscriber, not the value from module load', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    expect(get(now)).toBe(Date.parse('2030-01-01T00:00:00Z'));
  });
});

describe('now: idle while the page is hidden (issue 11)', () => {
  let visibility: DocumentVisibilityState = 'visible';
  const show = (state: DocumentVisibilityState) => {
    visibility = state;
    document.dispatchEvent(new Event('visibilitychange'));
  };

  beforeEach(() => {
    visibility = 'visible';
    vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => visibility);
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-06-01T12:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('runs no timer and calls no subscriber while hidden; ticks at once when shown again', () => {
    const seen: number[] = [];
    const stop = now.subscribe((t) => seen.push(t));
    vi.advanceTimersByTime(2000);
    expect(seen).toHaveLength(3);

    show('hidden');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(seen).toHaveLength(3);

    show('visible');
    // The first tick comes with the event, not a second later, and carries the current time.
    expect(seen).toHaveLength(4);
    expect(seen.at(-1)).toBe(Date.parse('2026-06-01T12:01:02Z'));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(seen.at(-1)).toBe(Date.parse('2026-06-01T12:01:03Z'));
    stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('starts idle when subscribed while hidden, with a fresh time and no timer', () => {
    show('hidden');
    const seen: number[] = [];
    const stop = now.subscribe((t) => seen.push(t));
    expect(seen).toEqual([Date.parse('2026-06-01T12:00:00Z')]);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(seen).toHaveLength(1);
    show('visible');
    expect(seen.at(-1)).toBe(Date.parse('2026-06-01T12:00:05Z'));
    expect(vi.getTimerCount()).toBe(1);
    stop();
  });

  it('repeated visibility events never start a second timer, and unsubscribing stops listening', () => {
    const stop = now.subscribe(() => {});
    show('visible');
    show('visible');
    expect(vi.getTimerCount()).toBe(1);
    stop();
    show('visible');
    expect(vi.getTimerCount()).toBe(0);
  });
});
