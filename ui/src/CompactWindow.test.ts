// The compact window (issue 12 §1) against the fake backend: one row per connector, grouped so
// what needs action comes first, rows that open in place (mouse and keyboard), the summary line,
// the filter box past 12 connectors, and every countdown driven by the one shared tick, which
// stops while the window is hidden (issue 11).
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { tick } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import { FILTER_AFTER } from './components/ConnectorList.svelte';
import { createFakeBackend, type ScenarioName } from './lib/backend/fake';

/** ada's eight and 22 more (fake.ts `many`), by group then name. */
const MANY = {
  attention: ['GitLab', 'PagerDuty', 'Snowflake', 'Vercel'],
  working: [
    'Airtable', 'Atlassian', 'Box', 'Datadog', 'Dropbox', 'GitHub', 'Granola', 'Intercom', 'Linear',
    'Miro', 'Notion', 'Salesforce', 'Sentry', 'Supabase', 'Workday', 'Zendesk', 'Zoom',
  ],
  unavailable: ['Asana', 'Canva', 'ClickUp', 'DocuSign', 'Figma', 'HubSpot', 'Monday', 'Slack', 'Stripe'],
};

async function setup(scenario: ScenarioName, keep?: number) {
  const backend = createFakeBackend(scenario, { stepMs: 0 });
  if (keep !== undefined) {
    const full = await backend.getStatus();
    vi.spyOn(backend, 'getStatus').mockResolvedValue({ ...full, connectors: full.connectors.slice(0, keep) });
  }
  const user = userEvent.setup();
  render(App, { backend });
  await screen.findByText('ada@lab.example');
  return { backend, user };
}

const rowNames = () => [...document.querySelectorAll('li.row')].map((li) => li.querySelector('.name')?.textContent);
const toggle = (name: string) => document.getElementById(`row-${name.toLowerCase()}`) as HTMLButtonElement;
const summary = () => document.getElementById('connectors-summary');
const filterBox = () => screen.queryByRole('searchbox', { name: 'Filter connectors' });

describe('Compact window: rows and groups', () => {
  it("ada: one compact row per connector of her policy, what works before what policy decided", async () => {
    await setup('ada');
    expect(rowNames()).toEqual(['Atlassian', 'Granola', 'Linear', 'Supabase', 'Asana', 'Canva', 'Figma', 'Slack']);
    expect(screen.getAllByRole('heading', { level: 3 }).map((h) => h.textContent)).toEqual(['Working (4)', 'Not available to you (4)']);
    for (const li of document.querySelectorAll('li.row')) {
      // One line each: the name, the state (icon + word) and a note; nothing more until opened.
      expect(li.querySelector('.badge svg')).not.toBeNull();
      expect(li.querySelector('.badge .label')?.textContent).toMatch(/\S/);
      expect(li.querySelector('.more')).toBeNull();
    }
  });

  it('30 connectors: all rendered, needs attention first, by name inside each group', async () => {
    await setup('many');
    expect(rowNames()).toHaveLength(30);
    expect(rowNames()).toEqual([...MANY.attention, ...MANY.working, ...MANY.unavailable]);
    expect(screen.getAllByRole('heading', { level: 3 }).map((h) => h.textContent)).toEqual([
      'Needs attention (4)',
      'Working (17)',
      'Not available to you (9)',
    ]);
    expect(within(screen.getByRole('list', { name: /Needs attention/ })).getAllByRole('listitem').map((li) => li.dataset.state)).toEqual([
      'misconfigured',
      'unreachable',
      'misconfigured',
      'unreachable',
    ]);
  });

  it('the summary line counts each state, what needs action first', async () => {
    await setup('many');
    expect(summary()).toHaveTextContent(
      /^2 set-up problems · 2 unreachable · 16 working · 1 checking · 6 not assigned · 3 not zero-touch$/,
    );
    // It shares the top bar with Refresh all and the filter box: the bar that stays on top.
    const bar = summary()!.parentElement!;
    expect(within(bar).getByRole('button', { name: 'Refresh all' })).toBeInTheDocument();
    expect(within(bar).getByRole('searchbox', { name: 'Filter connectors' })).toBeInTheDocument();
  });

  it('signed out, the summary says what waits for the sign-in', async () => {
    const backend = createFakeBackend('signed-out', { stepMs: 0 });
    render(App, { backend });
    await screen.findByRole('heading', { name: 'Not signed in' });
    expect(summary()).toHaveTextContent(/^8 need sign-in$/);
  });
});

