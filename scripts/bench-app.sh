#!/usr/bin/env bash
# The desktop app's footprint for `make bench`: idle CPU and memory of the Lanyard app, signed in
# to the lab, against a minimal Tauri app (benches/minimal-tauri) built and measured in the same
# run, plus release binary and .deb sizes. Prints a markdown table and writes
# docs/benchmarks-app.md.
#
# Each app runs under Xvfb inside scripts/with-keyring.sh. After a warm-up, it samples
# /proc/<pid>/stat (utime+stime) of the app and every descendant (WebKitWebProcess,
# WebKitNetworkProcess, …) at the start and end of the window, and sums `Pss:` from their
# /proc/<pid>/smaps_rollup every 5 s in the window (the mean is reported).
set -euo pipefail
cd "$(dirname "$0")/.."

WARMUP_SECS=${BENCH_APP_WARMUP_SECS:-10}
WINDOW_SECS=${BENCH_APP_WINDOW_SECS:-60}
MINIMAL_TARGET=$PWD/target/minimal-tauri
OUT_DIR=$PWD/target/bench-app
# The machine has no GPU: software GL and no compositing, as in the demo and the e2e test.
APP_ENV=(WEBKIT_DISABLE_COMPOSITING_MODE=1 LIBGL_ALWAYS_SOFTWARE=1 NO_AT_BRIDGE=1)

# measure NAME TITLE HIDE CMD… : runs CMD in its own session, waits, measures with its window
# shown, hides the window titled TITLE and measures again, stops it, writes $OUT_DIR/NAME.json.
# HIDE is `close` (the window manager's close, as a person closes Lanyard to the tray: window
# and webview go, the app stays) or `unmap` (the window is unmapped, its webview stays: the most
# a plain app without a tray can do to be out of sight).
measure() {
  local name=$1 title=$2 hide=$3; shift 3
  python3 - "$OUT_DIR/$name.json" "$WARMUP_SECS" "$WINDOW_SECS" "$title" "$hide" "$@" <<'PY'
import json, os, re, signal, subprocess, sys, time

out, warmup, window, title, hide, cmd = (sys.argv[1], float(sys.argv[2]), float(sys.argv[3]),
                                         sys.argv[4], sys.argv[5], sys.argv[6:])
tick = os.sysconf("SC_CLK_TCK")

def stat(pid):
    """(comm, ppid, utime+stime in ticks) of a live process, or None once it is gone."""
    try:
        raw = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    # comm may hold spaces and parentheses: the fields start after the last ')'.
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return comm, int(fields[1]), int(fields[11]) + int(fields[12])

def tree(root):
    """{pid: (comm, cpu ticks)} for root and all its descendants."""
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (s := stat(int(entry))):
            procs[int(entry)] = s
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            found[pid] = (procs[pid][0], procs[pid][2])
            todo += [p for p, s in procs.items() if s[1] == pid]
    return found

def pss_kib(pid):
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0

def phase(app, shot):
    """CPU and PSS of the app's process tree over one window."""
    start, t0 = tree(app.pid), time.monotonic()
    # Memory moves as the web process collects garbage: PSS is sampled every 5 s in the window.
    samples = []
    while (left := window - (time.monotonic() - t0)) > 0:
        time.sleep(min(5.0, left))
        samples.append(sum(pss_kib(pid) for pid in tree(app.pid)))
    end, elapsed = tree(app.pid), time.monotonic() - t0
    # What the screen showed, to check the app was really up (not part of the measurement).
    subprocess.run(["import", "-window", "root", shot], check=False)
    if app.poll() is not None:
        sys.exit(f"{cmd[0]} exited during the window (status {app.returncode}); see {log.name}")
    # A process that started inside the window counts from zero.
    used = {pid: cpu - start.get(pid, (None, 0))[1] for pid, (_, cpu) in end.items()}
    # The app's own process (Rust: the event loop, tray, renewal loop) apart from the WebKit
    # processes it started: issue 11 budgets them separately.
    own = used.get(app.pid, 0)
    return {
        "cpu_percent": 100.0 * sum(used.values()) / tick / elapsed,
        "app_cpu_secs": own / tick,
        "webview_cpu_secs": (sum(used.values()) - own) / tick,
        "pss_kib": sum(samples) / len(samples),
        "pss_min_kib": min(samples),
        "pss_max_kib": max(samples),
        "window_secs": round(elapsed, 1),
        "processes": [
            {"comm": comm, "pss_kib": pss_kib(pid), "cpu_ticks": used[pid]}
            for pid, (comm, _) in sorted(end.items())
        ],
    }

def painted_unix_ms(since_wall):
    """Lanyard logs once per process when its window painted the first status
    (src-tauri/src/startup.rs), with the wall clock; the baseline has no status to paint.
    Waits up to 30 s for a line from a process started at `since_wall` or later."""
    path = os.path.join(os.environ.get("LANYARD_LOG_DIR", "/nonexistent"), "lanyard.log")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            text = open(path, errors="replace").read()
        except OSError:
            return None
        for m in re.finditer(r"painted its first status.*?unix_ms=(\d+)", text):
            if int(m.group(1)) >= since_wall * 1000:
                return int(m.group(1))
        time.sleep(0.05)
    return None

def wait_mapped(timeout=60):
    found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", f"^{title}$"],
                           capture_output=True, text=True, timeout=timeout)
    return found.stdout.split()

