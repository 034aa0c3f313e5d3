//! Release signatures must verify with the tools users' machines already have, not just with our
//! own code: OpenSSL 3 (`pkeyutl -rawin`), minisign, and Node's crypto (docs/signing.md). Each
//! test also shows that the same tool refuses a file altered by one byte.

use std::path::Path;
use std::process::{Command, Output};

use codex_installer::signature::{self, MINISIG_SUFFIX, SIG_SUFFIX};

/// A fixed test seed; any 32 bytes are an Ed25519 secret key.
const SEED: [u8; 32] = [0x42; 32];

/// A signed file in a temp dir: `manifest.json`, `.sig`, `.minisig` and the public key files.
struct Signed {
    dir: tempfile::TempDir,
    public: [u8; 32],
}

impl Signed {
    fn new() -> Signed {
        let dir = tempfile::tempdir().expect("tmp");
        let data = b"{\n  \"schema\": 1,\n  \"version\": \"1.2.3\"\n}\n";
        let public = signature::public_key(&SEED);
        let file = dir.path().join("manifest.json");
        std::fs::write(&file, data).expect("write");
        std::fs::write(
            dir.path().join(format!("manifest.json{SIG_SUFFIX}")),
            signature::sign(&SEED, data).to_sig_file(),
        )
        .expect("write sig");
        std::fs::write(
            dir.path().join(format!("manifest.json{MINISIG_SUFFIX}")),
            signature::minisign(
                &SEED,
                &signature::key_id(&public),
                data,
                "timestamp:1700000000\tfile:manifest.json",
            ),
        )
        .expect("write minisig");
        std::fs::write(dir.path().join("key.pem"), signature::spki_pem(&public)).expect("pem");
        Signed { dir, public }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Flips one bit of `manifest.json`, keeping its signatures.
    fn tamper(&self) {
        let path = self.path("manifest.json");
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[5] ^= 1;
        std::fs::write(&path, bytes).expect("write");
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}); `cargo xtask test` installs it"))
}

fn describe(out: &Output) -> String {
    format!(
        "{}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What install.sh will run: decode the base64 with OpenSSL itself, then `pkeyutl -verify`.
fn openssl_verify(s: &Signed) -> Output {
    let decoded = run(Command::new("openssl")
        .args(["base64", "-d", "-A", "-in"])
        .arg(s.path("manifest.json.sig"))
        .arg("-out")
        .arg(s.path("sig.bin")));
    assert!(decoded.status.success(), "{}", describe(&decoded));
    run(Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(s.path("key.pem"))
        .arg("-rawin")
        .arg("-in")
        .arg(s.path("manifest.json"))
        .arg("-sigfile")
        .arg(s.path("sig.bin")))
}

#[test]
fn openssl_3_verifies_the_sig_file_and_refuses_an_altered_file() {
    let s = Signed::new();
    let out = openssl_verify(&s);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"),
        "{}",
        describe(&out)
    );
    s.tamper();
    let out = openssl_verify(&s);
    assert!(!out.status.success(), "{}", describe(&out));
}

#[test]
fn openssl_reads_the_pem_as_the_same_ed25519_key() {
    let s = Signed::new();
    let out = run(Command::new("openssl")
        .args(["pkey", "-pubin", "-noout", "-text", "-in"])
        .arg(s.path("key.pem")));
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ED25519 Public-Key"), "{text}");
    let hex: String = text
        .lines()
        .skip_while(|l| !l.starts_with("pub:"))
        .skip(1)
        .flat_map(|l| l.trim().split(':'))
        .filter(|b| !b.is_empty())
        .collect();
    let want: String = s.public.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, want);
}

fn minisign_verify(s: &Signed, public_b64: &str) -> Output {
    run(Command::new("minisign")
        .args(["-V", "-m"])
        .arg(s.path("manifest.json"))
        .arg("-P")
        .arg(public_b64))
}

#[test]
fn minisign_verifies_the_minisig_file_and_refuses_an_altered_file() {
    let s = Signed::new();
    let public = signature::minisign_public_key(&s.public);
    let public_b64 = public.lines().nth(1).expect("key line");
    let out = minisign_verify(&s, public_b64);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Trusted comment: timestamp:1700000000\tfile:manifest.json"),
        "{}",
        describe(&out)
    );
    // The public key file form works too (`-p FILE`).
    std::fs::write(s.path("key.pub"), &public).expect("write");
    let out = run(Command::new("minisign")
        .args(["-V", "-m"])
        .arg(s.path("manifest.json"))
        .arg("-p")
        .arg(s.path("key.pub")));
    assert!(out.status.success(), "{}", describe(&out));

    // Another key is refused.
    let other = signature::minisign_public_key(&signature::public_key(&[7; 32]));
    let out = minisign_verify(&s, other.lines().nth(1).expect("key line"));
    assert!(!out.status.success(), "{}", describe(&out));

    s.tamper();
    let out = minisign_verify(&s, public_b64);
    assert!(!out.status.success(), "{}", describe(&out));
}

/// What the npm launcher will run: `crypto.verify(null, data, key, sig)`.
fn node_verify(dir: &Path) -> Output {
    let script = r#"
const fs = require("fs"), crypto = require("crypto");
const [file, sig, pem] = process.argv.slice(1);
const ok = crypto.verify(null, fs.readFileSync(file),
  crypto.createPublicKey(fs.readFileSync(pem)),
  Buffer.from(fs.readFileSync(sig, "utf8").trim(), "base64"));
process.exit(ok ? 0 : 3);
"#;
    run(Command::new("node")
        .arg("-e")
        .arg(script)
        .arg(dir.join("manifest.json"))
        .arg(dir.join("manifest.json.sig"))
        .arg(dir.join("key.pem")))
}

#[test]
fn node_crypto_verifies_the_sig_file_and_refuses_an_altered_file() {
    let s = Signed::new();
    let out = node_verify(s.dir.path());
    assert!(out.status.success(), "{}", describe(&out));
    s.tamper();
    let out = node_verify(s.dir.path());
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
}
