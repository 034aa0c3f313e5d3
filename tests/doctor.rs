//! `codex doctor` and `codex uninstall` end to end: real standalone installs of real release
//! archives (made by the installer crate from a loopback mirror) in temporary homes, checked and
//! removed by the installed `codex` itself.

use std::path::{Path, PathBuf};
use std::process::Output;

use codex_e2e::standalone::{A, B, World, host, ok, one_error_line, set_mode};
use codex_installer::target::Binary;
use serde_json::Value;

/// The system's own tools, for PATH.
const SYSTEM_PATH: &str = "/usr/bin:/bin";

/// `codex doctor ARGS` as the installed copy, with `path` as PATH and none of the machine's
/// proxy or CA settings (the report shows them).
fn doctor(w: &World, path: &str, args: &[&str]) -> Output {
    let mut cmd = w.cmd(Binary::Codex);
    for var in [
        "SSL_CERT_FILE",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ] {
        cmd.env_remove(var);
    }
    for var in ["ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"] {
        cmd.env_remove(var);
    }
    cmd.arg("doctor")
        .args(args)
        .env("PATH", path)
        .output()
        .expect("run codex doctor")
}

fn path_with_bin(w: &World) -> String {
    format!("{}:{SYSTEM_PATH}", w.bin.display())
}

/// The report with this world's paths and ports replaced, so that it can be pinned.
fn redacted(w: &World, text: &str) -> String {
    text.replace(&w.mirror.base_url(), "[MIRROR]")
        .replace(&w.home.display().to_string(), "[HOME]")
        .replace(host().triple, "[TARGET]")
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("doctor --json prints JSON")
}

#[test]
fn a_healthy_install_is_all_ticks_and_the_report_is_pinned() {
    let w = World::new(false);
    let out = doctor(&w, &path_with_bin(&w), &[]);
    let text = ok(&out);
    insta::assert_snapshot!(redacted(&w, &text));
    // The source was really asked, and its signed manifest read.
    assert!(
        w.mirror
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/manifest.json.sig")),
        "{:?}",
        w.mirror.requests()
    );
    let report = json(&doctor(&w, &path_with_bin(&w), &["--json"]));
    assert_eq!(report["version"], A);
    assert!(
        report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .all(|c| c["status"] == "ok"),
        "{report}"
    );
    let copies = report["copies"].as_array().expect("copies");
    assert_eq!(copies.len(), 2, "{report}");
    assert_eq!(copies[0]["program"], "codex");
    assert_eq!(copies[0]["runs_first"], true);
    assert_eq!(copies[0]["is_this"], true);
    assert_eq!(copies[0]["version"], A);
    assert_eq!(copies[0]["method"], "standalone");
}

#[test]
fn a_second_copy_earlier_on_path_is_reported_with_the_fix() {
    let w = World::new(false);
    let other = w.home.join("opt/bin");
    std::fs::create_dir_all(&other).expect("mkdir");
    let stray = other.join("codex");
    std::fs::copy(w.bin.join("codex"), &stray).expect("copy");
    let path = format!("{}:{}", other.display(), path_with_bin(&w));
    let out = doctor(&w, &path, &[]);
    // A warning, not a failure: both copies work.
    let text = ok(&out);
    let expected = format!(
        "⚠ PATH: the codex that runs first is {}, not this copy",
        stray.display()
    );
    assert!(text.contains(&expected), "{text}");
    assert!(
        text.contains(&format!(
            "fix: remove {} (other), or put this copy's folder earlier in PATH",
            stray.display()
        )),
        "{text}"
    );
    let report = json(&doctor(&w, &path, &["--json"]));
    let copies = report["copies"].as_array().expect("copies");
    assert_eq!(copies[0]["path"], stray.display().to_string());
    assert_eq!(copies[0]["runs_first"], true);
    assert_eq!(copies[1]["is_this"], true);
    assert_eq!(copies[1]["runs_first"], false);
}

#[test]
fn a_broken_symlink_in_the_bin_dir_is_reported() {
    let w = World::new(false);
    let link = w.bin.join("codex-exec-server");
    std::fs::remove_file(&link).expect("rm");
    std::os::unix::fs::symlink("/nonexistent/codex-exec-server", &link).expect("ln");
    let text = ok(&doctor(&w, &path_with_bin(&w), &[]));
    assert!(
        text.contains(&format!(
            "{} -> /nonexistent/codex-exec-server  (broken link)",
            link.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("remove the broken link: rm {}", link.display())),
        "{text}"
    );
}

#[test]
fn a_read_only_install_is_reported_as_not_updatable() {
    let w = World::new(false);
    let out = w
        .codex_with_read_only_bin()
        .arg("doctor")
        .env("PATH", path_with_bin(&w))
        .output()
        .expect("run");
    set_mode(&w.bin, 0o755);
    assert_eq!(out.status.code(), Some(1), "a ✗ makes the exit code 1");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("✗ updatable: `codex update` cannot write the install"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}: Permission denied", w.bin.display())),
        "{text}"
    );
}

