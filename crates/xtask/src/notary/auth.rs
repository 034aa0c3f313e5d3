//! The App Store Connect API key and the short-lived ES256 tokens (JWT) it signs for every
//! request to the notary API.

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};

use crate::env::EnvVar;

/// What every token says it is for.
pub const AUDIENCE: &str = "appstoreconnect-v1";

/// How long a token is valid. Apple refuses tokens that live longer than 20 minutes; a fresh one
/// is made for each request, so a long wait never outlives its token.
pub const TOKEN_LIFETIME_SECS: u64 = 15 * 60;

/// An App Store Connect API key: its id, its team's issuer id and the P-256 private key.
pub struct ApiKey {
    key_id: String,
    issuer: String,
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("key_id", &self.key_id)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// The key from `CODEX_APPLE_API_KEY_ID`, `CODEX_APPLE_API_ISSUER` and
    /// `CODEX_APPLE_API_KEY_P8`; one error naming every variable that is missing.
    pub fn from_env() -> Result<ApiKey> {
        let vars = [
            EnvVar::AppleApiKeyId,
            EnvVar::AppleApiIssuer,
            EnvVar::AppleApiKeyP8,
        ];
        let [id, issuer, p8] = vars.map(EnvVar::get);
        match (id, issuer, p8) {
            (Some(id), Some(issuer), Some(p8)) => ApiKey::new(&id, &issuer, &p8),
            _ => {
                let missing: Vec<&str> = vars
                    .iter()
                    .filter(|v| v.get().is_none())
                    .map(|v| v.name())
                    .collect();
                bail!(
                    "notarization needs an App Store Connect API key: set {} (docs/releasing.md says where they come from)",
                    missing.join(", ")
                )
            }
        }
    }

    /// A key from its parts; `p8` is the PEM text of the `.p8` file App Store Connect gave.
    pub fn new(key_id: &str, issuer: &str, p8: &str) -> Result<ApiKey> {
        let p8_var = EnvVar::AppleApiKeyP8.name();
        let der = pem_body(p8).with_context(|| {
            format!("{p8_var} must hold the whole text of the AuthKey_<id>.p8 file, -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----")
        })?;
        let rng = SystemRandom::new();
        // The error says nothing about the key's bytes, only what is wrong with them.
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng)
            .map_err(|e| {
                anyhow::anyhow!(
                    "{p8_var} is not a PKCS#8 P-256 private key ({e}); paste the whole AuthKey_<id>.p8 file App Store Connect gave"
                )
            })?;
        for (value, var) in [
            (key_id, EnvVar::AppleApiKeyId),
            (issuer, EnvVar::AppleApiIssuer),
        ] {
            if value.trim() != value || value.chars().any(|c| c.is_control() || c == '"') {
                bail!("{} holds spaces, quotes or control characters", var.name());
            }
        }
        Ok(ApiKey {
            key_id: key_id.to_owned(),
            issuer: issuer.to_owned(),
            pair,
            rng,
        })
    }

    /// The key id, as named in the tokens' `kid`.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public half (uncompressed SEC1 point), for tests that check tokens.
    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// A bearer token issued at `now` (seconds since the epoch).
    pub fn token(&self, now: u64) -> Result<String> {
        let header = serde_json::json!({ "alg": "ES256", "kid": self.key_id, "typ": "JWT" });
        let claims = serde_json::json!({
            "iss": self.issuer,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECS,
            "aud": AUDIENCE,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self
            .pair
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| anyhow::anyhow!("signing the App Store Connect token failed"))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(sig.as_ref())
        ))
    }
}

/// The DER inside a PEM `PRIVATE KEY` block; also takes the block with its line breaks
/// flattened to spaces or `\n` escapes, as secrets stores sometimes hand it over.
fn pem_body(text: &str) -> Result<Vec<u8>> {
    let text = text.replace("\\n", "\n");
    let begin = "-----BEGIN PRIVATE KEY-----";
    let end = "-----END PRIVATE KEY-----";
    let start = text.find(begin).context("no BEGIN PRIVATE KEY line")? + begin.len();
    let stop = text[start..].find(end).context("no END PRIVATE KEY line")? + start;
    let b64: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD
        .decode(b64)
        .map_err(|_| anyhow::anyhow!("the key block is not base64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_key() -> ApiKey {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("generate");
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(pkcs8.as_ref())
        );
        ApiKey::new("KEY123", "issuer-uuid", &pem).expect("key")
    }

    #[test]
    fn tokens_are_es256_signed_for_app_store_connect_and_short_lived() {
        let key = test_key();
        let token = key.token(1_000).expect("token");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], "KEY123");
        assert_eq!(claims["aud"], AUDIENCE);
        assert_eq!(claims["iss"], "issuer-uuid");
        assert!(claims["exp"].as_u64().expect("exp") - 1_000 <= 20 * 60);
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            key.public_key(),
        );
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).expect("b64");
        public
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .expect("the signature verifies with the public half");
    }

    #[test]
    fn a_key_that_is_not_pkcs8_p256_is_refused_without_echoing_it() {
        let err = ApiKey::new(
            "K",
            "I",
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----",
        )
        .expect_err("not a key");
        let msg = format!("{err:#}");
        assert!(msg.contains("CODEX_APPLE_API_KEY_P8"), "{msg}");
        assert!(!msg.contains("c2VjcmV0LWJ5dGVz"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }
}