def stop(proc):
    # The app leads its own session, so its WebKit children go with it.
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

median = lambda v: sorted(v)[len(v) // 2] if v else None

# Start-up, three times, the median reported: one launch on this machine varies by seconds
# (the page cache, the first WebKit start of the session). Start to window mapped (xdotool
# waits for it) for both apps; start to first painted status for Lanyard.
starts, paints = [], []
paints_status = os.path.basename(out).startswith("lanyard")
for _ in range(3):
    t_wall, t0 = time.time(), time.monotonic()
    launch = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    if wait_mapped():
        starts.append((time.monotonic() - t0) * 1000.0)
    if paints_status and (painted := painted_unix_ms(t_wall)) is not None:
        paints.append(painted - t_wall * 1000.0)
    stop(launch)
    time.sleep(1)

log = open(out.replace(".json", ".log"), "w")
app = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
try:
    windows = wait_mapped()
    time.sleep(warmup)
    if app.poll() is not None or not windows:
        sys.exit(f"{cmd[0]} exited or showed no window titled {title!r} during warm-up; see {log.name}")
    result = {"window_mapped_ms": median(starts), "window_mapped_all_ms": starts}
    if paints:
        result["painted_ms"], result["painted_all_ms"] = median(paints), paints
    result["shown"] = phase(app, out.replace(".json", "-shown.png"))
    for w in windows:
        if hide == "close":
            subprocess.run([sys.executable, "tests/e2e/wm-close.py", w], check=False)
        else:
            subprocess.run(["xdotool", "windowunmap", w], check=False)
    time.sleep(warmup)
    result["hidden"] = phase(app, out.replace(".json", "-hidden.png"))
    if hide == "close":
        # Open again, as the launcher does: a second launch hands over to the running app,
        # which builds the window anew. Launch to mapped window; three times (closing it in
        # between), the median reported.
        reopens = []
        for attempt in range(3):
            t_open = time.monotonic()
            subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=30)
            shown = wait_mapped(timeout=30)
            if shown:
                reopens.append((time.monotonic() - t_open) * 1000.0)
            time.sleep(2)
            for w in shown:
                subprocess.run([sys.executable, "tests/e2e/wm-close.py", w], check=False)
            time.sleep(2)
        if reopens:
            result["reopen_ms"], result["reopen_all_ms"] = median(reopens), reopens
    json.dump(result, open(out, "w"))
finally:
    stop(app)
PY
}

