//! The `lanyard-lab` command: `serve` starts the lab and prints the one ready line;
//! `seed-legacy` fills a home folder with legacy per-user tokens from a running lab.

use clap::{Parser, Subcommand};
use lanyard_lab::{Directory, Lab, LabOptions};
use std::io::Write as _;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "lanyard-lab",
    version,
    about = "Local IdP, connector authorization servers and MCP servers for Lanyard"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the lab on 127.0.0.1 and print one JSON ready line.
    ///
    /// The IdP also offers the RFC 8628 device authorization grant: POST
    /// IDP_ISSUER/device_authorization, then a person approves at IDP_ISSUER/device (or a test
    /// calls POST BASE/lab/device/approve {"user_code": "…", "user": "EMAIL"}, or
    /// .../lab/device/deny {"user_code": "…"}; GET BASE/lab/device lists them). Device codes
    /// are never approved automatically, not even with --auto-login.
    Serve {
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Sign this user in at every authorization endpoint without a page (not device codes).
        #[arg(long, value_name = "EMAIL")]
        auto_login: Option<String>,
        #[arg(long, value_name = "FILE")]
        policy_out: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        directory: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        clock_offset_secs: i64,
        #[arg(long)]
        token_lifetime_secs: Option<u64>,
        #[arg(long, default_value_t = 0)]
        synthetic_connectors: usize,
        /// How long an RFC 8628 device code (and its user code) stays valid.
        #[arg(long, value_name = "N", default_value_t = 600)]
        device_code_lifetime_secs: u64,
        /// The polling interval given with each device code; a poll sooner than it answers
        /// slow_down and adds 5 s. 0 turns slow_down off.
        #[arg(long, value_name = "N", default_value_t = 5)]
        device_poll_interval_secs: u64,
        /// Add connectors that each neglect one server duty (for readiness-check tests).
        #[arg(long)]
        broken_connectors: bool,
    },
    /// Sign a user into lab connectors with per-user OAuth and write the real tokens into
    /// other MCP clients' token stores under DIR; prints a JSON report (no tokens).
    SeedLegacy {
        /// The running lab's base URL (`base` of the ready line).
        #[arg(long, value_name = "BASE")]
        lab: String,
        #[arg(long, value_name = "DIR")]
        home: PathBuf,
        #[arg(long, value_name = "EMAIL", default_value = "ada@lab.example")]
        user: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let command = Cli::parse().command;
    if let Command::SeedLegacy { lab, home, user } = &command {
        let report = lanyard_lab::seed_legacy(lab, home, user).await?;
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    // Seed-legacy returned above, so this is `serve`.
    let Command::Serve {
        port,
        auto_login,
        policy_out,
        directory,
        latency_ms,
        clock_offset_secs,
        token_lifetime_secs,
        synthetic_connectors,
        device_code_lifetime_secs,
        device_poll_interval_secs,
        broken_connectors,
    } = command
    else {
        return Ok(());
    };
    let directory = directory.map(|p| Directory::from_file(&p)).transpose()?;
    let lab = Lab::start(LabOptions {
        port,
        auto_login,
        policy_out,
        directory,
        latency_ms,
        clock_offset_secs,
        token_lifetime_secs,
        synthetic_connectors,
        device_code_lifetime_secs: Some(device_code_lifetime_secs),
        device_poll_interval_secs: Some(device_poll_interval_secs),
        broken_connectors,
    })
    .await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", serde_json::to_string(lab.ready())?)?;
    stdout.flush()?;
    drop(stdout);
    wait_for_signal().await;
    lab.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
