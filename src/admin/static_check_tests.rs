//! The static check reports every problem at once, each at its key path.

use super::*;

const GOOD: &str = r#"{
  "idp": {"issuer": "https://acme.okta.com", "client_id": "0oa1",
          "client_secret": {"env": "ACME_SECRET"}, "token_endpoint_auth_method": "client_secret_post"},
  "connectors": [
    {"id": "linear", "name": "Linear", "mcp_url": "https://mcp.linear.app/mcp",
     "client_id": "lanyard", "client_secret": "s3cret"},
    {"id": "asana", "mcp_url": "https://mcp.asana.com/v2/mcp", "client_id": "c",
     "token_endpoint_auth_method": "private_key_jwt", "scopes": ["default"],
     "as_issuer": "https://app.asana.com"}
  ]}"#;

fn paths_and_codes(text: &str) -> Vec<(String, String)> {
    check_text(text)
        .unwrap()
        .into_iter()
        .map(|p| (p.path, p.code))
        .collect()
}

#[test]
fn a_good_policy_has_no_problem() {
    assert_eq!(paths_and_codes(GOOD), []);
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let bad = r#"{
      "idp": {"issuer": "http://acme.okta.com", "client_id": "", "scopes": ["email"],
              "token_endpoint_auth_method": "client_secret_basic", "colour": "red"},
      "connectors": [
        {"id": "linear", "nmae": "Linear", "mcp_url": "https://mcp.linear.app/mcp",
         "client_id": "lanyard", "client_secret": "s3cret", "token_endpoint_auth_method": "none"},
        {"id": "Linear", "mcp_url": "https://mcp.linear.app/mcp", "client_id": "c",
         "token_endpoint_auth_method": "client_secret_jwt"},
        {"id": "sign-in", "mcp_url": "https://mcp.x.example/mcp", "client_id": "c",
         "token_endpoint_auth_method": "client_secret_post", "scopes": ["a b"],
         "client_secret": {"flie": "/x"}, "as_issuer": "not a url"}
      ],
      "extra": 1
    }"#;
    let got = paths_and_codes(bad);
    let want = [
        ("extra", "unknown_key"),
        ("idp.colour", "unknown_key"),
        ("idp.issuer", "insecure_url"),
        ("idp.client_id", "bad_value"),
        ("idp.client_secret", "secret_missing"),
        ("idp.scopes", "bad_value"),
        ("connectors[0].nmae", "unknown_key"),
        ("connectors[0].client_secret", "secret_unused"),
        ("connectors[1].id", "duplicate_id"),
        ("connectors[1].mcp_url", "duplicate_url"),
        ("connectors[1].token_endpoint_auth_method", "bad_value"),
        ("connectors[2].id", "reserved_id"),
        ("connectors[2].client_secret.flie", "unknown_key"),
        ("connectors[2].client_secret", "wrong_type"),
        ("connectors[2].client_secret", "secret_missing"),
        ("connectors[2].scopes[0]", "bad_value"),
        ("connectors[2].as_issuer", "bad_value"),
    ];
    for (path, code) in want {
        assert!(
            got.iter().any(|(p, c)| p == path && c == code),
            "missing {path} {code} in {got:#?}"
        );
    }
    assert_eq!(got.len(), want.len(), "{got:#?}");
}

#[test]
fn problems_say_what_to_change_and_name_their_connector() {
    let text = GOOD
        .replace("\"nmae\"", "")
        .replace("\"name\": \"Linear\"", "\"nmae\": \"Linear\"");
    let problems = check_text(&text).unwrap();
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(
        p.line(),
        "connectors[0].nmae: unknown key `nmae` → did you mean `name`?"
    );
    assert_eq!(p.connector.as_deref(), Some("linear"));
    assert_eq!(p.found, super::super::problem::Found::Static);

    let unused = GOOD.replace(
        "\"private_key_jwt\", \"scopes\"",
        "\"none\", \"client_secret\": \"x\", \"scopes\"",
    );
    let problems = check_text(&unused).unwrap();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].fix.contains("every machine"),
        "{}",
        problems[0].fix
    );
}

