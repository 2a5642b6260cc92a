//! Request shape (exact form bodies and headers) and response handling of both grants.

use super::*;
use crate::policy::AuthMethod;
use crate::protocol::client_auth::ClientAuth;
use crate::protocol::discovery::stub_server::{Captured, Reply, Stub, http};
use crate::protocol::discovery::{ConnectorMetadata, JWT_BEARER_GRANT};
use crate::protocol::jwt_bearer::*;
use crate::protocol::jwt_peek::{dangerous_unverified_claims, unsigned_jwt};
use crate::protocol::token_exchange::*;
use chrono::{Duration, Utc};
use serde_json::json;
use std::sync::Arc;

const ID_TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2ln";
const TE: &str = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange\
&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid-jag";
const JB: &str = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";

fn auth(method: AuthMethod) -> ClientAuth {
    let secret = matches!(
        method,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
    )
    .then(|| Secret::new("s3cr:t"));
    let key = (method == AuthMethod::PrivateKeyJwt)
        .then(|| Arc::new(crate::protocol::device_key::DeviceKey::generate()));
    ClientAuth::new("lan yard", method, secret).with_key(key)
}

/// The client-auth tail of the body for `method`, and the expected Authorization header.
fn auth_tail(method: AuthMethod) -> (&'static str, Option<&'static str>) {
    match method {
        AuthMethod::None => ("&client_id=lan+yard", None),
        AuthMethod::ClientSecretPost => ("&client_id=lan+yard&client_secret=s3cr%3At", None),
        // base64("lan+yard:s3cr%3At")
        AuthMethod::ClientSecretBasic => ("", Some("Basic bGFuK3lhcmQ6czNjciUzQXQ=")),
        AuthMethod::PrivateKeyJwt => (
            "&client_id=lan+yard&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=",
            None,
        ),
    }
}

const METHODS: [AuthMethod; 4] = [
    AuthMethod::None,
    AuthMethod::ClientSecretBasic,
    AuthMethod::ClientSecretPost,
    AuthMethod::PrivateKeyJwt,
];

/// Checks a captured body against `expected_prefix` + auth tail (+ a signed assertion whose
/// `aud` is `assertion_aud` for private_key_jwt), and the headers.
fn assert_shape(req: &Captured, expected_prefix: &str, method: AuthMethod, assertion_aud: &str) {
    let (tail, authorization) = auth_tail(method);
    let expected = format!("{expected_prefix}{tail}");
    if method == AuthMethod::PrivateKeyJwt {
        let assertion = req
            .body
            .strip_prefix(&expected)
            .unwrap_or_else(|| panic!("{method:?}: {}", req.body));
        assert!(!assertion.contains('&'), "client_assertion must be last");
        let claims = dangerous_unverified_claims(&Secret::new(assertion)).unwrap();
        assert_eq!(claims["aud"], assertion_aud);
        assert_eq!(claims["iss"], "lan yard");
    } else {
        assert_eq!(req.body, expected, "{method:?}");
    }
    assert_eq!(req.header("authorization"), authorization, "{method:?}");
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(req.method, "POST");
}

fn id_jag() -> Secret {
    unsigned_jwt(
        json!({"typ": "oauth-id-jag+jwt", "alg": "ES256"}),
        json!({"aud": "https://as.example", "resource": "https://mcp.example/mcp", "exp": 2_000_000_000, "jti": "j1"}),
    )
}

fn idp_stub(reply: serde_json::Value) -> impl Fn(&Captured, &str) -> Reply + Send + Sync + 'static {
    move |_, _| Reply::json(200, reply.clone())
}

fn jag_response() -> serde_json::Value {
    json!({"access_token": id_jag().expose(), "issued_token_type": ID_JAG_TOKEN_TYPE,
           "token_type": "N_A", "expires_in": 300, "scope": "read"})
}

async fn exchange(
    stub: &Stub,
    method: AuthMethod,
    subject: SubjectToken<'_>,
    scopes: &[String],
) -> Result<IssuedIdJag, ExchangeError> {
    let endpoint = stub.url("/oauth2/v1/token");
    request_id_jag(
        &http(),
        &endpoint,
        &auth(method),
        subject,
        "https://as.example",
        "https://mcp.example/mcp",
        scopes,
        &Trace::new(),
    )
    .await
}

