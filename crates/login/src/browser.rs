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
        // The issuer accepts redirects to 1455 and 1457; any other port only works with an
        // issuer that accepts any loopback port (RFC 8252, 7.3), but beats not signing in.
        let mut listener = None;
        for candidate in [port, crate::FALLBACK_PORT, 0] {
            match TcpListener::bind(("127.0.0.1", candidate)).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(e) if candidate != 0 => {
                    tracing::info!(port = candidate, error = %e, "callback port taken");
                }
                Err(e) => return Err(LoginError::Listen(e)),
            }
        }
        let listener = listener
            .ok_or_else(|| LoginError::Listen(std::io::Error::other("no port to listen on")))?;
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
    ///
    /// Any local process can connect to the callback port, so each connection's request is
    /// read on its own task, within [`REQUEST_DEADLINE`] in all and with at most
    /// [`MAX_PENDING`] being read at once: a client that says nothing, or trickles bytes,
    /// cannot hold up the browser's callback or grow codex's memory.
    pub async fn finish(
        self,
        issuer: &Issuer,
        codex_home: &Path,
    ) -> Result<AuthDotJson, LoginError> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(TcpStream, String)>(MAX_PENDING);
        let pending = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_PENDING));
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (mut conn, _) = accepted.map_err(LoginError::Listen)?;
                    // Over the limit, a connection is dropped unread (closed).
                    let Ok(permit) = std::sync::Arc::clone(&pending).try_acquire_owned() else {
                        continue;
                    };
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let target = tokio::time::timeout(REQUEST_DEADLINE, read_target(&mut conn))
                            .await
                            .ok()
                            .flatten();
                        drop(permit);
                        if let Some(target) = target {
                            let _ = tx.send((conn, target)).await;
                        }
                    });
                }
                Some((mut conn, target)) = rx.recv() => {
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
                        Ok(_) => {
                            respond(&mut conn, 200, "text/html; charset=utf-8", SUCCESS_PAGE).await
                        }
                        Err(e) => {
                            respond(&mut conn, 400, "text/plain; charset=utf-8", &e.to_string())
                                .await
                        }
                    }
                    return result;
                }
            }
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

/// How long one connection may take to send its request head.
const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// How many connections' requests may be read at once.
const MAX_PENDING: usize = 32;

/// The request target of one HTTP request (the head is read up to 16 KiB), or `None` for a
/// connection that says nothing useful. The caller bounds the time it takes.
async fn read_target(conn: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = conn.read(&mut chunk).await.ok()?;
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

/// Opens `url` with `$BROWSER` or the platform's opener. `false` when nothing could be
/// started: the caller has printed the URL anyway.
pub fn open(url: &str) -> bool {
    let browser = std::env::var(crate::env::BROWSER).ok();
    let Some((program, args)) = opener(browser.as_deref(), url) else {
        return false;
    };
    let mut command = std::process::Command::new(program);
    command
        .args(args)
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

/// The program and arguments that open `url`: `$BROWSER` (the first of a `:`-separated list;
/// `%s` stands for the URL, else it is appended) when set, else `xdg-open`, `open` or
/// `cmd /c start`.
fn opener(browser: Option<&str>, url: &str) -> Option<(String, Vec<String>)> {
    let Some(browser) = browser.filter(|b| !b.trim().is_empty()) else {
        return Some(if cfg!(target_os = "macos") {
            ("open".into(), vec![url.into()])
        } else if cfg!(windows) {
            // `start` takes its first quoted argument as a window title: give it an empty one.
            (
                "cmd".into(),
                ["/c", "start", "", url].map(String::from).to_vec(),
            )
        } else {
            ("xdg-open".into(), vec![url.into()])
        });
    };
    let first = browser.split(':').next().unwrap_or_default();
    let mut words: Vec<String> = first.split_whitespace().map(str::to_string).collect();
    if words.iter().any(|w| w.contains("%s")) {
        for w in &mut words {
            *w = w.replace("%s", url);
        }
    } else {
        words.push(url.to_string());
    }
    let program = words.first()?.clone();
    Some((program, words.split_off(1)))
}

#[cfg(test)]
mod tests {
    use super::opener;

    #[test]
    fn browser_gets_the_url_appended_or_in_place_of_percent_s() {
        let url = "http://127.0.0.1:1455/x?a=b";
        assert_eq!(
            opener(Some("firefox --new-tab"), url),
            Some(("firefox".into(), vec!["--new-tab".into(), url.into()]))
        );
        assert_eq!(
            opener(Some("w3m -o x %s:lynx"), url),
            Some(("w3m".into(), vec!["-o".into(), "x".into(), url.into()]))
        );
    }

    #[test]
    fn without_browser_the_platform_opener_is_used() {
        let (program, args) = opener(Some("  "), "u").expect("opener");
        assert!(["xdg-open", "open", "cmd"].contains(&program.as_str()));
        assert_eq!(args.last().map(String::as_str), Some("u"));
    }
}