#[test]
fn not_json_and_wrong_shapes() {
    assert!(check_text("{").is_err());
    assert_eq!(
        paths_and_codes("[]"),
        [("(top level)".into(), "wrong_type".into())]
    );
    assert_eq!(
        paths_and_codes(r#"{"connectors": {}}"#),
        [
            ("idp".to_string(), "missing_key".to_string()),
            ("connectors".to_string(), "wrong_type".to_string())
        ]
    );
    let got =
        paths_and_codes(r#"{"idp": {"issuer": "https://i"}, "connectors": [5, {"id": "x"}]}"#);
    for want in [
        "idp.client_id",
        "connectors[0]",
        "connectors[1].mcp_url",
        "connectors[1].client_id",
    ] {
        assert!(got.iter().any(|(p, _)| p == want), "{want}: {got:?}");
    }
}

/// `GOOD` with `idp.max_concurrent_requests` set to `value` (JSON).
fn with_concurrency(value: &str) -> String {
    GOOD.replace(
        "\"client_id\": \"0oa1\",",
        &format!("\"client_id\": \"0oa1\", \"max_concurrent_requests\": {value},"),
    )
}

#[test]
fn max_concurrent_requests_is_refused_out_of_range_and_warned_about_above_32() {
    for fine in ["1", "16", "32", "null"] {
        assert_eq!(paths_and_codes(&with_concurrency(fine)), [], "{fine}");
    }
    for bad in ["0", "65", "-1", "1.5", "\"8\""] {
        let problems = check_text(&with_concurrency(bad)).unwrap();
        assert_eq!(problems.len(), 1, "{bad}: {problems:#?}");
        let p = &problems[0];
        assert_eq!(
            (p.path.as_str(), p.code.as_str(), p.severity),
            ("idp.max_concurrent_requests", "bad_value", Severity::Error),
            "{bad}"
        );
        assert!(
            p.message.contains("whole number from 1 to 64"),
            "{}",
            p.line()
        );
    }
    for high in ["33", "64"] {
        let problems = check_text(&with_concurrency(high)).unwrap();
        assert_eq!(problems.len(), 1, "{high}: {problems:#?}");
        let p = &problems[0];
        assert_eq!(
            (p.code.as_str(), p.severity),
            ("high_concurrency", Severity::Warning)
        );
        assert!(
            p.line()
                .starts_with("warning: idp.max_concurrent_requests: ")
                && p.fix.contains("limit"),
            "{}",
            p.line()
        );
    }
}

#[test]
fn the_static_check_agrees_with_the_engines_parser() {
    // Whatever the static check accepts, the engine accepts; whatever it refuses, so does the engine.
    let cases = [
        GOOD.to_string(),
        GOOD.replace("\"id\": \"asana\"", "\"id\": \"session-refresh\""),
        GOOD.replace("\"scopes\": [\"default\"]", "\"scopes\": []"),
        GOOD.replace("https://app.asana.com", "https://app.asana.com/x?y"),
        GOOD.replace(
            "\"c\",",
            "\"c\", \"token_endpoint_origin\": \"https://t.example/path\",",
        ),
        with_concurrency("0"),
        with_concurrency("\"8\""),
        // A warning, not an error: the engine takes it.
        with_concurrency("64"),
    ];
    for text in cases {
        let problems = check_text(&text).unwrap();
        let parsed = crate::policy::parse(&text, std::path::Path::new("p.json"));
        let errors = problems.iter().any(|p| p.severity == Severity::Error);
        assert_eq!(
            !errors,
            parsed.is_ok(),
            "{problems:?} vs {:?}",
            parsed.err()
        );
    }
}

#[test]
fn pilot_machine_is_a_known_boolean() {
    let marked = GOOD.replacen('{', r#"{"pilot_machine": true, "#, 1);
    assert_eq!(paths_and_codes(&marked), []);
    let policy = policy::parse(&marked, std::path::Path::new("p.json")).unwrap();
    assert!(policy.pilot_machine);
    // One machine's marker, not the fleet's: exports leave it out.
    let export = crate::admin::export::export(&policy, crate::admin::export::Format::Json).unwrap();
    assert!(!String::from_utf8_lossy(&export[0].bytes).contains("pilot_machine"));
    assert!(
        !policy::parse(GOOD, std::path::Path::new("p.json"))
            .unwrap()
            .pilot_machine
    );

    let quoted = GOOD.replacen('{', r#"{"pilot_machine": "yes", "#, 1);
    assert_eq!(
        paths_and_codes(&quoted),
        [("pilot_machine".to_string(), "wrong_type".to_string())]
    );
    let err = policy::parse(&quoted, std::path::Path::new("p.json")).unwrap_err();
    assert!(err.to_string().contains("pilot_machine"), "{err}");
}
