// The processes behind the end-to-end test: the lab (real IdP and connectors on loopback) and
// tauri-driver (WebDriver in front of WebKitWebDriver, which launches the real lanyard-app).
// Each is started as a child of this process and stopped by `stop()`, also on a signal.
import { spawn } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(REPO, 'target');
export const APP = join(TARGET, 'debug', 'lanyard-app');
export const LAB = join(TARGET, 'debug', 'lanyard-lab');
/** scripts/e2e.sh passes the one it installed; else whatever is on PATH. */
const TAURI_DRIVER = process.env.TAURI_DRIVER || 'tauri-driver';
const NATIVE_DRIVER = process.env.WEBKIT_WEBDRIVER || '/usr/bin/WebKitWebDriver';
/** Debian's python3-dbus and python3-gi are built for the system interpreter, not a pyenv one. */
const NOTIFY_PYTHON = process.env.NOTIFY_PYTHON || '/usr/bin/python3';

const children = new Set();
/** Temporary folders still to delete, also when a signal ends the run early. */
const workDirs = new Set();

/** Stops every child still running (SIGTERM, then SIGKILL after a grace period). */
export async function stopAll() {
  await Promise.all([...children].map((c) => stop(c)));
}

function stop(child) {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });
}

// A test runner killed by a signal must not leave the lab or the driver behind.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(130);
  });
}
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of workDirs) rmSync(d, { recursive: true, force: true });
});

function track(child, name, logPath) {
  children.add(child);
  const log = createWriteStream(logPath);
  child.stderr?.pipe(log);
  child.on('exit', () => children.delete(child));
  child.on('error', (e) => {
    children.delete(child);
    log.write(`${name} failed to start: ${e.message}\n`);
  });
  return child;
}

/** A free loopback port (the kernel's pick; released before the caller binds it). */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

export async function makeWorkDir() {
  const dir = await mkdtemp(join(tmpdir(), 'lanyard-e2e-'));
  workDirs.add(dir);
  return dir;
}

/**
 * Keeps the logs (target/e2e-logs/, or a folder `sub` in it, for scripts/e2e.sh to show on
 * failure), drops the rest.
 */
export async function removeWorkDir(dir, sub = '') {
  if (!dir) return;
  const keep = join(TARGET, 'e2e-logs', sub);
  await rm(keep, { recursive: true, force: true });
  await mkdir(keep, { recursive: true });
  for (const name of ['lab.log', 'driver.log', 'driver.out.log', 'notifications.log', 'notification-server.log', APP_LOG]) {
    await cp(join(dir, name), join(keep, basename(name))).catch(() => {});
  }
  await rm(dir, { recursive: true, force: true });
  workDirs.delete(dir);
}

/** The app's own log file under the work folder (the driver env sets LANYARD_LOG_DIR to its folder). */
export const APP_LOG = join('app-logs', 'lanyard.log');

/**
 * Starts `lanyard-lab serve` with ada signed in automatically (and `extra` flags, e.g. a short
 * `--token-lifetime-secs`) and resolves with its ready line ({base, idp_issuer, policy, connectors}).
 */
