import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { createFakeBackend, selectBackend } from './index';
import { tauriBackend } from './tauri';
import { toAppError } from './types';

const invokeMock = vi.mocked(invoke);
const listenMock = vi.mocked(listen);

describe('tauriBackend', () => {
  beforeEach(() => {
    invokeMock.mockReset().mockResolvedValue({ version: 1 });
    listenMock.mockReset().mockResolvedValue(() => {});
  });

  it('calls the host commands by name with camelCase args', async () => {
    await tauriBackend.getStatus();
    await tauriBackend.signIn();
    await tauriBackend.cancelSignIn();
    await tauriBackend.signOut();
    await tauriBackend.refresh('linear');
    await tauriBackend.refresh();
    expect(invokeMock.mock.calls).toEqual([
      ['get_status', undefined],
      ['sign_in', undefined],
      ['cancel_sign_in', undefined],
      ['sign_out', undefined],
      ['refresh', { connectorId: 'linear' }],
      ['refresh', { connectorId: null }],
    ]);
  });

  it('calls the diagnostics and legacy commands with the agreed argument shapes', async () => {
    await tauriBackend.getTimeline('sign-in');
    await tauriBackend.getDiagnostics();
    await tauriBackend.runReadiness('linear');
    await tauriBackend.saveSupportBundle();
    await tauriBackend.listLegacy();
    await tauriBackend.disconnectLegacy(['codex:77aa', 'goose:9f31']);
    await tauriBackend.disconnectCovered();
    expect(invokeMock.mock.calls).toEqual([
      ['get_timeline', { name: 'sign-in' }],
      ['get_diagnostics', undefined],
      ['run_readiness', { connectorId: 'linear' }],
      ['save_support_bundle', undefined],
      ['list_legacy', undefined],
      ['disconnect_legacy', { ids: ['codex:77aa', 'goose:9f31'] }],
      ['disconnect_legacy', { ids: null, covered: true }],
    ]);
  });

  it('passes the host {code, message, detail} through, and wraps anything else', async () => {
    const host = { code: 'sign_in_failed', message: 'no route', detail: 'unreachable' };
    invokeMock.mockRejectedValueOnce(host);
    await expect(tauriBackend.signIn()).rejects.toEqual(host);
    invokeMock.mockRejectedValueOnce('plain string from a panic');
    await expect(tauriBackend.getStatus()).rejects.toEqual({ code: 'internal', message: 'plain string from a panic', detail: '' });
  });

  it('listens to status-changed and sign-in-progress and hands over the payload', async () => {
    const onStatus = vi.fn();
    const onProgress = vi.fn();
    await tauriBackend.onStatus(onStatus);
    await tauriBackend.onSignInProgress(onProgress);
    expect(listenMock.mock.calls.map((c) => c[0])).toEqual(['status-changed', 'sign-in-progress']);
    const statusHandler = listenMock.mock.calls[0][1];
    statusHandler({ event: 'status-changed', id: 1, payload: { version: 1 } });
    expect(onStatus).toHaveBeenCalledWith({ version: 1 });
  });
});

describe('toAppError', () => {
  it('normalises errors to {code, message, detail}, with only the host\'s codes', () => {
    expect(toAppError(new Error('boom'))).toEqual({ code: 'internal', message: 'boom', detail: '' });
    expect(toAppError({ code: 'cancelled' })).toEqual({ code: 'cancelled', message: '', detail: '' });
    // A code the host never sends (Tauri's own, say) is kept, as the detail of `internal`.
    expect(toAppError({ code: 'x', message: 'bad argument' })).toEqual({ code: 'internal', message: 'bad argument', detail: 'x' });
    expect(toAppError(undefined)).toEqual({ code: 'internal', message: 'Unexpected error', detail: '' });
  });
});

describe('selectBackend', () => {
  const win = (search: string, tauri: boolean) =>
    ({ location: { search }, ...(tauri ? { __TAURI_INTERNALS__: {} } : {}) }) as unknown as Window;

  it('uses Tauri inside the app', () => {
    expect(selectBackend(win('', true))).toBe(tauriBackend);
  });

  it('uses the fake in a plain browser, or when ?fake= asks for it', async () => {
    expect(selectBackend(win('', false))).not.toBe(tauriBackend);
    const forced = selectBackend(win('?fake=signed-out', true));
    expect(forced).not.toBe(tauriBackend);
    expect((await forced.getStatus()).session.state).toBe('signed_out');
    expect((await selectBackend(win('?fake=', true)).getStatus()).session.state).toBe('signed_in');
  });
});

describe('fakeBackend', () => {
  it('refuses an unknown connector like the host would', async () => {
    await expect(createFakeBackend('ada', { stepMs: 0 }).refresh('nope')).rejects.toMatchObject({ code: 'unknown_connector' });
  });

  it('never hands out shared mutable state', async () => {
    const fake = createFakeBackend('ada', { stepMs: 0 });
    const a = await fake.getStatus();
    a.connectors.length = 0;
    expect((await fake.getStatus()).connectors).toHaveLength(8);
  });
});

describe('fakeBackend: diagnostics and legacy', () => {
  it('derives timelines from the scenario: granted, denied invalid_target, IdP down', async () => {
    const ada = createFakeBackend('ada', { stepMs: 0 });
    expect((await ada.getTimeline('linear')).outcome).toBe('ok');
    const asana = await ada.getTimeline('asana');
    expect([asana.outcome, asana.failure?.code, asana.failure?.endpoint]).toEqual(['failed', 'invalid_target', 'idp_token_exchange']);
    expect(asana.steps.at(-1)?.oauth_error?.error).toBe('invalid_target');
    const down = createFakeBackend('idp-unreachable', { stepMs: 0 });
    expect((await down.getTimeline('linear')).failure?.code).toBe('connect_refused');
    expect((await down.getTimeline('sign-in')).steps[0]).toMatchObject({ kind: 'idp_discovery', status: null, verdict: 'failed' });
    await expect(ada.getTimeline('nope')).rejects.toMatchObject({ code: 'unknown_connector' });
  });

  it('warns about the clock only in the clock-skew scenario', async () => {
    expect((await createFakeBackend('ada', { stepMs: 0 }).getDiagnostics()).clock.warning).toBeUndefined();
    const skew = await createFakeBackend('clock-skew', { stepMs: 0 }).getDiagnostics();
    expect(skew.clock.verdict).toEqual({ kind: 'local_clock', offset_secs: 241 });
    expect(skew.clock.warning).toMatch(/Turn on automatic date and time/);
  });

  it('disconnecting covered entries yields every receipt kind and removes them from the list', async () => {
    const fake = createFakeBackend('ada', { stepMs: 0 });
    const before = await fake.listLegacy();
    expect(before.entries.filter((e) => e.covered_by_ema).map((e) => e.client)).toEqual(['claude-code', 'mcp-remote', 'codex', 'gemini', 'vs-code']);
    const receipts = await fake.disconnectCovered();
    expect(receipts.map((r) => r.revocation.outcome)).toEqual(['revoked', 'revoked', 'no_endpoint', 'failed']);
    expect(receipts.every((r) => r.removed_locally && r.backup !== null)).toBe(true);
    expect((await fake.listLegacy()).entries.map((e) => e.client)).toEqual(['vs-code', 'goose', 'inspector-v2']);
    const refused = await fake.disconnectLegacy(['vs-code:linear', 'gone']);
    expect(refused.map((r) => [r.revocation.outcome, r.removed_locally])).toEqual([
      ['not_attempted', false],
      ['not_attempted', false],
    ]);
  });
});