#[test]
fn an_unreachable_source_is_a_cross_and_a_dead_proxy_is_named() {
    let w = World::new(false);
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let out = w
        .cmd(Binary::Codex)
        .arg("doctor")
        .env("PATH", path_with_bin(&w))
        .env(
            "CODEX_RELEASE_BASE_URL",
            format!("http://127.0.0.1:{dead}/releases"),
        )
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "✗ release source: http://127.0.0.1:{dead}/releases (CODEX_RELEASE_BASE_URL) cannot be used:"
        )),
        "{text}"
    );
    assert!(
        text.contains("fix: check the network, or point CODEX_RELEASE_BASE_URL at a mirror"),
        "{text}"
    );

    // The mirror is fine, but every request goes to a proxy that is not there.
    let proxy = format!("http://user:secret@127.0.0.1:{dead}");
    let out = w
        .cmd(Binary::Codex)
        .arg("doctor")
        .env("PATH", path_with_bin(&w))
        .env("HTTP_PROXY", &proxy)
        .env("HTTPS_PROXY", &proxy)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let shown = format!("HTTPS_PROXY=http://***@127.0.0.1:{dead}");
    assert!(text.contains(&format!("proxy: {shown}")), "{text}");
    assert!(
        text.contains(&format!("fix: the request went through the proxy {shown}")),
        "{text}"
    );
    assert!(
        !text.contains("secret"),
        "the proxy password is not shown: {text}"
    );
    assert!(w.mirror.requests().is_empty(), "nothing reached the mirror");
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p.clone());
            }
            out.push(p.strip_prefix(dir).expect("under").to_path_buf());
        }
    }
    out.sort();
    out
}

/// The PATH block install.sh writes, for the world's bin dir.
fn path_block(w: &World) -> String {
    format!(
        "\n# >>> codex installer >>>\nexport PATH=\"{}:$PATH\"\n# <<< codex installer <<<\n",
        w.bin.display()
    )
}

#[test]
fn uninstall_removes_the_install_and_its_path_block_and_keeps_the_users_lines() {
    let w = World::new(false);
    let mine = "# my settings\nalias ll='ls -l'\n\nexport EDITOR=vi\n";
    let rc = w.home.join(".bashrc");
    std::fs::write(&rc, format!("{mine}{}", path_block(&w))).expect("rc");
    let profile = w.home.join(".profile");
    std::fs::write(&profile, "untouched\n").expect("profile");
    std::fs::write(w.codex_home.join("config.toml"), "model = \"m\"\n").expect("config");

    // Without a terminal it asks for --yes and changes nothing.
    let err = one_error_line(&w.codex(&["uninstall"]));
    assert_eq!(
        err,
        "error: not removing anything without confirmation: run `codex uninstall --yes`"
    );
    assert!(w.bin.join("codex").exists());

    let out = ok(&w.codex(&["uninstall", "--yes"]));
    for removed in [
        w.bin.join("codex"),
        w.bin.join("codex-exec-server"),
        w.codex_home.clone(),
    ] {
        assert!(
            out.contains(&format!("removed {}", removed.display())),
            "{out}"
        );
        assert!(!removed.exists(), "{} is gone", removed.display());
    }
    assert!(
        out.contains(&format!(
            "removed the codex PATH block from {}",
            rc.display()
        )),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&rc).expect("rc"),
        mine,
        "byte-identical"
    );
    assert_eq!(
        std::fs::read_to_string(&profile).expect("profile"),
        "untouched\n"
    );
    assert!(tree(&w.bin).is_empty(), "{:?}", tree(&w.bin));
}

/// Issue 20 item 7: `codex uninstall --yes` with a CODEX_HOME that is the home folder spelled
/// another way refuses, and the home folder keeps every file.
#[test]
fn uninstall_refuses_a_codex_home_that_is_the_home_folder_however_it_is_spelled() {
    let w = World::new(false);
    let precious = codex_e2e::plant_precious(&w.home);
    for spelled in codex_e2e::other_spellings(&w.home) {
        let out = w
            .cmd(Binary::Codex)
            .env("CODEX_HOME", &spelled)
            .args(["uninstall", "--yes"])
            .output()
            .expect("codex uninstall");
        let err = one_error_line(&out);
        assert!(
            err.contains("is or holds your home folder, so it is not removed"),
            "{spelled}: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(&precious).ok().as_deref(),
            Some("mine\n"),
            "{spelled}: the home folder must survive"
        );
        assert!(w.bin.join("codex").exists(), "{spelled}");
    }
}