export async function startLab(workDir, extra = []) {
  const child = spawn(
    LAB,
    ['serve', '--port', '0', '--auto-login', 'ada@lab.example', '--policy-out', join(workDir, 'policy.json'), ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  track(child, 'lanyard-lab', join(workDir, 'lab.log'));
  const lines = createInterface({ input: child.stdout });
  const ready = await withTimeout(
    new Promise((ok, fail) => {
      lines.once('line', (line) => ok(line));
      child.once('exit', (code) => fail(new Error(`lanyard-lab exited (${code}) before it was ready; see lab.log`)));
      child.once('error', fail);
    }),
    15_000,
    'lanyard-lab ready line',
  );
  return JSON.parse(ready);
}

/**
 * Starts tauri-driver on a free port with the app's environment: the lab's policy, a private
 * state folder, and curl as the "browser" (it follows the IdP's redirect to the loopback
 * callback, as a real browser would). Resolves with the port once it accepts connections.
 */
export async function startDriver(workDir, env) {
  const port = await freePort();
  const nativePort = await freePort();
  const child = spawn(
    TAURI_DRIVER,
    ['--port', String(port), '--native-port', String(nativePort), '--native-driver', NATIVE_DRIVER],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  track(child, 'tauri-driver', join(workDir, 'driver.log'));
  child.stdout.pipe(createWriteStream(join(workDir, 'driver.out.log')));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tauri-driver exited (${child.exitCode}); see driver.log`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/status`);
      if (r.ok || r.status < 500) return port;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('tauri-driver did not start listening');
    await sleep(100);
  }
}

/** `POST <base>/lab/faults` (loopback only): e.g. `{deny_all: true}`, `{idp_down: false}`. */
export async function setLabFaults(base, faults) {
  const r = await fetch(`${base}/lab/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (!r.ok) throw new Error(`POST /lab/faults answered ${r.status}`);
}

/**
 * Starts the test's notification server (notification-server.py) on the session bus the app
 * will use, before the app. Resolves once it owns org.freedesktop.Notifications, with
 * `received()`: every Notify so far ({app_name, summary, body, at_ms}, oldest first).
 */
export async function startNotificationServer(workDir) {
  const log = join(workDir, 'notifications.log');
  const child = spawn(NOTIFY_PYTHON, [join(REPO, 'tests', 'e2e', 'notification-server.py'), '--log', log], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child, 'notification server', join(workDir, 'notification-server.log'));
  const lines = createInterface({ input: child.stdout });
  await withTimeout(
    new Promise((ok, fail) => {
      lines.once('line', (line) => (line === 'ready' ? ok() : fail(new Error(`notification server said: ${line}`))));
      child.once('exit', (code) =>
        fail(new Error(`the notification server exited (${code}) before it was ready; see notification-server.log`)),
      );
      child.once('error', fail);
    }),
    10_000,
    'the notification server',
  );
  return {
    async received() {
      const text = await readFile(log, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l));
    },
  };
}

/**
 * Waits until no lanyard-app holds its single-instance name on the session bus: an app still
 * quitting from an earlier test file would take the next launch's place (the new one would
 * hand over to it and exit).
 */
export async function waitForNoRunningApp(timeout = 15_000) {
  const list = () =>
    new Promise((ok, fail) => {
      const child = spawn(NOTIFY_PYTHON, ['-c', 'import dbus; print("\\n".join(dbus.SessionBus().list_names()))'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.once('error', fail);
      child.once('exit', (code) => (code === 0 ? ok(out.split('\n')) : fail(new Error(`listing bus names exited ${code}`))));
    });
  const deadline = Date.now() + timeout;
  while ((await list()).some((n) => n.startsWith('dev.lanyard.desktop.SingleInstance'))) {
    if (Date.now() > deadline) throw new Error('a lanyard-app from before is still running');
    await sleep(200);
  }
}

/**
 * Runs `lanyard-lab seed-legacy`: real per-user tokens from the lab, written into other MCP
 * clients' stores under `home`. Resolves with its report ({home, user, entries}); the report
 * names files and connectors only, never a token.
 */
export function seedLegacy(base, home, user = 'ada@lab.example') {
  return withTimeout(
    new Promise((ok, fail) => {
      const child = spawn(LAB, ['seed-legacy', '--lab', base, '--home', home, '--user', user], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.once('error', fail);
      child.once('exit', (code) => {
        if (code !== 0) return fail(new Error(`lanyard-lab seed-legacy exited (${code}): ${err.trim()}`));
        try {
          ok(JSON.parse(out));
        } catch (e) {
          fail(new Error(`seed-legacy printed no JSON report: ${e.message}`));
        }
      });
    }),
    15_000,
    'lanyard-lab seed-legacy',
  );
}

/** `GET <base>/lab/grants`: every grant the lab still honours ({connector, subject, kind, expires_at}). */
export async function labGrants(base) {
  const r = await fetch(`${base}/lab/grants`);
  if (!r.ok) throw new Error(`GET /lab/grants answered ${r.status}`);
  return r.json();
}

/** Every log the harness wrote, as one string (for canary scans and for failure output). */
export async function readLogs(workDir) {
  const parts = [];
  for (const name of ['driver.log', 'driver.out.log', APP_LOG]) {
    try {
      parts.push(`--- ${name}\n${await readFile(join(workDir, name), 'utf8')}`);
    } catch {
      // not written
    }
  }
  return parts.join('\n');
}

export function sleep(ms) {
  return new Promise((ok) => setTimeout(ok, ms));
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, fail) => {
      timer = setTimeout(() => fail(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}