describe('Compact window: a row opens in place', () => {
  it('a click opens the details (hint, code, scopes, Refresh, the timeline link) and closes them', async () => {
    const { user } = await setup('ada');
    const asana = toggle('Asana');
    await user.click(asana);
    expect(asana).toHaveAttribute('aria-expanded', 'true');
    const more = document.getElementById(asana.getAttribute('aria-controls')!)!;
    expect(more).toHaveTextContent('Not granted by your organisation');
    expect(within(more).getByText('invalid_target').tagName).toBe('CODE');
    expect(more).toHaveTextContent('Your organisation has not given you this connector.');
    expect(within(more).getByRole('button', { name: 'Refresh Asana' })).toBeInTheDocument();
    expect(within(more).getByRole('button', { name: 'Details for Asana' })).toBeInTheDocument();
    await user.click(toggle('Linear'));
    expect(document.getElementById('more-linear')).toHaveTextContent('Scopes: read write');
    // Rows open independently; closing one leaves the other.
    await user.click(asana);
    expect(asana).toHaveAttribute('aria-expanded', 'false');
    expect(document.getElementById('more-asana')).toBeNull();
    expect(toggle('Linear')).toHaveAttribute('aria-expanded', 'true');
  });

  it('keyboard: Tab reaches the rows, Enter opens, Space closes, Escape in the details closes and refocuses', async () => {
    const { user } = await setup('ada');
    toggle('Linear').focus();
    await user.keyboard('{Enter}');
    expect(toggle('Linear')).toHaveAttribute('aria-expanded', 'true');
    expect(toggle('Linear')).toHaveFocus();
    await user.keyboard(' ');
    expect(toggle('Linear')).toHaveAttribute('aria-expanded', 'false');
    await user.keyboard('{Enter}');
    await user.tab();
    expect(screen.getByRole('button', { name: 'Refresh Linear' })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole('button', { name: 'Details for Linear' })).toHaveFocus();
    await user.tab();
    expect(toggle('Supabase')).toHaveFocus();
    await user.tab({ shift: true });
    await user.keyboard('{Escape}');
    expect(toggle('Linear')).toHaveAttribute('aria-expanded', 'false');
    expect(toggle('Linear')).toHaveFocus();
  });

  it('arrow keys, Home and End move between rows across groups', async () => {
    const { user } = await setup('ada');
    toggle('Supabase').focus();
    await user.keyboard('{ArrowDown}');
    expect(toggle('Asana')).toHaveFocus();
    await user.keyboard('{ArrowUp}{ArrowUp}');
    expect(toggle('Linear')).toHaveFocus();
    await user.keyboard('{End}');
    expect(toggle('Slack')).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(toggle('Slack')).toHaveFocus();
    await user.keyboard('{Home}');
    expect(toggle('Atlassian')).toHaveFocus();
  });

  it('an open row stays open while its Details page is shown, so Back returns focus to it', async () => {
    const { user } = await setup('ada');
    await user.click(toggle('Figma'));
    await user.click(screen.getByRole('button', { name: 'Details for Figma' }));
    expect(screen.getByRole('heading', { name: 'Details: Figma' })).toHaveFocus();
    await user.click(screen.getByRole('button', { name: 'Back' }));
    expect(toggle('Figma')).toHaveAttribute('aria-expanded', 'true');
    expect(screen.getByRole('button', { name: 'Details for Figma' })).toHaveFocus();
  });
});

