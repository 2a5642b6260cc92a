//! The `lanyard` command: clap → core → text or JSON. Thin by design: every command body
//! opens the engine, calls one core function, and renders what it returns.

mod legacy_cmd;
mod pilot_cmd;
mod pilot_render;
mod policy_cmd;
mod remote;
mod render;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use lanyard::protocol::oidc::{Browser, SignInOptions};
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
        /// No browser on this machine (SSH): a device code when the IdP offers one, else
        /// paste back the address your browser ends on.
        #[arg(long)]
        no_browser: bool,
        /// Sign in with a device code (RFC 8628); implies --no-browser.
        #[arg(long, conflicts_with = "paste")]
        device: bool,
        /// Paste back the address your browser ends on; implies --no-browser.
        #[arg(long)]
        paste: bool,
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
    /// Per-user OAuth tokens other MCP clients left on this machine: list, disconnect, restore.
    Legacy {
        /// The home folder to scan (default: yours).
        #[arg(long, global = true, env = "LANYARD_LEGACY_HOME")]
        home: Option<PathBuf>,
        #[command(subcommand)]
        action: LegacyAction,
    },
    /// Admin pilot: the what-if grant matrix for test users, and a report to share.
    Pilot {
        #[command(subcommand)]
        action: pilot_cmd::PilotAction,
    },
    /// The admin's policy tools: init, add a connector, check, export for an MDM.
    Policy {
        #[command(subcommand)]
        action: policy_cmd::PolicyAction,
    },
    /// Explain what is wrong, step by step, and optionally write a bundle safe to attach to a
    /// support ticket (no token, code or secret; token-like values become short hashes).
    Doctor {
        /// Write the support bundle (JSON) to this file.
        #[arg(long)]
        bundle: Option<PathBuf>,
        /// Also run the readiness check against every connector (sends test requests).
        #[arg(long)]
        readiness: bool,
    },
}