#[test]
fn uninstall_keep_config_keeps_config_toml_and_removes_the_programs() {
    let w = World::new(false);
    let config = w.codex_home.join("config.toml");
    std::fs::write(&config, "# mine\nmodel = \"m\"\n").expect("config");
    let out = ok(&w.codex(&["uninstall", "--yes", "--keep-config"]));
    assert!(out.contains("was kept"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&config).expect("config"),
        "# mine\nmodel = \"m\"\n"
    );
    assert!(!w.codex_home.join("packages/standalone").exists());
    assert!(!w.bin.join("codex").exists());
    assert!(!w.bin.join("codex-exec-server").exists());
}

#[test]
fn an_update_of_b_then_doctor_sees_b_and_uninstall_still_removes_both_releases() {
    let w = World::new(false);
    ok(&w.codex(&["update", "--yes"]));
    let report = json(&doctor(&w, &path_with_bin(&w), &["--json"]));
    assert_eq!(check(&report, "layout")["status"], "ok", "{report}");
    assert_eq!(report["copies"][0]["version"], B);
    ok(&w.codex(&["uninstall", "--yes"]));
    assert!(!w.codex_home.exists());
}

#[test]
fn leftovers_of_an_interrupted_install_and_a_stale_lock_are_reported() {
    let w = World::new(false);
    let layout = w.layout();
    std::fs::create_dir_all(layout.staging_dir().join("dl")).expect("staging");
    std::fs::create_dir_all(layout.lock_dir()).expect("lock");
    // No process has this pid: the lock's owner is gone.
    std::fs::write(layout.lock_dir().join("pid"), "4194303\n").expect("pid");
    let text = ok(&doctor(&w, &path_with_bin(&w), &[]));
    assert!(text.contains("⚠ layout: a stale install lock"), "{text}");
    assert!(
        text.contains(&format!("rm -rf {}", layout.lock_dir().display())),
        "{text}"
    );
    std::fs::remove_dir_all(layout.lock_dir()).expect("rm lock");
    let text = ok(&doctor(&w, &path_with_bin(&w), &[]));
    assert!(
        text.contains("⚠ layout: 1 leftover item(s) from an interrupted install"),
        "{text}"
    );
    assert!(
        text.contains(&format!("rm -rf {}", layout.staging_dir().display())),
        "{text}"
    );
}

#[test]
fn a_tls_failure_points_at_ssl_cert_file() {
    // The mirror's HTTPS certificate is signed by a CA only SSL_CERT_FILE knows of, and the
    // doctor runs without it: what a corporate TLS proxy looks like to codex.
    let w = World::new(true);
    let out = doctor(&w, &path_with_bin(&w), &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("✗ release source: https://"), "{text}");
    assert!(
        text.contains(
            "fix: a proxy or firewall may be replacing the server's certificate: set SSL_CERT_FILE"
        ),
        "{text}"
    );
    // With the CA, the same source answers.
    let ca = w.mirror.ca_cert_path().expect("ca");
    let out = w
        .cmd(Binary::Codex)
        .arg("doctor")
        .env("PATH", path_with_bin(&w))
        .env("SSL_CERT_FILE", ca)
        .output()
        .expect("run");
    let text = ok(&out);
    assert!(
        text.contains(&format!("CA bundle: {} (SSL_CERT_FILE)", ca.display())),
        "{text}"
    );
}

#[test]
fn the_update_check_state_is_shown_and_a_newer_release_gets_the_update_command() {
    let w = World::new(false);
    let run = |w: &World| {
        w.cmd(Binary::Codex)
            .arg("doctor")
            .env("PATH", path_with_bin(w))
            .env_remove("CI")
            .env_remove("CODEX_NO_UPDATE_CHECK")
            .output()
            .expect("run")
    };
    let text = ok(&run(&w));
    assert!(
        text.contains("✓ update check: on; no check has run yet"),
        "{text}"
    );
    std::fs::write(
        w.codex_home.join("update-check.json"),
        format!(r#"{{"checked_at": 0, "latest": "{B}"}}"#),
    )
    .expect("cache");
    let text = ok(&run(&w));
    assert!(
        text.contains(&format!(
            "⚠ update check: codex {B} is available (this is {A})"
        )),
        "{text}"
    );
    assert!(text.contains("    fix: codex update\n"), "{text}");
}

#[test]
fn a_config_that_does_not_parse_is_a_cross_with_its_path() {
    let w = World::new(false);
    let config = w.codex_home.join("config.toml");
    std::fs::write(&config, "model = \"unterminated\n").expect("config");
    let out = doctor(&w, &path_with_bin(&w), &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("✗ paths: the config file does not parse:"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "fix: fix {} and run codex doctor again",
            config.display()
        )),
        "{text}"
    );
}
