// How the end-to-end test reads and moves the window: each reader returns what a person sees
// in one part of it (selectors follow ui/src/components), and the waits know how the app's
// status arrives. The test binds its WebDriver session once with `usePage`.
import assert from 'node:assert/strict';

let browser;

export function usePage(session) {
  browser = session;
}

export async function sessionHeading() {
  return browser.execute(() => document.getElementById('session-heading')?.textContent.trim() ?? null);
}

/**
 * Each connector row as the person sees it (ConnectorRow.svelte): the compact line (state word,
 * note: time left or short reason) and, while the row is open, its details (full state words,
 * expiry, the IdP's error code).
 */
export async function connectorRows() {
  return browser.execute(() =>
    [...document.querySelectorAll('li.row')].map((li) => ({
      id: li.dataset.id,
      name: li.querySelector('.name')?.textContent.trim(),
      state: li.dataset.state,
      word: li.querySelector('.badge .label')?.textContent.trim() ?? null,
      note: li.querySelector('.note')?.textContent.trim() ?? null,
      open: li.querySelector('button.toggle')?.getAttribute('aria-expanded') === 'true',
      label: li.querySelector('.more .full')?.textContent.trim() ?? null,
      expiry: li.querySelector('.more .expiry')?.textContent.trim() ?? null,
      code: li.querySelector('.more .cause code')?.textContent.trim() ?? null,
    })),
  );
}

/** Opens or closes a connector's row by clicking it, as a person would, and waits for it. */
export async function setRowOpen(id, open) {
  const expanded = () => browser.execute((rid) => document.getElementById(`row-${rid}`)?.getAttribute('aria-expanded') ?? null, id);
  const now = await expanded();
  assert.notEqual(now, null, `there is a row for connector ${id}`);
  if ((now === 'true') === open) return;
  // Mid-window, clear of the list's sticky bar, so the click lands on the row and what opens
  // under it (Refresh, Details) is in view for the next click.
  const center = () => browser.execute((rid) => document.getElementById(`row-${rid}`)?.scrollIntoView({ block: 'center' }), id);
  await center();
  await (await browser.$(`#row-${id}`)).click();
  await browser.waitUntil(async () => (await expanded()) === String(open), {
    timeout: 5_000,
    timeoutMsg: `the row of ${id} did not ${open ? 'open' : 'close'}`,
  });
  await center();
}

/** Closes every open row, so the list is back to one line per connector. */
export async function closeAllRows() {
  for (const r of await connectorRows()) if (r.open) await setRowOpen(r.id, false);
}

/**
 * Where the window shows each connector's name and the session line, in CSS pixels of the
 * viewport, with the viewport's size: what is visible without scrolling.
 */
export async function layoutAtTop() {
  return browser.execute(() => {
    window.scrollTo(0, 0);
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom };
    };
    const session = document.getElementById('session-heading')?.closest('section');
    return {
      width: window.innerWidth,
      height: window.innerHeight,
      session: session ? box(session) : null,
      names: [...document.querySelectorAll('li.row .name')].map((n) => ({ name: n.textContent.trim(), ...box(n) })),
    };
  });
}

export function byName(rows) {
  return Object.fromEntries(rows.map((r) => [r.name, r]));
}

/**
 * Records every payload that arrives over IPC (command replies and events), at the transport:
 * Tauri delivers both through the callbacks in `__TAURI_INTERNALS__.callbacks`, so wrapping
 * that map's entries (and `set`, for callbacks registered later) sees everything the webview
 * receives, whatever the UI does with it.
 */
export async function installIpcRecorder() {
  const ok = await browser.execute(() => {
    const callbacks = window.__TAURI_INTERNALS__?.callbacks;
    if (!(callbacks instanceof Map)) return false;
    const log = (window.__lanyardE2eIpc = []);
    const wrap = (fn) =>
      function (data) {
        try {
          log.push(JSON.stringify(data) ?? String(data));
        } catch {
          log.push(String(data));
        }
        return fn(data);
      };
    const set = Map.prototype.set;
    for (const [id, fn] of callbacks) set.call(callbacks, id, wrap(fn));
    Object.defineProperty(callbacks, 'set', { value: (id, fn) => set.call(callbacks, id, wrap(fn)) });
    return true;
  });
  assert.ok(ok, 'window.__TAURI_INTERNALS__.callbacks is there to record IPC');
}

/** How many StatusView payloads the webview has received so far. */
export async function statusPayloadCount() {
  return browser.execute(() => (window.__lanyardE2eIpc ?? []).filter((p) => p.includes('"connectors"')).length);
}

