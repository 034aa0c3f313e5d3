//! A throwaway public-key infrastructure for the code-signing tests, made with the `openssl`
//! program: a code-signing CA with a Developer ID-shaped certificate and an Authenticode
//! certificate under it, and a separate time-stamping CA whose authority answers RFC 3161
//! requests on loopback (`openssl ts -reply`), standing in for Apple's and DigiCert's.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail, ensure};
use codex_installer::signature::PlatformIdentity;

/// The Developer ID team of the test certificate.
pub const TEST_TEAM_ID: &str = "TEAMID1234";

/// The identities the test certificates carry; tests pass it where a release uses
/// `RELEASE_PLATFORM_IDENTITY`.
pub const TEST_IDENTITY: PlatformIdentity = PlatformIdentity {
    apple_team_id: TEST_TEAM_ID,
    apple_common_name: "Developer ID Application: Codex Test (TEAMID1234)",
    windows_publisher: "Codex Test Publisher",
};

/// The password of the test PKCS#12 bundles.
pub const TEST_P12_PASSWORD: &str = "codex-test-password";

/// Apple's Developer ID Application leaf marker (critical, NULL) and its Developer ID CA
/// intermediate marker, as Apple's certificates carry them.
const APPLE_DEVELOPER_ID_LEAF_OID: &str = "1.2.840.113635.100.6.1.13";

/// Files of the test PKI, all in one folder.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The folder.
    pub dir: PathBuf,
    /// Code-signing root CA (PEM).
    pub ca_pem: PathBuf,
    /// Time-stamping root CA (PEM).
    pub tsa_ca_pem: PathBuf,
    /// The time-stamping authority's own certificate (PEM).
    pub tsa_pem: PathBuf,
    /// Developer ID-shaped certificate and key (PKCS#12, [`TEST_P12_PASSWORD`]).
    pub apple_p12: PathBuf,
    /// Authenticode certificate and key (PKCS#12, [`TEST_P12_PASSWORD`]).
    pub windows_p12: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .context("cannot run openssl; `cargo xtask test` installs it")?;
    ensure!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

impl TestPki {
    /// Makes every key and certificate in `dir` (created if missing).
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let d = |s: &str| dir.join(s);
        let root = |name: &str, cn: &str| -> Result<()> {
            openssl(
                dir,
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-sha256",
                    "-days",
                    "30",
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.pem"),
                    "-subj",
                    &format!("/CN={cn}/O=Codex Test"),
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            )
        };
        root("ca", "Codex Test Code Signing CA")?;
        root("tsaca", "Codex Test Time Stamping CA")?;
        let leaf = |name: &str, ca: &str, subj: &str, ext: &str| -> Result<()> {
            std::fs::write(d(&format!("{name}.ext")), ext)?;
            openssl(
                dir,
                &[
                    "req",
                    "-new",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                    "-subj",
                    subj,
                ],
            )?;
            openssl(
                dir,
                &[
                    "x509",
                    "-req",
                    "-sha256",
                    "-days",
                    "30",
                    "-in",
                    &format!("{name}.csr"),
                    "-CA",
                    &format!("{ca}.pem"),
                    "-CAkey",
                    &format!("{ca}.key"),
                    "-CAcreateserial",
                    "-extfile",
                    &format!("{name}.ext"),
                    "-out",
                    &format!("{name}.pem"),
                ],
            )
        };
        leaf(
            "apple",
            "ca",
            &format!(
                "/UID={TEST_TEAM_ID}/CN={}/OU={TEST_TEAM_ID}/O=Codex Test/C=US",
                TEST_IDENTITY.apple_common_name
            ),
            &format!(
                "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                 extendedKeyUsage=critical,codeSigning\n{APPLE_DEVELOPER_ID_LEAF_OID}=critical,DER:0500\n"
            ),
        )?;
        leaf(
            "windows",
            "ca",
            &format!("/CN={}/O=Codex Test/C=US", TEST_IDENTITY.windows_publisher),
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=codeSigning\n",
        )?;
        leaf(
            "tsa",
            "tsaca",
            "/CN=Codex Test Time Stamping Authority/O=Codex Test",
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=critical,timeStamping\n",
        )?;
        std::fs::write(d("p12.pass"), TEST_P12_PASSWORD)?;
        for name in ["apple", "windows"] {
            // 3DES and a SHA-1 MAC: what Keychain Access exports, and what apple-codesign reads.
            openssl(
                dir,
                &[
                    "pkcs12",
                    "-export",
                    "-inkey",
                    &format!("{name}.key"),
                    "-in",
                    &format!("{name}.pem"),
                    "-out",
                    &format!("{name}.p12"),
                    "-passout",
                    "file:p12.pass",
                    "-certpbe",
                    "PBE-SHA1-3DES",
                    "-keypbe",
                    "PBE-SHA1-3DES",
                    "-macalg",
                    "sha1",
                ],
            )?;
        }
        std::fs::write(d("tsaserial"), "01\n")?;
        std::fs::write(
            d("tsa.cnf"),
            format!(
                "[ tsa ]\ndefault_tsa = tsa_config\n\n[ tsa_config ]\ndir = {}\nserial = $dir/tsaserial\n\
                 crypto_device = builtin\nsigner_cert = $dir/tsa.pem\ncerts = $dir/tsa.pem\n\
                 signer_key = $dir/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n\
                 digests = sha1, sha256, sha384, sha512\naccuracy = secs:1\nordering = yes\n\
                 tsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
                dir.display()
            ),
        )?;
        Ok(Self::at(dir))
    }

    /// The PKI [`TestPki::create`] made in `dir` earlier (by another test process).
    pub fn at(dir: &Path) -> Self {
        let d = |s: &str| dir.join(s);
        Self {
            dir: dir.to_path_buf(),
            ca_pem: d("ca.pem"),
            tsa_ca_pem: d("tsaca.pem"),
            tsa_pem: d("tsa.pem"),
            apple_p12: d("apple.p12"),
            windows_p12: d("windows.p12"),
        }
    }

    /// The code-signing CA as DER, the form `SignatureTrust::apple_roots` takes.
    pub fn ca_der(&self) -> Result<Vec<u8>> {
        pem_to_der(&std::fs::read_to_string(&self.ca_pem)?)
    }

    /// The test Developer ID, as `dist` takes it.
    pub fn apple_pkcs12(&self) -> Result<xtask::codesign::Pkcs12> {
        Ok(xtask::codesign::Pkcs12 {
            der: std::fs::read(&self.apple_p12)?,
            password: TEST_P12_PASSWORD.to_owned(),
        })
    }

    /// The test Authenticode certificate, as `dist` takes it.
    pub fn windows_pkcs12(&self) -> Result<xtask::codesign::Pkcs12> {
        Ok(xtask::codesign::Pkcs12 {
            der: std::fs::read(&self.windows_p12)?,
            password: TEST_P12_PASSWORD.to_owned(),
        })
    }

    /// What `verify --release`'s signature check trusts in the tests: the test identity under
    /// the test CAs.
    pub fn trust(&self) -> Result<xtask::codesign::SignatureTrust> {
        Ok(xtask::codesign::SignatureTrust {
            identity: TEST_IDENTITY,
            apple_roots: vec![self.ca_der()?],
            windows_ca_file: Some(self.ca_pem.clone()),
            windows_tsa_ca_file: Some(self.tsa_ca_pem.clone()),
        })
    }

    /// Starts the loopback time-stamping authority.
    pub fn start_tsa(&self) -> Result<Tsa> {
        Tsa::start(self.dir.clone())
    }
}

