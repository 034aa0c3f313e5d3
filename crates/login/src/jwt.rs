//! Reading (not verifying) the claims of the issuer's JWTs: codex only needs to know when the
//! access token expires and which account the ID token names. The issuer's TLS connection is
//! what vouches for them; the model provider verifies them.

use base64::Engine as _;

/// The claims codex uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    /// `exp`: expiry, in seconds since the Unix epoch.
    pub exp: Option<i64>,
    /// `email`.
    pub email: Option<String>,
    /// `https://api.openai.com/auth` → `chatgpt_account_id`.
    pub account_id: Option<String>,
    /// `https://api.openai.com/auth` → `chatgpt_plan_type`.
    pub plan_type: Option<String>,
}

/// The claims of `token`, or `None` when it is not a JWT with a JSON payload.
pub fn claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let auth = v.get("https://api.openai.com/auth");
    let text = |v: Option<&serde_json::Value>| v.and_then(|s| s.as_str()).map(str::to_string);
    Some(Claims {
        exp: v.get("exp").and_then(serde_json::Value::as_i64),
        email: text(v.get("email")),
        account_id: text(auth.and_then(|a| a.get("chatgpt_account_id"))),
        plan_type: text(auth.and_then(|a| a.get("chatgpt_plan_type"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &serde_json::Value) -> String {
        let b = |s: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.{}",
            b(b"{\"alg\":\"none\"}"),
            b(payload.to_string().as_bytes()),
            b(b"sig")
        )
    }

    #[test]
    fn expiry_account_and_email_are_read_from_the_payload() {
        let t = jwt(&serde_json::json!({
            "exp": 1_900_000_000,
            "email": "a@example.com",
            "https://api.openai.com/auth": {"chatgpt_account_id": "acct-1", "chatgpt_plan_type": "plus"}
        }));
        assert_eq!(
            claims(&t),
            Some(Claims {
                exp: Some(1_900_000_000),
                email: Some("a@example.com".into()),
                account_id: Some("acct-1".into()),
                plan_type: Some("plus".into()),
            })
        );
    }

    #[test]
    fn a_token_that_is_not_a_jwt_has_no_claims() {
        assert_eq!(claims("sk-plain-key"), None);
        assert_eq!(claims("a.b.c.d"), None);
        assert_eq!(claims("a.!!!.c"), None);
    }
}