export async function waitForFreshStatus(before, what) {
  await browser.waitUntil(
    async () => {
      const rows = await connectorRows();
      return (await statusPayloadCount()) > before && rows.every((r) => r.state !== 'pending');
    },
    { timeout: 30_000, interval: 200, timeoutMsg: `no new status arrived for ${what}` },
  );
  // The Refreshing… marker goes once the command's promise settles.
  await browser.waitUntil(async () => !(await browser.execute(() => document.body.innerText.includes('Refreshing…'))), {
    timeout: 30_000,
    timeoutMsg: `${what}: a row still says Refreshing…`,
  });
  await waitForSettledStatus(what);
}

/**
 * Waits until no status has arrived for a while and no row is pending. Events and command
 * replies travel separately, so an intermediate `status-changed` (some rows still pending) can
 * land just after the command's final reply; the last event is always the final state.
 */
export async function waitForSettledStatus(what) {
  let count = -1;
  let since = Date.now();
  await browser.waitUntil(
    async () => {
      const n = await statusPayloadCount();
      if (n !== count) {
        count = n;
        since = Date.now();
        return false;
      }
      return Date.now() - since >= 500 && (await connectorRows()).every((r) => r.state !== 'pending');
    },
    { timeout: 30_000, interval: 100, timeoutMsg: `the status did not settle after ${what}` },
  );
}

/** Each legacy connection as listed (LegacyRow.svelte). */
export async function legacyRows() {
  return browser.execute(() =>
    [...document.querySelectorAll('li.legacy')].map((li) => {
      const button = li.querySelector('button');
      return {
        client: li.dataset.client,
        what: li.querySelector('.what')?.textContent.trim(),
        target: li.querySelector('.target')?.textContent.trim() ?? '',
        covered: !!li.querySelector('.covered'),
        disabled: button?.disabled ?? null,
        describedBy: button?.getAttribute('aria-describedby') ?? null,
        reason: li.querySelector('.reason')?.textContent.trim() ?? null,
        reasonId: li.querySelector('.reason')?.id ?? null,
      };
    }),
  );
}

export async function disconnectAllLabel() {
  return browser.execute(
    () =>
      [...document.querySelectorAll('.legacy-section button')]
        .map((b) => b.textContent.trim().replace(/\s+/g, ' '))
        .find((t) => t.startsWith('Disconnect all')) ?? null,
  );
}

/** Each receipt after a disconnect (Receipts.svelte). */
export async function receiptRows() {
  return browser.execute(() =>
    [...document.querySelectorAll('li.receipt')].map((li) => ({
      what: li.querySelector('.what')?.textContent.trim(),
      outcome: li.dataset.outcome,
      label: li.querySelector('.badge .label')?.textContent.trim() ?? null,
      message: li.querySelector(':scope > .small')?.textContent.trim(),
      backup: li.querySelector('.backup')?.textContent.trim() ?? null,
    })),
  );
}

/** Each step of the open timeline (Timeline.svelte). */
export async function timelineSteps() {
  return browser.execute(() =>
    [...document.querySelectorAll('li.step')].map((li) => ({
      leg: li.querySelector('.leg')?.textContent.trim() ?? '',
      verdict: li.dataset.verdict,
      status: li.querySelector('.status')?.textContent.trim(),
      oauth: li.querySelector('.oauth code')?.textContent.trim() ?? null,
    })),
  );
}

export async function textOf(selector) {
  return browser.execute((sel) => document.querySelector(sel)?.textContent.trim() ?? null, selector);
}

/** Scrolls so the element with this id sits `margin` px below the top of the window. */
export async function scrollToId(id, margin = 12) {
  await browser.execute(
    (target, px) => {
      const el = document.getElementById(target);
      if (el) window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - px);
    },
    id,
    margin,
  );
}

/**
 * Waits like `waitUntil`; on a timeout the error also quotes what the window shows at
 * `context`, so a failure names the app's own message (e.g. a command that was not found).
 */
export async function waitShowing(condition, { timeout, interval = 200, what, context = 'main' }) {
  try {
    await browser.waitUntil(condition, { timeout, interval, timeoutMsg: what });
  } catch (e) {
    const shown = await browser
      .execute((sel) => document.querySelector(sel)?.innerText.replace(/\s+/g, ' ').trim().slice(0, 600) ?? '(nothing)', context)
      .catch(() => '(window unreadable)');
    throw new Error(`${e.message}; the window shows: ${shown}`);
  }
}

/** Leaves a Details or Diagnostics page if one is still open (a failed step must not strand later ones). */
export async function leavePage() {
  // Both pages put Back first in their top bar (DetailsView.svelte, DiagnosticsPage.svelte).
  await browser.execute(() => document.querySelector('section.page .bar button')?.click()).catch(() => {});
}
