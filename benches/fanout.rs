//! Fan-out benchmark: resolving N connectors at once against the lab with 25 ms added to
//! every response, compared in the same run with (a) the same flow one connector at a time
//! and (b) the critical path of one connector (about six round trips). `make bench` runs it
//! inside a private keyring session and writes docs/benchmarks.md.
//!
//! With `LANYARD_BENCH_CLI` naming a release `lanyard` binary, it also times
//! `lanyard status --json` as a separate process against the N = 256 state folder (a
//! `status` line that scripts/bench.sh turns into its own table).

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

async fn run(n: usize, reps: usize, seq_reps: usize) -> Row {
    let lab = Lab::start(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        latency_ms: LATENCY_MS,
        synthetic_connectors: n,
        ..LabOptions::default()
    })
    .await
    .expect("lab starts");
    // A policy with only the N synthetic connectors (all granted to Everyone).
    let dir = tempfile::tempdir().expect("tempdir");
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
    let ids: Vec<String> = synth
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_string())
        .collect();
    policy["connectors"] = serde_json::Value::Array(synth);
    let policy_path = dir.path().join("policy.json");
    std::fs::write(&policy_path, serde_json::to_vec(&policy).expect("json")).expect("write");
    let state = dir.path().join("state");

    let first = open(&policy_path, &state);
    let opts = SignInOptions {
        browser: Browser::Command("curl -fsSL -o /dev/null".into()),
        timeout: Duration::from_secs(60),
        cancel: None,
        login_hint: None,
        prompt: None,
    };
    let status = first.sign_in(opts).await.expect("sign-in");
    let granted = status
        .connectors
        .iter()
        .filter(|c| c.state.as_str() == "granted")
        .count();

    // Each measurement uses a fresh engine, so metadata discovery is part of it.
    let mut concurrent = Vec::new();
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
    for _ in 0..reps {
        let e = open(&policy_path, &state);
        let (own, keyring) = (cpu_secs(&me), keyring_cpu());
        let t = Instant::now();
        e.refresh(None).await.expect("refresh");
        let took = t.elapsed();
        concurrent.push(took);
        split.wall += took;
        split.own_cpu += cpu_secs(&me) - own;
        split.keyring_cpu += keyring_cpu() - keyring;
    }
    // The same all-at-once refresh with the secrets in memory: what the OS keyring costs.
    let memory: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let mem_state = dir.path().join("state-memory");
    open_with(&policy_path, &mem_state, Some(memory.clone()))
        .sign_in(SignInOptions {
            browser: Browser::Command("curl -fsSL -o /dev/null".into()),
            timeout: Duration::from_secs(60),
            cancel: None,
            login_hint: None,
            prompt: None,
        })
        .await
        .expect("sign-in (memory store)");
    let mut in_memory = Vec::new();
    for _ in 0..reps {
        let e = open_with(&policy_path, &mem_state, Some(memory.clone()));
        let t = Instant::now();
        e.refresh(None).await.expect("refresh (memory store)");
        in_memory.push(t.elapsed());
    }
    split.memory_store = median(in_memory);
    let mut sequential = Vec::new();
    for _ in 0..seq_reps {
        let e = open(&policy_path, &state);
        let t = Instant::now();
        for id in &ids {
            e.refresh(Some(id)).await.expect("refresh one");
        }
        sequential.push(t.elapsed());
    }
    let mut critical = Vec::new();
    for _ in 0..reps {
        let e = open(&policy_path, &state);
        let t = Instant::now();
        e.refresh(Some(&ids[0])).await.expect("refresh one");
        critical.push(t.elapsed());
    }
    lab.shutdown().await;
    let status = std::env::var_os("LANYARD_BENCH_CLI")
        .filter(|_| n >= 256)
        .map(|cli| status_runs(std::path::Path::new(&cli), &policy_path, &state, n));
    Row {
        status,
        split,
        n,
        concurrent: median(concurrent),
        sequential: median(sequential),
        critical: median(critical),
        granted,
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

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rows = rt.block_on(async {
        let small = run(8, 5, 3).await;
        let large = run(256, 3, 1).await;
        vec![small, large]
    });
    println!(
        "| connectors | granted | all at once | one at a time | critical path (1 connector) | speed-up vs one at a time | all at once ÷ critical path |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {:.1}× | {:.2}× |",
            r.n,
            r.granted,
            ms(r.concurrent),
            ms(r.sequential),
            ms(r.critical),
            r.sequential.as_secs_f64() / r.concurrent.as_secs_f64(),
            r.concurrent.as_secs_f64() / r.critical.as_secs_f64(),
        );
    }
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
