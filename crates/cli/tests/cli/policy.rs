//! The admin's policy tools against the real lab: `policy init` + `policy add` rebuild the
//! lab's own policy from nothing but URLs (and that policy signs a user in), deliberately broken
//! connectors are refused with the right reason, `policy check` passes the lab and lists every
//! problem of the broken lab, and every export reads back into the same policy.

use std::path::{Path, PathBuf};
use std::process::Output;

use lanyard_lab::{Lab, LabOptions};
use serde_json::Value;

use super::{Cli, assert_clean, text};

/// Runs the CLI off the async runtime, so the in-process lab keeps serving.
async fn run(policy: &Path, state: &Path, args: &[&str], env: &[(String, String)]) -> Output {
    let (policy, state) = (policy.to_path_buf(), state.to_path_buf());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env = env.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lanyard"));
        cmd.args(&args)
            .env("LANYARD_POLICY", &policy)
            .env("LANYARD_STATE_DIR", &state)
            .env("LANYARD_BROWSER_COMMAND", "curl -fsSL -o /dev/null")
            .env("LANYARD_LOG_DIR", state.join("logs"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("lanyard runs")
    })
    .await
    .unwrap()
}

async fn lab(broken: bool) -> Lab {
    Lab::start(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        broken_connectors: broken,
        ..LabOptions::default()
    })
    .await
    .expect("lab starts")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn secret_env(id: &str) -> String {
    format!(
        "LANYARD_TEST_SECRET_{}",
        id.to_uppercase().replace('-', "_")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_and_add_rebuild_the_labs_policy_and_it_signs_in() {
    let lab = lab(false).await;
    let labs: Value = read_json(lab.policy_path());
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("etc/policy.json");
    let state = dir.path().join("state");

    let idp = &labs["idp"];
    let out = run(
        &policy,
        &state,
        &[
            "policy",
            "init",
            "--issuer",
            idp["issuer"].as_str().unwrap(),
            "--client-id",
            idp["client_id"].as_str().unwrap(),
            "--client-secret-env",
            "LANYARD_TEST_SECRET_IDP",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let again = run(
        &policy,
        &state,
        &[
            "policy",
            "init",
            "--issuer",
            "https://x",
            "--client-id",
            "c",
        ],
        &[],
    )
    .await;
    assert_eq!(
        again.status.code(),
        Some(2),
        "never overwrites without --force"
    );

    let mut env = vec![(
        "LANYARD_TEST_SECRET_IDP".to_string(),
        secret_of(&idp["client_secret"]),
    )];
    for (c, ready) in labs["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&lab.ready().connectors)
    {
        let id = c["id"].as_str().unwrap();
        let out = run(
            &policy,
            &state,
            &[
                "policy",
                "add",
                c["mcp_url"].as_str().unwrap(),
                "--client-id",
                c["client_id"].as_str().unwrap(),
                "--client-secret-env",
                &secret_env(id),
            ],
            &[],
        )
        .await;
        assert_clean(&out);
        if id == "slack" {
            assert_eq!(out.status.code(), Some(4), "{}", text(&out));
            assert!(text(&out).contains("not zero-touch yet"), "{}", text(&out));
            continue;
        }
        assert_eq!(out.status.code(), Some(0), "{id}: {}", text(&out));
        let written = read_json(&policy);
        let entry = written["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .unwrap_or_else(|| panic!("{id} was not added: {written}"));
        for key in ["name", "mcp_url", "client_id", "token_endpoint_auth_method"] {
            assert_eq!(entry[key], c[key], "{id}.{key}");
        }
        assert_eq!(
            entry["as_issuer"],
            ready.issuer.as_str(),
            "{id}: the AS it will target"
        );
        assert_eq!(
            entry["scopes"],
            serde_json::json!([format!("{id}:read"), format!("{id}:write")]),
            "{id}: the PRM's scopes_supported"
        );
        assert_eq!(
            entry["client_secret"],
            serde_json::json!({"env": secret_env(id)})
        );
        env.push((secret_env(id), secret_of(&c["client_secret"])));
    }
    // Adding one again is refused: same URL.
    let linear = &labs["connectors"][2];
    let dup = run(
        &policy,
        &state,
        &[
            "policy",
            "add",
            linear["mcp_url"].as_str().unwrap(),
            "--client-id",
            "x",
        ],
        &[],
    )
    .await;
    assert_eq!(dup.status.code(), Some(4));
    assert!(
        text(&dup).contains("already in the policy"),
        "{}",
        text(&dup)
    );

    let check = run(&policy, &state, &["policy", "check"], &env).await;
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    assert!(
        String::from_utf8_lossy(&check.stdout)
            .contains("no problems (static and live checks, 7 connectors)"),
        "{}",
        text(&check)
    );

    // The policy the admin built from URLs works: ada signs in and gets her connectors.
    let login = run(&policy, &state, &["login", "--json"], &env).await;
    assert_clean(&login);
    let status: Value =
        serde_json::from_slice(&login.stdout).unwrap_or_else(|_| panic!("{}", text(&login)));
    let state_of = |id: &str| {
        status["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state_of("linear"), "granted");
    assert_eq!(state_of("atlassian"), "granted");
    assert_eq!(
        state_of("supabase"),
        "granted",
        "the client_id-in-body quirk still found by the engine"
    );
    assert_eq!(state_of("asana"), "denied");
}

/// A lab secret written as `{"file": PATH}`: its value, for the environment of this test.
fn secret_of(v: &Value) -> String {
    std::fs::read_to_string(v["file"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_connectors_are_refused_or_flagged_with_the_right_reason() {
    let lab = lab(true).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let url = |id: &str| {
        lab.ready()
            .connectors
            .iter()
            .find(|c| c.id == id)
            .unwrap()
            .mcp_url
            .clone()
    };
    // Into a policy that does not have them yet, each is refused for its own reason.
    let empty = dir.path().join("empty.json");
    std::fs::write(
        &empty,
        format!(
            r#"{{"idp": {{"issuer": "{}", "client_id": "c"}}}}"#,
            lab.ready().idp_issuer
        ),
    )
    .unwrap();
    for (id, reason) in [
        ("broken-no-prm", "no protected-resource metadata found"),
        ("broken-no-profile", "not zero-touch yet"),
        ("broken-issuer", "authorization server metadata says issuer"),
    ] {
        let out = run(
            &empty,
            &state,
            &[
                "policy",
                "add",
                &url(id),
                "--client-id",
                "x",
                "--client-secret-env",
                "S",
            ],
            &[],
        )
        .await;
        assert_eq!(out.status.code(), Some(4), "{id}: {}", text(&out));
        assert!(text(&out).contains(reason), "{id}: {}", text(&out));
        assert!(
            text(&out).contains("→ "),
            "{id}: a fix is given: {}",
            text(&out)
        );
    }
    // Duties of the MCP server itself need tokens to see; onboarding takes them (check flags them).
    let out = run(
        &empty,
        &state,
        &[
            "policy",
            "add",
            &url("broken-no-revocation"),
            "--client-id",
            "x",
            "--client-secret-env",
            "S",
            "--dry-run",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The lab's policy with the broken connectors: every problem listed, exit 4.
    let check = run(
        lab.policy_path(),
        &state,
        &["policy", "check", "--json"],
        &[],
    )
    .await;
    assert_eq!(check.status.code(), Some(4), "{}", text(&check));
    assert_clean(&check);
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["live"], true);
    let found: Vec<(String, String, String)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["connector"].as_str().unwrap_or_default().to_string(),
                p["code"].as_str().unwrap().to_string(),
                p["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (connector, code, severity) in [
        ("broken-no-prm", "no_resource_metadata", "error"),
        ("broken-challenge", "no_challenge", "error"),
        ("broken-issuer", "issuer_mismatch", "error"),
        ("broken-no-profile", "no_id_jag_support", "warning"),
        ("broken-no-revocation", "no_revocation", "warning"),
        ("slack", "no_id_jag_support", "warning"),
    ] {
        assert!(
            found.iter().any(|f| f
                == &(
                    connector.to_string(),
                    code.to_string(),
                    severity.to_string()
                )),
            "{connector} {code}: {found:?}"
        );
    }
    for fine in [
        "linear",
        "broken-query-token",
        "broken-audience",
        "broken-signature",
    ] {
        assert!(!found.iter().any(|f| f.0 == fine), "{fine}: {found:?}");
    }
    // The text form: one line per problem, with where and what to change.
    let human = run(lab.policy_path(), &state, &["policy", "check"], &[]).await;
    let out = String::from_utf8_lossy(&human.stdout);
    assert!(
        out.lines()
            .any(|l| l.contains("connectors[") && l.contains(".mcp_url:") && l.contains("→ ")),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1 + found.len(), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_labs_policy_checks_clean_and_a_bad_file_lists_every_problem() {
    let lab = lab(false).await;
    let dir = tempfile::tempdir().unwrap();
    let out = run(lab.policy_path(), dir.path(), &["policy", "check"], &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("no errors, 1 warning (static and live checks, 8 connectors)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning: connectors[7].mcp_url: not zero-touch yet"),
        "{stdout}"
    );

    let bad = dir.path().join("bad.json");
    let mut policy = read_json(lab.policy_path());
    policy["idp"]["colour"] = "red".into();
    policy["connectors"][0]["id"] = "sign-in".into();
    policy["connectors"][1]["mcp_url"] = policy["connectors"][2]["mcp_url"].clone();
    policy["connectors"][3]["token_endpoint_auth_method"] = "none".into();
    std::fs::write(&bad, policy.to_string()).unwrap();
    let out = run(&bad, dir.path(), &["policy", "check"], &[]).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in [
        "idp.colour: unknown key `colour`",
        "connectors[0].id: \"sign-in\" is reserved",
        "connectors[2].mcp_url:",
        "connectors[3].client_secret: a client secret is set but never sent",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    assert!(stdout.contains("Fix these first"), "{stdout}");

    std::fs::write(&bad, "{ not json").unwrap();
    assert_eq!(
        run(&bad, dir.path(), &["policy", "check"], &[])
            .await
            .status
            .code(),
        Some(2)
    );
    let missing = dir.path().join("missing.json");
    assert_eq!(
        run(&missing, dir.path(), &["policy", "check"], &[])
            .await
            .status
            .code(),
        Some(2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_export_reads_back_into_the_same_policy() {
    let lab = lab(false).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli {
        policy: lab.policy_path(),
        state: dir.path(),
    };
    let canonical = cli.run(&["policy", "export", "--format", "json"]);
    assert_eq!(canonical.status.code(), Some(0), "{}", text(&canonical));
    let canonical: Value = serde_json::from_slice(&canonical.stdout).unwrap();
    assert_eq!(canonical["connectors"].as_array().unwrap().len(), 8);

    let mut forms: Vec<PathBuf> = Vec::new();
    for (format, name) in [
        ("json", "policy.json"),
        ("mobileconfig", "Lanyard.mobileconfig"),
        ("reg", "Lanyard.reg"),
    ] {
        let file = dir.path().join(name);
        let out = cli.run(&[
            "policy",
            "export",
            "--format",
            format,
            "--out",
            file.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", text(&out));
        forms.push(file);
    }
    let stdout_reg = cli.run(&["policy", "export", "--format", "reg"]);
    assert_eq!(
        &stdout_reg.stdout[..2],
        &[0xFF, 0xFE],
        "regedit's UTF-16LE with BOM"
    );
    for file in &forms {
        // Each form is a policy Lanyard reads: exporting it again gives the same document.
        let back = Cli {
            policy: file,
            state: dir.path(),
        }
        .run(&["policy", "export", "--format", "json"]);
        assert_eq!(
            back.status.code(),
            Some(0),
            "{}: {}",
            file.display(),
            text(&back)
        );
        let back: Value = serde_json::from_slice(&back.stdout).unwrap();
        assert_eq!(back, canonical, "{}", file.display());
        let check = Cli {
            policy: file,
            state: dir.path(),
        }
        .run(&["policy", "check", "--offline"]);
        assert_eq!(
            check.status.code(),
            Some(0),
            "{}: {}",
            file.display(),
            text(&check)
        );
    }
    let plist = std::fs::read_to_string(&forms[1]).unwrap();
    assert!(
        plist.contains("com.apple.ManagedClient.preferences")
            && plist.contains("dev.lanyard.desktop")
    );

    let admx_dir = dir.path().join("PolicyDefinitions");
    let out = cli.run(&[
        "policy",
        "export",
        "--format",
        "admx",
        "--out",
        admx_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let admx = std::fs::read_to_string(admx_dir.join("Lanyard.admx")).unwrap();
    let adml = std::fs::read_to_string(admx_dir.join("en-US/Lanyard.adml")).unwrap();
    let key = lanyard::admin::export::admx::read(&admx, &adml).unwrap();
    let json = lanyard::admin::registry::from_registry(&key, "HKLM").unwrap();
    let policy = lanyard::policy::parse(&json.to_string(), Path::new("admx")).unwrap();
    let doc = lanyard::admin::export::document::PolicyDocument::from_policy(&policy);
    assert_eq!(serde_json::to_value(&doc).unwrap(), canonical);
    assert_eq!(
        cli.run(&["policy", "export", "--format", "admx"])
            .status
            .code(),
        Some(2),
        "two files need --out"
    );

    // A secret written inline never goes to the terminal; to a file, readable by its owner only.
    let inline = dir.path().join("inline.json");
    let mut with_secret = canonical.clone();
    with_secret["connectors"][0]["client_secret"] = "labsecret_inline_x".into();
    std::fs::write(&inline, with_secret.to_string()).unwrap();
    let cli = Cli {
        policy: &inline,
        state: dir.path(),
    };
    let out = cli.run(&["policy", "export", "--format", "json"]);
    assert_eq!(out.status.code(), Some(4));
    assert_clean(&out);
    let file = dir.path().join("secret.reg");
    let out = cli.run(&[
        "policy",
        "export",
        "--format",
        "reg",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let out = cli.run(&[
        "policy",
        "export",
        "--format",
        "admx",
        "--out",
        dir.path().join("gpo").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(4), "templates never carry a secret");
    assert_clean(&out);
}
