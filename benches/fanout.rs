//! Fan-out benchmark: resolving N connectors at once against the lab with 25 ms added to
//! every response, compared in the same run with (a) the same flow one connector at a time
//! and (b) the critical path of one connector (about six round trips). `make bench` runs it
//! inside a private keyring session and writes docs/benchmarks.md.
//!
//! With `LANYARD_BENCH_CLI` naming a release `lanyard` binary, it also times
//! `lanyard status --json` as a separate process against the N = 256 state folder (a
//! `status` line that scripts/bench.sh turns into its own table).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lanyard::protocol::oidc::{Browser, SignInOptions};
use lanyard::store::{MemoryStore, SecretStore};
use lanyard::{Lanyard, Options};
use lanyard_lab::{Lab, LabOptions};

const LATENCY_MS: u64 = 25;

struct Row {
    n: usize,
    concurrent: Duration,
    sequential: Duration,
    critical: Duration,
    granted: usize,
    /// `lanyard status --json` against this run's state: the first run, then the median.
    status: Option<(Duration, Duration, usize)>,
    /// Where the time of "all at once" goes (see `Split`).
    split: Split,
    /// All at once again with the policy's `idp.max_concurrent_requests` raised.
    limited: Option<Limited>,
}

/// The all-at-once median under another IdP limit. One at a time and the critical path are
/// the row's own: they never have more than one request in flight, so no limit changes them.
struct Limited {
    limit: usize,
    concurrent: Duration,
    granted: usize,
}

/// For the all-at-once runs: CPU seconds this process used (the engine and the in-process
/// lab share it and the machine's cores), CPU seconds the session's gnome-keyring and D-Bus
/// daemons used, and the median all-at-once time with an in-memory secret store instead of
/// the OS keyring (the same engine otherwise).
#[derive(Default)]
struct Split {
    wall: Duration,
    own_cpu: f64,
    keyring_cpu: f64,
    memory_store: Duration,
}

fn open(policy: &std::path::Path, state: &std::path::Path) -> Lanyard {
    open_with(policy, state, None)
}

fn open_with(
    policy: &std::path::Path,
    state: &std::path::Path,
    store: Option<Arc<dyn SecretStore>>,
) -> Lanyard {
    Lanyard::open(Options {
        policy_path: Some(policy.to_path_buf()),
        state_dir: Some(state.to_path_buf()),
        http_timeout: Some(Duration::from_secs(60)),
        store,
        ..Options::default()
    })
    .expect("engine opens (run under scripts/with-keyring.sh)")
}

/// utime + stime of a process, in seconds (Linux; 0 elsewhere or once it is gone).
fn cpu_secs(pid: &str) -> f64 {
    let Ok(raw) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let Some(rest) = raw.rfind(')').map(|i| &raw[i + 2..]) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    // sysconf(_SC_CLK_TCK) is 100 on every Linux this runs on.
    ticks / 100.0
}

/// The gnome-keyring and D-Bus daemons of this private session (scripts/with-keyring.sh): the
/// processes whose environment names this session's bus, plus the `dbus-daemon`s.
fn keyring_daemons() -> Vec<String> {
    let Ok(bus) = std::env::var("DBUS_SESSION_BUS_ADDRESS") else {
        return Vec::new();
    };
    let me = std::process::id().to_string();
    let needle = format!("DBUS_SESSION_BUS_ADDRESS={bus}");
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|pid| pid.chars().all(|c| c.is_ascii_digit()) && *pid != me)
        .filter(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let ours = env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes());
            (comm.starts_with("gnome-keyring") && ours)
                || (comm.trim() == "dbus-daemon" && dbus_of_this_session(pid))
        })
        .collect()
}

