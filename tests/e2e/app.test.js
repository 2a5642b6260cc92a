// End to end: the real lanyard-app (Tauri, WebKitGTK) under Xvfb, driven over WebDriver by
// tauri-driver, signing ada in against the real lab. Steps run in order and share one app.
// Run through scripts/e2e.sh, which provides the display, the D-Bus session and the keyring.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { remote } from 'webdriverio';

import {
  APP,
  REPO,
  makeWorkDir,
  readLogs,
  removeWorkDir,
  sleep,
  startDriver,
  startLab,
  stopAll,
} from './harness.js';

const SCREENSHOTS = join(REPO, 'docs', 'screenshots');
/** The lab's policy for ada (product.md, "the default directory"). */
const GRANTED = ['Atlassian', 'Granola', 'Linear', 'Supabase'];
const DENIED = ['Asana', 'Canva', 'Figma'];
const UNSUPPORTED = ['Slack'];
/** Lab tokens: opaque ones start with `labsecret_`, JWTs with `eyJ`. Neither may reach the webview. */
const CANARIES = ['labsecret_', 'eyJ'];
/** "Expires in 4 min", "Expires in 59 s", "Expires in 1 h 05 min" (ui/src/lib/time.ts). */
const COUNTDOWN = /^Expires in (\d+ s|\d+ min|\d+ h \d\d min|\d+ d \d\d h)$/;

let workDir;
let stateDir;
let browser;
/** Everything the webview showed or was sent, gathered at each step for the canary test. */
const seen = [];

before(async () => {
  workDir = await makeWorkDir();
  stateDir = join(workDir, 'state');
  await mkdir(stateDir);
  await mkdir(SCREENSHOTS, { recursive: true });
  const lab = await startLab(workDir);
  const port = await startDriver(workDir, {
    LANYARD_POLICY: lab.policy,
    LANYARD_STATE_DIR: stateDir,
    LANYARD_BROWSER_COMMAND: 'curl -fsSL -o /dev/null',
    // Xvfb has no GPU; without these WebKit may paint an empty window.
    WEBKIT_DISABLE_COMPOSITING_MODE: '1',
    LIBGL_ALWAYS_SOFTWARE: '1',
  });
  browser = await remote({
    hostname: '127.0.0.1',
    port,
    logLevel: 'warn',
    connectionRetryTimeout: 60_000,
    connectionRetryCount: 1,
    capabilities: {
      'tauri:options': { application: APP },
      // WebKitWebDriver speaks classic WebDriver only.
      'wdio:enforceWebDriverClassic': true,
    },
  });
  await browser.setTimeout({ script: 10_000 });
  await browser.waitUntil(async () => (await sessionHeading()) !== null, {
    timeout: 20_000,
    timeoutMsg: 'the window never showed the session card',
  });
  await installIpcRecorder();
});

after(async () => {
  try {
    if (browser) await browser.deleteSession();
  } catch {
    // the app may already be gone; stopAll below ends the driver either way
  }
  await stopAll();
  await removeWorkDir(workDir);
});

test('the window opens signed out', async () => {
  assert.equal(await sessionHeading(), 'Not signed in');
  assert.ok(await (await browser.$('button=Sign in')).isDisplayed(), 'Sign in button shown');
  await record('start');
});

test('Sign in signs ada in and every connector resolves', async () => {
  await (await browser.$('button=Sign in')).click();
  await browser.waitUntil(
    async () => {
      const rows = await connectorRows();
      return (await sessionHeading()) === 'Signed in' && rows.length === 8 && rows.every((r) => r.state !== 'pending');
    },
    { timeout: 60_000, interval: 250, timeoutMsg: 'sign-in did not finish with 8 resolved connectors' },
  );
  const text = await browser.execute(() => document.body.innerText);
  assert.match(text, /ada@lab\.example/);
  await record('signed in');
});

test('ada sees her grants with a countdown, the denials and the unsupported connector', async () => {
  const rows = byName(await connectorRows());
  assert.deepEqual(Object.keys(rows).sort(), [...GRANTED, ...DENIED, ...UNSUPPORTED].sort());
  for (const name of GRANTED) {
    assert.equal(rows[name].state, 'granted', `${name} state`);
    assert.equal(rows[name].label, 'Granted', `${name} label`);
    assert.match(rows[name].expiry ?? '', COUNTDOWN, `${name} countdown`);
  }
  for (const name of DENIED) {
    assert.equal(rows[name].state, 'denied', `${name} state`);
    assert.equal(rows[name].label, 'Not granted by your organisation', `${name} label`);
    assert.equal(rows[name].code, 'invalid_target', `${name} error code`);
  }
  assert.equal(rows.Slack.state, 'unsupported');
  assert.equal(rows.Slack.label, 'Not available zero-touch');
});

test('Refresh on one connector keeps it granted', async () => {
  const before = await statusPayloadCount();
  const linear = byName(await connectorRows()).Linear;
  await (await browser.$(`#refresh-${linear.id}`)).click();
  await waitForFreshStatus(before, 'the refresh reply');
  const row = byName(await connectorRows()).Linear;
  assert.equal(row.state, 'granted');
  assert.match(row.expiry ?? '', COUNTDOWN);
  await record('refresh one');
});

