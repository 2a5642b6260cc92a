// The Admin pilot page (issue 9 §6) against the fake backend: reached from Diagnostics, the policy
// check, the matrix per user with progress, mismatches in icon + words, Skip/Cancel, Save report.
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from './App.svelte';
import { createFakeBackend } from './lib/backend/fake';
import { parseExpected } from './lib/backend/fake-pilot';
import type { Backend, PilotProgress } from './lib/backend/types';

const FOUR = 'ada@lab.example, grace@lab.example, sam@lab.example, pat@lab.example';
/** Grace is not meant to have Figma (over-grant); Sam is meant to have Linear (under-grant). */
const EXPECTED = JSON.stringify({
  groups: { Everyone: ['atlassian', 'granola'], Engineering: ['linear', 'supabase'], Design: ['canva'], Sales: ['asana', 'linear'] },
  members: {
    'ada@lab.example': ['Everyone', 'Engineering'],
    'grace@lab.example': ['Everyone', 'Design'],
    'sam@lab.example': ['Everyone', 'Sales'],
    'pat@lab.example': ['Everyone'],
  },
});

async function openPilot(backend: Backend = createFakeBackend('ada', { stepMs: 0 })) {
  const user = userEvent.setup();
  render(App, { backend });
  await screen.findByText('ada@lab.example');
  await user.click(screen.getByRole('button', { name: 'Diagnostics' }));
  await user.click(await screen.findByRole('button', { name: 'Admin pilot' }));
  await screen.findByRole('heading', { name: 'Admin pilot' });
  return { user, backend };
}

const matrixTable = () => screen.getByRole('table', { name: /Grant matrix/ });
function cellOf(connector: string, user: string): HTMLElement {
  const table = matrixTable();
  const users = within(table).getAllByRole('columnheader').map((h) => h.textContent ?? '');
  const col = users.findIndex((u) => u.startsWith(user));
  const row = within(table).getByRole('rowheader', { name: connector }).closest('tr') as HTMLElement;
  return row.children[col] as HTMLElement;
}

