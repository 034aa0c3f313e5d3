//! An OAuth issuer on loopback, the tests' stand-in for the sign-in server, speaking the
//! endpoints Codex 0.169 uses:
//!
//! - `GET /oauth/authorize`: redirects (302) to `redirect_uri` with a fresh `code` and the
//!   request's `state` (or, as [`Behaviour`] says, with `error=access_denied`, or a wrong state);
//! - `POST /oauth/token`: the `authorization_code` grant (form-encoded; the code is single-use
//!   and the `code_verifier` must match the S256 challenge it was issued for) and the
//!   `refresh_token` grant (JSON; the refresh token must be one it issued and not yet used);
//! - `POST /api/accounts/deviceauth/usercode` and `.../deviceauth/token`: the device-code flow,
//!   whose polls are answered by the scripted [`DeviceStep`]s.
//!
//! Tokens are unsigned JWTs (`alg: none`) whose payload carries `exp`, `email` and the ChatGPT
//! account id, so clients can read them. Every request is recorded.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use sha2::Digest as _;

use crate::{Request, read_request};

/// The account id the issuer's tokens name.
pub const ACCOUNT_ID: &str = "acct-test-7f3a";

/// How `/oauth/authorize` answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Behaviour {
    /// Redirect with a code and the client's state.
    #[default]
    Approve,
    /// Redirect with `error=access_denied` (the user declined).
    Deny,
    /// Redirect with a code but another state (a forged or stale callback).
    WrongState,
}

/// The answer to one device-code poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStep {
    /// 403 with no body, as 0.169's issuer answers while the user has not entered the code.
    Pending403,
    /// 400 `{"error": "authorization_pending"}` (RFC 8628).
    Pending,
    /// 400 `{"error": "slow_down"}`.
    SlowDown,
    /// 400 `{"error": "expired_token"}`.
    Expired,
    /// 400 `{"error": "access_denied"}` (the user declined).
    Denied,
    /// 200 with an authorization code to exchange.
    Approve,
}

/// One set of tokens the issuer handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The ID token (JWT).
    pub id_token: String,
    /// The access token (JWT with `exp`).
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
}

/// The running issuer. Dropping it stops it.
#[derive(Debug)]
pub struct Issuer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
    counter: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    behaviour: Behaviour,
    /// Pad token answers past any sane size (a hostile or broken issuer).
    oversized_tokens: bool,
    access_ttl_secs: i64,
    device_interval: u64,
    device_steps: VecDeque<DeviceStep>,
    /// Issued codes: code → (S256 challenge, redirect_uri).
    codes: HashMap<String, (String, String)>,
    /// Refresh tokens not used yet.
    refresh_tokens: Vec<String>,
    issued: Vec<Issued>,
    requests: Vec<Request>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::SeqCst)
    }
}

