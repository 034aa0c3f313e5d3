//! A client of Apple's Notary API v2 (App Store Connect): create a submission, upload the file
//! to the S3 bucket it names, read the submission's status and its log.

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::auth::ApiKey;
use super::sigv4::{self, Credentials};
use crate::env::EnvVar;

/// Apple's notary API when `CODEX_NOTARY_URL` is not set.
pub const DEFAULT_URL: &str = "https://appstoreconnect.apple.com";
/// The bucket URL when `CODEX_NOTARY_S3_URL` is not set.
pub const DEFAULT_S3_URL: &str = "https://{bucket}.s3.us-west-2.amazonaws.com";

/// The most an API answer may hold; Apple's are a few hundred bytes.
const MAX_ANSWER: usize = 1 << 20;
/// The most of a notary log that is read; a log lists every issue of one binary, a few KiB.
pub const MAX_LOG: usize = 4 << 20;
/// Tries per request before a network failure or a 5xx answer is an error.
const TRIES: u32 = 3;

/// A submission's state as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Notarized: Gatekeeper will find the ticket online.
    Accepted,
    /// Still being checked.
    InProgress,
    /// The binary failed the checks; the log says why.
    Invalid,
    /// Apple refused it (for example a revoked certificate); the log says why.
    Rejected,
    /// A state this client does not know; treated as a failure.
    Other(String),
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Accepted => "Accepted",
            Status::InProgress => "In Progress",
            Status::Invalid => "Invalid",
            Status::Rejected => "Rejected",
            Status::Other(s) => s,
        })
    }
}

/// A new submission: its id and where to upload the file.
#[derive(Debug)]
pub struct Submission {
    /// The submission id Apple assigned.
    pub id: String,
    /// Temporary credentials for the upload.
    pub credentials: Credentials,
    /// The bucket.
    pub bucket: String,
    /// The object key inside the bucket.
    pub object: String,
}

/// The notary API and the bucket, with the key that authenticates.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    s3: String,
    key: ApiKey,
    retry_pause: Duration,
}

impl Client {
    /// A client for `CODEX_NOTARY_URL` and `CODEX_NOTARY_S3_URL` (Apple's endpoints by default).
    /// `retry_pause` is the wait before a failed request is tried again.
    pub fn from_env(key: ApiKey, retry_pause: Duration) -> Result<Client> {
        let base = EnvVar::NotaryUrl
            .get()
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        let s3 = EnvVar::NotaryS3Url
            .get()
            .unwrap_or_else(|| DEFAULT_S3_URL.to_owned());
        let base = parse_endpoint(&base, EnvVar::NotaryUrl)?;
        parse_endpoint(&s3.replace("{bucket}", "bucket"), EnvVar::NotaryS3Url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            // None of these endpoints redirects; one that starts to is reported, not followed
            // with a token attached.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("creating the HTTP client")?;
        Ok(Client {
            http,
            base,
            s3,
            key,
            retry_pause,
        })
    }

    /// Creates a submission for a file called `name` with SHA-256 `sha256` (hex).
    pub async fn submit(&self, name: &str, sha256: &str) -> Result<Submission> {
        let body = serde_json::json!({ "submissionName": name, "sha256": sha256 });
        let v = self
            .api(Method::POST, "notary/v2/submissions", Some(body))
            .await?;
        let data = &v["data"];
        let attr = &data["attributes"];
        let field = |value: &Value, what: &str| -> Result<String> {
            value
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("the notary service's new submission has no {what}"))
        };
        Ok(Submission {
            id: field(&data["id"], "id")?,
            credentials: Credentials {
                access_key_id: field(&attr["awsAccessKeyId"], "awsAccessKeyId")?,
                secret_access_key: field(&attr["awsSecretAccessKey"], "awsSecretAccessKey")?,
                session_token: field(&attr["awsSessionToken"], "awsSessionToken")?,
            },
            bucket: field(&attr["bucket"], "bucket")?,
            object: field(&attr["object"], "object")?,
        })
    }

