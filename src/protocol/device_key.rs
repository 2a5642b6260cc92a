//! This device's P-256 key for `private_key_jwt` (RFC 7523 §2.2): generated once, kept in the
//! OS keyring, its public JWK printed for the admin to register at the IdP or a connector.
//!
//! A per-device key is how EMA's "no client secrets in distributed native apps" rule
//! (EMA §7.5.1) is met without MDM-provisioned secrets.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::secret::Secret;

pub struct DeviceKey {
    secret: p256::SecretKey,
    kid: String,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceKeyError {
    #[error("the stored device key is not a valid P-256 PKCS#8 key")]
    Corrupt,
    #[error("signing failed: {0}")]
    Signing(String),
}

/// The public half, as a JWK the admin can paste into the IdP's client registration.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublicJwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub x: String,
    pub y: String,
    pub kid: String,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
}

impl DeviceKey {
    pub fn generate() -> Self {
        Self::from_secret_key(p256::SecretKey::random(&mut rand::rngs::OsRng))
    }

    /// The PKCS#8 PEM to store in the keyring.
    pub fn to_pem(&self) -> Secret {
        let pem = self
            .secret
            .to_pkcs8_pem(LineEnding::LF)
            // Encoding a valid in-memory key cannot fail.
            .expect("a P-256 key encodes as PKCS#8");
        Secret::new(pem.to_string())
    }

    pub fn from_pem(pem: &Secret) -> Result<Self, DeviceKeyError> {
        let secret =
            p256::SecretKey::from_pkcs8_pem(pem.expose()).map_err(|_| DeviceKeyError::Corrupt)?;
        Ok(Self::from_secret_key(secret))
    }

    fn from_secret_key(secret: p256::SecretKey) -> Self {
        let (x, y) = coordinates(&secret);
        // RFC 7638 thumbprint: members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = b64(&Sha256::digest(canonical.as_bytes()));
        Self { secret, kid }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public_jwk(&self) -> PublicJwk {
        let (x, y) = coordinates(&self.secret);
        PublicJwk {
            kty: "EC",
            crv: "P-256",
            x,
            y,
            kid: self.kid.clone(),
            alg: "ES256",
            use_: "sig",
        }
    }

    /// A short-lived client assertion: iss = sub = client_id, aud = the server, unique jti.
    pub fn client_assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: DateTime<Utc>,
    ) -> Result<Secret, DeviceKeyError> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            sub: &'a str,
            aud: &'a str,
            jti: String,
            iat: i64,
            exp: i64,
        }
        let claims = Claims {
            iss: client_id,
            sub: client_id,
            aud: audience,
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now.timestamp(),
            exp: (now + Duration::seconds(60)).timestamp(),
        };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let der = self
            .secret
            .to_pkcs8_der()
            .map_err(|e| DeviceKeyError::Signing(e.to_string()))?;
        let key = jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes());
        jsonwebtoken::encode(&header, &claims, &key)
            .map(Secret::new)
            .map_err(|e| DeviceKeyError::Signing(e.to_string()))
    }
}

fn coordinates(secret: &p256::SecretKey) -> (String, String) {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let point = secret.public_key().to_encoded_point(false);
    // An uncompressed point always has both coordinates.
    let x = point.x().expect("uncompressed point has x");
    let y = point.y().expect("uncompressed point has y");
    (b64(x), b64(y))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_keeps_the_kid() {
        let key = DeviceKey::generate();
        let back = DeviceKey::from_pem(&key.to_pem()).unwrap();
        assert_eq!(key.kid(), back.kid());
        assert_eq!(key.public_jwk(), back.public_jwk());
        assert!(DeviceKey::from_pem(&Secret::new("nope")).is_err());
    }

    #[test]
    fn assertion_verifies_with_the_public_jwk() {
        let key = DeviceKey::generate();
        let now = Utc::now();
        let jwt = key
            .client_assertion("lanyard", "https://as.example", now)
            .unwrap();
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(serde_json::to_value(key.public_jwk()).unwrap()).unwrap();
        let dk = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        v.set_audience(&["https://as.example"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(jwt.expose(), &dk, &v).unwrap();
        assert_eq!(data.claims["iss"], "lanyard");
        assert_eq!(data.claims["sub"], "lanyard");
        assert_eq!(data.header.kid.as_deref(), Some(key.kid()));
        assert_eq!(data.claims["exp"].as_i64().unwrap() - now.timestamp(), 60);
    }
}