impl Issuer {
    /// Starts an issuer on a free port of 127.0.0.1 that approves sign-ins and issues access
    /// tokens valid for an hour; device polls are answered `Approve` once the steps run out.
    pub fn start() -> io::Result<Issuer> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                access_ttl_secs: 3600,
                device_interval: 1,
                ..State::default()
            }),
            stop: AtomicBool::new(false),
            counter: AtomicU64::new(1),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("issuer-accept".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if accept_shared.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(conn) = conn else { continue };
                    let shared = Arc::clone(&accept_shared);
                    let _ = std::thread::Builder::new()
                        .name("issuer-conn".into())
                        .spawn(move || {
                            let _ = serve(&shared, conn);
                        });
                }
            })?;
        Ok(Issuer {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The base URL to configure as `auth_issuer`: `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How `/oauth/authorize` answers from now on.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.shared.lock().behaviour = behaviour;
    }

    /// From now on, answers of the token endpoint carry 2 MiB of trailing white space after
    /// their JSON (still valid JSON): what a client that reads without a limit would swallow.
    pub fn set_oversized_token_answers(&self, on: bool) {
        self.shared.lock().oversized_tokens = on;
    }

    /// How long access tokens issued from now on are valid (negative: already expired).
    pub fn set_access_ttl(&self, secs: i64) {
        self.shared.lock().access_ttl_secs = secs;
    }

    /// The polling interval (seconds) the device-code endpoint announces.
    pub fn set_device_interval(&self, secs: u64) {
        self.shared.lock().device_interval = secs;
    }

    /// Scripts the answers to the next device-code polls.
    pub fn script_device(&self, steps: &[DeviceStep]) {
        self.shared
            .lock()
            .device_steps
            .extend(steps.iter().copied());
    }

    /// Issues tokens as a sign-in would (for tests that write auth.json themselves); the
    /// refresh token is accepted once.
    pub fn issue(&self) -> Issued {
        issue(&self.shared)
    }

    /// Every token set handed out so far.
    pub fn issued(&self) -> Vec<Issued> {
        self.shared.lock().issued.clone()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// An unsigned JWT with this payload.
pub fn jwt(payload: &serde_json::Value) -> String {
    let b = |s: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        b(br#"{"alg":"none","typ":"JWT"}"#),
        b(payload.to_string().as_bytes()),
        b(b"unsigned")
    )
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn issue(shared: &Shared) -> Issued {
    let n = shared.next();
    let ttl = shared.lock().access_ttl_secs;
    let auth = serde_json::json!({"chatgpt_account_id": ACCOUNT_ID, "chatgpt_plan_type": "plus"});
    let issued = Issued {
        id_token: jwt(&serde_json::json!({
            "email": "user@example.com", "exp": now() + 3600, "n": n,
            "https://api.openai.com/auth": auth,
        })),
        access_token: jwt(&serde_json::json!({
            "exp": now() + ttl, "n": n, "https://api.openai.com/auth": auth,
        })),
        refresh_token: format!("rt-secret-{n}-{}", now()),
    };
    let mut state = shared.lock();
    state.refresh_tokens.push(issued.refresh_token.clone());
    state.issued.push(issued.clone());
    issued
}

fn serve(shared: &Shared, conn: TcpStream) -> io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut writer = conn;
    while let Some(request) = read_request(&mut reader)? {
        shared.lock().requests.push(request.clone());
        let (path, query) = request
            .path
            .split_once('?')
            .unwrap_or((request.path.as_str(), ""));
        let (status, headers, body) = match (request.method.as_str(), path) {
            ("GET", "/oauth/authorize") => authorize(shared, &form(query)),
            ("POST", "/oauth/token") => {
                let (status, headers, mut body) = token(shared, &request.body);
                if shared.lock().oversized_tokens {
                    body.push_str(&" ".repeat(2 * 1024 * 1024));
                }
                (status, headers, body)
            }
            ("POST", "/api/accounts/deviceauth/usercode") => {
                let interval = shared.lock().device_interval;
                let json = serde_json::json!({
                    "device_auth_id": format!("dev-{}", shared.next()),
                    "user_code": "ABCD-1234",
                    "interval": interval.to_string(),
                });
                (200, Vec::new(), json.to_string())
            }
            ("POST", "/api/accounts/deviceauth/token") => device_poll(shared),
            _ => (404, Vec::new(), r#"{"error":"not_found"}"#.to_string()),
        };
        let mut head = format!("HTTP/1.1 {status} {}\r\n", crate::reason(status));
        for (n, v) in &headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!(
            "content-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        ));
        writer.write_all(head.as_bytes())?;
        writer.write_all(body.as_bytes())?;
        writer.flush()?;
    }
    let _ = writer.shutdown(Shutdown::Both);
    Ok(())
}

type Answer = (u16, Vec<(String, String)>, String);

fn authorize(shared: &Shared, q: &HashMap<String, String>) -> Answer {
    let (Some(redirect), Some(challenge), Some(state)) = (
        q.get("redirect_uri"),
        q.get("code_challenge"),
        q.get("state"),
    ) else {
        return (400, Vec::new(), r#"{"error":"invalid_request"}"#.into());
    };
    if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return (400, Vec::new(), r#"{"error":"invalid_request"}"#.into());
    }
    let behaviour = shared.lock().behaviour;
    let location = match behaviour {
        Behaviour::Deny => format!(
            "{redirect}?error=access_denied&error_description=the+user+declined&state={}",
            encode(state)
        ),
        Behaviour::Approve | Behaviour::WrongState => {
            let code = format!("code-{}", shared.next());
            shared
                .lock()
                .codes
                .insert(code.clone(), (challenge.clone(), redirect.clone()));
            let state = if behaviour == Behaviour::WrongState {
                "forged-state".to_string()
            } else {
                state.clone()
            };
            format!("{redirect}?code={code}&state={}", encode(&state))
        }
    };
    (302, vec![("location".into(), location)], String::new())
}

fn token(shared: &Shared, body: &serde_json::Value) -> Answer {
    let params: HashMap<String, String> = match body {
        serde_json::Value::String(text) => form(text),
        serde_json::Value::Object(map) => map
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
            .collect(),
        _ => HashMap::new(),
    };
    let invalid = || (400, Vec::new(), r#"{"error":"invalid_grant"}"#.to_string());
    match params.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let (Some(code), Some(verifier), Some(redirect)) = (
                params.get("code"),
                params.get("code_verifier"),
                params.get("redirect_uri"),
            ) else {
                return invalid();
            };
            let Some((challenge, expected_redirect)) = shared.lock().codes.remove(code) else {
                return invalid();
            };
            let s256 = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes()));
            // The device flow's redirect is the issuer's own path, under whatever base URL.
            let redirect_ok = *redirect == expected_redirect
                || (expected_redirect.starts_with('/') && redirect.ends_with(&expected_redirect));
            if s256 != challenge || !redirect_ok {
                return invalid();
            }
        }
        Some("refresh_token") => {
            let Some(rt) = params.get("refresh_token") else {
                return invalid();
            };
            let mut state = shared.lock();
            let Some(i) = state.refresh_tokens.iter().position(|t| t == rt) else {
                return invalid();
            };
            state.refresh_tokens.remove(i);
        }
        _ => {
            return (
                400,
                Vec::new(),
                r#"{"error":"unsupported_grant_type"}"#.into(),
            );
        }
    }
    let t = issue(shared);
    let json = serde_json::json!({
        "id_token": t.id_token, "access_token": t.access_token,
        "refresh_token": t.refresh_token, "token_type": "Bearer", "expires_in": 3600,
    });
    (200, Vec::new(), json.to_string())
}

fn device_poll(shared: &Shared) -> Answer {
    let step = shared
        .lock()
        .device_steps
        .pop_front()
        .unwrap_or(DeviceStep::Approve);
    let error = |e: &str| (400, Vec::new(), format!(r#"{{"error":"{e}"}}"#));
    match step {
        DeviceStep::Pending403 => (403, Vec::new(), String::new()),
        DeviceStep::Pending => error("authorization_pending"),
        DeviceStep::SlowDown => error("slow_down"),
        DeviceStep::Expired => error("expired_token"),
        DeviceStep::Denied => error("access_denied"),
        DeviceStep::Approve => {
            let n = shared.next();
            let verifier = format!("device-verifier-{n}-{}", now());
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes()));
            let code = format!("device-code-{n}");
            // The redirect_uri the exchange must name: the issuer's own device callback.
            let redirect = "/deviceauth/callback".to_string();
            shared
                .lock()
                .codes
                .insert(code.clone(), (challenge.clone(), redirect));
            let json = serde_json::json!({
                "authorization_code": code, "code_challenge": challenge, "code_verifier": verifier,
            });
            (200, Vec::new(), json.to_string())
        }
    }
}

/// `a=b&c=d`, percent-decoded (`+` is a space).
fn form(text: &str) -> HashMap<String, String> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