    /// Uploads `bytes` where `sub` says, signed with its temporary credentials.
    pub async fn upload(&self, sub: &Submission, bytes: Vec<u8>) -> Result<()> {
        if sub.bucket.is_empty()
            || !sub
                .bucket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            bail!(
                "the notary service named an odd bucket {:?}; refusing to upload there",
                sub.bucket
            );
        }
        let base = self.s3.replace("{bucket}", &sub.bucket);
        let url = format!(
            "{}/{}",
            base.trim_end_matches('/'),
            sigv4::encode_key(sub.object.trim_start_matches('/'))
        );
        let url = Url::parse(&url).with_context(|| format!("bad upload URL {url}"))?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => bail!("the upload URL {url} has no host"),
        };
        let payload = sigv4::hex(&Sha256::digest(&bytes));
        let date = sigv4::amz_date(now());
        let headers = sigv4::sign(
            &sigv4::Request {
                method: "PUT",
                host: &host,
                path: url.path(),
                query: "",
                headers: &[("x-amz-content-sha256", &payload)],
                payload_sha256: &payload,
                amz_date: &date,
                service: "s3",
                region: sigv4::REGION,
            },
            &sub.credentials,
        );
        let mut tries = 0;
        loop {
            tries += 1;
            let mut req = self
                .http
                .put(url.clone())
                // A 50 MB binary over a slow link; S3 itself answers fast.
                .timeout(Duration::from_secs(15 * 60))
                .body(bytes.clone());
            for (k, v) in &headers {
                req = req.header(k, v);
            }
            match req.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                Ok(resp) if resp.status().is_server_error() && tries < TRIES => {}
                Ok(resp) => {
                    let status = resp.status();
                    let text = read_capped(resp, MAX_ANSWER).await.unwrap_or_default();
                    bail!(
                        "the upload to {} was refused ({status}): {}",
                        strip_query(&url),
                        snippet(&String::from_utf8_lossy(&text))
                    );
                }
                Err(e) if tries < TRIES => drop(e),
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!(
                            "cannot upload to {} (after {TRIES} tries); check the network or {}",
                            strip_query(&url),
                            EnvVar::NotaryS3Url.name()
                        )
                    });
                }
            }
            tokio::time::sleep(self.retry_pause).await;
        }
    }

    /// The submission's current status.
    pub async fn status(&self, id: &str) -> Result<Status> {
        let v = self
            .api(
                Method::GET,
                &format!("notary/v2/submissions/{}", segment(id)?),
                None,
            )
            .await?;
        let status = v["data"]["attributes"]["status"]
            .as_str()
            .context("the notary service's answer has no status")?;
        Ok(match status {
            "Accepted" => Status::Accepted,
            "In Progress" => Status::InProgress,
            "Invalid" => Status::Invalid,
            "Rejected" => Status::Rejected,
            other => Status::Other(other.to_owned()),
        })
    }

    /// The submission's notary log (JSON text), at most [`MAX_LOG`] bytes of it.
    pub async fn log(&self, id: &str) -> Result<String> {
        let v = self
            .api(
                Method::GET,
                &format!("notary/v2/submissions/{}/logs", segment(id)?),
                None,
            )
            .await?;
        let url = v["data"]["attributes"]["developerLogUrl"]
            .as_str()
            .context("the notary service's answer has no developerLogUrl")?;
        let url = Url::parse(url).context("the developerLogUrl is not a URL")?;
        check_scheme(&url, "the notary log's developerLogUrl")?;
        // A presigned link: it carries its own authorization, so no token is sent along.
        let resp = self
            .http
            .get(url.clone())
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .with_context(|| format!("cannot download the notary log {}", strip_query(&url)))?;
        if !resp.status().is_success() {
            bail!(
                "the notary log {} answered {}",
                strip_query(&url),
                resp.status()
            );
        }
        let bytes = read_capped(resp, MAX_LOG).await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// One authenticated JSON request to the notary API, tried again on network errors and 5xx.
    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let url = self
            .base
            .join(path)
            .with_context(|| format!("bad notary API path {path}"))?;
        let mut tries = 0;
        loop {
            tries += 1;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .timeout(Duration::from_secs(60))
                .bearer_auth(self.key.token(now())?);
            if let Some(body) = &body {
                req = req
                    .header("content-type", "application/json")
                    .body(body.to_string());
            }
            let resp = match req.send().await {
                Ok(resp) => resp,
                Err(e) if tries < TRIES => {
                    drop(e);
                    tokio::time::sleep(self.retry_pause).await;
                    continue;
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!(
                            "cannot reach the notary service at {url} (after {TRIES} tries); check the network or {}",
                            EnvVar::NotaryUrl.name()
                        )
                    });
                }
            };
            let status = resp.status();
            if status.is_server_error() && tries < TRIES {
                tokio::time::sleep(self.retry_pause).await;
                continue;
            }
            let bytes = read_capped(resp, MAX_ANSWER).await?;
            let text = String::from_utf8_lossy(&bytes);
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                bail!(
                    "the notary service refused the App Store Connect API key ({status}: {}); check {}, {} and {} and that the key has the Developer role",
                    snippet(&text),
                    EnvVar::AppleApiKeyId.name(),
                    EnvVar::AppleApiIssuer.name(),
                    EnvVar::AppleApiKeyP8.name()
                );
            }
            if !status.is_success() {
                bail!(
                    "the notary service answered {status} to {method} {url}: {}",
                    snippet(&text)
                );
            }
            return serde_json::from_str(&text).with_context(|| {
                format!("the notary service's answer to {method} {url} is not JSON")
            });
        }
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn parse_endpoint(text: &str, var: EnvVar) -> Result<Url> {
    let mut url =
        Url::parse(text).with_context(|| format!("{} is not a URL: {text:?}", var.name()))?;
    check_scheme(&url, var.name())?;
    // `join` keeps a base's last segment only when it ends with a slash.
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok(url)
}

/// HTTPS, or plain HTTP to this machine (the tests' stand-ins): credentials and tokens never
/// cross a network in the clear.
fn check_scheme(url: &Url, what: &str) -> Result<()> {
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => bail!(
            "{what} must be an https:// URL (http:// only to this machine), not {}",
            strip_query(url)
        ),
    }
}

/// The URL without its query, which for presigned links holds a signature.
fn strip_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

fn segment(id: &str) -> Result<&str> {
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        bail!("the notary service gave an odd submission id {id:?}");
    }
    Ok(id)
}

/// The first 300 characters of `text` on one line.
fn snippet(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one_line = one_line.trim();
    match one_line.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &one_line[..i]),
        None => one_line.to_owned(),
    }
}

async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>> {
    let url = strip_query(resp.url());
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .with_context(|| format!("reading the answer of {url}"))?
    {
        if out.len() + chunk.len() > cap {
            bail!("the answer of {url} is larger than {cap} bytes");
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