describe('Compact window: the filter box', () => {
  it(`is not there with ${FILTER_AFTER} connectors or fewer`, async () => {
    expect(FILTER_AFTER).toBe(12);
    await setup('many', 12);
    expect(rowNames()).toHaveLength(12);
    expect(filterBox()).toBeNull();
  });

  it(`appears with ${FILTER_AFTER + 1}`, async () => {
    await setup('many', 13);
    expect(filterBox()).toBeInTheDocument();
  });

  it('filters by name, id and state word, says how many show, and says when nothing matches', async () => {
    const { user } = await setup('many');
    const box = filterBox()!;
    await user.type(box, 'git');
    expect(rowNames()).toEqual(['GitLab', 'GitHub']);
    expect(screen.getByText('2 of 30 connectors shown')).toHaveAttribute('role', 'status');
    // The summary still counts everything.
    expect(summary()).toHaveTextContent(/^2 set-up problems .* 3 not zero-touch$/);
    await user.clear(box);
    await user.type(box, 'NOT ZERO');
    expect(rowNames()).toEqual(['DocuSign', 'Monday', 'Slack']);
    await user.clear(box);
    await user.type(box, 'not assigned');
    expect(rowNames()).toEqual(['Asana', 'Canva', 'ClickUp', 'Figma', 'HubSpot', 'Stripe']);
    await user.clear(box);
    await user.type(box, 'pagerduty');
    expect(rowNames()).toEqual(['PagerDuty']);
    await user.clear(box);
    await user.type(box, "can't reach");
    expect(rowNames()).toEqual(['PagerDuty', 'Vercel']);
    await user.clear(box);
    await user.type(box, 'zzz');
    expect(rowNames()).toEqual([]);
    expect(screen.getByText('No connector matches “zzz”.')).toBeInTheDocument();
    await user.clear(box);
    expect(rowNames()).toHaveLength(30);
  });

  it('ArrowDown from the box goes to the first row shown', async () => {
    const { user } = await setup('many');
    await user.type(filterBox()!, 'sales');
    await user.keyboard('{ArrowDown}');
    expect(toggle('Salesforce')).toHaveFocus();
  });
});

describe('Compact window: one tick for every countdown, idle while hidden', () => {
  let visibility: DocumentVisibilityState = 'visible';
  const show = (state: DocumentVisibilityState) => {
    visibility = state;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('30 rows and the session line tick from one timer, which stops while the window is hidden', async () => {
    visibility = 'visible';
    vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => visibility);
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(Date.parse('2026-06-01T12:00:00Z'));
    await setup('many');
    const note = (name: string) => toggle(name).querySelector('.note')?.textContent;
    expect(note('GitHub')).toBe('7 min left');
    expect(note('PagerDuty')).toBe('retrying · 9 min left');
    expect(note('Zoom')).toBe('5 d 00 h left');
    // The one-off frame after the first status (the host logs the start-up time) ends; jsdom
    // drives frames with an interval.
    await vi.advanceTimersByTimeAsync(20);
    expect(vi.getTimerCount()).toBe(1);

    await vi.advanceTimersByTimeAsync(60_500);
    await waitFor(() => expect(note('GitHub')).toBe('6 min left'));
    expect(note('PagerDuty')).toBe('retrying · 8 min left');
    expect(note('Sentry')).toBe('1 min left');
    expect(screen.getByText(/^Session ends in 8 h 11 min/)).toBeInTheDocument();

    show('hidden');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    // Nothing re-rendered while hidden: the rows still show the last tick's time.
    expect(note('GitHub')).toBe('6 min left');

    show('visible');
    // At once (the next render), not a second later: 7 min less 6 min 0.5 s.
    await tick();
    expect(note('GitHub')).toBe('59 s left');
    expect(note('Sentry')).toBe('expired');
    expect(vi.getTimerCount()).toBe(1);
  });
});
