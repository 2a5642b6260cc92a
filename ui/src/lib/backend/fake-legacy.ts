// Legacy connections for the fake backend: tokens other MCP clients left on ada's machine (mixed
// clients, one VS Code that Lanyard cannot touch, some covered by her zero-touch grants), and a
// disconnect that answers with every kind of receipt (revoked, no endpoint, queued, not attempted).
import type { ClientApp, LegacyEntry, LegacyScan, Receipt, Revocation, StatusView } from './types';

const HOME = '/home/ada';
const MIN = 60_000;

/** What a person calls each client (legacy::ClientApp::label). */
const LABELS: Record<ClientApp, string> = {
  'mcp-remote': 'mcp-remote',
  'claude-code': 'Claude Code',
  codex: 'Codex CLI',
  gemini: 'Gemini CLI',
  goose: 'Goose',
  'inspector-v2': 'MCP Inspector',
  'vs-code': 'VS Code',
};

type Seed = Omit<LegacyEntry, 'covered_by_ema' | 'expires_at' | 'issuer' | 'client_id' | 'note'> & {
  minutes: number | null;
  note?: string;
};

const SEEDS: Seed[] = [
  { id: 'claude-code:5a1f', client: 'claude-code', file: `${HOME}/.claude/.credentials.json`, server_url: 'https://linear.lab.example/mcp', connector_id: 'linear', account: 'ada@lab.example', minutes: 40, has_refresh_token: true, can_disconnect: true },
  { id: 'mcp-remote:c0de', client: 'mcp-remote', file: `${HOME}/.mcp-auth/mcp-remote-0.1.37/8c2d_tokens.json`, server_url: 'https://atlassian.lab.example/mcp', connector_id: 'atlassian', account: null, minutes: -90, has_refresh_token: true, can_disconnect: true },
  { id: 'codex:77aa', client: 'codex', file: `${HOME}/.codex/.credentials.json`, server_url: 'https://granola.lab.example/mcp', connector_id: 'granola', account: 'ada@lab.example', minutes: null, has_refresh_token: false, can_disconnect: true },
  { id: 'gemini:0b0e', client: 'gemini', file: `${HOME}/.gemini/mcp-oauth-tokens.json`, server_url: 'https://supabase.lab.example/mcp', connector_id: 'supabase', account: null, minutes: 12, has_refresh_token: true, can_disconnect: true },
  {
    id: 'vs-code:linear',
    client: 'vs-code',
    file: `${HOME}/.config/Code/User/globalStorage/state.vscdb`,
    server_url: 'https://linear.lab.example/mcp',
    connector_id: 'linear',
    account: 'ada@lab.example',
    minutes: null,
    has_refresh_token: true,
    can_disconnect: false,
    note: "tokens are encrypted by VS Code; open VS Code → Command Palette → 'Authentication: Remove Dynamic Authentication Providers'",
  },
  { id: 'goose:9f31', client: 'goose', file: `${HOME}/.config/goose/mcp-oauth/notion.json`, server_url: 'https://mcp.notion.example/mcp', connector_id: null, account: null, minutes: 200, has_refresh_token: true, can_disconnect: true },
  { id: 'inspector-v2:4e4e', client: 'inspector-v2', file: `${HOME}/.mcp-inspector/oauth.json`, server_url: 'https://asana.lab.example/mcp', connector_id: 'asana', account: 'ada@lab.example', minutes: -3000, has_refresh_token: false, can_disconnect: true },
];

/** A mutable store of legacy entries; `covered_by_ema` follows the current status's grants. */
export function createLegacyStore(seeded: boolean) {
  const at = Date.now();
  let entries: LegacyEntry[] = seeded
    ? SEEDS.map(({ minutes, note, ...s }) => ({
        ...s,
        issuer: s.server_url ? new URL(s.server_url).origin : null,
        client_id: `${s.client}-dcr-client`,
        expires_at: minutes === null ? null : new Date(at + minutes * MIN).toISOString(),
        covered_by_ema: false,
        note: note ?? null,
      }))
    : [];

  const covered = (e: LegacyEntry, status: StatusView) =>
    e.connector_id !== null && status.connectors.some((c) => c.id === e.connector_id && c.state === 'granted');

  function list(status: StatusView): LegacyScan {
    return {
      entries: entries.map((e) => ({ ...e, covered_by_ema: covered(e, status) })),
      problems: seeded ? [`${HOME}/.cursor/mcp-auth.json: not valid JSON (line 3)`] : [],
    };
  }

  /** Granola's server has no revocation endpoint; Supabase's is down (queued). */
  function revocationFor(e: LegacyEntry): Revocation {
    if (e.connector_id === 'granola') return { outcome: 'no_endpoint' };
    if (e.connector_id === 'supabase') return { outcome: 'failed', reason: 'connection refused', permanent: false };
    return { outcome: 'revoked' };
  }

  function message(r: Revocation, client: ClientApp): string {
    const app = LABELS[client];
    switch (r.outcome) {
      case 'revoked':
        return `Revoked at the server and removed from ${app}.`;
      case 'no_endpoint':
        return `Removed from ${app} only: the provider has no revocation endpoint, so the grant may persist at the provider until it expires.`;
      case 'failed':
        return r.permanent
          ? `Removed from ${app}; the server refused the revocation for good (${r.reason}), so Lanyard will not retry: the grant may persist at the provider until it expires or you revoke it in the provider's settings.`
          : `Removed from ${app}; revocation at the server failed (${r.reason}) and is queued for retry.`;
      case 'not_attempted':
        return `Nothing changed in ${app}.`;
    }
  }

  function disconnect(ids: string[]): Receipt[] {
    return ids.map((id, i) => {
      const e = entries.find((x) => x.id === id);
      if (!e) {
        return { entry_id: id, client: null, connector_id: null, removed_locally: false, backup: null, backup_id: null, revocation: { outcome: 'not_attempted' }, message: 'No such legacy entry (it may have been removed already).' };
      }
      if (!e.can_disconnect) {
        return { entry_id: id, client: e.client, connector_id: e.connector_id, removed_locally: false, backup: null, backup_id: null, revocation: { outcome: 'not_attempted' }, message: message({ outcome: 'not_attempted' }, e.client) };
      }
      entries = entries.filter((x) => x.id !== id);
      const revocation = revocationFor(e);
      const backupId = `20260601T120000Z-${e.client}-${i}`;
      return {
        entry_id: id,
        client: e.client,
        connector_id: e.connector_id,
        removed_locally: true,
        backup: `${HOME}/.local/state/lanyard/legacy-backups/${backupId}/${e.file.split('/').pop()}`,
        backup_id: backupId,
        revocation,
        message: message(revocation, e.client),
      };
    });
  }

  return { list, disconnect, covered: (status: StatusView) => list(status).entries.filter((e) => e.covered_by_ema && e.can_disconnect).map((e) => e.id) };
}
