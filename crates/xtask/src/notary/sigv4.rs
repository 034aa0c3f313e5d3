//! AWS Signature Version 4 for the one request notarization makes to S3: a `PUT` of the zip
//! with the temporary credentials Apple hands out. A few dozen lines here instead of an AWS SDK,
//! which would add hundreds of crates to the build driver.

use ring::hmac;
use sha2::{Digest as _, Sha256};

/// The region Apple's notarization bucket lives in (Apple's notarytool uploads there too).
pub const REGION: &str = "us-west-2";

/// Temporary credentials from a new notary submission.
#[derive(Clone)]
pub struct Credentials {
    /// `awsAccessKeyId`.
    pub access_key_id: String,
    /// `awsSecretAccessKey`.
    pub secret_access_key: String,
    /// `awsSessionToken`.
    pub session_token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret and the token stay out of any log or error message.
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// What a request is signed over.
#[derive(Debug)]
pub struct Request<'a> {
    /// `PUT`, `GET`, ...
    pub method: &'a str,
    /// The `Host` header as sent (with `:port` when it is not the scheme's default).
    pub host: &'a str,
    /// The path, already URI-encoded the way S3 wants it (each segment, `/` kept).
    pub path: &'a str,
    /// The canonical query string (empty for an upload).
    pub query: &'a str,
    /// Headers to sign besides `host`, `x-amz-date` and `x-amz-security-token` (S3 wants
    /// `x-amz-content-sha256` among them).
    pub headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body.
    pub payload_sha256: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
    /// The service, `s3`.
    pub service: &'a str,
    /// The region.
    pub region: &'a str,
}

/// The headers a signed request carries: `(name, value)`, `authorization` among them.
pub fn sign(req: &Request<'_>, creds: &Credentials) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), req.host.into()),
        ("x-amz-date".into(), req.amz_date.into()),
    ];
    if !creds.session_token.is_empty() {
        headers.push(("x-amz-security-token".into(), creds.session_token.clone()));
    }
    for (k, v) in req.headers {
        headers.push((k.to_ascii_lowercase(), v.trim().to_owned()));
    }
    headers.sort();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    let signed = signed.join(";");
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let canonical = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed}\n{}",
        req.method, req.path, req.query, req.payload_sha256
    );
    let date = &req.amz_date[..8];
    let scope = format!("{date}/{}/{}/aws4_request", req.region, req.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        req.amz_date,
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = mac(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [req.region, req.service, "aws4_request"] {
        key = mac(&key, part.as_bytes());
    }
    let signature = hex(&mac(&key, to_sign.as_bytes()));
    headers.retain(|(k, _)| k != "host");
    headers.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
            creds.access_key_id
        ),
    ));
    headers
}

/// URI-encodes an S3 object key: every byte but the unreserved ones and `/`.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `YYYYMMDDTHHMMSSZ` for `epoch` seconds, the form SigV4 dates take.
pub fn amz_date(epoch: u64) -> String {
    let (y, mo, d, h, mi, s) = crate::archive::civil_from_epoch(epoch);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
        .as_ref()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's own worked example of SigV4 (the IAM `ListUsers` request of the "Signature Version 4
    /// signing process" guide), so this signer is checked against a value it did not compute.
    #[test]
    fn signs_aws_documented_example_to_its_published_signature() {
        let creds = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: String::new(),
        };
        let empty = hex(&Sha256::digest(b""));
        let headers = sign(
            &Request {
                method: "GET",
                host: "iam.amazonaws.com",
                path: "/",
                query: "Action=ListUsers&Version=2010-05-08",
                headers: &[(
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                )],
                payload_sha256: &empty,
                amz_date: "20150830T123600Z",
                service: "iam",
                region: "us-east-1",
            },
            &creds,
        );
        let auth = headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn keys_are_encoded_segment_by_segment() {
        assert_eq!(encode_key("prod/a b/c+d.zip"), "prod/a%20b/c%2Bd.zip");
    }

    #[test]
    fn dates_are_in_sigv4_form() {
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
    }
}
