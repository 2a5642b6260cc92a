//! A tiny in-test OIDC provider on `127.0.0.1:0` (discovery, JWKS, authorize, token, revoke,
//! RFC 8628 device authorization) with knobs for the failures the sign-in must catch. Tokens follow the lab's canary
//! convention: opaque values start `labsecret_`, JWTs start `eyJ`.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use chrono::Duration;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::clock::SharedClock;
use crate::protocol::device_key::DeviceKey;

pub const CLIENT_ID: &str = "lanyard-test";

/// What the provider gets wrong on purpose.
#[derive(Debug, Clone)]
pub struct Knobs {
    pub doc_issuer: Option<String>,
    pub advertise_iss: bool,
    /// `None`: send the right `iss`; `Some("")`: send none; `Some(x)`: send `x`.
    pub iss_param: Option<String>,
    pub aud: Option<String>,
    pub nonce: Option<String>,
    pub lifetime_secs: i64,
    pub refresh_id_token: bool,
    pub rotate_refresh: bool,
    pub revocation: bool,
    pub deny: bool,
    /// Sign with the second key; publish it only when `publish_second` is set.
    pub sign_with_second: bool,
    pub publish_second: bool,
    /// Advertise `device_authorization_endpoint`.
    pub device: bool,
    /// The token endpoint's answers to successive device-code polls; once empty, tokens.
    pub device_answers: Vec<&'static str>,
    /// Name the endpoints under this base instead of the issuer (another origin for the same
    /// server, e.g. `http://localhost:PORT` for an issuer on `http://127.0.0.1:PORT`).
    pub endpoints_base: Option<String>,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            doc_issuer: None,
            advertise_iss: true,
            iss_param: None,
            aud: None,
            nonce: None,
            lifetime_secs: 300,
            refresh_id_token: true,
            rotate_refresh: true,
            revocation: true,
            deny: false,
            sign_with_second: false,
            publish_second: false,
            device: false,
            device_answers: Vec::new(),
            endpoints_base: None,
        }
    }
}

struct Pending {
    nonce: Option<String>,
    challenge: String,
    redirect_uri: String,
}

#[derive(Default)]
struct Books {
    codes: HashMap<String, Pending>,
    refresh_tokens: HashSet<String>,
    device_codes: HashSet<String>,
    /// When each device-code poll arrived.
    polls: Vec<std::time::Instant>,
    /// Every token/revocation request: form and Authorization header.
    requests: Vec<(HashMap<String, String>, Option<String>)>,
}

#[derive(Clone)]
pub struct TestIdp {
    pub issuer: String,
    pub knobs: Arc<Mutex<Knobs>>,
    books: Arc<Mutex<Books>>,
    keys: Arc<[DeviceKey; 2]>,
    clock: SharedClock,
}

impl TestIdp {
    pub async fn start(clock: SharedClock) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let idp = Self {
            issuer,
            knobs: Arc::default(),
            books: Arc::default(),
            keys: Arc::new([DeviceKey::generate(), DeviceKey::generate()]),
            clock,
        };
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route("/device_authorization", post(device_authorization))
            .with_state(idp.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        idp
    }

    pub fn set(&self, f: impl FnOnce(&mut Knobs)) {
        f(&mut self.knobs.lock().unwrap());
    }

    pub fn requests(&self) -> Vec<(HashMap<String, String>, Option<String>)> {
        self.books.lock().unwrap().requests.clone()
    }

    pub fn polls(&self) -> Vec<std::time::Instant> {
        self.books.lock().unwrap().polls.clone()
    }

    /// A signed ID token with these claims merged over sensible defaults.
    pub fn id_token(&self, nonce: Option<&str>, overrides: Value) -> String {
        let k = self.knobs.lock().unwrap().clone();
        let now = self.clock.now();
        let mut claims = json!({
            "iss": self.issuer,
            "sub": "user-ada",
            "aud": k.aud.clone().unwrap_or_else(|| CLIENT_ID.into()),
            "iat": now.timestamp(),
            "exp": (now + Duration::seconds(k.lifetime_secs)).timestamp(),
            "email": "ada@lab.example",
            "name": "Ada Lovelace",
        });
        if let Some(n) = k.nonce.as_deref().or(nonce) {
            claims["nonce"] = json!(n);
        }
        for (key, v) in overrides.as_object().cloned().unwrap_or_default() {
            claims[key] = v;
        }
        let key = &self.keys[usize::from(k.sign_with_second)];
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(key.kid().to_string());
        let encoding =
            jsonwebtoken::EncodingKey::from_ec_pem(key.to_pem().expose().as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &encoding).unwrap()
    }

    fn new_refresh_token(&self) -> String {
        let rt = format!("labsecret_rt_{}", uuid::Uuid::new_v4().simple());
        self.books.lock().unwrap().refresh_tokens.insert(rt.clone());
        rt
    }
}

async fn discovery(State(idp): State<TestIdp>) -> Response {
    let k = idp.knobs.lock().unwrap().clone();
    let base = k.endpoints_base.as_ref().unwrap_or(&idp.issuer);
    let mut doc = json!({
        "issuer": k.doc_issuer.clone().unwrap_or_else(|| idp.issuer.clone()),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": k.advertise_iss,
    });
    if k.revocation {
        doc["revocation_endpoint"] = json!(format!("{base}/revoke"));
    }
    if k.device {
        doc["device_authorization_endpoint"] = json!(format!("{base}/device_authorization"));
    }
    axum::Json(doc).into_response()
}