test('Refresh all keeps every grant', async () => {
  const before = await statusPayloadCount();
  await (await browser.$('button*=Refresh all')).click();
  await waitForFreshStatus(before, 'the refresh-all reply');
  const rows = byName(await connectorRows());
  for (const name of GRANTED) assert.equal(rows[name].state, 'granted', `${name} after Refresh all`);
  for (const name of DENIED) assert.equal(rows[name].state, 'denied', `${name} after Refresh all`);
  await record('refresh all');
});

test('screenshots: signed in, and a denial', async () => {
  await browser.execute(() => window.scrollTo(0, 0));
  await shoot('signed-in.png');
  // The denials sit in the last group, below the fold of the 440x680 window.
  await browser.execute(() => {
    const heading = document.getElementById('group-unavailable');
    if (heading) window.scrollTo(0, heading.getBoundingClientRect().top + window.scrollY - 12);
  });
  await shoot('denied.png');
  await browser.execute(() => window.scrollTo(0, 0));
});

test('Sign out returns to the signed-out state', async () => {
  await (await browser.$('button=Sign out')).click();
  await browser.waitUntil(async () => (await sessionHeading()) === 'Not signed in', {
    timeout: 30_000,
    timeoutMsg: 'the window did not show signed out after Sign out',
  });
  const rows = await connectorRows();
  assert.ok(
    rows.every((r) => r.state !== 'granted'),
    `no connector may stay granted after sign-out: ${rows.map((r) => `${r.name}=${r.state}`).join(', ')}`,
  );
  assert.ok(await (await browser.$('button=Sign in')).isDisplayed(), 'Sign in offered again');
  await record('signed out');
  await shoot('signed-out.png');
});

test('IPC canary: no lab token or JWT reached the webview, the logs or the state folder', async () => {
  await record('end');
  const ipc = await browser.execute(() => window.__lanyardE2eIpc ?? []);
  // The recorder must have seen the traffic, or an empty log would prove nothing.
  assert.ok(ipc.some((p) => p.includes('"connectors"')), 'the IPC recorder captured status payloads');
  const appLog = await browser.execute(() => JSON.stringify(window.__lanyardIpcLog ?? []));
  const sources = [
    ...seen,
    { what: 'IPC payloads received by the webview', text: ipc.join('\n') },
    { what: 'window.__lanyardIpcLog', text: appLog },
    { what: 'app and driver logs', text: await readLogs(workDir) },
    ...(await stateFiles()),
  ];
  for (const { what, text } of sources) {
    for (const canary of CANARIES) {
      assert.ok(!text.includes(canary), `${what} contains "${canary}"`);
    }
  }
});

// --- helpers -------------------------------------------------------------------------------

async function sessionHeading() {
  return browser.execute(() => document.getElementById('session-heading')?.textContent.trim() ?? null);
}

/** Each connector row as the person sees it (ConnectorRow.svelte). */
async function connectorRows() {
  return browser.execute(() =>
    [...document.querySelectorAll('li.row')].map((li) => ({
      id: (li.getAttribute('aria-labelledby') || '').replace(/^name-/, ''),
      name: li.querySelector('.name')?.textContent.trim(),
      state: li.dataset.state,
      label: li.querySelector('.badge .label')?.textContent.trim() ?? null,
      expiry: li.querySelector('.expiry')?.textContent.trim() ?? null,
      code: li.querySelector('.cause code')?.textContent.trim() ?? null,
    })),
  );
}

function byName(rows) {
  return Object.fromEntries(rows.map((r) => [r.name, r]));
}

/**
 * Records every payload that arrives over IPC (command replies and events), at the transport:
 * Tauri delivers both through the callbacks in `__TAURI_INTERNALS__.callbacks`, so wrapping
 * that map's entries (and `set`, for callbacks registered later) sees everything the webview
 * receives, whatever the UI does with it.
 */
async function installIpcRecorder() {
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
async function statusPayloadCount() {
  return browser.execute(() => (window.__lanyardE2eIpc ?? []).filter((p) => p.includes('"connectors"')).length);
}

async function waitForFreshStatus(before, what) {
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
}

/** Keeps the page source and visible text of this moment for the canary test. */
async function record(step) {
  seen.push({ what: `page source (${step})`, text: await browser.getPageSource() });
  seen.push({ what: `visible text (${step})`, text: await browser.execute(() => document.body.innerText) });
  seen.push({
    what: `web storage (${step})`,
    text: await browser.execute(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })),
  });
}

async function shoot(name) {
  // Let the scroll and the last render settle before capturing.
  await sleep(500);
  await browser.saveScreenshot(join(SCREENSHOTS, name));
}

async function stateFiles() {
  const out = [];
  const walk = async (dir) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push({ what: `state file ${p.slice(stateDir.length + 1)}`, text: await readFile(p, 'latin1') });
    }
  };
  await walk(stateDir);
  return out;
}
