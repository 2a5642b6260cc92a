//! A bounded load probe for the lab itself (issue 11: the fan-out benchmark runs the lab on
//! the same cores as Lanyard, so the lab's own cost per connector matters). It starts an
//! in-process lab with N synthetic connectors and no added latency, signs ada in once, then
//! runs each connector's server-side legs, C requests at a time, one phase after another:
//! RFC 8693 exchanges at the IdP, jwt-bearer redemptions at the connectors, and MCP
//! `initialize` + `tools/list`. It prints each phase's wall time and this process's CPU time
//! (client and lab together: compare runs, not absolute numbers).
//!
//! `cargo run -p lanyard-lab --release --example load -- [N=256] [C=8] [ROUNDS=3]`

use base64::Engine as _;
use lanyard_lab::{Lab, LabOptions};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

const REDIRECT: &str = "http://127.0.0.1:49999/callback";

/// This process's user + system CPU time, from /proc (Linux; zero elsewhere).
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    // Linux reports clock ticks of 1/100 s on every platform Rust supports here.
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

struct Ctx {
    http: reqwest::Client,
    idp_issuer: String,
    idp_secret: String,
    /// `(id, issuer, mcp_url, client secret)` per synthetic connector.
    connectors: Vec<(String, String, String, String)>,
}

fn read_secret(entry: &Value) -> String {
    let file = entry["client_secret"]["file"].as_str().unwrap_or_default();
    std::fs::read_to_string(file).unwrap_or_default()
}

async fn sign_in(ctx: &Ctx, base: &str) -> String {
    let verifier = "v".repeat(50);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let resp = ctx
        .http
        .get(format!("{base}/idp/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "lanyard-desktop"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid email offline_access"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .expect("authorize");
    let location = resp.headers()["location"].to_str().expect("location");
    let code = url::Url::parse(location)
        .expect("redirect")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let tokens: Value = ctx
        .http
        .post(format!("{}/token", ctx.idp_issuer))
        .basic_auth("lanyard-desktop", Some(&ctx.idp_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    tokens["id_token"].as_str().expect("id_token").to_string()
}

/// Runs `job(i)` for every connector index, `limit` at a time; returns wall and CPU time.
async fn phase<F, Fut>(n: usize, limit: usize, job: F) -> (Duration, Duration)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(limit));
    let (wall, cpu) = (Instant::now(), cpu_time());
    let mut tasks = Vec::new();
    for i in 0..n {
        let gate = gate.clone();
        let work = job(i);
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            work.await;
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    (wall.elapsed(), cpu_time().saturating_sub(cpu))
}

async fn exchange(ctx: Arc<Ctx>, i: usize, id_token: Arc<String>) -> String {
    let (_, issuer, mcp_url, _) = &ctx.connectors[i];
    let resp: Value = ctx
        .http
        .post(format!("{}/token", ctx.idp_issuer))
        .basic_auth("lanyard-desktop", Some(&ctx.idp_secret))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:id-jag",
            ),
            ("subject_token", id_token.as_str()),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
            ("audience", issuer.as_str()),
            ("resource", mcp_url.as_str()),
        ])
        .send()
        .await
        .expect("exchange")
        .json()
        .await
        .expect("json");
    resp["access_token"].as_str().expect("ID-JAG").to_string()
}

async fn redeem(ctx: Arc<Ctx>, i: usize, id_jag: String) -> String {
    let (id, issuer, _, secret) = &ctx.connectors[i];
    let resp: Value = ctx
        .http
        .post(format!("{issuer}/token"))
        .basic_auth(format!("lanyard-{id}"), Some(secret))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", id_jag.as_str()),
        ])
        .send()
        .await
        .expect("redeem")
        .json()
        .await
        .expect("json");
    resp["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
}