/// The bus daemon's environment does not name its own address: it is ours when its parent
/// (the session's `dbus-run-session`) is one of our ancestors.
fn dbus_of_this_session(pid: &str) -> bool {
    let ppid = |p: &str| -> Option<String> {
        let raw = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        let rest = &raw[raw.rfind(')')? + 2..];
        rest.split_whitespace().nth(1).map(str::to_string)
    };
    // Our ancestors up to the session runner.
    let mut ancestors = Vec::new();
    let mut p = std::process::id().to_string();
    while let Some(up) = ppid(&p) {
        if up == "0" || up == "1" {
            break;
        }
        ancestors.push(up.clone());
        p = up;
    }
    ppid(pid).is_some_and(|parent| ancestors.contains(&parent))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The IdP limit of the extra N = 256 measurement (`idp.max_concurrent_requests`): the
/// default, 8, sets a floor of 256 ÷ 8 × 25 ms under the token exchanges alone.
const IDP_LIMIT: usize = 32;

fn sign_in_options() -> SignInOptions {
    SignInOptions {
        browser: Browser::Command("curl -fsSL -o /dev/null".into()),
        timeout: Duration::from_secs(60),
        cancel: None,
        login_hint: None,
        prompt: None,
    }
}

fn granted(status: &lanyard::view::status::StatusView) -> usize {
    status
        .connectors
        .iter()
        .filter(|c| c.state.as_str() == "granted")
        .count()
}

/// A policy with only the lab's N synthetic connectors (all granted to Everyone), written
/// into `dir`, and their ids.
fn synthetic_policy(lab: &Lab, n: usize, dir: &std::path::Path) -> (PathBuf, Vec<String>) {
    let mut policy: serde_json::Value =
        serde_json::from_slice(&std::fs::read(lab.policy_path()).expect("policy")).expect("json");
    let synth: Vec<serde_json::Value> = policy["connectors"]
        .as_array()
        .expect("connectors")
        .iter()
        .filter(|c| c["id"].as_str().is_some_and(|id| id.starts_with("synth-")))
        .cloned()
        .collect();
    assert_eq!(synth.len(), n);
    let ids = synth
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_string())
        .collect();
    policy["connectors"] = serde_json::Value::Array(synth);
    let path = dir.join("policy.json");
    std::fs::write(&path, serde_json::to_vec(&policy).expect("json")).expect("write");
    (path, ids)
}

/// The same policy with `idp.max_concurrent_requests` set to `limit`, beside it.
fn with_idp_limit(policy: &std::path::Path, limit: usize) -> PathBuf {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(policy).expect("policy")).expect("json");
    doc["idp"]["max_concurrent_requests"] = limit.into();
    let path = policy.with_file_name(format!("policy-idp-limit-{limit}.json"));
    std::fs::write(&path, serde_json::to_vec(&doc).expect("json")).expect("write");
    path
}

/// `reps` all-at-once refreshes, each on a fresh engine (so metadata discovery is part of
/// it): their median, what they cost in CPU (`Split` without the in-memory figure), and how
/// many connectors the last one left granted.
async fn all_at_once(
    policy: &std::path::Path,
    state: &std::path::Path,
    reps: usize,
) -> (Duration, Split, usize) {
    let mut times = Vec::new();
    let mut split = Split::default();
    let daemons = keyring_daemons();
    let me = std::process::id().to_string();
    let keyring_cpu = || {
        daemons
            .iter()
            .map(String::as_str)
            .map(cpu_secs)
            .sum::<f64>()
    };
    let mut granted_last = 0;
    for _ in 0..reps {
        let e = open(policy, state);
        let (own, keyring) = (cpu_secs(&me), keyring_cpu());
        let t = Instant::now();
        let status = e.refresh(None).await.expect("refresh");
        let took = t.elapsed();
        granted_last = granted(&status);
        times.push(took);
        split.wall += took;
        split.own_cpu += cpu_secs(&me) - own;
        split.keyring_cpu += keyring_cpu() - keyring;
    }
    (median(times), split, granted_last)
}

/// The same all-at-once refresh with the secrets in memory: what the OS keyring costs.
async fn in_memory(policy: &std::path::Path, dir: &std::path::Path, reps: usize) -> Duration {
    let memory: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let state = dir.join("state-memory");
    open_with(policy, &state, Some(memory.clone()))
        .sign_in(sign_in_options())
        .await
        .expect("sign-in (memory store)");
    let mut times = Vec::new();
    for _ in 0..reps {
        let e = open_with(policy, &state, Some(memory.clone()));
        let t = Instant::now();
        e.refresh(None).await.expect("refresh (memory store)");
        times.push(t.elapsed());
    }
    median(times)
}

/// `runs` times: one engine per run, refreshing `ids` in turn (one at a time, or just the
/// first connector: the critical path).
async fn one_by_one(
    policy: &std::path::Path,
    state: &std::path::Path,
    ids: &[String],
    runs: usize,
) -> Duration {
    let mut times = Vec::new();
    for _ in 0..runs {
        let e = open(policy, state);
        let t = Instant::now();
        for id in ids {
            e.refresh(Some(id)).await.expect("refresh one");
        }
        times.push(t.elapsed());
    }
    median(times)
}

