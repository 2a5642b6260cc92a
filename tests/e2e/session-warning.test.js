// End to end, the one warning Lanyard gives before a session lapses: the real lanyard-app against
// a lab whose ID tokens and access tokens live LIFETIME_SECS, with a real notification server on
// the app's session bus. A background renewal goes by without a word; then the IdP goes down,
// renewing fails, and exactly one "ends soon" notification arrives before the session lapses,
// saying when it ends. Its own app launch: the lifetimes are the lab's, fixed when it starts.
// Run through scripts/e2e.sh, after app.test.js (one app at a time: the app is single-instance).
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { remote } from 'webdriverio';

import {
  APP,
  APP_LOG,
  makeWorkDir,
  removeWorkDir,
  setLabFaults,
  sleep,
  startDriver,
  startLab,
  startNotificationServer,
  stopAll,
  waitForNoRunningApp,
} from './harness.js';
import { connectorRows, sessionHeading, usePage } from './page.js';

/**
 * Short, so the run takes seconds: renewals come a fifth of the lifetime (at least 5 s) before
 * expiry (src/engine/schedule.rs), which leaves the warning that long to arrive before the lapse.
 */
const LIFETIME_SECS = 20;
const GRANTED = ['atlassian', 'granola', 'linear', 'supabase'];

let workDir;
let stateDir;
let browser;
let lab;
let notifications;

before(async () => {
  workDir = await makeWorkDir();
  stateDir = join(workDir, 'state');
  await mkdir(stateDir);
  await mkdir(join(workDir, 'legacy-home'));
  await mkdir(dirname(join(workDir, APP_LOG)));
  await waitForNoRunningApp();
  notifications = await startNotificationServer(workDir);
  lab = await startLab(workDir, ['--token-lifetime-secs', String(LIFETIME_SECS)]);
  const port = await startDriver(workDir, {
    LANYARD_POLICY: lab.policy,
    LANYARD_STATE_DIR: stateDir,
    LANYARD_LEGACY_HOME: join(workDir, 'legacy-home'),
    LANYARD_LOG_DIR: dirname(join(workDir, APP_LOG)),
    LANYARD_BROWSER_COMMAND: 'curl -fsSL -o /dev/null',
    // Warn a minute ahead: more than the renewal margin, so the warning is due the moment
    // renewing fails.
    LANYARD_SESSION_WARNING_MINUTES: '1',
    XDG_CONFIG_HOME: join(workDir, 'config'),
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
      'wdio:enforceWebDriverClassic': true,
    },
  });
  usePage(browser);
  await browser.waitUntil(async () => (await sessionHeading()) !== null, {
    timeout: 20_000,
    timeoutMsg: 'the window never showed the session card',
  });
});

after(async () => {
  try {
    if (browser) await browser.deleteSession();
  } catch {
    // the app may already be gone
  }
  await stopAll();
  await removeWorkDir(workDir, 'session-warning');
});

test('ada signs in against the short-lived lab', async () => {
  await (await browser.$('button=Sign in')).click();
  await browser.waitUntil(
    async () => {
      const rows = await connectorRows();
      return (await sessionHeading()) === 'Signed in' && rows.length === 8 && rows.every((r) => r.state !== 'pending');
    },
    { timeout: 30_000, interval: 250, timeoutMsg: 'sign-in did not finish with 8 resolved connectors' },
  );
});

test('a background renewal of the session and the connectors sends nothing', async () => {
  const first = await recorded();
  await waitFor(
    async () => {
      const now = await recorded();
      return now.session > first.session && GRANTED.every((id) => now.connectors[id]?.state === 'granted' && now.connectors[id].expires > first.connectors[id].expires);
    },
    (LIFETIME_SECS + 10) * 1000,
    'no background renewal of the session and every grant',
  );
  await sleep(1000);
  assert.deepEqual(await notifications.received(), [], 'a routine renewal never interrupts the person');
});

test('the IdP goes down: one "ends soon" notification, with the time, before the session lapses', async () => {
  await setLabFaults(lab.base, { idp_down: true });
  await waitFor(async () => (await notifications.received()).length > 0, (LIFETIME_SECS + 10) * 1000, 'no notification');
  const [warning] = await notifications.received();
  // Renewing failed, so the recorded expiry is the one the session lapses at.
  const ends = (await recorded()).session;
  assert.ok(warning.at_ms < ends, `arrived ${ends - warning.at_ms} ms before the lapse, not after`);
  assert.equal(warning.summary, 'Your company sign-in ends soon');
  const at = new Date(ends);
  const hhmm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
  assert.match(warning.body, new RegExp(`^It ends at ${hhmm} \\(in about 1 min\\) and Lanyard can't renew it\\.`));
  assert.equal(warning.app_name, 'lanyard-app');

  // Past the lapse, with renewals still being retried: the warning was the only one.
  await waitFor(async () => Date.now() > ends + 3000, LIFETIME_SECS * 1000, 'the lapse');
  const all = await notifications.received();
  assert.deepEqual(
    all.map((n) => n.summary),
    ['Your company sign-in ends soon'],
    'once: no repeat on retries, no "access stopped" for connectors that could not renew',
  );
});

// --- helpers -------------------------------------------------------------------------------

/** The session's and the connectors' expiries (ms) as the app recorded them in state.json. */
async function recorded() {
  const state = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8'));
  const connectors = {};
  for (const [id, c] of Object.entries(state.connectors ?? {})) {
    connectors[id] = { state: c.state, expires: c.expires_at ? Date.parse(c.expires_at) : 0 };
  }
  const ends = state.session?.id_token_expires_at;
  return { session: ends ? Date.parse(ends) : 0, connectors };
}

async function waitFor(condition, timeout, what) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // state.json is replaced atomically, but may not exist yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms: ${what}`);
    await sleep(250);
  }
}
