//! HTTP for release channels: rustls with webpki roots plus `SSL_CERT_FILE`, proxies from the
//! environment, retries with backoff, resumable downloads, GitHub rate limits reported as such,
//! and no redirect from https down to http.

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use indicatif::ProgressBar;
use tokio::io::AsyncWriteExt;

use crate::settings::EnvVar;

/// Why a request failed, worded for the user.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// GitHub's rate limit (403 with no remaining quota, or 429 after retries).
    #[error(
        "GitHub rate limit reached for {url}{reset}; set GITHUB_TOKEN or GH_TOKEN and try again"
    )]
    RateLimited {
        /// The URL that was refused.
        url: String,
        /// " (resets in N min)" when the server said when.
        reset: String,
    },
    /// 404.
    #[error("not found (404): {url}")]
    NotFound {
        /// The missing URL.
        url: String,
    },
    /// Another unsuccessful status, after retries where retrying made sense.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// Could not connect, timed out, or the connection broke, after retries.
    #[error("cannot download {url}: {detail}; check the network, or the proxy in HTTPS_PROXY")]
    Network {
        /// The URL.
        url: String,
        /// The underlying error chain.
        detail: String,
    },
    /// A redirect from https to http.
    #[error(
        "refusing a redirect from https to plain http ({to}); the release source must stay on https"
    )]
    Downgrade {
        /// Where the redirect pointed.
        to: String,
    },
    /// The body kept ending before its announced length.
    #[error("download of {url} kept ending early ({got} of {expected} bytes); try again later")]
    Truncated {
        /// The URL.
        url: String,
        /// Bytes received.
        got: u64,
        /// Bytes expected.
        expected: u64,
    },
    /// The body is larger than the release allows (a signed size, or a cap for manifests and
    /// signatures); nothing of it was kept.
    #[error(
        "{url} is larger than {limit} bytes{what}, so the download was stopped and discarded; the release source is broken or hostile: check --base-url or CODEX_RELEASE_BASE_URL"
    )]
    TooLarge {
        /// The URL.
        url: String,
        /// The most that was allowed.
        limit: u64,
        /// What the limit is, e.g. " (its size in the signed manifest)".
        what: &'static str,
    },
    /// A local file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// `SSL_CERT_FILE` could not be used.
    #[error("cannot use the certificates in SSL_CERT_FILE={path}: {detail}")]
    CertFile {
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
}

impl FetchError {
    fn retryable(&self) -> bool {
        match self {
            FetchError::Network { .. } | FetchError::Truncated { .. } => true,
            FetchError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// [`FetchError::TooLarge`]'s `what` for an archive, whose limit is the size the signed manifest
/// gives it.
pub const SIGNED_SIZE: &str = " (its size in the signed manifest)";

/// Marker error returned by the redirect policy.
#[derive(Debug, thiserror::Error)]
#[error("https to http redirect to {0}")]
struct DowngradeRedirect(String);

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total attempts, first included.
    pub attempts: u32,
    /// Delay before the first retry; doubled for each further one.
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_delay: Duration::from_millis(250),
        }
    }
}

/// An HTTP client configured for release downloads.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    retry: RetryPolicy,
    api_base: String,
    token: Option<String>,
}

/// The GitHub API base: `CODEX_GITHUB_API_URL` or `https://api.github.com`.
pub fn github_api_base() -> String {
    EnvVar::GithubApiUrl
        .get()
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| "https://api.github.com".to_owned())
}

