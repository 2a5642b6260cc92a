//! Fan-out benchmark: resolving N connectors at once against the lab with 25 ms added to
//! every response, compared in the same run with (a) the same flow one connector at a time
//! and (b) the critical path of one connector (about six round trips). `make bench` runs it
//! inside a private keyring session and writes docs/benchmarks.md.

use std::time::{Duration, Instant};

use lanyard::protocol::oidc::{Browser, SignInOptions};
use lanyard::{Lanyard, Options};
use lanyard_lab::{Lab, LabOptions};

const LATENCY_MS: u64 = 25;

struct Row {
    n: usize,
    concurrent: Duration,
    sequential: Duration,
    critical: Duration,
    granted: usize,
}

fn open(policy: &std::path::Path, state: &std::path::Path) -> Lanyard {
    Lanyard::open(Options {
        policy_path: Some(policy.to_path_buf()),
        state_dir: Some(state.to_path_buf()),
        http_timeout: Some(Duration::from_secs(60)),
        ..Options::default()
    })
    .expect("engine opens (run under scripts/with-keyring.sh)")
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
    for _ in 0..reps {
        let e = open(&policy_path, &state);
        let t = Instant::now();
        e.refresh(None).await.expect("refresh");
        concurrent.push(t.elapsed());
    }
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
    Row {
        n,
        concurrent: median(concurrent),
        sequential: median(sequential),
        critical: median(critical),
        granted,
    }
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
    for r in rows {
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
}