/// The first PEM block of `text` as DER.
pub fn pem_to_der(text: &str) -> Result<Vec<u8>> {
    use base64::Engine as _;
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .context("not PEM")
}

/// An RFC 3161 time-stamping authority on 127.0.0.1: each POSTed query is answered by
/// `openssl ts -reply` with the test TSA certificate. Stops when dropped.
pub struct Tsa {
    /// `http://127.0.0.1:<port>/`.
    pub url: String,
    /// How many requests it answered.
    pub answered: Arc<Mutex<usize>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    port: u16,
}

impl Tsa {
    fn start(dir: PathBuf) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let answered = Arc::new(Mutex::new(0usize));
        let (stop2, answered2) = (stop.clone(), answered.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                // One at a time: `openssl ts` keeps its serial number in a file.
                if answer(&dir, conn).is_ok() {
                    *answered2.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                }
            }
        });
        Ok(Self {
            url: format!("http://127.0.0.1:{port}/"),
            answered,
            stop,
            port,
        })
    }

    /// Requests answered so far.
    pub fn count(&self) -> usize {
        *self.answered.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Tsa {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn answer(dir: &Path, mut conn: TcpStream) -> Result<()> {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut length = 0usize;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    ensure!(line.starts_with("POST "), "not a POST: {line:?}");
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse()?;
        }
    }
    ensure!(length > 0 && length < 64 << 10, "bad query length {length}");
    let mut query = vec![0u8; length];
    reader.read_exact(&mut query)?;
    let work = tempfile::tempdir_in(dir)?;
    let q = work.path().join("query.tsq");
    let r = work.path().join("reply.tsr");
    std::fs::write(&q, &query)?;
    let out = Command::new("openssl")
        .args(["ts", "-reply", "-config"])
        .arg(dir.join("tsa.cnf"))
        .arg("-queryfile")
        .arg(&q)
        .arg("-out")
        .arg(&r)
        .output()?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        write!(
            conn,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
            msg.len()
        )?;
        bail!("openssl ts -reply failed: {msg}");
    }
    let reply = std::fs::read(&r)?;
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    )?;
    conn.write_all(&reply)?;
    conn.flush()?;
    Ok(())
}
