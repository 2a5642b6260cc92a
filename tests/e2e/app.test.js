// End to end: the real lanyard-app (Tauri, WebKitGTK) under Xvfb, driven over WebDriver by
// tauri-driver, signing ada in against the real lab: connectors, legacy tokens other MCP clients
// left behind (seeded from the lab, then disconnected and revoked there), a flow's Details, and
// Diagnostics with its support bundle, start at login, and the notifications the app sends to a
// real notification server on the session bus. Steps run in order and share one app.
// Run through scripts/e2e.sh, which provides the display, the D-Bus session and the keyring.
import assert from 'node:assert/strict';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { remote } from 'webdriverio';

import {
  APP,
  APP_LOG,
  REPO,
  labGrants,
  makeWorkDir,
  readLogs,
  removeWorkDir,
  seedLegacy,
  setLabFaults,
  sleep,
  startDriver,
  startLab,
  startNotificationServer,
  stopAll,
} from './harness.js';
import {
  byName,
  closeAllRows,
  connectorRows,
  disconnectAllLabel,
  installIpcRecorder,
  layoutAtTop,
  leavePage,
  legacyRows,
  receiptRows,
  scrollToId,
  sessionHeading,
  setRowOpen,
  statusPayloadCount,
  textOf,
  timelineSteps,
  usePage,
  waitForFreshStatus,
  waitForSettledStatus,
  waitShowing,
} from './page.js';

const SCREENSHOTS = join(REPO, 'docs', 'screenshots');
/** The lab's policy for ada (product.md, "the default directory"). */
const GRANTED = ['Atlassian', 'Granola', 'Linear', 'Supabase'];
const DENIED = ['Asana', 'Canva', 'Figma'];
const UNSUPPORTED = ['Slack'];
/** Lab tokens: opaque ones start with `labsecret_`, JWTs with `eyJ`. Neither may reach the webview. */
const CANARIES = ['labsecret_', 'eyJ'];
/** "Expires in 4 min", "Expires in 59 s", "Expires in 1 h 05 min" (ui/src/lib/time.ts). */
const COUNTDOWN = /^Expires in (\d+ s|\d+ min|\d+ h \d\d min|\d+ d \d\d h)$/;
/** The compact row's note for a grant: "4 min left", "1 h 05 min left". */
const ROW_COUNTDOWN = /^(\d+ s|\d+ min|\d+ h \d\d min|\d+ d \d\d h) left$/;
/** The window's default size (src-tauri/tauri.conf.json): the compact list must fit it. */
const DEFAULT_WINDOW = { width: 440, height: 680 };

let workDir;
let stateDir;
let browser;
/** The lab's ready line ({base, …}). */
let lab;
/** What `lanyard-lab seed-legacy` wrote under the legacy home ({home, user, entries}). */
let seeded;
/** Where the app writes the support bundle (LANYARD_BUNDLE_DIR). */
let bundleDir;
/** The app's XDG_CONFIG_HOME: where its autostart entry must go. */
let configHome;
/** The notification server on the app's session bus ({received}). */
let notifications;
/** Everything the webview showed or was sent, gathered at each step for the canary test. */
const seen = [];