impl Http {
    /// A client with the user's proxy and CA settings.
    pub fn new(retry: RetryPolicy) -> Result<Http, FetchError> {
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            let downgrade = attempt.url().scheme() == "http"
                && attempt.previous().iter().any(|u| u.scheme() == "https");
            if downgrade {
                let to = attempt.url().to_string();
                attempt.error(DowngradeRedirect(to))
            } else if attempt.previous().len() >= 10 {
                attempt.error("too many redirects")
            } else {
                attempt.follow()
            }
        });
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("codex-installer/", env!("CARGO_PKG_VERSION")))
            .redirect(policy)
            .connect_timeout(Duration::from_secs(15))
            .read_timeout(Duration::from_secs(60))
            .min_tls_version(reqwest::tls::Version::TLS_1_2);
        if let Some(path) = EnvVar::SslCertFile.get() {
            let err = |detail: String| FetchError::CertFile {
                path: path.clone(),
                detail,
            };
            let pem = std::fs::read(&path).map_err(|e| err(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| err(e.to_string()))?;
            if certs.is_empty() {
                return Err(err("no PEM certificates in the file".into()));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(|e| FetchError::Network {
            url: String::new(),
            detail: error_chain(&e),
        })?;
        Ok(Http {
            client,
            retry,
            api_base: github_api_base(),
            token: EnvVar::GithubToken.get().or_else(|| EnvVar::GhToken.get()),
        })
    }

    /// The configured GitHub API base URL.
    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    fn request(&self, url: &str) -> reqwest::RequestBuilder {
        let mut req = self.client.get(url);
        // Tokens go to the GitHub API only: never to a mirror or to the download CDN.
        if let Some(token) = self
            .token
            .as_deref()
            .filter(|_| url.starts_with(&self.api_base))
        {
            req = req
                .bearer_auth(token)
                .header("X-GitHub-Api-Version", "2022-11-28");
        }
        req
    }

    /// GETs `url` into memory, retrying transient failures. A body longer than `limit` bytes
    /// (announced or sent) is refused as soon as that is known.
    pub async fn get_bytes(&self, url: &str, limit: u64) -> Result<Vec<u8>, FetchError> {
        let too_large = || FetchError::TooLarge {
            url: url.to_owned(),
            limit,
            what: "",
        };
        self.with_retries(url, || async {
            let resp = self.send(url, self.request(url)).await?;
            let expected = resp.content_length();
            if expected.is_some_and(|n| n > limit) {
                return Err(too_large());
            }
            let mut body = Vec::with_capacity(expected.unwrap_or(0) as usize);
            let mut stream = resp.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| network(url, &e))?;
                if body.len() as u64 + chunk.len() as u64 > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            if let Some(expected) = expected.filter(|n| *n != body.len() as u64) {
                return Err(FetchError::Truncated {
                    url: url.to_owned(),
                    got: body.len() as u64,
                    expected,
                });
            }
            Ok(body)
        })
        .await
    }

    /// Downloads `url` to `dest`, resuming from what `dest` already holds when the server
    /// supports ranges (so an interrupted download continues where it stopped). Never more than
    /// `expected_size` bytes: a body announced or sent longer is refused and `dest` removed.
    pub async fn download(
        &self,
        url: &str,
        dest: &Path,
        expected_size: u64,
        bar: &ProgressBar,
    ) -> Result<(), FetchError> {
        let io = |e: std::io::Error| FetchError::Io {
            path: dest.display().to_string(),
            source: e,
        };
        bar.set_length(expected_size);
        self.with_retries(url, || async {
            let mut have = tokio::fs::metadata(dest)
                .await
                .map(|m| m.len())
                .unwrap_or(0);
            if have > expected_size {
                have = 0;
            }
            if have == expected_size && expected_size > 0 {
                return Ok(());
            }
            let mut req = self.request(url);
            if have > 0 {
                req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
            }
            let resp = match self.send(url, req).await {
                Err(FetchError::Status { status: 416, .. }) => {
                    // Our partial file does not fit the server's; start over.
                    let _ = tokio::fs::remove_file(dest).await;
                    return Err(FetchError::Truncated {
                        url: url.to_owned(),
                        got: 0,
                        expected: expected_size,
                    });
                }
                other => other?,
            };
            let resumed = resp.status() == reqwest::StatusCode::PARTIAL_CONTENT && have > 0;
            let too_large = || async {
                let _ = tokio::fs::remove_file(dest).await;
                FetchError::TooLarge {
                    url: url.to_owned(),
                    limit: expected_size,
                    what: SIGNED_SIZE,
                }
            };
            let from = if resumed { have } else { 0 };
            if resp
                .content_length()
                .is_some_and(|n| from.saturating_add(n) > expected_size)
            {
                return Err(too_large().await);
            }
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(resumed)
                .truncate(!resumed)
                .open(dest)
                .await
                .map_err(io)?;
            let mut got = if resumed { have } else { 0 };
            bar.set_position(got);
            let mut stream = resp.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(e) => {
                        // Keep what arrived: the retry continues from here with a Range request.
                        file.flush().await.map_err(io)?;
                        tracing::debug!("body of {url} broke off at {got} bytes: {e}");
                        return Err(FetchError::Truncated {
                            url: url.to_owned(),
                            got,
                            expected: expected_size,
                        });
                    }
                };
                if got + chunk.len() as u64 > expected_size {
                    drop(file);
                    return Err(too_large().await);
                }
                file.write_all(&chunk).await.map_err(io)?;
                got += chunk.len() as u64;
                bar.set_position(got);
            }
            file.flush().await.map_err(io)?;
            file.sync_all().await.map_err(io)?;
            if got != expected_size {
                return Err(FetchError::Truncated {
                    url: url.to_owned(),
                    got,
                    expected: expected_size,
                });
            }
            Ok(())
        })
        .await
    }

    /// Sends a request and turns unsuccessful statuses into errors.
    async fn send(
        &self,
        url: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, FetchError> {
        let resp = req
            .send()
            .await
            .map_err(|e| match find_source::<DowngradeRedirect>(&e) {
                Some(d) => FetchError::Downgrade { to: d.0.clone() },
                None => network(url, &e),
            })?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(resp);
        }
        let headers = resp.headers();
        let remaining = headers
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        if status == 403 && remaining == Some("0") {
            let reset = headers
                .get("x-ratelimit-reset")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .and_then(|at| {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .ok()?
                        .as_secs();
                    Some(format!(
                        " (resets in {} min)",
                        at.saturating_sub(now).div_ceil(60)
                    ))
                })
                .unwrap_or_default();
            return Err(FetchError::RateLimited {
                url: url.to_owned(),
                reset,
            });
        }
        if status == 404 {
            return Err(FetchError::NotFound {
                url: url.to_owned(),
            });
        }
        Err(FetchError::Status {
            url: url.to_owned(),
            status,
        })
    }

    async fn with_retries<T, F, Fut>(&self, url: &str, mut op: F) -> Result<T, FetchError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, FetchError>>,
    {
        let mut delay = self.retry.first_delay;
        let mut attempt = 1;
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                // A 429 is worth a wait; a 403 rate limit resets in an hour, so it is not.
                Err(e) if attempt < self.retry.attempts && e.retryable() => {
                    // Retries are routine; the final error, if any, is what the user needs.
                    tracing::info!(
                        "attempt {attempt} for {url} failed: {e}; retrying in {delay:?}"
                    );
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                Err(FetchError::Status { url, status: 429 }) => {
                    return Err(FetchError::RateLimited {
                        url,
                        reset: String::new(),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn network(url: &str, e: &reqwest::Error) -> FetchError {
    FetchError::Network {
        url: url.to_owned(),
        detail: error_chain(e),
    }
}

/// The error and its causes on one line, without reqwest's repetition of the URL.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        let text = text.split(" for url (").next().unwrap_or(&text).to_owned();
        if !parts.contains(&text) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

fn find_source<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<T>() {
            return Some(t);
        }
        cur = err.source();
    }
    None
}