inside() {
  RUN_DIR=$(mktemp -d -t lanyard-bench-app-XXXXXX)
  XVFB_PID=""
  trap 'kill ${LAB_PID:-} 2>/dev/null || true; [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null; rm -rf "$RUN_DIR"' EXIT

  Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$RUN_DIR/display" 2>"$RUN_DIR/xvfb.log" &
  XVFB_PID=$!
  for _ in $(seq 1 100); do [ -s "$RUN_DIR/display" ] && break; sleep 0.1; done
  [ -s "$RUN_DIR/display" ] || { echo "Xvfb did not start"; cat "$RUN_DIR/xvfb.log"; exit 1; }
  export DISPLAY=":$(head -n1 "$RUN_DIR/display")"

  # Signed in to the lab with the CLI first; the app then starts signed in from the same state.
  source scripts/lab.sh
  LAB_PROFILE=release start_lab "$RUN_DIR" --auto-login ada@lab.example
  trap 'kill $LAB_PID 2>/dev/null || true; kill "$XVFB_PID" 2>/dev/null || true; rm -rf "$RUN_DIR"' EXIT
  export LANYARD_POLICY="$LAB_POLICY" LANYARD_STATE_DIR="$RUN_DIR/state"
  export LANYARD_BROWSER_COMMAND="curl -fsSL -o /dev/null"
  # The app's log, where it writes how long it took to paint its first status.
  export LANYARD_LOG_DIR="$RUN_DIR/logs"
  mkdir -p "$LANYARD_STATE_DIR"
  target/release/lanyard login >"$RUN_DIR/login.log" 2>&1 || true
  session=$(target/release/lanyard status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["session"]["state"])')
  [ "$session" = signed_in ] || { echo "sign-in to the lab failed:"; cat "$RUN_DIR/login.log"; exit 1; }

  echo "==> lanyard-app (signed in as ada): ${WARMUP_SECS}s warm-up, ${WINDOW_SECS}s window"
  measure lanyard Lanyard close env "${APP_ENV[@]}" target/release/lanyard-app
  echo "==> minimal-tauri: ${WARMUP_SECS}s warm-up, ${WINDOW_SECS}s window"
  measure minimal "Minimal Tauri" unmap env "${APP_ENV[@]}" "$MINIMAL_TARGET/release/minimal-tauri"
}

if [ "${1:-}" = "--inside" ]; then
  inside
  exit $?
fi