async fn run(n: usize, reps: usize, seq_reps: usize, idp_limit: Option<usize>) -> Row {
    let lab = Lab::start(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        latency_ms: LATENCY_MS,
        synthetic_connectors: n,
        ..LabOptions::default()
    })
    .await
    .expect("lab starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let (policy_path, ids) = synthetic_policy(&lab, n, dir.path());
    let state = dir.path().join("state");
    let status = open(&policy_path, &state)
        .sign_in(sign_in_options())
        .await
        .expect("sign-in");
    let (concurrent, mut split, _) = all_at_once(&policy_path, &state, reps).await;
    split.memory_store = in_memory(&policy_path, dir.path(), reps).await;
    // Same lab, same state, only the policy's IdP limit changed.
    let mut limited = None;
    if let Some(limit) = idp_limit {
        let policy = with_idp_limit(&policy_path, limit);
        let (concurrent, _, granted) = all_at_once(&policy, &state, reps).await;
        limited = Some(Limited {
            limit,
            concurrent,
            granted,
        });
    }
    let sequential = one_by_one(&policy_path, &state, &ids, seq_reps).await;
    let critical = one_by_one(&policy_path, &state, &ids[..1], reps).await;
    lab.shutdown().await;
    let status_runs = std::env::var_os("LANYARD_BENCH_CLI")
        .filter(|_| n >= 256)
        .map(|cli| status_runs(std::path::Path::new(&cli), &policy_path, &state, n));
    Row {
        status: status_runs,
        split,
        n,
        concurrent,
        sequential,
        critical,
        granted: granted(&status),
        limited,
    }
}

/// Times the CLI's `status --json` as a separate process: what a script or a shell prompt pays.
/// The first run is reported on its own (the binary is not yet in the page cache when the
/// bench starts), then the median of the next 31.
fn status_runs(
    cli: &std::path::Path,
    policy: &std::path::Path,
    state: &std::path::Path,
    n: usize,
) -> (Duration, Duration, usize) {
    let once = || {
        let t = Instant::now();
        let out = std::process::Command::new(cli)
            .arg("--policy")
            .arg(policy)
            .arg("--state-dir")
            .arg(state)
            .args(["status", "--json"])
            .output()
            .expect("lanyard status runs");
        let took = t.elapsed();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status is JSON");
        let shown = v["connectors"].as_array().map_or(0, Vec::len);
        assert_eq!(shown, n, "status lists every connector");
        took
    };
    let first = once();
    let runs: Vec<Duration> = (0..31).map(|_| once()).collect();
    (first, median(runs), 31)
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// The fan-out table, one row per N, then each raised IdP limit's row (`Limited`), labelled;
/// scripts/bench.sh copies every `|` line into docs/benchmarks.md and explains that row.
fn print_table(rows: &[Row]) {
    println!(
        "| connectors | granted | all at once | one at a time | critical path (1 connector) | speed-up vs one at a time | all at once ÷ critical path |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let line = |label: String, granted: usize, all: Duration, r: &Row| {
        println!(
            "| {label} | {granted} | {} | {} | {} | {:.1}× | {:.2}× |",
            ms(all),
            ms(r.sequential),
            ms(r.critical),
            r.sequential.as_secs_f64() / all.as_secs_f64(),
            all.as_secs_f64() / r.critical.as_secs_f64(),
        );
    };
    for r in rows {
        line(r.n.to_string(), r.granted, r.concurrent, r);
    }
    for (r, l) in rows.iter().filter_map(|r| Some((r, r.limited.as_ref()?))) {
        line(
            format!("{} (IdP limit {})", r.n, l.limit),
            l.granted,
            l.concurrent,
            r,
        );
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rows = rt.block_on(async {
        let small = run(8, 5, 3, None).await;
        let large = run(256, 3, 1, Some(IDP_LIMIT)).await;
        vec![small, large]
    });
    print_table(&rows);
    // Not table rows: scripts/bench.sh reads these lines and writes its own tables.
    for r in &rows {
        let s = &r.split;
        // Cores busy = CPU seconds ÷ wall seconds over the same runs.
        let wall = s.wall.as_secs_f64().max(f64::EPSILON);
        println!(
            "split {} {:.0} {:.2} {:.2} {:.0}",
            r.n,
            r.concurrent.as_secs_f64() * 1000.0,
            s.own_cpu / wall,
            s.keyring_cpu / wall,
            s.memory_store.as_secs_f64() * 1000.0,
        );
    }
    for r in &rows {
        if let Some((first, median, runs)) = r.status {
            println!(
                "status {} {:.2} {:.2} {}",
                r.n,
                first.as_secs_f64() * 1000.0,
                median.as_secs_f64() * 1000.0,
                runs
            );
        }
    }
}
