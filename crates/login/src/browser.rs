//! The browser flow: a callback server on 127.0.0.1 (port [`crate::DEFAULT_PORT`], or a free
//! one when that is taken), the issuer's sign-in page opened in the browser, and the code that
//! comes back exchanged for tokens (with the PKCE verifier) once its `state` is checked.

use std::collections::HashMap;
use std::path::Path;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::oauth::{Issuer, Pkce, random_b64};
use crate::{AuthDotJson, LoginError, storage};

const SUCCESS_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Signed in to Codex</title></head>\
<body style=\"font-family: sans-serif; margin: 4em\"><h1>Signed in to Codex</h1>\
<p>You can close this tab and go back to your terminal.</p></body></html>";

/// A started browser sign-in, waiting for its callback.
pub struct BrowserLogin {
    /// The URL to open (always printed too: over SSH there is no browser).
    pub auth_url: String,
    /// The port the callback server listens on.
    pub port: u16,
    listener: TcpListener,
    pkce: Pkce,
    state: String,
    redirect_uri: String,
}

impl std::fmt::Debug for BrowserLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserLogin")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl BrowserLogin {
    /// Listens on 127.0.0.1:`port` (a free port when it is taken) and builds the sign-in URL.
    pub async fn start(issuer: &Issuer, port: u16) -> Result<BrowserLogin, LoginError> {
        let listener = match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            Err(e) => {
                tracing::info!(port, error = %e, "callback port taken; using a free one");
                TcpListener::bind(("127.0.0.1", 0))
                    .await
                    .map_err(LoginError::Listen)?
            }
        };
        let port = listener.local_addr().map_err(LoginError::Listen)?.port();
        let pkce = Pkce::generate()?;
        let state = random_b64(32)?;
        let redirect_uri = format!("http://127.0.0.1:{port}/auth/callback");
        let auth_url = issuer.authorize_url(&redirect_uri, &pkce, &state)?;
        Ok(BrowserLogin {
            auth_url,
            port,
            listener,
            pkce,
            state,
            redirect_uri,
        })
    }

    /// Serves requests until the callback arrives; then exchanges the code, saves the tokens
    /// in `codex_home` and answers the browser. Nothing is saved when anything fails.
    pub async fn finish(
        self,
        issuer: &Issuer,
        codex_home: &Path,
    ) -> Result<AuthDotJson, LoginError> {
        loop {
            let (mut conn, _) = self.listener.accept().await.map_err(LoginError::Listen)?;
            let Some(target) = read_target(&mut conn).await else {
                continue;
            };
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            if path != "/auth/callback" {
                respond(&mut conn, 404, "text/plain", "Not Found").await;
                continue;
            }
            let params: HashMap<String, String> =
                reqwest::Url::parse(&format!("http://x/?{query}"))
                    .map(|u| u.query_pairs().into_owned().collect())
                    .unwrap_or_default();
            let result = self.handle(issuer, codex_home, &params).await;
            match &result {
                Ok(_) => respond(&mut conn, 200, "text/html; charset=utf-8", SUCCESS_PAGE).await,
                Err(e) => {
                    respond(&mut conn, 400, "text/plain; charset=utf-8", &e.to_string()).await
                }
            }
            return result;
        }
    }

    async fn handle(
        &self,
        issuer: &Issuer,
        codex_home: &Path,
        params: &HashMap<String, String>,
    ) -> Result<AuthDotJson, LoginError> {
        let state_ok = params.get("state").map(String::as_str) == Some(self.state.as_str());
        tracing::info!(
            state_ok,
            has_code = params.contains_key("code"),
            has_error = params.contains_key("error"),
            "sign-in callback"
        );
        if !state_ok {
            return Err(LoginError::StateMismatch);
        }
        if let Some(error) = params.get("error") {
            return Err(LoginError::Denied {
                error: error.chars().take(100).collect(),
                description: params
                    .get("error_description")
                    .map(|d| d.chars().take(200).collect()),
            });
        }
        let code = params
            .get("code")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| LoginError::BadAnswer("the callback carries no code".into()))?;
        let tokens = issuer
            .exchange_code(code, &self.redirect_uri, &self.pkce.verifier)
            .await?;
        let auth = AuthDotJson::chatgpt(tokens);
        storage::save(codex_home, &auth)?;
        Ok(auth)
    }
}

/// The request target of one HTTP request (the head is read up to 16 KiB), or `None` for a
/// connection that says nothing useful.
async fn read_target(conn: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), conn.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let line = head.lines().next()?;
    let mut parts = line.split(' ');
    let _method = parts.next()?;
    parts.next().map(str::to_string)
}

async fn respond(conn: &mut TcpStream, status: u16, content_type: &str, body: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let reply = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser may already be gone; the sign-in's outcome does not depend on this page.
    let _ = conn.write_all(reply.as_bytes()).await;
    let _ = conn.shutdown().await;
}

/// Opens `url` with `$BROWSER` (`%s` is the URL, else it is appended; the first of a
/// colon-separated list) or the platform's opener. `false` when nothing could be started:
/// the caller has printed the URL anyway.
pub fn open(url: &str) -> bool {
    let mut command = match std::env::var(crate::env::BROWSER)
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        Some(browser) => {
            let first = browser.split(':').next().unwrap_or_default().to_string();
            let mut words = first
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>();
            if words.iter().any(|w| w.contains("%s")) {
                for w in &mut words {
                    *w = w.replace("%s", url);
                }
            } else {
                words.push(url.to_string());
            }
            let Some((program, args)) = words.split_first() else {
                return false;
            };
            let mut c = std::process::Command::new(program);
            c.args(args);
            c
        }
        None if cfg!(target_os = "macos") => {
            let mut c = std::process::Command::new("open");
            c.arg(url);
            c
        }
        None if cfg!(windows) => {
            let mut c = std::process::Command::new("cmd");
            c.args(["/c", "start", ""]).arg(url);
            c
        }
        None => {
            let mut c = std::process::Command::new("xdg-open");
            c.arg(url);
            c
        }
    };
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    match command.spawn() {
        Ok(mut child) => {
            // Reaped in the background: a browser may outlive the sign-in.
            let _ = std::thread::Builder::new()
                .name("browser-reaper".into())
                .spawn(move || child.wait());
            true
        }
        Err(e) => {
            tracing::info!(error = %e, "cannot start a browser");
            false
        }
    }
}