before(async () => {
  workDir = await makeWorkDir();
  stateDir = join(workDir, 'state');
  await mkdir(stateDir);
  await mkdir(SCREENSHOTS, { recursive: true });
  lab = await startLab(workDir);
  // Other MCP clients' per-user tokens, real ones from the lab, for Legacy connections.
  const legacyHome = join(workDir, 'legacy-home');
  await mkdir(legacyHome);
  seeded = await seedLegacy(lab.base, legacyHome);
  bundleDir = join(workDir, 'bundles');
  await mkdir(bundleDir);
  // The app's log file goes to the work folder: scanned by the canary test, never the user's.
  await mkdir(dirname(join(workDir, APP_LOG)));
  configHome = join(workDir, 'config');
  // On the bus before the app, as a desktop's notification daemon is.
  notifications = await startNotificationServer(workDir);
  const port = await startDriver(workDir, {
    XDG_CONFIG_HOME: configHome,
    LANYARD_POLICY: lab.policy,
    LANYARD_STATE_DIR: stateDir,
    LANYARD_LEGACY_HOME: legacyHome,
    LANYARD_BUNDLE_DIR: bundleDir,
    LANYARD_LOG_DIR: dirname(join(workDir, APP_LOG)),
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
  usePage(browser);
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

/** The processes on this machine as {pid, ppid, comm, exe}; `exe` is null where it cannot be read. */
async function processes() {
  const all = [];
  for (const pid of (await readdir('/proc')).filter((e) => /^\d+$/.test(e))) {
    const raw = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (!raw) continue;
    const comm = raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
    const ppid = raw.slice(raw.lastIndexOf(')') + 2).split(' ')[1];
    let exe = null;
    try {
      exe = realpathSync(`/proc/${pid}/exe`);
    } catch {}
    all.push({ pid, ppid, comm, exe });
  }
  return all;
}

const environOf = async (pid) => (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');

test('the window\'s web process runs JavaScriptCore without its JIT (the app sets it for itself)', async () => {
  // The harness must not set it, or this would only prove the variable is inherited.
  assert.equal(process.env.JSC_useJIT, undefined, 'the test environment leaves JSC_useJIT unset');
  const procs = await processes();
  const app = procs.filter((p) => p.exe === realpathSync(APP));
  assert.equal(app.length, 1, `one running ${APP}: ${JSON.stringify(app)}`);
  const web = procs.filter((p) => p.ppid === app[0].pid && p.comm.startsWith('WebKitWebProces'));
  assert.ok(web.length >= 1, 'the app has a WebKit web process');
  // /proc/PID/environ of the app shows the environment it was started with, not what it set.
  assert.ok(!(await environOf(app[0].pid)).some((kv) => kv.startsWith('JSC_useJIT=')), 'the app was started without it');
  for (const w of web) {
    assert.ok((await environOf(w.pid)).includes('JSC_useJIT=0'), `web process ${w.pid} has JSC_useJIT=0`);
  }
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
  await waitForSettledStatus('sign-in');
  const text = await browser.execute(() => document.body.innerText);
  assert.match(text, /ada@lab\.example/);
  await record('signed in');
});

test('ada sees her grants with a countdown, the denials and the unsupported connector', async () => {
  const rows = byName(await connectorRows());
  assert.deepEqual(Object.keys(rows).sort(), [...GRANTED, ...DENIED, ...UNSUPPORTED].sort());
  // The compact line: state word and the time left or a short reason.
  for (const name of GRANTED) {
    assert.equal(rows[name].state, 'granted', `${name} state`);
    assert.equal(rows[name].word, 'Granted', `${name} word`);
    assert.match(rows[name].note ?? '', ROW_COUNTDOWN, `${name} countdown in the row`);
  }
  for (const name of DENIED) {
    assert.equal(rows[name].state, 'denied', `${name} state`);
    assert.equal(rows[name].word, 'Not granted', `${name} word`);
    assert.equal(rows[name].note, 'by your organisation', `${name} note`);
  }
  assert.equal(rows.Slack.state, 'unsupported');
  assert.equal(rows.Slack.word, 'Not zero-touch');
  for (const r of Object.values(rows)) assert.equal(r.open, false, `${r.name} starts closed`);

  // Each row opens in place: product.md's full words, the expiry, the IdP's code.
  for (const r of Object.values(rows)) await setRowOpen(r.id, true);
  const open = byName(await connectorRows());
  for (const name of GRANTED) {
    assert.equal(open[name].label, 'Granted', `${name} label`);
    assert.match(open[name].expiry ?? '', COUNTDOWN, `${name} countdown`);
  }
  for (const name of DENIED) {
    assert.equal(open[name].label, 'Not granted by your organisation', `${name} label`);
    assert.equal(open[name].code, 'invalid_target', `${name} error code`);
  }
  assert.equal(open.Slack.label, 'Not available zero-touch');
  await record('rows open');
  await closeAllRows();
});

test('Refresh on one connector keeps it granted', async () => {
  const before = await statusPayloadCount();
  const linear = byName(await connectorRows()).Linear;
  await setRowOpen(linear.id, true);
  await (await browser.$(`#refresh-${linear.id}`)).click();
  await waitForFreshStatus(before, 'the refresh reply');
  const row = byName(await connectorRows()).Linear;
  assert.equal(row.state, 'granted');
  assert.match(row.expiry ?? '', COUNTDOWN);
  assert.match(row.note ?? '', ROW_COUNTDOWN);
  await record('refresh one');
  await setRowOpen(linear.id, false);
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

test('no notification for signing in, a refresh or Refresh all', async () => {
  // Notifications go out off the event loop: give a stray one time to reach the server.
  await sleep(1000);
  assert.deepEqual(await notifications.received(), [], 'routine renewals never interrupt the person');
});

test('Start at login writes an autostart entry that starts this app, and unticking removes it', async () => {
  const entry = join(configHome, 'autostart', 'Lanyard.desktop');
  // The plugin Lanyard used before wrote under ~/.config whatever XDG_CONFIG_HOME said.
  const underHome = join(homedir(), '.config', 'autostart', 'Lanyard.desktop');
  const wasUnderHome = existsSync(underHome);
  const box = () => browser.$('section.settings input[type="checkbox"]');
  assert.equal(await (await box()).isSelected(), false, 'off to begin with');
  assert.equal(existsSync(entry), false);

  await (await box()).click();
  await browser.waitUntil(async () => existsSync(entry) && (await (await box()).isEnabled()), {
    timeout: 5_000,
    timeoutMsg: `no autostart entry at ${entry}`,
  });
  assert.equal(await (await box()).isSelected(), true);
  const text = await readFile(entry, 'utf8');
  const keys = Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  assert.equal(text.split('\n')[0], '[Desktop Entry]');
  assert.equal(keys.Type, 'Application');
  assert.equal(keys.Name, 'Lanyard');
  // One quoted argument: the binary that is running now (tauri-driver started it from target/).
  assert.equal(keys.Exec, `"${realpathSync(APP)}"`, 'Exec starts the running app');
  assert.deepEqual(
    Object.keys(keys).sort(),
    ['Comment', 'Exec', 'Name', 'StartupNotify', 'Terminal', 'Type', 'X-GNOME-Autostart-enabled'],
    'nothing but the entry itself: no environment, no policy, no token',
  );
  for (const canary of CANARIES) assert.ok(!text.includes(canary), `the entry contains "${canary}"`);
  assert.ok(!text.includes(lab.base) && !text.includes(stateDir), 'no lab address or state folder in the entry');
  assert.equal(existsSync(underHome), wasUnderHome, 'nothing written under ~/.config when XDG_CONFIG_HOME is set');

  await (await box()).click();
  await browser.waitUntil(async () => !existsSync(entry) && (await (await box()).isEnabled()), {
    timeout: 5_000,
    timeoutMsg: 'unticking did not remove the autostart entry',
  });
  assert.equal(await (await box()).isSelected(), false);
  await browser.execute(() => window.scrollTo(0, 0));
});

test('screenshots: signed in at the default size with every connector in view, and a denial', async () => {
  await closeAllRows();
  // By the DOM, before the picture: at the default window size every connector of ada's policy
  // and the session line are inside the viewport, with nothing scrolled (issue 12).
  const at = await layoutAtTop();
  const size = `${at.width}x${at.height}`;
  assert.ok(
    at.width <= DEFAULT_WINDOW.width && at.height <= DEFAULT_WINDOW.height,
    `the window is at most its default ${DEFAULT_WINDOW.width}x${DEFAULT_WINDOW.height} (it is ${size})`,
  );
  assert.deepEqual(at.names.map((n) => n.name).sort(), [...GRANTED, ...DENIED, ...UNSUPPORTED].sort(), 'one row per connector');
  assert.ok(at.session && at.session.top >= 0 && at.session.bottom <= at.height, `the session line is in the ${size} viewport`);
  for (const n of at.names) {
    assert.ok(n.top >= 0 && n.bottom <= at.height, `${n.name} is in the ${size} viewport (bottom at ${Math.round(n.bottom)})`);
  }
  await shoot('signed-in.png');
  // A denial, opened in place: the full words, the IdP's code and the hint.
  const asana = byName(await connectorRows()).Asana;
  await setRowOpen(asana.id, true);
  await browser.execute(() => window.scrollTo(0, 0));
  await shoot('denied.png');
  await setRowOpen(asana.id, false);
  await browser.execute(() => window.scrollTo(0, 0));
});

test('Legacy connections lists the seeded tokens and which ones zero-touch covers', async () => {
  // The scan skips what seed-legacy wrote as an EMA grant (enterpriseManaged: true).
  const expected = seeded.entries.filter((e) => !e.enterprise_managed);
  const granted = new Set(GRANTED.map((n) => n.toLowerCase()));
  // Listed first while signed out; listed again once the grants arrive and coverage changes.
  await waitShowing(
    async () => {
      const rows = await legacyRows();
      return rows.length === expected.length && rows.some((r) => r.covered);
    },
    {
      timeout: 15_000,
      what: `Legacy connections did not list the ${expected.length} seeded entries with coverage`,
      context: '.legacy-section',
    },
  );
  const rows = await legacyRows();
  // VS Code's store names only the authorization server, and Lanyard learns a connector's AS
  // issuer only from a grant, so the (denied) Canva entry there is not matched to a connector.
  const key = (client, connector) => (client === 'vs-code' ? client : `${client}:${connector}`);
  assert.deepEqual(
    rows.map((r) => key(r.client, r.target.toLowerCase())).sort(),
    expected.map((e) => key(e.client, e.connector)).sort(),
    'one row per seeded entry, named by client and connector',
  );
  assert.deepEqual(
    rows.filter((r) => r.covered).map((r) => key(r.client, r.target.toLowerCase())).sort(),
    expected.filter((e) => granted.has(e.connector)).map((e) => key(e.client, e.connector)).sort(),
    'exactly the entries for a granted connector are covered by zero-touch',
  );
  const vscode = rows.find((r) => r.client === 'vs-code');
  assert.ok(vscode, 'the VS Code entry is listed');
  assert.equal(vscode.disabled, true, "VS Code's Disconnect is disabled");
  assert.match(vscode.reason ?? '', /VS Code encrypts its tokens/);
  assert.match(vscode.reason ?? '', /Authentication: Remove Dynamic Authentication Providers/);
  assert.equal(vscode.describedBy, vscode.reasonId, "the disabled button is described by its explanation");
  for (const r of rows.filter((x) => x.client !== 'vs-code')) assert.equal(r.disabled, false, `${r.what} can be disconnected`);
  const removable = rows.filter((r) => r.covered && !r.disabled).length;
  assert.equal(await disconnectAllLabel(), `Disconnect all covered by zero-touch (${removable})`);
  await record('legacy');
  await scrollToId('legacy-heading');
  await shoot('legacy.png');
});

test('Disconnect all covered by zero-touch: confirm, receipts, revoked at the lab', async () => {
  const legacyBefore = (await labGrants(lab.base)).filter((g) => g.kind === 'legacy');
  const rowsBefore = await legacyRows();
  const covered = rowsBefore.filter((r) => r.covered && !r.disabled);
  await (await browser.$('button*=Disconnect all covered by zero-touch')).click();
  await browser.waitUntil(async () => browser.execute(() => !!document.querySelector('[role="dialog"]')), {
    timeout: 5_000,
    timeoutMsg: 'no confirmation dialog opened',
  });
  const dialog = await browser.execute(() => {
    const d = document.querySelector('[role="dialog"]');
    return {
      title: d.querySelector('#confirm-title')?.textContent.trim(),
      items: [...d.querySelectorAll('.plan > li')].map((li) => ({
        what: li.querySelector('strong')?.textContent.trim(),
        steps: [...li.querySelectorAll('.steps > li')].map((x) => x.textContent.trim()),
      })),
      buttons: [...d.querySelectorAll('button')].map((b) => b.textContent.trim()),
      focused: document.activeElement?.textContent.trim(),
    };
  });
  assert.equal(dialog.title, `Disconnect ${covered.length} covered by zero-touch?`);
  assert.deepEqual(dialog.items.map((i) => i.what).sort(), covered.map((r) => r.what).sort(), 'the dialog names every entry');
  for (const item of dialog.items) {
    assert.equal(item.steps.length, 3, `${item.what}: three steps`);
    assert.match(item.steps[0], /^Back up \S/, `${item.what}: backup first`);
    assert.match(item.steps[1], /^Remove the entry from /, `${item.what}: local removal`);
    assert.match(item.steps[2], /^Revoke the grant at /, `${item.what}: revocation`);
  }
  assert.deepEqual(dialog.buttons, ['Cancel', 'Disconnect']);
  assert.equal(dialog.focused, 'Cancel', 'focus starts on the safe choice');
  await record('legacy confirmation');
  await (await browser.$('[role="dialog"] button.primary')).click();

  await waitShowing(async () => (await receiptRows()).length === covered.length, {
    timeout: 20_000,
    what: `no ${covered.length} receipts after Disconnect`,
    context: '.legacy-section',
  });
  const receipts = await receiptRows();
  for (const r of receipts) {
    assert.equal(r.outcome, 'revoked', `${r.what}: ${r.label} (${r.message})`);
    assert.equal(r.label, 'Revoked at the server', `${r.what} badge`);
    assert.ok(r.backup, `${r.what}: the receipt names its backup`);
  }
  assert.deepEqual(receipts.map((r) => r.what).sort(), covered.map((r) => r.what).sort(), 'one receipt per entry');
  assert.equal(await browser.execute(() => !!document.querySelector('[role="dialog"]')), false, 'the dialog closed');

  // The list reloads after the disconnect: only what zero-touch does not cover is left.
  await browser.waitUntil(async () => (await legacyRows()).length === rowsBefore.length - covered.length, {
    timeout: 10_000,
    timeoutMsg: 'Legacy connections did not reload without the disconnected entries',
  });
  const left = await legacyRows();
  assert.deepEqual(left.filter((r) => r.covered).map((r) => r.what), [], 'nothing covered by zero-touch is left');
  assert.ok(left.some((r) => r.client === 'vs-code'), 'the VS Code entry stays');
  assert.equal(await disconnectAllLabel(), null, 'no Disconnect all button with nothing to disconnect');

  // At the server: each revoked entry took its grant (one refresh-token family) with it.
  const legacyAfter = (await labGrants(lab.base)).filter((g) => g.kind === 'legacy');
  assert.equal(
    legacyAfter.length,
    legacyBefore.length - receipts.length,
    `the lab still honours ${legacyAfter.length} of ${legacyBefore.length} legacy grants after ${receipts.length} revocations`,
  );
  await record('legacy receipts');
  await scrollToId('receipts-heading', 24);
  await shoot('legacy-receipts.png');
});

test('Details for Asana explains the denied token exchange; Back and Escape return', async (t) => {
  t.after(leavePage);
  const asana = byName(await connectorRows()).Asana;
  // The way to the timeline sits in the row's details.
  await setRowOpen(asana.id, true);
  await (await browser.$('[aria-label="Details for Asana"]')).click();
  await waitShowing(async () => (await timelineSteps()).length > 0, {
    timeout: 10_000,
    what: "Asana's timeline did not load",
    context: 'section.page',
  });
  assert.equal(await textOf('#details-heading'), 'Details: Asana');
  const steps = await timelineSteps();
  const exchange = steps.find((s) => s.leg.startsWith('Token exchange'));
  assert.ok(exchange, `a token exchange step among: ${steps.map((s) => s.leg).join(', ')}`);
  assert.equal(exchange.verdict, 'failed');
  assert.equal(exchange.oauth, 'invalid_target');
  assert.equal(exchange.status, 'HTTP 400');
  const why = await browser.execute(() => {
    const x = document.querySelector('section.explanation');
    return x && {
      code: x.querySelector('.cause code')?.textContent.trim(),
      cause: x.querySelector('.cause strong')?.textContent.trim(),
      readers: [...x.querySelectorAll('.reader')].map((h) => h.textContent.trim()),
      employee: x.querySelector('.employee')?.textContent.trim(),
      admin: x.querySelector('.admin')?.textContent.trim(),
    };
  });
  assert.ok(why, 'the failure is explained');
  assert.equal(why.code, 'invalid_target');
  assert.ok(why.cause.length > 10, `a cause in words: ${why.cause}`);
  assert.deepEqual(why.readers, ['What you can do', 'For your IT admin']);
  assert.ok(why.employee.length > 10 && why.admin.length > 10, 'advice for both readers');
  await record('details asana');
  await browser.execute(() => window.scrollTo(0, 0));
  await shoot('details-denied.png');

  await (await browser.$('button*=Back')).click();
  await browser.waitUntil(async () => (await connectorRows()).length === 8, {
    timeout: 5_000,
    timeoutMsg: 'Back did not return to the list',
  });
  assert.equal(await browser.execute(() => document.activeElement?.id), `details-${asana.id}`, 'focus returns to the Details button');

  // The sign-in's own timeline, left with Escape.
  await (await browser.$('button=Sign-in details')).click();
  await browser.waitUntil(async () => (await timelineSteps()).length > 0, {
    timeout: 10_000,
    timeoutMsg: "the sign-in's timeline did not load",
  });
  assert.equal(await textOf('#details-heading'), 'Details: Sign-in');
  await record('details sign-in');
  await browser.keys('Escape');
  await browser.waitUntil(async () => (await sessionHeading()) === 'Signed in', {
    timeout: 5_000,
    timeoutMsg: 'Escape did not return to the list',
  });
  assert.equal(await browser.execute(() => document.activeElement?.id), 'details-sign-in');
  await setRowOpen(asana.id, false);
});

test('Diagnostics shows the clock and token summaries, checks readiness, saves a clean bundle', async (t) => {
  t.after(leavePage);
  await (await browser.$('#open-diagnostics')).click();
  await waitShowing(async () => browser.execute(() => document.querySelectorAll('article.token').length > 0), {
    timeout: 15_000,
    what: 'Diagnostics did not show token cards',
    context: 'section.page',
  });
  const page = await browser.execute(() => {
    const clock = document.getElementById('clock-heading')?.closest('section');
    return {
      clock: clock?.innerText ?? '',
      clockRows: clock?.querySelectorAll('tbody tr').length ?? 0,
      tokens: [...document.querySelectorAll('article.token')].map((a) => ({
        title: a.getAttribute('aria-label'),
        fingerprint: a.querySelector('code')?.textContent.trim(),
        claims: a.querySelectorAll('dl dt').length,
      })),
      text: document.body.innerText,
    };
  });
  assert.match(page.clock, /Clock/);
  assert.ok(page.clockRows > 0, 'the clock check compared at least one server');
  const titles = page.tokens.map((t) => t.title);
  assert.ok(titles.includes('ID token (your company sign-in)'), `token cards: ${titles.join(', ')}`);
  for (const name of GRANTED) assert.ok(titles.includes(`Access token: ${name}`), `a token card for ${name}`);
  for (const t of page.tokens) assert.ok(t.fingerprint, `${t.title} has a fingerprint`);
  for (const canary of CANARIES) assert.ok(!page.text.includes(canary), `Diagnostics shows "${canary}"`);

  await (await browser.$('[aria-label="Check readiness of Linear"]')).click();
  await waitShowing(async () => browser.execute(() => !!document.querySelector('.readiness .check')), {
    timeout: 15_000,
    what: 'no readiness result for Linear',
    context: '[aria-labelledby="readiness-heading"]',
  });
  assert.match(await textOf('.readiness .summary'), /^Ready/);

  await (await browser.$('button*=Save support bundle')).click();
  await waitShowing(async () => (await textOf('.saved .path')) !== null, {
    timeout: 15_000,
    what: 'the support bundle was not saved',
    context: '[aria-labelledby="bundle-heading"]',
  });
  const path = await textOf('.saved .path');
  assert.equal(dirname(path), bundleDir, 'the bundle goes to LANYARD_BUNDLE_DIR');
  const bundle = await readFile(path, 'utf8');
  for (const canary of CANARIES) assert.ok(!bundle.includes(canary), `the support bundle contains "${canary}"`);
  assert.ok(bundle.includes(await textOf('.saved .incident')), 'the bundle carries the incident id shown');
  seen.push({ what: 'support bundle', text: bundle });
  await record('diagnostics');
  await browser.execute(() => window.scrollTo(0, 0));
  await shoot('diagnostics.png');

  await (await browser.$('button*=Back')).click();
  await browser.waitUntil(async () => (await sessionHeading()) === 'Signed in', {
    timeout: 5_000,
    timeoutMsg: 'Back did not leave Diagnostics',
  });
  assert.equal(await browser.execute(() => document.activeElement?.id), 'open-diagnostics');
});

test('the IdP stops granting: one "access stopped" notification per connector that was granted', async (t) => {
  t.after(() => setLabFaults(lab.base, { deny_all: false }));
  const before = (await notifications.received()).length;
  await setLabFaults(lab.base, { deny_all: true });
  const count = await statusPayloadCount();
  await (await browser.$('button*=Refresh all')).click();
  await waitForFreshStatus(count, 'Refresh all under deny_all');
  const rows = byName(await connectorRows());
  for (const name of GRANTED) assert.equal(rows[name].state, 'denied', `${name} after deny_all`);
  await browser.waitUntil(async () => (await notifications.received()).length >= before + GRANTED.length, {
    timeout: 10_000,
    timeoutMsg: `fewer than ${GRANTED.length} notifications after the grants stopped`,
  });
  // Room for a duplicate to show up, if the app were to send one.
  await sleep(1000);
  const sent = (await notifications.received()).slice(before);
  assert.deepEqual(
    sent.map((n) => n.summary).sort(),
    GRANTED.map((name) => `${name} access stopped`).sort(),
    'exactly one per dropped connector; none for those that were never granted',
  );
  for (const n of sent) {
    assert.equal(n.body, 'Your organisation no longer grants it (access_denied).', n.summary);
    assert.equal(n.app_name, 'lanyard-app');
    for (const canary of CANARIES) assert.ok(!JSON.stringify(n).includes(canary), `a notification contains "${canary}"`);
  }
  await record('deny_all');

  // Granted again: getting access back is no reason to interrupt.
  await setLabFaults(lab.base, { deny_all: false });
  const again = await statusPayloadCount();
  await (await browser.$('button*=Refresh all')).click();
  await waitForFreshStatus(again, 'Refresh all after deny_all');
  const back = byName(await connectorRows());
  for (const name of GRANTED) assert.equal(back[name].state, 'granted', `${name} granted again`);
  await sleep(1000);
  assert.equal((await notifications.received()).length, before + GRANTED.length, 'no notification for grants coming back');
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
  // Every grant stopped, but the person did it: no "access stopped" notifications.
  await sleep(1000);
  const after = (await notifications.received()).map((n) => n.summary);
  assert.equal(after.length, GRANTED.length, `only the deny_all notifications so far: ${after.join(', ')}`);
  await record('signed out');
  await shoot('signed-out.png');
});

test('IPC canary: no lab token or JWT reached the webview, the logs or the state folder', async () => {
  await record('end');
  const ipc = await browser.execute(() => window.__lanyardE2eIpc ?? []);
  // The recorder must have seen the traffic, or an empty log would prove nothing.
  assert.ok(ipc.some((p) => p.includes('"connectors"')), 'the IPC recorder captured status payloads');
  const payloads = {
    'legacy scan': (p) => p.includes('"covered_by_ema"') && p.includes('"problems"'),
    'disconnect receipts': (p) => p.includes('"revocation"') && p.includes('"removed_locally"'),
    timeline: (p) => p.includes('"steps"') && p.includes('"key_claims"'),
    'diagnostics report': (p) => p.includes('"clock"') && p.includes('"tokens"'),
    'readiness report': (p) => p.includes('"checks"') && p.includes('"ready"'),
    'support bundle reply': (p) => p.includes('"incidentId"'),
  };
  for (const [what, is] of Object.entries(payloads)) assert.ok(ipc.some(is), `the IPC recorder captured a ${what}`);
  const appLog = await browser.execute(() => JSON.stringify(window.__lanyardIpcLog ?? []));
  // The app's own log file must exist, or scanning it below would prove nothing.
  const appFileLog = await readFile(join(workDir, APP_LOG), 'utf8').catch(() => '');
  assert.match(appFileLog, /signed in; resolving connectors/, 'the app wrote its log file under LANYARD_LOG_DIR');
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

/** Grace is not meant to have Figma (over-grant); Sam is meant to have Linear (under-grant). */
const PILOT_EXPECTED = JSON.stringify({
  groups: { Everyone: ['atlassian', 'granola'], Engineering: ['linear', 'supabase'], Design: ['canva'], Sales: ['asana', 'linear'] },
  members: {
    'ada@lab.example': ['Everyone', 'Engineering'],
    'grace@lab.example': ['Everyone', 'Design'],
    'sam@lab.example': ['Everyone', 'Sales'],
    'pat@lab.example': ['Everyone'],
  },
});

test('Admin pilot: the matrix for ada, grace, sam and pat shows one over-grant and one under-grant', async (t) => {
  t.after(async () => {
    await leavePage();
    await leavePage();
  });
  const ipcBefore = await browser.execute(() => (window.__lanyardE2eIpc ?? []).length);
  await (await browser.$('#open-diagnostics')).click();
  await (await browser.$('#open-pilot')).click();
  await waitShowing(async () => (await textOf('#pilot-heading')) === 'Admin pilot', {
    timeout: 10_000,
    what: 'the Admin pilot page did not open',
    context: 'section.page',
  });
  await (await browser.$('#pilot-users')).setValue('ada@lab.example, grace@lab.example, sam@lab.example, pat@lab.example');
  // Set like a paste: WebDriver typing would be slow for a whole file.
  await browser.execute((text) => {
    const area = document.getElementById('pilot-expected');
    area.value = text;
    area.dispatchEvent(new Event('input', { bubbles: true }));
  }, PILOT_EXPECTED);
  await (await browser.$('#pilot-run')).click();
  await waitShowing(async () => browser.execute(() => !!document.querySelector('table.matrix')), {
    timeout: 60_000,
    what: 'the grant matrix did not appear',
    context: 'section.page',
  });
  const m = await browser.execute(() => {
    const table = document.querySelector('table.matrix');
    const users = [...table.querySelectorAll('thead th')].slice(1).map((th) => th.textContent.trim());
    const rows = {};
    for (const tr of table.querySelectorAll('tbody tr')) {
      rows[tr.querySelector('th').textContent.trim()] = [...tr.querySelectorAll('td')].map((td) => ({
        state: td.dataset.state,
        mismatch: td.dataset.mismatch,
        text: td.textContent.replace(/\s+/g, ' ').trim(),
      }));
    }
    return {
      users,
      rows,
      progress: [...document.querySelectorAll('ol.progress li')].map((li) => li.dataset.phase),
      mismatches: [...document.querySelectorAll('ul.mismatches li')].map((li) => li.textContent.replace(/\s+/g, ' ').trim()),
    };
  });
  assert.deepEqual(m.users, ['ada@lab.example', 'grace@lab.example', 'sam@lab.example', 'pat@lab.example']);
  assert.deepEqual(m.progress, ['done', 'done', 'done', 'done'], 'every test user signed in');
  // The directory's groups, user by user (product.md).
  const grantedTo = (name) => m.users.filter((_, i) => m.rows[name][i].state === 'granted');
  assert.deepEqual(grantedTo('Linear'), ['ada@lab.example']);
  assert.deepEqual(grantedTo('Figma'), ['grace@lab.example']);
  assert.deepEqual(grantedTo('Asana'), ['sam@lab.example']);
  assert.deepEqual(grantedTo('Granola'), m.users);
  assert.deepEqual(grantedTo('Slack'), []);
  const flagged = Object.entries(m.rows).flatMap(([name, cells]) =>
    cells.flatMap((c, i) => (c.mismatch ? [`${name}/${m.users[i]}/${c.mismatch}`] : [])),
  );
  assert.deepEqual(flagged.sort(), ['Figma/grace@lab.example/over_grant', 'Linear/sam@lab.example/under_grant']);
  // In words, not colour alone.
  assert.match(m.rows.Figma[1].text, /^Over-grant Granted/);
  assert.match(m.rows.Linear[2].text, /^Under-grant Denied/);
  assert.deepEqual(m.mismatches, [
    'Over-grant: grace@lab.example was granted Figma, which the expected grants do not include.',
    'Under-grant: sam@lab.example was expected to get Linear, but it was not granted.',
  ]);
  await record('pilot matrix');
  await scrollToId('pilot-matrix-heading');
  await shoot('pilot.png');

  await (await browser.$('button*=Save report')).click();
  await waitShowing(async () => (await textOf('.path')) !== null, {
    timeout: 30_000,
    what: 'the pilot report was not saved',
    context: '[aria-labelledby="pilot-report-heading"]',
  });
  const report = await readFile(await textOf('.path'), 'utf8');
  assert.match(report, /⚠ over-grant/);
  const ipc = await browser.execute((n) => (window.__lanyardE2eIpc ?? []).slice(n).join('\n'), ipcBefore);
  assert.ok(ipc.includes('"mismatch":"over_grant"'), 'the IPC recorder captured the matrix');
  assert.ok(ipc.includes('"phase":"signing_in"'), 'the IPC recorder captured pilot progress events');
  const pageText = await browser.execute(() => document.body.innerText);
  for (const [what, text] of [['pilot report', report], ['pilot IPC payloads', ipc], ['pilot page', pageText]]) {
    for (const canary of CANARIES) assert.ok(!text.includes(canary), `${what} contains "${canary}"`);
  }
});

// --- helpers -------------------------------------------------------------------------------

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
      else if (p.slice(stateDir.length + 1).startsWith('legacy-backups/')) {
        // Disconnect keeps the other client's file as it was, tokens and all, so it can be put
        // back: not Lanyard's output, but it must be private to the user.
        assert.equal((await stat(p)).mode & 0o077, 0, `backup ${e.name} is readable by others`);
      } else out.push({ what: `state file ${p.slice(stateDir.length + 1)}`, text: await readFile(p, 'latin1') });
    }
  };
  await walk(stateDir);
  return out;
}
