import { describe, expect, it } from 'vitest';
import type { LegacyEntry, Receipt } from './backend/types';
import { cannotDisconnectReason, clientLabel, disconnectPlan, receiptLook, targetName } from './legacy';

const entry = (extra: Partial<LegacyEntry> = {}): LegacyEntry => ({
  id: 'codex:1',
  client: 'codex',
  file: '/home/a/.codex/.credentials.json',
  server_url: 'https://mcp.linear.app/mcp',
  issuer: null,
  client_id: null,
  account: null,
  expires_at: null,
  has_refresh_token: false,
  connector_id: null,
  covered_by_ema: false,
  can_disconnect: true,
  note: null,
  ...extra,
});

const receipt = (revocation: Receipt['revocation']): Receipt => ({
  entry_id: 'x',
  client: 'codex',
  connector_id: null,
  removed_locally: true,
  backup: null,
  backup_id: null,
  revocation,
  message: '',
});

describe('legacy words', () => {
  it('names clients, and the connector or else the server URL', () => {
    expect(clientLabel('inspector-v2')).toBe('MCP Inspector');
    expect(clientLabel('new-client')).toBe('new-client');
    expect(clientLabel(null)).toBe('Unknown application');
    const linear = { id: 'linear', name: 'Linear' } as never;
    expect(targetName(entry({ connector_id: 'linear' }), [linear])).toBe('Linear');
    expect(targetName(entry(), [linear])).toBe('https://mcp.linear.app/mcp');
    expect(targetName(entry({ server_url: null }), [])).toBe('Unknown server');
  });

  it('explains why Disconnect is unavailable, pointing VS Code users to its own command', () => {
    expect(cannotDisconnectReason(entry())).toBeNull();
    expect(cannotDisconnectReason(entry({ client: 'vs-code', can_disconnect: false }))).toMatch(
      /run "Authentication: Remove Dynamic Authentication Providers"/,
    );
    expect(cannotDisconnectReason(entry({ can_disconnect: false, note: 'Codex is running' }))).toBe("Lanyard can't remove this: Codex is running.");
  });

  it('plans backup, removal, revocation, naming the server (or its issuer)', () => {
    expect(disconnectPlan(entry())).toEqual([
      'Back up /home/a/.codex/.credentials.json',
      'Remove the entry from Codex CLI',
      'Revoke the grant at mcp.linear.app',
    ]);
    expect(disconnectPlan(entry({ server_url: null, issuer: 'https://auth.x.example' }))[2]).toBe('Revoke the grant at auth.x.example');
    expect(disconnectPlan(entry({ server_url: null }))[2]).toMatch(/if it offers revocation/);
  });

  it('words every receipt outcome, never by colour alone', () => {
    expect(receiptLook(receipt({ outcome: 'revoked' }))).toMatchObject({ label: 'Revoked at the server', icon: 'check' });
    expect(receiptLook(receipt({ outcome: 'no_endpoint' })).label).toBe('Removed locally only — the grant may persist at the provider');
    expect(receiptLook(receipt({ outcome: 'failed', reason: 'x', permanent: false })).label).toBe('Revocation failed — will retry');
    expect(receiptLook(receipt({ outcome: 'failed', reason: 'x', permanent: true }))).toMatchObject({
      label: 'Revocation refused — the grant may persist at the provider',
      icon: 'alert',
    });
    expect(receiptLook(receipt({ outcome: 'not_attempted' })).label).toBe('Not disconnected');
  });
});