describe('Admin pilot page', () => {
  it('is the first page on a machine the policy marks as the pilot machine, and only there', async () => {
    const user = userEvent.setup();
    const { unmount } = render(App, { backend: createFakeBackend('ada', { stepMs: 0, pilotMachine: true }) });
    await screen.findByRole('heading', { name: 'Admin pilot' });
    await user.click(screen.getByRole('button', { name: 'Back' }));
    expect(await screen.findByText('ada@lab.example')).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Admin pilot' })).not.toBeInTheDocument();
    unmount();

    render(App, { backend: createFakeBackend('ada', { stepMs: 0 }) });
    await screen.findByText('ada@lab.example');
    await new Promise((r) => setTimeout(r, 10));
    expect(screen.queryByRole('heading', { name: 'Admin pilot' })).not.toBeInTheDocument();
  });

  it('opens from Diagnostics with focus on its heading and shows the policy check', async () => {
    const { user } = await openPilot();
    expect(screen.getByRole('heading', { name: 'Admin pilot' })).toHaveFocus();
    const policy = screen.getByRole('region', { name: 'Policy check' });
    expect(await within(policy).findByText('No problems found.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Back' }));
    expect(screen.getByRole('button', { name: 'Diagnostics' })).toHaveFocus();
  });

  it('runs the matrix of the four directory users: it equals the directory groups', async () => {
    const { user } = await openPilot();
    await user.type(screen.getByLabelText('Test users (emails, comma-separated)'), FOUR);
    await user.click(screen.getByRole('button', { name: 'Run matrix' }));
    await screen.findByRole('table', { name: /Grant matrix/ });
    expect(cellOf('Linear', 'ada@lab.example')).toHaveTextContent('Granted');
    expect(cellOf('Asana', 'ada@lab.example')).toHaveTextContent('Denied');
    expect(cellOf('Asana', 'ada@lab.example')).toHaveTextContent('invalid_target');
    expect(cellOf('Figma', 'grace@lab.example')).toHaveTextContent('Granted');
    expect(cellOf('Asana', 'sam@lab.example')).toHaveTextContent('Granted');
    expect(cellOf('Slack', 'pat@lab.example')).toHaveTextContent('Not available zero-touch');
    const progress = screen.getByRole('list', { name: 'Sign-in progress' });
    expect(within(progress).getAllByRole('listitem')).toHaveLength(4);
    expect(progress).toHaveTextContent('grace@lab.example: signed in, 4 granted');
    expect(screen.queryByRole('list', { name: 'Mismatches' })).not.toBeInTheDocument();
  });

  it('marks one over-grant and one under-grant by icon and words, not colour alone', async () => {
    const { user } = await openPilot();
    await user.type(screen.getByLabelText('Test users (emails, comma-separated)'), FOUR);
    // user.type treats { and [ as key descriptors; paste the file text as a person would.
    await user.click(screen.getByLabelText(/Expected grants/));
    await user.paste(EXPECTED);
    await user.click(screen.getByRole('button', { name: 'Run matrix' }));
    await screen.findByRole('table', { name: /Grant matrix/ });
    const over = cellOf('Figma', 'grace@lab.example');
    expect(over).toHaveTextContent('Over-grant');
    expect(over.querySelector('[data-icon="alert"]')).not.toBeNull();
    const under = cellOf('Linear', 'sam@lab.example');
    expect(under).toHaveTextContent('Under-grant');
    expect(under).toHaveTextContent('Denied');
    expect(cellOf('Linear', 'ada@lab.example')).not.toHaveTextContent(/grant:|Over|Under/);
    const list = screen.getByRole('list', { name: 'Mismatches' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(2);
    expect(list).toHaveTextContent('Over-grant: grace@lab.example was granted Figma, which the expected grants do not include.');
    expect(list).toHaveTextContent('Under-grant: sam@lab.example was expected to get Linear, but it was not granted.');
  });

  it('a user outside the directory is a column "not signed in" and the run goes on', async () => {
    const { user } = await openPilot();
    await user.type(screen.getByLabelText('Test users (emails, comma-separated)'), 'nobody@lab.example, pat@lab.example');
    await user.click(screen.getByRole('button', { name: 'Run matrix' }));
    await screen.findByRole('table', { name: /Grant matrix/ });
    expect(within(matrixTable()).getByRole('columnheader', { name: /nobody@lab.example/ })).toHaveTextContent('not signed in (login_required)');
    expect(cellOf('Granola', 'pat@lab.example')).toHaveTextContent('Granted');
    expect(screen.getByRole('list', { name: 'Sign-in progress' })).toHaveTextContent('nobody@lab.example: not signed in (login_required)');
  });

  it('Skip and Cancel are offered while users sign in, and Cancel ends the run', async () => {
    // Steps slow enough that Skip and Cancel land before a user finishes, even on a loaded machine.
    const backend = createFakeBackend('ada', { stepMs: 250 });
    const seen: PilotProgress[] = [];
    await backend.onPilotProgress((p) => seen.push(p));
    const { user } = await openPilot(backend);
    await user.type(screen.getByLabelText('Test users (emails, comma-separated)'), FOUR);
    await user.click(screen.getByRole('button', { name: 'Run matrix' }));
    await user.click(await screen.findByRole('button', { name: 'Skip this user' }));
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    await screen.findByRole('table', { name: /Grant matrix/ });
    expect(screen.queryByRole('button', { name: 'Cancel' })).not.toBeInTheDocument();
    expect(screen.getByText('Cancelled: users after that point were not signed in.')).toBeInTheDocument();
    expect(seen.filter((p) => p.phase === 'done')).toHaveLength(0);
  });

  it('saves the report and shows where; bad expected grants say where they are wrong', async () => {
    const { user } = await openPilot();
    await user.type(screen.getByLabelText('Test users (emails, comma-separated)'), 'pat@lab.example');
    await user.type(screen.getByLabelText(/Expected grants/), 'pat@lab.example,granola,extra');
    await user.click(screen.getByRole('button', { name: 'Run matrix' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('at line 1');
    await user.clear(screen.getByLabelText(/Expected grants/));
    await user.click(screen.getByRole('button', { name: 'Run matrix' }));
    await screen.findByRole('table', { name: /Grant matrix/ });
    await user.click(screen.getByRole('button', { name: 'Save report' }));
    expect(await screen.findByText(/lanyard-pilot-report-.*\.html/)).toBeInTheDocument();
  });
});

describe('fake expected-grants reader', () => {
  it('reads users, groups with members, and CSV like the core does', () => {
    const json = parseExpected('{"users": {"Ada@lab.example": ["granola"]}, "groups": {"E": ["linear"]}, "members": {"ada@lab.example": ["E"]}}');
    expect([...(json.get('ada@lab.example') ?? [])].sort()).toEqual(['granola', 'linear']);
    const csv = parseExpected('user,connector\n# comment\npat@lab.example,granola\n');
    expect([...(csv.get('pat@lab.example') ?? [])]).toEqual(['granola']);
  });
});