for tool in Xvfb dbus-run-session gnome-keyring-daemon npm python3 dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "bench-app: $tool is missing; run scripts/install-deps.sh"; exit 1; }
done
mkdir -p "$OUT_DIR"
rm -f "$OUT_DIR"/*.json

# Release binary and .deb of Lanyard (scripts/package.sh also installs the Tauri CLI).
echo "==> release build and .deb of lanyard-app"
bash scripts/package.sh | tail -n 2
TAURI=$PWD/.tools/tauri-cli/node_modules/.bin/tauri
echo "==> release build and .deb of the baseline (benches/minimal-tauri)"
(cd benches/minimal-tauri && CI=true CARGO_TARGET_DIR="$MINIMAL_TARGET" "$TAURI" build --ci --bundles deb >"$OUT_DIR/minimal-build.log" 2>&1) \
  || { tail -n 40 "$OUT_DIR/minimal-build.log"; exit 1; }
# Packed like Lanyard's (scripts/package.sh), so the .deb sizes compare the same compression.
bash scripts/deb-xz.sh "$(ls -t "$MINIMAL_TARGET"/release/bundle/deb/*.deb | head -n1)"
# Release, like the rest of make bench: a debug build would be a third build of everything.
echo "==> the lab and the CLI (release) for signing in"
cargo build --release --quiet -p lanyard-lab -p lanyard-cli

bash scripts/with-keyring.sh bash scripts/bench-app.sh --inside

newest_deb() { ls -t "$1"/release/bundle/deb/*.deb | head -n1; }
table=$(python3 - "$OUT_DIR" target/release/lanyard-app "$(newest_deb target)" \
  "$MINIMAL_TARGET/release/minimal-tauri" "$(newest_deb "$MINIMAL_TARGET")" <<'PY'
import json, os, sys
out, lan_bin, lan_deb, min_bin, min_deb = sys.argv[1:]
lan = json.load(open(f"{out}/lanyard.json"))
base = json.load(open(f"{out}/minimal.json"))
mib = lambda b: f"{b / 2**20:.1f} MiB"
secs = lambda v: f"{v:.2f} s"
rows = []
for when in ("shown", "hidden"):
    l, b = lan[when], base[when]
    rows += [
        (f"Idle CPU, all processes, window {when} (% of one core)", l["cpu_percent"], b["cpu_percent"], lambda v: f"{v:.2f} %"),
        (f"CPU of the app process alone, window {when} (s in {l['window_secs']:.0f} s)", l["app_cpu_secs"], b["app_cpu_secs"], secs),
        (f"CPU of the WebKit processes, window {when} (s in {l['window_secs']:.0f} s)", l["webview_cpu_secs"], b["webview_cpu_secs"], secs),
        (f"Memory: total PSS (app + WebKit processes), window {when}, mean", l["pss_kib"] * 1024, b["pss_kib"] * 1024, mib),
    ]
rows += [
    ("Start to window mapped (median of 3 launches)", lan["window_mapped_ms"], base["window_mapped_ms"], lambda v: f"{v:.0f} ms"),
    ("Release binary", os.path.getsize(lan_bin), os.path.getsize(min_bin), mib),
    (".deb", os.path.getsize(lan_deb), os.path.getsize(min_deb), mib),
]
print("| | Lanyard app | minimal Tauri app | ratio (Lanyard ÷ baseline) |")
print("|---|---:|---:|---:|")
for name, a, b, fmt in rows:
    ratio = f"{a / b:.2f}×" if b else "n/a"
    print(f"| {name} | {fmt(a)} | {fmt(b)} | {ratio} |")
if "painted_ms" in lan:
    # The baseline paints a static page and has no status: compared with its window mapped.
    print(f"| Start to first painted status (signed in as ada, the lab's 8 connectors; median of 3) | "
          f"{lan['painted_ms']:.0f} ms | {base['window_mapped_ms']:.0f} ms (window mapped) | "
          f"{lan['painted_ms'] / base['window_mapped_ms']:.2f}× |")
if "reopen_ms" in lan:
    # Against the issue's 300 ms: the baseline has no way back once closed.
    print(f"| Open again after closing to the tray (second launch to window mapped; median of 3) | "
          f"{lan['reopen_ms']:.0f} ms | n/a | {lan['reopen_ms'] / 300:.2f}× the 300 ms target |")
# /proc's comm is cut at 15 characters (WebKitNetworkPr…).
procs = lambda r: ", ".join(f"{p['comm']} {p['pss_kib'] / 1024:.1f} MiB" for p in r["processes"])
print()
span = lambda r: f"{r['pss_min_kib'] / 1024:.1f}–{r['pss_max_kib'] / 1024:.1f} MiB"
for when in ("shown", "hidden"):
    print(f"Window {when}: total PSS range Lanyard {span(lan[when])}, baseline {span(base[when])}; "
          f"PSS per process at the end: Lanyard: {procs(lan[when])}; baseline: {procs(base[when])}.")
    print()
PY
)
echo
echo "$table"

python3 - "$table" "$WARMUP_SECS" "$WINDOW_SECS" <<'PY'
import datetime, os, platform, subprocess, sys
table, warmup, window = sys.argv[1:]
tauri = subprocess.run(["cargo", "tree", "-p", "lanyard-app", "-i", "tauri", "--depth", "0", "-e", "normal"],
                       capture_output=True, text=True).stdout.split("\n")[0].strip()
text = f"""## Desktop app footprint

Measured {datetime.date.today()} by `scripts/bench-app.sh` on {os.cpu_count()} cores ({platform.machine()},
{platform.system()} {platform.release()}), no GPU. Both apps are release builds ({tauri}, the same
features and release profile) made and measured in the same run, each under Xvfb in a private D-Bus
session with an unlocked keyring, with `WEBKIT_DISABLE_COMPOSITING_MODE=1 LIBGL_ALWAYS_SOFTWARE=1`.
The Lanyard app is signed in to the lab as ada (signed in with the CLI first, same state directory),
so its renewal loop runs and its tray icon is created (no tray host shows it on bare Xvfb); the baseline (`benches/minimal-tauri`) is one window with a
static page, no plugins, no tray, no commands. After {warmup} s warm-up: CPU time (utime + stime from
`/proc/<pid>/stat`) of the app and all its descendant processes over {window} s with the window
shown, then again (after another {warmup} s) with the window out of sight: Lanyard's closed
with the window manager's close request, as a person closes it to the tray (the window and its
webview go, the app and its tray stay), the baseline's unmapped by `xdotool windowunmap` (it has
no tray, and closing would end it; its webview stays); the app's own process (Rust) and its
WebKit processes are also reported apart;
memory is the sum of `Pss:` from `/proc/<pid>/smaps_rollup` over the same processes, sampled every
5 s in the window and averaged. CPU time is counted in 10 ms ticks, so at these levels the CPU
ratio rests on a few dozen ticks and moves between runs; the memory and size ratios are steady.

{table}

Only the `.deb` is built: an AppImage bundle downloads linuxdeploy and its plugins at build time,
which this machine cannot do.
"""
open("docs/benchmarks-app.md", "w").write(text)
PY
echo "==> docs/benchmarks-app.md written"