#[derive(Subcommand)]
enum LegacyAction {
    /// List every legacy connection found, and whether zero-touch covers it.
    List,
    /// Back up, remove locally, then revoke at the server; prints a receipt per entry.
    Disconnect {
        /// Entry ids from `lanyard legacy list`.
        ids: Vec<String>,
        /// Every entry whose connector Lanyard holds a zero-touch grant for.
        #[arg(long, conflicts_with = "ids")]
        covered: bool,
        /// Say what would happen; change nothing on disk or at any server.
        #[arg(long)]
        dry_run: bool,
        /// Go ahead even while the owning application is running or holds its lock.
        #[arg(long)]
        force: bool,
    },
    /// Put a disconnected entry back into its file (a revoked token stays revoked).
    Restore { backup_id: String },
    /// Retry every revocation that failed earlier, now. The app also retries them on its own
    /// when they are due (a minute after the failure, then doubling up to an hour, or later
    /// when the server's Retry-After asks); one queued here is seen at the app's next wake-up.
    Retry,
    /// Delete every backup of disconnected entries now (they also expire on their own after
    /// 30 days, or LANYARD_LEGACY_BACKUP_DAYS).
    Purge,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    lanyard::diagnose::logs::init_for_host("warn");
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

// long: one arm per command, each the few lines that call the core and render its answer.
async fn run(cli: Cli) -> Result<u8, EngineError> {
    let options = || Options {
        policy_path: cli.policy.clone(),
        state_dir: cli.state_dir.clone(),
        ..Options::default()
    };
    // Only the commands that use it open the engine (the keyring, an HTTP client): `policy`
    // works on a policy file that may not exist yet, and `status` reads the policy and the
    // state file, nothing else.
    let open = || Lanyard::open(options());
    match cli.command {
        Command::Policy { action } => {
            Ok(policy_cmd::run(action, cli.policy.clone(), cli.json).await)
        }
        Command::Status => {
            let status = Lanyard::status_of(options())?;
            render::status(&status, cli.json);
            Ok(status.exit_code() as u8)
        }
        Command::Login {
            no_browser,
            device,
            paste,
            browser_command,
            timeout,
        } => {
            let engine = open()?;
            let browser = match (remote::flow(no_browser, device, paste), browser_command) {
                (Some(flow), _) => remote::browser(flow),
                (None, Some(cmd)) => Browser::Command(cmd),
                (None, None) => Browser::System,
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
                login_hint: None,
                prompt: None,
            };
            let status = engine.sign_in(opts).await?;
            render::status(&status, cli.json);
            Ok(status.exit_code() as u8)
        }
        Command::Refresh { connector } => {
            let status = open()?.refresh(connector.as_deref()).await?;
            render::status(&status, cli.json);
            Ok(status.exit_code() as u8)
        }
        Command::Logout => {
            let engine = open()?;
            let report = engine.logout().await?;
            render::logout(&report, cli.json);
            legacy_cmd::logout_hint(&engine.legacy_context(PathBuf::new()), cli.json);
            Ok(0)
        }
        Command::Legacy { home, action } => {
            let home = home.or_else(dirs_home).unwrap_or_default();
            let ctx = open()?.legacy_context(home);
            legacy(&ctx, action, cli.json).await
        }
        Command::Doctor { bundle, readiness } => {
            let opts = lanyard::diagnose::doctor::DoctorOptions {
                readiness,
                verify_signatures: true,
            };
            let report = lanyard::diagnose::doctor::doctor_with(&open()?, &opts).await;
            if let Some(path) = &bundle {
                match lanyard::diagnose::bundle::write_bundle(&report, path) {
                    Ok(()) => eprintln!(
                        "Support bundle written to {} (incident {}).",
                        path.display(),
                        report.incident_id
                    ),
                    Err(e) => {
                        eprintln!("lanyard: could not write the bundle: {e}");
                        return Ok(1);
                    }
                }
            }
            render::doctor(&report, cli.json);
            Ok(report.status.as_ref().map_or(1, |s| s.exit_code() as u8))
        }
        Command::Pilot { action } => pilot_cmd::run(&open()?, action, cli.json).await,
        Command::DeviceKey => {
            let key = open()?.device_key()?;
            render::json_line(&key.public_jwk());
            Ok(0)
        }
    }
}

fn dirs_home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

// long: one arm per `legacy` subcommand.
async fn legacy(
    ctx: &lanyard::legacy::LegacyContext,
    action: LegacyAction,
    json: bool,
) -> Result<u8, EngineError> {
    use lanyard::legacy::{DisconnectOptions, Revocation};
    match action {
        LegacyAction::List => {
            render::legacy_list(&ctx.scan(), json);
            Ok(0)
        }
        LegacyAction::Disconnect {
            ids,
            covered,
            dry_run,
            force,
        } => {
            let ids = if covered {
                lanyard::legacy::covered_ids(&ctx.scan())
            } else {
                ids
            };
            if ids.is_empty() {
                eprintln!(
                    "Nothing to disconnect: name entry ids from `lanyard legacy list`, or use --covered."
                );
                return Ok(if covered { 0 } else { 2 });
            }
            let receipts =
                lanyard::legacy::disconnect(&ids, DisconnectOptions { dry_run, force }, ctx).await;
            render::receipts(&receipts, json);
            let failed = receipts.iter().any(|r| !r.removed_locally && !dry_run)
                || receipts
                    .iter()
                    .any(|r| matches!(r.revocation, Revocation::Failed { .. }));
            Ok(if failed { 4 } else { 0 })
        }
        LegacyAction::Restore { backup_id } => match lanyard::legacy::restore(&backup_id, ctx) {
            Ok(report) => {
                if json {
                    render::json_line(&report);
                } else {
                    println!("{}", render::safe(&report.message));
                }
                Ok(0)
            }
            Err(e) => {
                // Names other apps' files and entries: their text can drive the terminal.
                eprintln!("lanyard: {}", render::safe(&e.to_string()));
                Ok(1)
            }
        },
        LegacyAction::Purge => Ok(legacy_cmd::purge(ctx, json)),
        LegacyAction::Retry => match lanyard::legacy::retry_queued(ctx).await {
            Ok(receipts) => {
                render::receipts(&receipts, json);
                Ok(0)
            }
            Err(e) => {
                eprintln!("lanyard: {}", render::safe(&e.to_string()));
                Ok(1)
            }
        },
    }
}
