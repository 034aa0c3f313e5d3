//! Sign-in end to end: the real codex binary against a real OAuth issuer on loopback
//! (`codex_scripted_model::issuer`), a "browser" that is a curl script named by BROWSER, and
//! the scripted model recording the credentials each request carries.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use codex_scripted_model::issuer::{self, Behaviour, DeviceStep, Issuer};
use codex_scripted_model::{Reply, ScriptedModel, script};
use serde_json::{Value, json};

mod support;

/// The provider's env_key in these tests; never set unless a test sets it.
const KEY_VAR: &str = "CODEX_LOGIN_TEST_API_KEY";
const API_KEY: &str = "sk-login-test-0123456789abcdef";

/// A CODEX_HOME whose config signs in at a loopback issuer and asks a scripted model through
/// a provider with `requires_openai_auth`.
struct Fixture {
    home: tempfile::TempDir,
    work: tempfile::TempDir,
    issuer: Issuer,
    model: ScriptedModel,
}

impl Fixture {
    fn new(replies: Vec<Reply>) -> Fixture {
        let issuer = Issuer::start().expect("issuer");
        let model = ScriptedModel::start(replies).expect("model");
        let home = tempfile::tempdir().expect("home");
        let work = tempfile::tempdir().expect("work");
        support::git_init(work.path());
        let config = format!(
            "model = \"scripted-1\"\nmodel_provider = \"scripted\"\nauth_issuer = \"{}\"\n\
             [model_providers.scripted]\nbase_url = \"{}\"\nenv_key = \"{KEY_VAR}\"\nrequires_openai_auth = true\n",
            issuer.base_url(),
            model.base_url()
        );
        std::fs::write(home.path().join("config.toml"), config).expect("config");
        Fixture {
            home,
            work,
            issuer,
            model,
        }
    }

    fn auth_path(&self) -> PathBuf {
        self.home.path().join("auth.json")
    }

    fn auth(&self) -> Value {
        let text = std::fs::read_to_string(self.auth_path()).expect("auth.json");
        serde_json::from_str(&text).expect("auth.json is JSON")
    }

    /// `codex ARGS...` with this CODEX_HOME, stdin closed, no key in the environment.
    fn codex(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codex"));
        cmd.args(args)
            .current_dir(self.work.path())
            .env("CODEX_HOME", self.home.path())
            .env_remove(KEY_VAR)
            .env_remove("OPENAI_API_KEY")
            .env_remove("RUST_LOG")
            .env_remove("BROWSER")
            .stdin(Stdio::null());
        cmd
    }

    /// `codex login` with a BROWSER that follows the sign-in URL's redirects with curl.
    fn browser_login(&self) -> Command {
        self.browser_login_after("")
    }