async fn jwks(State(idp): State<TestIdp>) -> Response {
    let publish_second = idp.knobs.lock().unwrap().publish_second;
    let mut keys = vec![serde_json::to_value(idp.keys[0].public_jwk()).unwrap()];
    if publish_second {
        keys.push(serde_json::to_value(idp.keys[1].public_jwk()).unwrap());
    }
    axum::Json(json!({ "keys": keys })).into_response()
}

async fn authorize(
    State(idp): State<TestIdp>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let k = idp.knobs.lock().unwrap().clone();
    let ok = q.get("response_type").map(String::as_str) == Some("code")
        && q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && q.get("scope")
            .is_some_and(|s| s.split(' ').filter(|x| *x == "openid").count() == 1);
    if !ok {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let redirect_uri = q["redirect_uri"].clone();
    let mut target = url::Url::parse(&redirect_uri).unwrap();
    {
        let mut pairs = target.query_pairs_mut();
        if k.deny {
            pairs
                .append_pair("error", "access_denied")
                .append_pair("error_description", "not assigned");
        } else {
            let code = format!("labsecret_code_{}", uuid::Uuid::new_v4().simple());
            idp.books.lock().unwrap().codes.insert(
                code.clone(),
                Pending {
                    nonce: q.get("nonce").cloned(),
                    challenge: q["code_challenge"].clone(),
                    redirect_uri,
                },
            );
            pairs.append_pair("code", &code);
        }
        pairs.append_pair("state", q.get("state").map(String::as_str).unwrap_or(""));
        match k.iss_param.as_deref() {
            None => {
                pairs.append_pair("iss", &idp.issuer);
            }
            Some("") => {}
            Some(other) => {
                pairs.append_pair("iss", other);
            }
        }
    }
    Redirect::to(target.as_str()).into_response()
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({ "error": error }))).into_response()
}

async fn token(
    State(idp): State<TestIdp>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string());
    idp.books.lock().unwrap().requests.push((f.clone(), auth));
    let k = idp.knobs.lock().unwrap().clone();
    let at = format!("labsecret_at_{}", uuid::Uuid::new_v4().simple());
    match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let Some(p) = f
                .get("code")
                .and_then(|c| idp.books.lock().unwrap().codes.remove(c))
            else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes()));
            if challenge != p.challenge || f.get("redirect_uri") != Some(&p.redirect_uri) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let id_token = idp.id_token(p.nonce.as_deref(), json!({}));
            let rt = idp.new_refresh_token();
            axum::Json(
                json!({"access_token": at, "token_type": "Bearer", "expires_in": 300,
                              "id_token": id_token, "refresh_token": rt}),
            )
            .into_response()
        }
        Some("refresh_token") => {
            let rt = f.get("refresh_token").cloned().unwrap_or_default();
            if !idp.books.lock().unwrap().refresh_tokens.contains(&rt) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let mut body = json!({"access_token": at, "token_type": "Bearer", "expires_in": 300});
            if k.rotate_refresh {
                idp.books.lock().unwrap().refresh_tokens.remove(&rt);
                body["refresh_token"] = json!(idp.new_refresh_token());
            }
            if k.refresh_id_token {
                body["id_token"] = json!(idp.id_token(None, json!({})));
            }
            axum::Json(body).into_response()
        }
        Some(super::device::DEVICE_CODE_GRANT) => device_poll(&idp, &f, at),
        _ => oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
}

/// RFC 8628 §3.1–3.2, with a 1 s interval so tests poll quickly.
async fn device_authorization(
    State(idp): State<TestIdp>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string());
    idp.books.lock().unwrap().requests.push((f.clone(), auth));
    let code = format!("labsecret_dc_{}", uuid::Uuid::new_v4().simple());
    idp.books.lock().unwrap().device_codes.insert(code.clone());
    let uri = format!("{}/device", idp.issuer);
    axum::Json(json!({
        "device_code": code, "user_code": "BCDF-GHJK", "verification_uri": uri,
        "verification_uri_complete": format!("{uri}?user_code=BCDF-GHJK"),
        "expires_in": 60, "interval": 1,
    }))
    .into_response()
}

/// A device-code poll: the next scripted answer, else tokens (an ID token without nonce).
fn device_poll(idp: &TestIdp, f: &HashMap<String, String>, at: String) -> Response {
    let mut books = idp.books.lock().unwrap();
    books.polls.push(std::time::Instant::now());
    let code = f.get("device_code").cloned().unwrap_or_default();
    if !books.device_codes.contains(&code) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let mut knobs = idp.knobs.lock().unwrap();
    if !knobs.device_answers.is_empty() {
        return oauth_error(StatusCode::BAD_REQUEST, knobs.device_answers.remove(0));
    }
    drop(knobs);
    books.device_codes.remove(&code);
    drop(books);
    let id_token = idp.id_token(None, json!({}));
    let rt = idp.new_refresh_token();
    axum::Json(
        json!({"access_token": at, "token_type": "Bearer", "expires_in": 300,
                      "id_token": id_token, "refresh_token": rt}),
    )
    .into_response()
}

async fn revoke(
    State(idp): State<TestIdp>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string());
    idp.books.lock().unwrap().requests.push((f.clone(), auth));
    if let Some(t) = f.get("token") {
        idp.books.lock().unwrap().refresh_tokens.remove(t);
    }
    StatusCode::OK.into_response()
}
