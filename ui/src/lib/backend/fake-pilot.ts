// The fake backend's Admin pilot: the lab's directory (product.md) decides who gets what, a user
// outside it is "not signed in" (login_required), and an expected-grants text (JSON or CSV, as
// src/pilot/expect.rs reads it) is compared cell by cell.
import type { AppError, ConnectorState, MatrixCell, PilotMatrix, PilotProgress, PolicyCheckSection } from './types';

const COLUMNS = [
  ['atlassian', 'Atlassian'],
  ['granola', 'Granola'],
  ['linear', 'Linear'],
  ['supabase', 'Supabase'],
  ['figma', 'Figma'],
  ['canva', 'Canva'],
  ['asana', 'Asana'],
  ['slack', 'Slack'],
].map(([id, name]) => ({ id, name }));

const GROUPS: Record<string, string[]> = {
  Everyone: ['atlassian', 'granola'],
  Engineering: ['linear', 'supabase'],
  Design: ['figma', 'canva'],
  Sales: ['asana'],
};

const DIRECTORY: Record<string, string[]> = {
  'ada@lab.example': ['Everyone', 'Engineering'],
  'grace@lab.example': ['Everyone', 'Design'],
  'sam@lab.example': ['Everyone', 'Sales'],
  'pat@lab.example': ['Everyone'],
};

function cellFor(groups: string[], id: string): MatrixCell {
  if (id === 'slack') return { id, state: 'unsupported', code: 'id_jag_not_supported' };
  const granted = groups.some((g) => GROUPS[g]?.includes(id));
  const state: ConnectorState = granted ? 'granted' : 'denied';
  return granted ? { id, state } : { id, state, code: 'invalid_target' };
}

/** Expected connector ids per user (lower-case emails), from JSON or CSV text. */
export function parseExpected(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (user: string, ids: string[]) => {
    const key = user.trim().toLowerCase();
    const set = out.get(key) ?? new Set<string>();
    ids.filter((i) => i).forEach((i) => set.add(i));
    out.set(key, set);
  };
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let raw: { users?: Record<string, string[]>; groups?: Record<string, string[]>; members?: Record<string, string[]> };
    try {
      raw = JSON.parse(trimmed);
    } catch (e) {
      throw { code: 'invalid_input', message: `the expected grants: ${(e as Error).message}`, detail: '' } satisfies AppError;
    }
    Object.entries(raw.users ?? {}).forEach(([u, ids]) => add(u, ids));
    Object.entries(raw.members ?? {}).forEach(([u, gs]) => add(u, gs.flatMap((g) => raw.groups?.[g] ?? [])));
    return out;
  }
  trimmed.split('\n').forEach((line, i) => {
    const l = line.trim();
    if (!l || l.startsWith('#') || /^user\s*,\s*connector$/i.test(l)) return;
    const fields = l.split(',').map((f) => f.trim());
    if (fields.length !== 2 || !fields[0]) {
      throw { code: 'invalid_input', message: `the expected grants: at line ${i + 1}: expected \`user,connector\``, detail: '' } satisfies AppError;
    }
    add(fields[0], [fields[1]]);
  });
  return out;
}

function compare(m: PilotMatrix, expected: Map<string, Set<string>>) {
  m.compared = true;
  m.problems = [];
  for (const row of m.users.filter((r) => r.signed_in)) {
    const wanted = expected.get(row.user.toLowerCase());
    if (!wanted) m.problems.push(`the file does not name ${row.user}: every grant to them counts as an over-grant`);
    for (const cell of row.connectors) {
      const isExpected = wanted?.has(cell.id) ?? false;
      const granted = cell.state === 'granted';
      cell.expected = isExpected;
      if (granted && !isExpected) cell.mismatch = 'over_grant';
      else if (!granted && isExpected) cell.mismatch = 'under_grant';
    }
  }
}

export function createPilotStore(wait: () => Promise<void>) {
  const listeners = new Set<(p: PilotProgress) => void>();
  let skip = false;
  let cancel = false;
  let last: PilotMatrix | null = null;

  async function run(users: string[], expectedText?: string): Promise<PilotMatrix> {
    const list = users.map((u) => u.trim()).filter((u) => u);
    if (list.length === 0) throw { code: 'invalid_input', message: 'List at least one test user.', detail: '' } satisfies AppError;
    const expected = expectedText?.trim() ? parseExpected(expectedText) : null;
    skip = cancel = false;
    const m: PilotMatrix = { version: 1, users: [], columns: COLUMNS };
    for (const [index, user] of list.entries()) {
      const base = { index, total: list.length, user };
      const groups = DIRECTORY[user.toLowerCase()];
      let error: { code: string; message: string } | undefined;
      if (cancel) error = { code: 'cancelled', message: 'the pilot run was cancelled before this user signed in' };
      else {
        listeners.forEach((cb) => cb({ ...base, phase: 'signing_in' }));
        await wait();
        if (skip || cancel) error = { code: 'cancelled', message: 'sign-in was cancelled' };
        else if (!groups) error = { code: 'login_required', message: 'the IdP refused the sign-in: login_required' };
        skip = false;
      }
      const connectors = error ? [] : COLUMNS.map((c) => cellFor(groups, c.id));
      m.users.push({ user, signed_in: !error, ...(error ? { error } : {}), connectors });
      const granted = connectors.filter((c) => c.state === 'granted').length;
      const done: PilotProgress = error ? { ...base, phase: 'not_signed_in', error } : { ...base, phase: 'done', granted };
      listeners.forEach((cb) => cb(done));
    }
    m.cancelled = cancel;
    if (expected) compare(m, expected);
    last = m;
    return structuredClone(m);
  }

  return {
    run,
    skip: () => void (skip = true),
    cancel: () => void (cancel = true),
    subscribe(cb: (p: PilotProgress) => void) {
      listeners.add(cb);
      return Promise.resolve(() => void listeners.delete(cb));
    },
    policyCheck: (): PolicyCheckSection => ({
      source: '/etc/lanyard/policy.json',
      checked_by: 'static and live checks (lanyard policy check)',
      problems: [],
    }),
    async saveReport() {
      await wait();
      if (!last) throw { code: 'invalid_input', message: 'Run the matrix first.', detail: '' } satisfies AppError;
      return { path: '/home/ada/Downloads/lanyard-pilot-report-20250101-120000.html' };
    },
  };
}
