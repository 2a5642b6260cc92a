//! The `lanyard` command: clap → core → text or JSON. Thin by design: every command body
//! opens the engine, calls one core function, and renders what it returns.

mod render;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use lanyard::oidc::{Browser, SignInOptions};
use lanyard::{EngineError, Lanyard, Options};

#[derive(Parser)]
#[command(
    name = "lanyard",
    version,
    about = "Zero-touch sign-in for your company's MCP connectors"
)]
struct Cli {
    /// Policy file (else $LANYARD_POLICY, else the managed location).
    #[arg(long, global = true, env = "LANYARD_POLICY")]
    policy: Option<PathBuf>,
    /// Where Lanyard keeps its non-secret state (default: the platform data folder).
    #[arg(long, global = true, env = "LANYARD_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// Print data as JSON (versioned contract) instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in with your company IdP, then get every connector your organisation grants.
    Login {
        /// Don't open a browser: print the sign-in URL to open elsewhere.
        #[arg(long)]
        no_browser: bool,
        /// Run `CMD <authorization-url>` instead of the system browser.
        #[arg(long, env = "LANYARD_BROWSER_COMMAND")]
        browser_command: Option<String>,
        /// Give up waiting for the browser after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// Show the session and every connector, from local state (no network).
    Status,
    /// Renew now: every connector, or one.
    Refresh { connector: Option<String> },
    /// Forget the session and connector tokens; revoke the IdP refresh token where supported.
    Logout,
    /// Print this device's public key (JWK) for private_key_jwt registration at the IdP.
    DeviceKey,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lanyard: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            render::error(&e);
            ExitCode::from(match e {
                EngineError::NotSignedIn => 3,
                EngineError::Policy(_) => 2,
                _ => 1,
            })
        }
    }
}

async fn run(cli: Cli) -> Result<u8, EngineError> {
    let engine = Lanyard::open(Options {
        policy_path: cli.policy.clone(),
        state_dir: cli.state_dir.clone(),
        ..Options::default()
    })?;
    match cli.command {
        Command::Login {
            no_browser,
            browser_command,
            timeout,
        } => {
            let browser = match (no_browser, browser_command) {
                (true, _) => Browser::Print(std::sync::Arc::new(|url: &str| {
                    eprintln!(
                        "Open this address in a browser on this machine to sign in:\n\n  {url}\n"
                    );
                })),
                (false, Some(cmd)) => Browser::Command(cmd),
                (false, None) => Browser::System,
            };
            let (cancel_tx, cancel_rx) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    let _ = cancel_tx.send(());
                }
            });
            if !cli.json {
                eprintln!("Signing in with {} …", engine.policy().idp.issuer);
            }
            let opts = SignInOptions {
                browser,
                timeout: Duration::from_secs(timeout),
                cancel: Some(cancel_rx),
            };
            let status = engine.sign_in(opts).await?;
            render::status(&status, cli.json);
            Ok(status.exit_code() as u8)
        }
        Command::Status => {
            let status = engine.status()?;
            render::status(&status, cli.json);
            Ok(status.exit_code() as u8)
        }
        Command::Refresh { connector } => {
            let status = engine.refresh(connector.as_deref()).await?;
            render::status(&status, cli.json);
            Ok(status.exit_code() as u8)
        }
        Command::Logout => {
            let report = engine.logout().await?;
            render::logout(&report, cli.json);
            Ok(0)
        }
        Command::DeviceKey => {
            let key = engine.device_key()?;
            render::json_line(&key.public_jwk());
            Ok(0)
        }
    }
}

/// Logs go to stderr, filtered by `LANYARD_LOG` (e.g. `LANYARD_LOG=debug`); default warnings.
/// The core never logs a token, so any level is safe to share.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LANYARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