#[tokio::test]
async fn token_exchange_form_is_exact_for_every_auth_method() {
    let stub = Stub::start(idp_stub(jag_response())).await;
    let id_token = Secret::new(ID_TOKEN);
    let scopes = vec!["read".to_string(), "write".to_string()];
    for method in METHODS {
        let issued = exchange(&stub, method, SubjectToken::IdToken(&id_token), &scopes)
            .await
            .unwrap();
        assert_eq!(issued.expires_in, Some(300));
        assert_eq!(issued.claims.aud, ["https://as.example"]);
        let req = stub.requests().pop().unwrap();
        let prefix = format!(
            "{TE}&audience=https%3A%2F%2Fas.example&resource=https%3A%2F%2Fmcp.example%2Fmcp\
             &scope=read+write&subject_token={ID_TOKEN}\
             &subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token"
        );
        assert_shape(&req, &prefix, method, stub.url("/oauth2/v1/token").as_str());
        assert_eq!(req.path, "/oauth2/v1/token");
    }
}

#[tokio::test]
async fn token_exchange_with_refresh_token_and_no_scope() {
    let stub = Stub::start(idp_stub(jag_response())).await;
    let rt = Secret::new("labsecret_rt_1");
    exchange(
        &stub,
        AuthMethod::None,
        SubjectToken::RefreshToken(&rt),
        &[],
    )
    .await
    .unwrap();
    let req = stub.requests().pop().unwrap();
    assert_eq!(
        req.body,
        format!(
            "{TE}&audience=https%3A%2F%2Fas.example&resource=https%3A%2F%2Fmcp.example%2Fmcp\
             &subject_token=labsecret_rt_1\
             &subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Arefresh_token&client_id=lan+yard"
        )
    );
}

#[tokio::test]
async fn issued_token_type_is_checked_and_token_type_is_not() {
    let id_token = Secret::new(ID_TOKEN);
    for token_type in [json!("n_a"), json!("Bearer"), json!(null)] {
        let mut body = jag_response();
        body["token_type"] = token_type;
        let stub = Stub::start(idp_stub(body)).await;
        assert!(
            exchange(
                &stub,
                AuthMethod::None,
                SubjectToken::IdToken(&id_token),
                &[]
            )
            .await
            .is_ok()
        );
    }
    let mut body = jag_response();
    body["issued_token_type"] = json!("urn:ietf:params:oauth:token-type:access_token");
    let stub = Stub::start(idp_stub(body)).await;
    let err = exchange(
        &stub,
        AuthMethod::None,
        SubjectToken::IdToken(&id_token),
        &[],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ExchangeError::WrongIssuedTokenType(Some(_))),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("eyJ"));
}

#[tokio::test]
async fn idp_errors_are_typed_and_token_free() {
    let stub = Stub::start(|_, _| {
        Reply::json(400, json!({"error": "invalid_target", "error_description": format!("no connection for {ID_TOKEN}")}))
    })
    .await;
    let id_token = Secret::new(ID_TOKEN);
    let err = exchange(
        &stub,
        AuthMethod::None,
        SubjectToken::IdToken(&id_token),
        &[],
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.oauth_code(),
        Some(crate::protocol::oauth_error::ErrorCode::InvalidTarget)
    );
    assert!(!format!("{err} {err:?}").contains("eyJ"), "{err}");
}

fn meta(stub: &Stub) -> ConnectorMetadata {
    ConnectorMetadata {
        resource: "https://mcp.example/mcp".into(),
        as_issuer: "https://as.example".into(),
        token_endpoint: stub.url("/token"),
        revocation_endpoint: None,
        grant_types_supported: vec![JWT_BEARER_GRANT.into()],
        grant_profiles_supported: vec![],
        token_endpoint_auth_methods_supported: vec![],
        challenge_scopes: None,
        scopes_supported: vec![],
        supports_id_jag: true,
        fetched_at: Utc::now(),
    }
}

async fn redeem(
    stub: &Stub,
    auth: &ClientAuth,
    scopes: &[String],
) -> Result<RedeemedToken, ExchangeError> {
    redeem_id_jag(&http(), &meta(stub), auth, &id_jag(), scopes, &Trace::new()).await
}