    /// [`Fixture::browser_login`] whose browser first runs `prelude` (bash, with the callback
    /// port in `$port`).
    fn browser_login_after(&self, prelude: &str) -> Command {
        let script = self.work.path().join("browser.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/bash\n\
                 port=$(printf %s \"$1\" | sed -n 's/.*127\\.0\\.0\\.1\\(%3A\\|:\\)\\([0-9]*\\).*/\\2/p')\n\
                 {prelude}\n\
                 exec curl -sSL --max-time 30 -o '{}' \"$1\"\n",
                self.work.path().join("page.html").display()
            ),
        )
        .expect("browser script");
        make_executable(&script);
        let mut cmd = self.codex(&["login"]);
        cmd.env("BROWSER", &script);
        cmd
    }

    /// Writes auth.json holding these ChatGPT tokens, as a sign-in would have.
    fn write_tokens(&self, t: &issuer::Issued) {
        let auth = json!({
            "auth_mode": "chatgpt",
            "OPENAI_API_KEY": null,
            "tokens": {
                "id_token": t.id_token, "access_token": t.access_token,
                "refresh_token": t.refresh_token, "account_id": issuer::ACCOUNT_ID,
            },
            "last_refresh": "2026-01-01T00:00:00Z",
        });
        std::fs::write(self.auth_path(), auth.to_string()).expect("auth.json");
    }

    fn grants(&self) -> Vec<String> {
        self.issuer
            .requests()
            .iter()
            .filter(|r| r.path == "/oauth/token")
            .map(|r| match &r.body {
                Value::String(form) => form
                    .split('&')
                    .find_map(|p| p.strip_prefix("grant_type="))
                    .unwrap_or_default()
                    .to_string(),
                body => body["grant_type"].as_str().unwrap_or_default().to_string(),
            })
            .collect()
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Runs `cmd` (with `stdin` piped in), killing it after a minute: a sign-in that waits for a
/// callback that never comes must fail the test, not hang it.
fn run(mut cmd: Command, stdin: Option<&str>) -> Output {
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start codex");
    if let Some(text) = stdin {
        use std::io::Write as _;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("codex did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    eprintln!("--- codex stderr ---\n{}--- end ---", stderr(&out));
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The last line of stderr, asserting that the failure said one thing.
fn one_error_line(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "exit: {:?}", out.status);
    let err = stderr(out);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("Error")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    errors[0].to_string()
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn browser_sign_in_saves_the_issuers_tokens_in_auth_json_with_mode_0600() {
    let f = Fixture::new(Vec::new());
    let mut login = f.browser_login();
    login.env("RUST_LOG", "trace");
    let out = run(login, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("/oauth/authorize?"),
        "the URL is always printed: {err}"
    );
    assert!(err.contains("TRACE"), "the trace log is on stderr");
    let t = &f.issuer.issued()[0];
    for secret in [&t.id_token, &t.access_token, &t.refresh_token] {
        assert!(
            !err.contains(secret.as_str()),
            "a token is in the trace log"
        );
    }
    let exchange = f
        .issuer
        .requests()
        .into_iter()
        .find(|r| r.path == "/oauth/token")
        .expect("the code was exchanged");
    let verifier = exchange
        .body
        .as_str()
        .unwrap_or_default()
        .split('&')
        .find_map(|p| p.strip_prefix("code_verifier="))
        .expect("a PKCE verifier")
        .to_string();
    assert!(
        !err.contains(&verifier),
        "the PKCE verifier is in the trace log"
    );
    assert!(err.contains("Successfully logged in"), "{err}");
    let issued = f.issuer.issued();
    assert_eq!(issued.len(), 1);
    let auth = f.auth();
    assert_eq!(auth["auth_mode"], "chatgpt");
    assert_eq!(auth["OPENAI_API_KEY"], Value::Null);
    assert_eq!(auth["tokens"]["id_token"], issued[0].id_token);
    assert_eq!(auth["tokens"]["access_token"], issued[0].access_token);
    assert_eq!(auth["tokens"]["refresh_token"], issued[0].refresh_token);
    assert_eq!(auth["tokens"]["account_id"], issuer::ACCOUNT_ID);
    assert!(
        auth["last_refresh"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(mode_of(&f.auth_path()), 0o600);
    // The issuer checked the PKCE verifier against the challenge before answering.
    assert_eq!(f.grants(), ["authorization_code"]);
    let status = run(f.codex(&["login", "status"]), None);
    assert_eq!(status.status.code(), Some(0));
    assert_eq!(stderr(&status), "Logged in using ChatGPT\n");
    // The browser was answered with the success page (curl may still be writing it).
    let page = f.work.path().join("page.html");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&page).is_ok_and(|p| p.contains("</html>")) {
        assert!(Instant::now() < deadline, "no success page in the browser");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(std::fs::read_to_string(&page).is_ok_and(|p| p.contains("Signed in to Codex")));
}

/// Listens on 127.0.0.1:`port`, waiting for another test's sign-in to let go of it.
fn hold(port: u16) -> std::net::TcpListener {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(l) => return l,
            Err(e) if Instant::now() > deadline => panic!("port {port} stays taken: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[test]
fn the_default_callback_port_in_use_falls_back_to_a_free_port_and_sign_in_still_works() {
    // Held by this test for its whole run: a parallel sign-in holds them only for moments.
    let _held = [1455, 1457].map(hold);
    let f = Fixture::new(Vec::new());
    let out = run(f.browser_login(), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let port = err
        .split("http://localhost:")
        .nth(1)
        .and_then(|s| s.split('.').next())
        .expect("the server's address is printed");
    assert!(port != "1455" && port != "1457", "{err}");
    assert!(
        err.contains(&format!("127.0.0.1%3A{port}%2Fauth%2Fcallback")),
        "{err}"
    );
    assert_eq!(f.auth()["auth_mode"], "chatgpt");
}

#[test]
fn a_callback_with_a_wrong_state_is_refused_and_nothing_is_written() {
    let f = Fixture::new(Vec::new());
    f.issuer.set_behaviour(Behaviour::WrongState);
    let out = run(f.browser_login(), None);
    let line = one_error_line(&out);
    assert!(line.contains("state"), "{line}");
    assert!(!f.auth_path().exists());
    assert!(f.grants().is_empty(), "the code must not be exchanged");
}

#[test]
fn a_denied_sign_in_is_one_line_and_writes_nothing() {
    let f = Fixture::new(Vec::new());
    f.issuer.set_behaviour(Behaviour::Deny);
    let out = run(f.browser_login(), None);
    let line = one_error_line(&out);
    assert!(line.contains("access_denied"), "{line}");
    assert!(line.contains("codex login"), "{line}");
    assert!(!f.auth_path().exists());
}

#[test]
fn local_clients_that_trickle_or_say_nothing_cannot_hold_up_the_sign_in_callback() {
    let f = Fixture::new(Vec::new());
    let connected = f.work.path().join("hostile-connected");
    // Before the browser comes back, two local clients connect to the callback port: one sends
    // a byte a second and never ends its request, the other says nothing. Each stays until
    // codex closes its connection.
    let prelude = format!(
        "( exec 3<>\"/dev/tcp/127.0.0.1/$port\" || exit 1; while printf G >&3; do sleep 1; done ) 2>/dev/null &\n\
         ( exec 4<>\"/dev/tcp/127.0.0.1/$port\" || exit 1; touch '{}'; read -r -t 30 _ <&4 ) &\n\
         sleep 0.5",
        connected.display()
    );
    let out = run(f.browser_login_after(&prelude), None);
    assert!(connected.exists(), "the silent client never connected");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        f.auth()["tokens"]["refresh_token"],
        f.issuer.issued()[0].refresh_token
    );
}

#[test]
fn an_issuer_answer_over_the_size_limit_is_one_line_and_writes_nothing() {
    let f = Fixture::new(Vec::new());
    f.issuer.set_oversized_token_answers(true);
    let out = run(f.browser_login(), None);
    let line = one_error_line(&out);
    assert!(line.contains("larger than 1048576 bytes"), "{line}");
    assert!(!f.auth_path().exists());
}

#[test]
fn an_unreachable_issuer_is_one_line_and_writes_nothing() {
    let f = Fixture::new(Vec::new());
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let issuer = format!("auth_issuer=\"http://127.0.0.1:{port}\"");
    let out = run(f.codex(&["login", "--device-auth", "-c", &issuer]), None);
    let line = one_error_line(&out);
    assert!(line.contains("cannot reach the sign-in server"), "{line}");
    assert!(!f.auth_path().exists());
}

#[test]
fn device_sign_in_polls_through_pending_and_slow_down_then_saves_the_tokens() {
    let f = Fixture::new(Vec::new());
    f.issuer.script_device(&[
        DeviceStep::Pending403,
        DeviceStep::Pending,
        DeviceStep::SlowDown,
        DeviceStep::Approve,
    ]);
    let out = run(f.codex(&["login", "--device-auth"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(shown.contains("ABCD-1234"), "{shown}");
    assert!(
        shown.contains(&format!("{}/codex/device", f.issuer.base_url())),
        "{shown}"
    );
    let polls: Vec<_> = f
        .issuer
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/accounts/deviceauth/token")
        .collect();
    assert_eq!(polls.len(), 4);
    // The announced interval (1 s) between polls, 5 s more after slow_down.
    let gap = |i: usize| polls[i + 1].received_at - polls[i].received_at;
    assert!(gap(0) >= Duration::from_millis(900), "{:?}", gap(0));
    assert!(gap(2) >= Duration::from_millis(5900), "{:?}", gap(2));
    assert_eq!(f.grants(), ["authorization_code"]);
    assert_eq!(
        f.auth()["tokens"]["access_token"],
        f.issuer.issued()[0].access_token
    );
    assert_eq!(mode_of(&f.auth_path()), 0o600);
}

#[test]
fn an_expired_device_code_is_one_line_and_writes_nothing() {
    let f = Fixture::new(Vec::new());
    f.issuer
        .script_device(&[DeviceStep::Pending, DeviceStep::Expired]);
    let out = run(f.codex(&["login", "--device-auth"]), None);
    let line = one_error_line(&out);
    assert!(line.contains("device code expired"), "{line}");
    assert!(!f.auth_path().exists());
}

#[test]
fn a_denied_device_code_is_one_line_and_writes_nothing() {
    let f = Fixture::new(Vec::new());
    f.issuer.script_device(&[DeviceStep::Denied]);
    let out = run(f.codex(&["login", "--device-auth"]), None);
    let line = one_error_line(&out);
    assert!(line.contains("access_denied"), "{line}");
    assert!(!f.auth_path().exists());
    assert!(f.grants().is_empty());
}

#[test]
fn an_empty_key_on_stdin_is_refused_and_nothing_is_written() {
    let f = Fixture::new(Vec::new());
    let out = run(f.codex(&["login", "--with-api-key"]), Some("\n"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Reading API key from stdin...\nNo API key provided via stdin.\n"
    );
    assert!(!f.auth_path().exists());
}

/// Runs the same sign-in commands with codex and with Codex 0.169, each in a fresh
/// CODEX_HOME: the exit codes, the messages and auth.json must be the same.
#[test]
fn api_key_login_status_and_logout_say_and_write_what_codex_0169_does() {
    let Some(reference) = support::codex_169() else {
        return;
    };
    let steps: &[(&[&str], Option<&str>)] = &[
        (&["login", "status"], None),
        (&["login", "--with-api-key"], Some("")),
        (&["login", "--with-api-key"], Some(API_KEY)),
        (&["login", "status"], None),
        (&["login", "--with-api-key"], Some("sk-short\n")),
        (&["login", "-c", "model=\"m\"", "status"], None),
        (&["logout", "-c", "model=\"m\""], None),
        (&["logout"], None),
        (&["login", "status"], None),
    ];
    let transcript = |program: &Path| {
        // Outside /tmp: 0.169 warns about helper binaries under a temp dir.
        let home = support::scratch();
        let mut lines = Vec::new();
        for (args, stdin) in steps {
            let mut cmd = Command::new(program);
            cmd.args(*args)
                .env("CODEX_HOME", home.path())
                .env_remove("OPENAI_API_KEY")
                .env_remove("RUST_LOG")
                .stdin(Stdio::null());
            let out = run(cmd, *stdin);
            let auth = std::fs::read_to_string(home.path().join("auth.json")).ok();
            lines.push(format!(
                "{args:?} -> {:?}\n{}auth.json: {auth:?}\n",
                out.status.code(),
                stderr(&out)
            ));
        }
        lines.concat()
    };
    let ours = transcript(Path::new(env!("CARGO_BIN_EXE_codex")));
    let theirs = transcript(&reference);
    assert_eq!(ours, theirs);
}

#[test]
fn a_corrupt_auth_json_is_named_by_login_status_exec_and_doctor() {
    let f = Fixture::new(Vec::new());
    std::fs::write(f.auth_path(), "{\"OPENAI_API_KEY\": sk-not-json").expect("write");
    let status = run(f.codex(&["login", "status"]), None);
    let line = one_error_line(&status);
    assert!(
        line.contains("auth.json is not a valid credentials file"),
        "{line}"
    );
    assert!(line.contains("codex logout"), "{line}");
    let exec = run(f.codex(&["exec", "hi"]), None);
    assert_eq!(exec.status.code(), Some(1));
    let err = stderr(&exec);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("auth.json is not a valid credentials file"),
        "{err}"
    );
    assert!(f.model.requests().is_empty());
    let doctor = run(f.codex(&["doctor"]), None);
    assert_eq!(doctor.status.code(), Some(1));
    let report = stdout(&doctor);
    let line = report
        .lines()
        .find(|l| l.contains("sign-in"))
        .unwrap_or_else(|| panic!("no sign-in check: {report}"));
    assert!(
        line.starts_with('✗') && line.contains("auth.json"),
        "{line}"
    );
    assert!(!report.contains("sk-not-json"), "{report}");
    // Nothing was rewritten.
    assert_eq!(
        std::fs::read_to_string(f.auth_path()).expect("read"),
        "{\"OPENAI_API_KEY\": sk-not-json"
    );
}

fn text(t: &str) -> Reply {
    Reply::Sse(script::responses_text(t))
}

fn env_call() -> Reply {
    Reply::Sse(script::responses_function_call(
        "call_env",
        "shell",
        &json!({ "command": ["env"] }),
    ))
}

#[test]
fn after_login_with_an_api_key_the_model_gets_it_and_commands_do_not() {
    let f = Fixture::new(vec![env_call(), text("done")]);
    let login = run(f.codex(&["login", "--with-api-key"]), Some(API_KEY));
    assert!(login.status.success());
    let out = run(f.codex(&["exec", "hi"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let requests = f.model.requests();
    let bearer = format!("Bearer {API_KEY}");
    assert_eq!(requests[0].header("authorization"), Some(bearer.as_str()));
    let env = requests[1].body.to_string();
    assert!(env.contains("PATH="), "{env}");
    assert!(!env.contains(API_KEY), "{env}");
}

#[test]
fn the_env_key_variable_beats_auth_json() {
    let f = Fixture::new(vec![text("done")]);
    run(f.codex(&["login", "--with-api-key"]), Some(API_KEY));
    let mut cmd = f.codex(&["exec", "hi"]);
    cmd.env(KEY_VAR, "sk-from-the-environment");
    let out = run(cmd, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        f.model.requests()[0].header("authorization"),
        Some("Bearer sk-from-the-environment")
    );
}

#[test]
fn without_a_key_or_a_sign_in_exec_says_to_log_in_and_asks_nothing() {
    let f = Fixture::new(Vec::new());
    let out = run(f.codex(&["exec", "hi"]), None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("codex login"), "{err}");
    assert!(f.model.requests().is_empty());
}

#[test]
fn an_expired_access_token_is_renewed_before_the_request_and_saved() {
    let f = Fixture::new(vec![text("done")]);
    f.issuer.set_access_ttl(-60);
    let old = f.issuer.issue();
    f.issuer.set_access_ttl(3600);
    f.write_tokens(&old);
    let out = run(f.codex(&["exec", "hi"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(f.grants(), ["refresh_token"]);
    let new = &f.issuer.issued()[1];
    let request = &f.model.requests()[0];
    let bearer = format!("Bearer {}", new.access_token);
    assert_eq!(request.header("authorization"), Some(bearer.as_str()));
    assert_eq!(
        request.header("chatgpt-account-id"),
        Some(issuer::ACCOUNT_ID)
    );
    let auth = f.auth();
    assert_eq!(auth["tokens"]["access_token"], new.access_token);
    assert_eq!(auth["tokens"]["refresh_token"], new.refresh_token);
    assert_ne!(auth["last_refresh"], "2026-01-01T00:00:00Z");
    assert_eq!(mode_of(&f.auth_path()), 0o600);
}

#[test]
fn a_401_renews_the_access_token_once_and_retries_the_request() {
    let f = Fixture::new(vec![
        Reply::error(401, "invalid_token", "token revoked"),
        text("done"),
    ]);
    let old = f.issuer.issue();
    f.write_tokens(&old);
    let out = run(f.codex(&["exec", "hi"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(f.grants(), ["refresh_token"]);
    let requests = f.model.requests();
    assert_eq!(requests.len(), 2);
    let first = format!("Bearer {}", old.access_token);
    let second = format!("Bearer {}", f.issuer.issued()[1].access_token);
    assert_eq!(requests[0].header("authorization"), Some(first.as_str()));
    assert_eq!(requests[1].header("authorization"), Some(second.as_str()));
}

#[test]
fn a_second_401_after_renewal_fails_with_one_line() {
    let f = Fixture::new(vec![
        Reply::error(401, "invalid_token", "token revoked"),
        Reply::error(401, "invalid_token", "token revoked"),
    ]);
    f.write_tokens(&f.issuer.issue());
    let out = run(f.codex(&["exec", "hi"]), None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(f.grants(), ["refresh_token"], "renewed once, not in a loop");
    assert_eq!(f.model.requests().len(), 2);
    let err = stderr(&out);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains("refused the ChatGPT sign-in (401: token revoked)"),
        "{err}"
    );
    assert!(last.contains("codex login"), "{err}");
}

/// Every file under `dir`, read as text.
fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.push_str(&all_text(&p));
            } else {
                out.push_str(&String::from_utf8_lossy(
                    &std::fs::read(&p).unwrap_or_default(),
                ));
            }
        }
    }
    out
}

#[test]
fn no_token_reaches_the_log_the_rollout_json_output_or_a_commands_environment() {
    let f = Fixture::new(vec![env_call(), text("done")]);
    f.issuer.set_access_ttl(-60);
    let old = f.issuer.issue();
    f.issuer.set_access_ttl(3600);
    f.write_tokens(&old);
    let mut cmd = f.codex(&["exec", "--json", "hi"]);
    cmd.env("RUST_LOG", "trace");
    let out = run(cmd, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = all_text(&f.home.path().join("log"));
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "the log was written"
    );
    let sessions = all_text(&f.home.path().join("sessions"));
    assert!(!sessions.is_empty(), "the rollout was written");
    let env = f.model.requests()[1].body.to_string();
    assert!(env.contains("PATH="), "{env}");
    let places = [
        ("log", log),
        ("rollout", sessions),
        ("--json output", stdout(&out)),
        ("stderr", stderr(&out)),
        ("the command's environment", env),
    ];
    for t in f.issuer.issued() {
        for secret in [&t.id_token, &t.access_token, &t.refresh_token] {
            for (place, text) in &places {
                assert!(!text.contains(secret.as_str()), "a token is in the {place}");
            }
        }
    }
}

#[test]
fn an_access_token_on_stdin_signs_model_requests_in_with_its_account() {
    let f = Fixture::new(vec![text("done")]);
    let token = f.issuer.issue().access_token;
    let login = run(
        f.codex(&["login", "--with-access-token"]),
        Some(&format!("{token}\n")),
    );
    assert!(login.status.success(), "{}", stderr(&login));
    assert!(!stderr(&login).contains(&token));
    let auth = f.auth();
    assert_eq!(auth["auth_mode"], "chatgpt");
    assert_eq!(auth["tokens"]["access_token"], token);
    assert_eq!(auth["tokens"]["account_id"], issuer::ACCOUNT_ID);
    assert_eq!(mode_of(&f.auth_path()), 0o600);
    let out = run(f.codex(&["exec", "hi"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let request = &f.model.requests()[0];
    let bearer = format!("Bearer {token}");
    assert_eq!(request.header("authorization"), Some(bearer.as_str()));
    assert_eq!(
        request.header("chatgpt-account-id"),
        Some(issuer::ACCOUNT_ID)
    );
}

#[test]
fn a_piped_access_token_that_is_not_a_jwt_is_one_line_and_writes_nothing() {
    let f = Fixture::new(Vec::new());
    let out = run(
        f.codex(&["login", "--with-access-token"]),
        Some("not-a-jwt-secret"),
    );
    let line = one_error_line(&out);
    assert!(line.contains("not a JWT"), "{line}");
    assert!(!stderr(&out).contains("not-a-jwt-secret"));
    assert!(!f.auth_path().exists());
    let empty = run(f.codex(&["login", "--with-access-token"]), Some(""));
    assert_eq!(empty.status.code(), Some(1));
    assert_eq!(
        stderr(&empty),
        "Reading access token from stdin...\nNo access token provided via stdin.\n"
    );
    assert!(!f.auth_path().exists());
}
