// Words for legacy connections: client names, what an entry belongs to, what disconnecting will
// do (the confirmation lists it before anything happens) and what it did (receipts).
import type { ClientApp, ConnectorView, LegacyEntry, Receipt } from './backend/types';
import type { Look } from './diagnostics';
import { hostOf } from './states';

/** legacy::ClientApp::label. */
export const CLIENT_LABELS: Record<ClientApp, string> = {
  'mcp-remote': 'mcp-remote',
  'claude-code': 'Claude Code',
  codex: 'Codex CLI',
  gemini: 'Gemini CLI',
  goose: 'Goose',
  'inspector-v2': 'MCP Inspector',
  'vs-code': 'VS Code',
};

export function clientLabel(client: string | null): string {
  if (client === null) return 'Unknown application';
  return CLIENT_LABELS[client as ClientApp] ?? client;
}

/** The connector's name when the entry maps to one, else its server URL. */
export function targetName(
  e: Pick<LegacyEntry, 'connector_id'> & { server_url?: string | null; issuer?: string | null },
  connectors: ConnectorView[],
): string {
  if (e.connector_id) return connectors.find((c) => c.id === e.connector_id)?.name ?? e.connector_id;
  // VS Code lists providers by authorization server: name that rather than nothing.
  return e.server_url ?? e.issuer ?? 'Unknown server';
}

/** VS Code's command that removes what Lanyard cannot (its tokens are encrypted). */
export const VS_CODE_COMMAND = 'Authentication: Remove Dynamic Authentication Providers';

/** Why Disconnect is unavailable for this entry, or null when it is available. */
export function cannotDisconnectReason(e: LegacyEntry): string | null {
  if (e.can_disconnect) return null;
  if (e.client === 'vs-code') {
    return `Lanyard can't remove this: VS Code encrypts its tokens. In VS Code, open the Command Palette and run "${VS_CODE_COMMAND}".`;
  }
  return e.note ? `Lanyard can't remove this: ${e.note}.` : "Lanyard can't remove this entry.";
}

/** Exactly what disconnecting one entry does, in order (legacy::disconnect). */
export function disconnectPlan(e: LegacyEntry): string[] {
  const server = hostOf(e.server_url ?? undefined) ?? hostOf(e.issuer ?? undefined);
  return [
    `Back up ${e.file}`,
    `Remove the entry from ${clientLabel(e.client)}`,
    server ? `Revoke the grant at ${server}` : 'Revoke the grant at the server, if it offers revocation',
  ];
}

export function receiptLook(r: Receipt): Look {
  switch (r.revocation.outcome) {
    case 'revoked':
      return { label: 'Revoked at the server', icon: 'check', tone: 'ok' };
    case 'no_endpoint':
      return { label: 'Removed locally only — the grant may persist at the provider', icon: 'alert', tone: 'attention' };
    case 'failed':
      // `permanent`: the server refused for good and Lanyard does not retry (legacy::Revocation).
      return r.revocation.permanent
        ? { label: 'Revocation refused — the grant may persist at the provider', icon: 'alert', tone: 'attention' }
        : { label: 'Revocation failed — will retry', icon: 'cloud-off', tone: 'attention' };
    default:
      return { label: 'Not disconnected', icon: 'minus', tone: 'neutral' };
  }
}