async fn mcp_call(
    ctx: &Ctx,
    url: &str,
    token: &str,
    session: Option<&str>,
    body: Value,
) -> Option<String> {
    let mut request = ctx
        .http
        .post(url)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .json(&body);
    if let Some(s) = session {
        request = request.header("mcp-session-id", s);
    }
    let resp = request.send().await.expect("mcp");
    assert!(resp.status().is_success(), "MCP answered {}", resp.status());
    let session = resp
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let _ = resp.bytes().await;
    session
}

async fn mcp(ctx: Arc<Ctx>, i: usize, token: String) {
    let url = &ctx.connectors[i].2;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "lab-load", "version": "0"}}});
    let session = mcp_call(&ctx, url, &token, None, init).await;
    let session = session.as_deref();
    let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    mcp_call(&ctx, url, &token, session, done).await;
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    mcp_call(&ctx, url, &token, session, list).await;
    if let Some(s) = session {
        let _ = ctx
            .http
            .delete(url)
            .bearer_auth(&token)
            .header("mcp-session-id", s)
            .send()
            .await;
    }
}

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let (n, limit, rounds) = (arg(1, 256), arg(2, 8), arg(3, 3));
    let lab = Lab::start(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        synthetic_connectors: n,
        ..LabOptions::default()
    })
    .await
    .expect("lab starts");
    let policy: Value = serde_json::from_slice(&std::fs::read(lab.policy_path()).expect("policy"))
        .expect("policy json");
    let connectors = policy["connectors"]
        .as_array()
        .expect("connectors")
        .iter()
        .filter(|c| c["id"].as_str().is_some_and(|id| id.starts_with("synth-")))
        .map(|c| {
            let id = c["id"].as_str().unwrap_or_default().to_string();
            let ready = lab
                .ready()
                .connectors
                .iter()
                .find(|r| r.id == id)
                .expect("ready");
            (
                id,
                ready.issuer.clone(),
                ready.mcp_url.clone(),
                read_secret(c),
            )
        })
        .collect();
    let ctx = Arc::new(Ctx {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        idp_issuer: lab.ready().idp_issuer.clone(),
        idp_secret: read_secret(&policy["idp"]),
        connectors,
    });
    let id_token = Arc::new(sign_in(&ctx, lab.base()).await);
    println!("| round | phase | requests | wall | CPU (client + lab) |");
    println!("|---:|---|---:|---:|---:|");
    for round in 1..=rounds {
        let jags = Arc::new(std::sync::Mutex::new(vec![String::new(); n]));
        let (c, t, j) = (ctx.clone(), id_token.clone(), jags.clone());
        let ex = phase(n, limit, move |i| {
            let (c, t, j) = (c.clone(), t.clone(), j.clone());
            async move {
                let jag = exchange(c, i, t).await;
                j.lock().expect("lock")[i] = jag;
            }
        })
        .await;
        let ats = Arc::new(std::sync::Mutex::new(vec![String::new(); n]));
        let (c, j, a) = (ctx.clone(), jags.clone(), ats.clone());
        let rd = phase(n, n, move |i| {
            let (c, a) = (c.clone(), a.clone());
            let jag = std::mem::take(&mut j.lock().expect("lock")[i]);
            async move {
                let at = redeem(c, i, jag).await;
                a.lock().expect("lock")[i] = at;
            }
        })
        .await;
        let (c, a) = (ctx.clone(), ats.clone());
        let mc = phase(n, n, move |i| {
            let c = c.clone();
            let at = std::mem::take(&mut a.lock().expect("lock")[i]);
            mcp(c, i, at)
        })
        .await;
        for (name, count, (wall, cpu)) in [
            ("exchange (IdP)", n, ex),
            ("jwt-bearer (connectors)", n, rd),
            ("MCP initialize + tools/list", n * 4, mc),
        ] {
            println!(
                "| {round} | {name} | {count} | {:.0} ms | {:.0} ms |",
                wall.as_secs_f64() * 1000.0,
                cpu.as_secs_f64() * 1000.0
            );
        }
    }
    lab.shutdown().await;
}