#[tokio::test]
async fn jwt_bearer_form_is_exact_for_every_auth_method() {
    let stub = Stub::start(|_, _| {
        Reply::json(
            200,
            json!({"access_token": "labsecret_at_1", "token_type": "Bearer", "expires_in": 3600}),
        )
    })
    .await;
    for method in METHODS {
        let token = redeem(&stub, &auth(method), &["read".into()])
            .await
            .unwrap();
        assert_eq!(token.access_token.expose(), "labsecret_at_1");
        assert_eq!(
            token.scopes,
            ["read"],
            "requested scopes when the response has none"
        );
        let req = stub.requests().pop().unwrap();
        let prefix = format!(
            "{JB}&assertion={}&scope=read&resource=https%3A%2F%2Fmcp.example%2Fmcp",
            id_jag().expose()
        );
        assert_shape(&req, &prefix, method, "https://as.example");
    }
}

#[tokio::test]
async fn expiry_from_number_string_jwt_exp_or_unknown() {
    let cases = [
        (
            json!({"access_token": "labsecret_at_1", "token_type": "Bearer", "expires_in": "120"}),
            Some(120),
        ),
        (
            json!({"access_token": "labsecret_at_1", "token_type": "Bearer", "expires_in": 0}),
            None,
        ),
        (
            json!({"access_token": "labsecret_at_1", "token_type": "Bearer", "expires_in": "soon"}),
            None,
        ),
        (
            json!({"access_token": "labsecret_at_1", "token_type": "Bearer"}),
            None,
        ),
    ];
    for (body, secs) in cases {
        let stub = Stub::start(idp_stub(body.clone())).await;
        let before = Utc::now();
        let token = redeem(&stub, &auth(AuthMethod::None), &[]).await.unwrap();
        match secs {
            Some(s) => {
                let at = token.expires_at.unwrap();
                assert!(
                    at >= before + Duration::seconds(s) && at <= Utc::now() + Duration::seconds(s),
                    "{body}"
                );
            }
            None => assert_eq!(token.expires_at, None, "{body}"),
        }
    }
    // No expires_in, but a JWT access token: its `exp`.
    let jwt = unsigned_jwt(json!({"alg": "ES256"}), json!({"exp": 2_000_000_000}));
    let stub = Stub::start(idp_stub(
        json!({"access_token": jwt.expose(), "token_type": "Bearer", "scope": "a b"}),
    ))
    .await;
    let token = redeem(&stub, &auth(AuthMethod::None), &["x".into()])
        .await
        .unwrap();
    assert_eq!(token.expires_at.unwrap().timestamp(), 2_000_000_000);
    assert_eq!(token.scopes, ["a", "b"]);
}

#[tokio::test]
async fn basic_without_body_client_id_quirk_is_reported_once() {
    let stub = Stub::start(|_, _| {
        Reply::json(
            401,
            json!({"error": "invalid_client", "error_description": "Missing client_id"}),
        )
    })
    .await;
    let mut basic = auth(AuthMethod::ClientSecretBasic);
    let err = redeem(&stub, &basic, &[]).await.unwrap_err();
    assert!(
        matches!(err, ExchangeError::WantsClientIdInBody { status: 401, .. }),
        "{err:?}"
    );
    basic.client_id_in_body_with_basic = true;
    let err = redeem(&stub, &basic, &[]).await.unwrap_err();
    assert!(
        matches!(err, ExchangeError::OAuth { status: 401, .. }),
        "{err:?}"
    );
    assert!(
        stub.requests()[1].body.ends_with("&client_id=lan+yard"),
        "{}",
        stub.requests()[1].body
    );
    let err = redeem(&stub, &auth(AuthMethod::ClientSecretPost), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, ExchangeError::OAuth { .. }),
        "only Basic has the quirk: {err:?}"
    );
}

#[test]
fn expires_in_parsing() {
    let s = |v: serde_json::Value| seconds(Some(&v));
    assert_eq!(s(json!(300)), Some(300));
    assert_eq!(s(json!("300")), Some(300));
    assert_eq!(s(json!(" 86400 ")), Some(86400));
    assert_eq!(s(json!(299.9)), Some(299));
    for bad in [
        json!(0),
        json!(-5),
        json!("-1"),
        json!("x"),
        json!(null),
        json!([1]),
        json!(1e300),
    ] {
        assert_eq!(s(bad.clone()), None, "{bad}");
    }
}
