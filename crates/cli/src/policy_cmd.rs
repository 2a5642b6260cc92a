//! `lanyard policy …`: the admin's tools (init, add, check, export). Argument parsing and
//! rendering only; the work is `lanyard::admin`. Exit codes (product.md): 0 ok, 4 problems
//! found, 2 unreadable input, 1 anything else (a file that cannot be written).

use clap::{Subcommand, ValueEnum};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use lanyard::admin::check::{self, CheckReport};
use lanyard::admin::export::{self, Format};
use lanyard::admin::init::{InitRequest, init};
use lanyard::admin::onboard::{AddRequest, onboard};
use lanyard::admin::policy_file;
use lanyard::admin::problem::Severity;
use lanyard::http::Http;
use lanyard::policy::AuthMethod;
use lanyard::trace::Trace;

use crate::render::json_line;

#[derive(Subcommand)]
pub enum PolicyAction {
    /// Start a new policy from the IdP's discovery document (issuer checked exactly).
    Init {
        /// The IdP's issuer, exactly as its discovery document spells it.
        #[arg(long)]
        issuer: String,
        /// Lanyard's client id at the IdP.
        #[arg(long)]
        client_id: String,
        #[arg(long, value_enum)]
        auth_method: Option<Method>,
        /// The environment variable that holds the IdP client secret on each machine.
        #[arg(long)]
        client_secret_env: Option<String>,
        /// Replace an existing policy file.
        #[arg(long)]
        force: bool,
    },
    /// Probe an MCP server and add its connector entry (or say why it can't be zero-touch).
    Add {
        mcp_url: String,
        /// Lanyard's client id at the connector's authorization server.
        #[arg(long)]
        client_id: Option<String>,
        /// The environment variable that holds the client secret on each machine.
        #[arg(long)]
        client_secret_env: Option<String>,
        #[arg(long, value_enum)]
        auth_method: Option<Method>,
        /// The connector id (default: from the server's name).
        #[arg(long)]
        id: Option<String>,
        /// The display name (default: the server's own name, else its host).
        #[arg(long)]
        name: Option<String>,
        /// Print the entry instead of writing it.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check a policy: every problem in the file, then the IdP and each connector live.
    Check {
        /// The policy (default: --policy, $LANYARD_POLICY, the managed location). Any export
        /// form is read too (.mobileconfig, .plist, .reg).
        file: Option<PathBuf>,
        /// Only read the file; ask no server.
        #[arg(long)]
        offline: bool,
    },
    /// Write the policy in the form a fleet's MDM deploys.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Where to write (stdout without it; for admx a folder, or the .admx path).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Method {
    None,
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
}

impl From<Method> for AuthMethod {
    fn from(m: Method) -> Self {
        match m {
            Method::None => AuthMethod::None,
            Method::ClientSecretBasic => AuthMethod::ClientSecretBasic,
            Method::ClientSecretPost => AuthMethod::ClientSecretPost,
            Method::PrivateKeyJwt => AuthMethod::PrivateKeyJwt,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Json,
    Mobileconfig,
    Reg,
    Admx,
}

pub async fn run(action: PolicyAction, policy: Option<PathBuf>, json: bool) -> u8 {
    let http = Http::new(lanyard::clock::system());
    match action {
        PolicyAction::Init {
            issuer,
            client_id,
            auth_method,
            client_secret_env,
            force,
        } => {
            let req = InitRequest {
                issuer,
                client_id,
                auth_method: auth_method.map(Into::into),
                client_secret_env,
            };
            let path = policy.unwrap_or_else(lanyard::policy::managed_location);
            run_init(&http, &req, &path, force, json).await
        }
        PolicyAction::Add {
            mcp_url,
            client_id,
            client_secret_env,
            auth_method,
            id,
            name,
            dry_run,
        } => {
            let Ok(mcp_url) = url::Url::parse(&mcp_url) else {
                eprintln!("lanyard: {mcp_url} is not an absolute URL");
                return 2;
            };
            let req = AddRequest {
                mcp_url,
                client_id,
                client_secret_env,
                auth_method: auth_method.map(Into::into),
                id,
                name,
            };
            run_add(&http, &req, policy.as_deref(), dry_run, json).await
        }
        PolicyAction::Check { file, offline } => {
            let Some(path) = locate(file.or(policy)) else {
                return 2;
            };
            run_check(&http, &path, !offline, json).await
        }
        PolicyAction::Export { format, out } => {
            let Some(path) = locate(policy) else { return 2 };
            run_export(&path, format, out.as_deref())
        }
    }
}

fn locate(explicit: Option<PathBuf>) -> Option<PathBuf> {
    match lanyard::policy::locate(explicit.as_deref()) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("lanyard: {e}");
            None
        }
    }
}

async fn run_init(http: &Http, req: &InitRequest, path: &Path, force: bool, json: bool) -> u8 {
    if path.exists() && !force {
        eprintln!(
            "lanyard: {} already exists; add connectors with `lanyard policy add`, or pass --force to start over",
            path.display()
        );
        return 2;
    }
    let doc = match init(http, req, &Trace::new()).await {
        Ok(doc) => doc,
        Err(refusal) => {
            eprintln!(
                "lanyard: cannot start a policy for {}: {refusal}\n  → {}",
                req.issuer,
                refusal.fix()
            );
            return 4;
        }
    };
    if let Err(e) = policy_file::write(path, &doc.to_json()) {
        eprintln!("lanyard: {e}");
        return 1;
    }
    if json {
        json_line(&doc);
    } else {
        println!(
            "Wrote a new policy to {} (IdP {}, client {}, {}).",
            path.display(),
            doc.idp.issuer,
            doc.idp.client_id,
            doc.idp.token_endpoint_auth_method.as_str()
        );
        println!(
            "Next: `lanyard policy add MCP_URL --client-id ID` for each connector, then `lanyard policy check`."
        );
    }
    0
}

// long: `policy add` step by step, each refusal with its own exit code (2 unreadable policy,
// 4 refused or incomplete entry, 1 not written); split, the exit codes would hide in helpers.
async fn run_add(
    http: &Http,
    req: &AddRequest,
    policy: Option<&Path>,
    dry_run: bool,
    json: bool,
) -> u8 {
    let path = match lanyard::policy::locate(policy) {
        Ok(p) => Some(p),
        Err(_) if dry_run => None,
        Err(e) => {
            eprintln!(
                "lanyard: {e}\n  → start one with `lanyard policy init --issuer URL --client-id ID`"
            );
            return 2;
        }
    };
    let text = match &path {
        Some(p) => match lanyard::admin::managed::read_text(p) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("lanyard: {e}");
                return 2;
            }
        },
        None => None,
    };
    let existing = text
        .as_deref()
        .map(policy_file::existing_connectors)
        .unwrap_or_default();
    let entry = match onboard(http, req, &existing, &Trace::new()).await {
        Ok(e) => e,
        Err(refusal) => {
            eprintln!(
                "lanyard: cannot add {}: {refusal}\n  → {}",
                req.mcp_url,
                refusal.fix()
            );
            return 4;
        }
    };
    if entry.client_id.is_empty() && !dry_run {
        eprintln!(
            "lanyard: {} needs Lanyard's client id at {}\n  → register Lanyard there, then pass --client-id ID (or look first with --dry-run)",
            req.mcp_url,
            entry
                .as_issuer
                .as_deref()
                .unwrap_or("its authorization server")
        );
        return 4;
    }
    if dry_run {
        json_line(&entry);
        if entry.client_id.is_empty() {
            eprintln!(
                "Note: client_id is empty; register Lanyard at {} and pass --client-id.",
                entry
                    .as_issuer
                    .as_deref()
                    .unwrap_or("the authorization server")
            );
        }
        return 0;
    }
    let (Some(path), Some(text)) = (path, text) else {
        return 2;
    };
    let shown = path.display().to_string();
    let written = policy_file::with_connector(&text, &entry, &shown)
        .and_then(|new| policy_file::write(&path, &new));
    if let Err(e) = written {
        eprintln!("lanyard: {e}");
        return 1;
    }
    if json {
        json_line(&entry);
    } else {
        println!(
            "Added connector \"{}\" ({}) to {}: authorization server {}, {}, scopes {}.",
            entry.id,
            entry.name,
            shown,
            entry.as_issuer.as_deref().unwrap_or("-"),
            entry.token_endpoint_auth_method.as_str(),
            entry
                .scopes
                .as_ref()
                .map_or("from the server".into(), |s| s.join(" "))
        );
    }
    0
}

