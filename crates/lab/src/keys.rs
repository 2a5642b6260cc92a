//! The IdP's ES256 signing key: JWT signing (ID tokens, ID-JAGs), the published JWKS, and
//! signature verification with a JWK (the IdP's own keys and clients' `private_key_jwt` keys).
//!
//! The key is parsed once: signing uses the ready `p256` key (`jsonwebtoken` would re-parse
//! PKCS#8 and recompute the public point on every signature), and the IdP's own ID tokens,
//! which a client presents once per connector, are verified once per key.

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use p256::ecdsa::signature::Signer as _;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// How many distinct verified tokens `verify_own` remembers before starting over.
const VERIFIED_CAP: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("not a usable P-256 JWK: {0}")]
    BadJwk(String),
    #[error("the JWT is malformed: {0}")]
    Malformed(String),
    #[error("the JWT's alg is not ES256")]
    Algorithm,
    #[error("the JWT's signature does not verify")]
    Signature,
}

pub struct SigningKey {
    signing: p256::ecdsa::SigningKey,
    decoding: DecodingKey,
    /// Token text -> claims, for tokens whose signature this key already checked.
    verified: Mutex<HashMap<String, Value>>,
    kid: String,
    x: String,
    y: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn generate() -> Result<Self, KeyError> {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let point = secret.public_key().to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(KeyError::Signing("compressed point".into()));
        };
        let (x, y) = (b64(x), b64(y));
        // RFC 7638 thumbprint, so the kid changes exactly when the key does.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = b64(&Sha256::digest(canonical.as_bytes()));
        let decoding = DecodingKey::from_ec_components(&x, &y)
            .map_err(|e| KeyError::Signing(e.to_string()))?;
        Ok(Self {
            signing: p256::ecdsa::SigningKey::from(secret),
            decoding,
            verified: Mutex::new(HashMap::new()),
            kid,
            x,
            y,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `claims` with ES256, this key's `kid`, and the given `typ` header (RFC 7515
    /// compact serialization; RFC 7518 §3.4: the signature is `R || S`, 64 bytes).
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, KeyError> {
        let header = json!({"alg": "ES256", "typ": typ, "kid": self.kid});
        let claims = serde_json::to_vec(claims).map_err(|e| KeyError::Signing(e.to_string()))?;
        let mut jws = format!("{}.{}", b64(header.to_string().as_bytes()), b64(&claims));
        let signature: p256::ecdsa::Signature = self.signing.sign(jws.as_bytes());
        jws.push('.');
        jws.push_str(&b64(&signature.to_bytes()));
        Ok(jws)
    }

    /// `verify_es256` with this key, remembering the answer for tokens that verified: the
    /// same bytes under the same key always give the same claims, and a rotation makes a new
    /// key with an empty memory. Only for tokens presented more than once (ID tokens).
    pub fn verify_own(&self, token: &str) -> Result<Value, KeyError> {
        let lock = || self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(claims) = lock().get(token) {
            return Ok(claims.clone());
        }
        let claims = verify_es256(token, &self.decoding)?;
        let mut memory = lock();
        if memory.len() >= VERIFIED_CAP {
            memory.clear();
        }
        memory.insert(token.to_string(), claims.clone());
        Ok(claims)
    }

    pub fn public_jwk(&self) -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": self.x, "y": self.y,
               "kid": self.kid, "alg": "ES256", "use": "sig"})
    }

    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }
}

/// A client's registered public key (`private_key_jwt`).
pub fn decoding_key_from_jwk(jwk: &Value) -> Result<DecodingKey, KeyError> {
    let x = jwk.get("x").and_then(Value::as_str);
    let y = jwk.get("y").and_then(Value::as_str);
    match (jwk.get("kty").and_then(Value::as_str), x, y) {
        (Some("EC"), Some(x), Some(y)) => {
            DecodingKey::from_ec_components(x, y).map_err(|e| KeyError::BadJwk(e.to_string()))
        }
        _ => Err(KeyError::BadJwk("need kty EC with x and y".into())),
    }
}

/// The JOSE header, read before verification to pick the key and check `alg`/`typ`.
pub fn header_of(token: &str) -> Result<Header, KeyError> {
    jsonwebtoken::decode_header(token).map_err(|e| KeyError::Malformed(e.to_string()))
}

/// Verifies an ES256 signature and returns the claims. Time, audience and issuer checks are
/// left to the caller, which does them against the lab clock with explicit skew.
pub fn verify_es256(token: &str, key: &DecodingKey) -> Result<Value, KeyError> {
    if header_of(token)?.alg != Algorithm::ES256 {
        return Err(KeyError::Algorithm);
    }
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => KeyError::Signature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => KeyError::Algorithm,
            _ => KeyError::Malformed(e.to_string()),
        })
}

/// Claims without verification: only to learn which client an assertion claims to be.
pub fn insecure_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_with_its_jwk() {
        let key = SigningKey::generate().unwrap();
        let token = key.sign("JWT", &json!({"sub": "u-ada"})).unwrap();
        let header = header_of(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let from_jwk = decoding_key_from_jwk(&key.public_jwk()).unwrap();
        assert_eq!(verify_es256(&token, &from_jwk).unwrap()["sub"], "u-ada");
    }

    #[test]
    fn signatures_verify_with_jsonwebtoken_too() {
        let key = SigningKey::generate().unwrap();
        let token = key.sign("oauth-id-jag+jwt", &json!({"aud": "x"})).unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Value>(&token, key.decoding_key(), &validation).unwrap();
        assert_eq!(data.header.typ.as_deref(), Some("oauth-id-jag+jwt"));
        assert_eq!(data.claims["aud"], "x");
    }

    #[test]
    fn verify_own_remembers_only_what_verified() {
        let key = SigningKey::generate().unwrap();
        let token = key.sign("JWT", &json!({"sub": "u-ada"})).unwrap();
        assert_eq!(key.verify_own(&token).unwrap()["sub"], "u-ada");
        assert_eq!(key.verify_own(&token).unwrap()["sub"], "u-ada");
        // Another first character of the signature: still well-formed, no longer valid.
        let at = token.rfind('.').unwrap() + 1;
        let swap = if &token[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{swap}{}", &token[..at], &token[at + 1..]);
        assert!(key.verify_own(&tampered).is_err());
        assert!(key.verify_own(&tampered).is_err());
        let other = SigningKey::generate().unwrap();
        assert!(other.verify_own(&token).is_err());
    }

    #[test]
    fn another_key_does_not_verify() {
        let a = SigningKey::generate().unwrap();
        let b = SigningKey::generate().unwrap();
        let token = a.sign("JWT", &json!({"sub": "x"})).unwrap();
        assert!(matches!(
            verify_es256(&token, b.decoding_key()),
            Err(KeyError::Signature)
        ));
        assert_ne!(a.kid(), b.kid());
    }

    #[test]
    fn alg_none_is_refused() {
        let none = format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT"}"#),
            b64(br#"{"sub":"x"}"#)
        );
        let key = SigningKey::generate().unwrap();
        assert!(verify_es256(&none, key.decoding_key()).is_err());
    }
}