async fn run_check(http: &Http, path: &Path, live: bool, json: bool) -> u8 {
    let report = match check::check_file(http, path, live).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lanyard: cannot read the policy: {e}");
            return 2;
        }
    };
    if json {
        json_line(&report);
    } else {
        print_check(&report, live);
    }
    if report.ok() { 0 } else { 4 }
}

fn print_check(report: &CheckReport, asked_live: bool) {
    let scope = if report.live {
        "static and live checks"
    } else {
        "static check"
    };
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let warnings = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Warning)
        .count();
    let errors = report.problems.len() - warnings;
    let summary = match (errors, warnings) {
        (0, 0) => "no problems".to_string(),
        (0, w) => format!("no errors, {}", plural(w, "warning")),
        (e, 0) => plural(e, "problem"),
        (e, w) => format!("{}, {}", plural(e, "problem"), plural(w, "warning")),
    };
    let end = if report.problems.is_empty() { "." } else { ":" };
    println!(
        "{}: {summary} ({scope}, {}){end}",
        report.policy,
        plural(report.connectors, "connector")
    );
    for p in &report.problems {
        println!("  {}", p.line());
    }
    if asked_live && !report.live {
        println!("Fix these first; the live checks run on a policy without static problems.");
    }
}

fn run_export(path: &Path, format: ExportFormat, out: Option<&Path>) -> u8 {
    let policy = match lanyard::policy::load(path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("lanyard: {e}\n  → `lanyard policy check` lists every problem");
            return 2;
        }
    };
    let format = match format {
        ExportFormat::Json => Format::Json,
        ExportFormat::Mobileconfig => Format::Mobileconfig,
        ExportFormat::Reg => Format::Reg,
        ExportFormat::Admx => Format::Admx,
    };
    let secret = export::carries_secret(&policy);
    if secret && out.is_none() {
        eprintln!(
            "lanyard: this policy holds a client secret in plain text, which Lanyard never prints to a terminal\n  → pass --out FILE (written readable by you only), or keep the secret in {{\"env\": NAME}} / {{\"file\": PATH}}"
        );
        return 4;
    }
    let artifacts = match export::export(&policy, format) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("lanyard: cannot export: {e}");
            return 4;
        }
    };
    let Some(out) = out else {
        if artifacts.len() > 1 {
            eprintln!("lanyard: admx writes two files (.admx and .adml): pass --out FOLDER");
            return 2;
        }
        let mut stdout = std::io::stdout();
        return match stdout
            .write_all(&artifacts[0].bytes)
            .and_then(|()| stdout.flush())
        {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("lanyard: {e}");
                1
            }
        };
    };
    let targets = targets(out, &artifacts);
    for (target, artifact) in targets.iter().zip(&artifacts) {
        if let Err(e) = write_export(target, &artifact.bytes, secret) {
            eprintln!("lanyard: cannot write {}: {e}", target.display());
            return 1;
        }
        eprintln!("Wrote {}", target.display());
    }
    0
}

/// `--out` for each file: a folder gets the usual names (ADML in `en-US/`); a file path is
/// used as is, with the ADML next to an `.admx`.
fn targets(out: &Path, artifacts: &[export::Artifact]) -> Vec<PathBuf> {
    let is_dir = out.is_dir() || (artifacts.len() > 1 && out.extension().is_none());
    artifacts
        .iter()
        .enumerate()
        .map(|(i, a)| match (is_dir, i) {
            (true, _) => out.join(&a.file_name),
            (false, 0) => out.to_path_buf(),
            (false, _) => out.with_extension("adml"),
        })
        .collect()
}

fn write_export(target: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    options.open(target)?.write_all(bytes)
}
