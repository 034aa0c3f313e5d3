//! A loopback stand-in for Apple's notary API v2 and the S3 bucket uploads go to, as the scripted
//! model stands in for the model: Apple's service cannot be reached from a test machine.
//!
//! It checks what the real service checks of a client: every API request carries an ES256 token
//! signed by the test key (its `kid`, `iss`, `aud`, lifetime), the upload is a SigV4-signed `PUT`
//! made with the temporary credentials it handed out for that submission, and the uploaded bytes
//! have the SHA-256 the submission announced and are a zip holding one Mach-O. Each test scripts
//! the verdict: Accepted, Invalid with a log, or In Progress a number of times first. It records
//! every request, and why it refused any, for the tests' assertions.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use ring::signature::{KeyPair as _, UnparsedPublicKey};
use serde_json::{Value, json};

/// The bucket the stand-in names for uploads.
pub const BUCKET: &str = "notary-submissions-test";

/// What the stand-in answers once a submission's file is uploaded.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Accepted on the first status request.
    Accepted,
    /// Invalid, with this notary log.
    Invalid(Value),
    /// In Progress for this many status requests, then the inner verdict.
    InProgressThen(u32, Box<Verdict>),
}

/// An App Store Connect API key made for a test: its id, issuer and `.p8` text.
#[derive(Debug, Clone)]
pub struct TestKey {
    /// Key id (`kid`).
    pub key_id: String,
    /// Issuer id (`iss`).
    pub issuer: String,
    /// The PKCS#8 PEM, as the `.p8` file holds it.
    pub p8: String,
    public: Vec<u8>,
}

impl TestKey {
    /// A fresh P-256 key.
    pub fn generate(key_id: &str, issuer: &str) -> Result<TestKey> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow!("generating a P-256 key"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|e| anyhow!("parsing the new key: {e}"))?;
        let b64 = STANDARD.encode(pkcs8.as_ref());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        Ok(TestKey {
            key_id: key_id.to_owned(),
            issuer: issuer.to_owned(),
            p8: format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                lines.join("\n")
            ),
            public: pair.public_key().as_ref().to_vec(),
        })
    }
}

/// One request the stand-in answered.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path and query.
    pub target: String,
    /// The status it answered.
    pub status: u16,
    /// Why it refused the request, if it did.
    pub refusal: Option<String>,
}

#[derive(Debug)]
struct Submission {
    name: String,
    sha256: String,
    access_key_id: String,
    secret: String,
    token: String,
    object: String,
    uploaded: bool,
    verdict: Verdict,
    log: Option<Value>,
}

#[derive(Debug)]
struct Shared {
    key: TestKey,
    verdict: Mutex<Verdict>,
    submissions: Mutex<HashMap<String, Submission>>,
    seen: Mutex<Vec<Seen>>,
    next_id: Mutex<u32>,
    outage: Mutex<u32>,
    port: u16,
}

/// The running stand-in; dropping it stops it.
#[derive(Debug)]
pub struct NotaryStandIn {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl NotaryStandIn {
    /// Starts on a free loopback port, trusting `key` and answering `verdict` to every submission.
    pub fn start(key: &TestKey, verdict: Verdict) -> Result<NotaryStandIn> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the notary stand-in")?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let shared = Arc::new(Shared {
            key: key.clone(),
            verdict: Mutex::new(verdict),
            submissions: Mutex::new(HashMap::new()),
            seen: Mutex::new(Vec::new()),
            next_id: Mutex::new(0),
            outage: Mutex::new(0),
            port: addr.port(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((tcp, _)) => {
                            let shared = shared.clone();
                            std::thread::spawn(move || serve(tcp, &shared));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Ok(NotaryStandIn {
            shared,
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The notary API's base URL (`CODEX_NOTARY_URL`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bucket URL template (`CODEX_NOTARY_S3_URL`): path-style on the same port.
    pub fn s3_url(&self) -> String {
        format!("http://{}/s3/{{bucket}}", self.addr)
    }

    /// Answers the next `n` requests with 503, as a service having a bad minute does.
    pub fn fail_next(&self, n: u32) {
        *lock(&self.shared.outage) = n;
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.shared.seen).clone()
    }

    /// The refusals so far, one line each.
    pub fn refusals(&self) -> Vec<String> {
        self.seen().into_iter().filter_map(|s| s.refusal).collect()
    }

    /// `(submission name, uploaded)` of every submission so far, sorted by name.
    pub fn submissions(&self) -> Vec<(String, bool)> {
        let mut v: Vec<_> = lock(&self.shared.submissions)
            .values()
            .map(|s| (s.name.clone(), s.uploaded))
            .collect();
        v.sort();
        v
    }
}

impl Drop for NotaryStandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Req {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The most a request may send: the largest macOS binary zipped, with room to spare.
const MAX_BODY: usize = 256 << 20;

fn read_request(tcp: &TcpStream) -> Result<Req> {
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut r = BufReader::new(tcp);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().context("no method")?.to_owned();
    let target = parts.next().context("no target")?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').context("bad header")?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse())
        .transpose()?
        .unwrap_or(0);
    ensure!(len <= MAX_BODY, "body too large");
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(Req {
        method,
        target,
        headers,
        body,
    })
}

fn serve(mut tcp: TcpStream, shared: &Shared) {
    let Ok(req) = read_request(&tcp) else {
        return;
    };
    let (status, body) = match route(&req, shared) {
        Ok(answer) => answer,
        Err(e) => (500, json!({ "errors": [{ "detail": format!("{e:#}") }] })),
    };
    let refusal = (status >= 400).then(|| {
        body["errors"][0]["detail"]
            .as_str()
            .unwrap_or("refused")
            .to_owned()
    });
    lock(&shared.seen).push(Seen {
        method: req.method.clone(),
        target: req.target.clone(),
        status,
        refusal,
    });
    let text = body.to_string();
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        text.len()
    );
    let _ = tcp.write_all(head.as_bytes());
    let _ = tcp.write_all(text.as_bytes());
}

fn refuse(status: u16, why: impl std::fmt::Display) -> Result<(u16, Value)> {
    Ok((
        status,
        json!({ "errors": [{ "status": status.to_string(), "detail": why.to_string() }] }),
    ))
}

fn route(req: &Req, shared: &Shared) -> Result<(u16, Value)> {
    {
        let mut outage = lock(&shared.outage);
        if *outage > 0 {
            *outage -= 1;
            return refuse(503, "service unavailable");
        }
    }
    let path = req.target.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method.as_str(), segments.as_slice()) {
        ("PUT", ["s3", bucket, object @ ..]) => upload(req, shared, bucket, &object.join("/")),
        ("GET", ["logs", id]) => {
            let subs = lock(&shared.submissions);
            match subs.get(*id).and_then(|s| s.log.clone()) {
                Some(log) => Ok((200, log)),
                None => refuse(404, "no log"),
            }
        }
        (_, ["notary", "v2", "submissions", rest @ ..]) => {
            if let Err(e) = check_token(req, &shared.key) {
                return refuse(401, format!("bad token: {e:#}"));
            }
            match (req.method.as_str(), rest) {
                ("POST", []) => submit(req, shared),
                ("GET", [id]) => status(shared, id),
                ("GET", [id, "logs"]) => Ok((
                    200,
                    json!({ "data": { "type": "submissionsLog", "id": id, "attributes": {
                        "developerLogUrl": format!("http://127.0.0.1:{}/logs/{id}?X-Amz-Signature=presigned", shared.port)
                    }}}),
                )),
                _ => refuse(404, "no such API"),
            }
        }
        _ => refuse(404, "not found"),
    }
}

fn submit(req: &Req, shared: &Shared) -> Result<(u16, Value)> {
    let body: Value = serde_json::from_slice(&req.body).context("submission body")?;
    let (Some(name), Some(sha256)) = (body["submissionName"].as_str(), body["sha256"].as_str())
    else {
        return refuse(400, "submissionName and sha256 are required");
    };
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return refuse(400, "sha256 is not hex SHA-256");
    }
    let id = {
        let mut n = lock(&shared.next_id);
        *n += 1;
        format!("2f1e{:04}-0000-4000-8000-00000000{:04}", *n, *n)
    };
    let rng = SystemRandom::new();
    let mut secret = [0u8; 30];
    rng.fill(&mut secret).map_err(|_| anyhow!("rng"))?;
    let sub = Submission {
        name: name.to_owned(),
        sha256: sha256.to_ascii_lowercase(),
        access_key_id: format!("ASIATEST{id:.8}"),
        secret: STANDARD.encode(secret),
        token: format!("session-{}", STANDARD.encode(&secret[..12])),
        object: format!("prod/{id}/{name}"),
        uploaded: false,
        verdict: lock(&shared.verdict).clone(),
        log: None,
    };
    let answer = json!({ "data": { "type": "newSubmissions", "id": id, "attributes": {
        "awsAccessKeyId": sub.access_key_id,
        "awsSecretAccessKey": sub.secret,
        "awsSessionToken": sub.token,
        "bucket": BUCKET,
        "object": sub.object,
    }}, "meta": {} });
    lock(&shared.submissions).insert(id, sub);
    Ok((200, answer))
}

fn status(shared: &Shared, id: &str) -> Result<(u16, Value)> {
    let mut subs = lock(&shared.submissions);
    let Some(sub) = subs.get_mut(id) else {
        return refuse(404, format!("no submission {id}"));
    };
    let status = if !sub.uploaded {
        "In Progress"
    } else {
        match sub.verdict.clone() {
            Verdict::Accepted => "Accepted",
            Verdict::Invalid(log) => {
                sub.log = Some(log);
                "Invalid"
            }
            Verdict::InProgressThen(0, then) => {
                sub.verdict = *then;
                drop(subs);
                return status(shared, id);
            }
            Verdict::InProgressThen(n, then) => {
                sub.verdict = Verdict::InProgressThen(n - 1, then);
                "In Progress"
            }
        }
    };
    Ok((
        200,
        json!({ "data": { "type": "submissions", "id": id, "attributes": {
            "status": status, "name": sub.name, "createdDate": "2026-12-07T15:00:00.000Z"
        }}, "meta": {} }),
    ))
}

fn upload(req: &Req, shared: &Shared, bucket: &str, object: &str) -> Result<(u16, Value)> {
    let mut subs = lock(&shared.submissions);
    let Some(sub) = subs
        .values_mut()
        .find(|s| bucket == BUCKET && s.object == object)
    else {
        return refuse(404, format!("no upload expected at {bucket}/{object}"));
    };
    if let Err(e) = check_sigv4(req, sub) {
        return refuse(403, format!("SignatureDoesNotMatch: {e:#}"));
    }
    let sha = hex(ring::digest::digest(&ring::digest::SHA256, &req.body).as_ref());
    if sha != sub.sha256 {
        return refuse(400, "the upload's SHA-256 differs from the submission's");
    }
    let entry = codex_installer::archive::read_single_entry(
        codex_installer::target::ArchiveFormat::Zip,
        &req.body,
        None,
    )
    .map_err(|e| anyhow!("the upload is not a zip of one file: {e}"));
    match entry {
        Ok(e) if is_macho(&e.contents) && sub.name == format!("{}.zip", e.name) => {
            sub.uploaded = true;
            Ok((200, json!({})))
        }
        Ok(e) => refuse(
            400,
            format!("{} is not a Mach-O named as submitted", e.name),
        ),
        Err(e) => refuse(400, e),
    }
}

fn is_macho(b: &[u8]) -> bool {
    matches!(
        b.get(..4),
        Some([0xcf, 0xfa, 0xed, 0xfe] | [0xca, 0xfe, 0xba, 0xbe])
    )
}

fn check_token(req: &Req, key: &TestKey) -> Result<()> {
    let auth = req.header("authorization").context("no authorization")?;
    let token = auth.strip_prefix("Bearer ").context("not a bearer token")?;
    let parts: Vec<&str> = token.split('.').collect();
    ensure!(parts.len() == 3, "not a JWT");
    let decode =
        |s: &str| -> Result<Value> { Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s)?)?) };
    let header = decode(parts[0])?;
    let claims = decode(parts[1])?;
    ensure!(header["alg"] == "ES256", "alg is not ES256");
    ensure!(header["kid"] == key.key_id.as_str(), "unknown kid");
    let sig = URL_SAFE_NO_PAD.decode(parts[2])?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &key.public)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .map_err(|_| anyhow!("signature does not verify with the key's public half"))?;
    ensure!(claims["aud"] == "appstoreconnect-v1", "wrong aud");
    ensure!(claims["iss"] == key.issuer.as_str(), "wrong iss");
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let (iat, exp) = (
        claims["iat"].as_u64().context("no iat")?,
        claims["exp"].as_u64().context("no exp")?,
    );
    ensure!(exp > now, "expired");
    ensure!(iat <= now + 60, "issued in the future");
    ensure!(exp - iat <= 20 * 60, "lives longer than 20 minutes");
    Ok(())
}

/// Checks a SigV4 `Authorization` header the way S3 does, from the request as received.
fn check_sigv4(req: &Req, sub: &Submission) -> Result<()> {
    let auth = req.header("authorization").context("no authorization")?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .context("not AWS4-HMAC-SHA256")?;
    let field = |name: &str| -> Result<&str> {
        rest.split(',')
            .map(str::trim)
            .find_map(|p| p.strip_prefix(name))
            .with_context(|| format!("no {name}"))
    };
    let credential = field("Credential=")?;
    let signed = field("SignedHeaders=")?;
    let signature = field("Signature=")?;
    let (akid, scope) = credential.split_once('/').context("bad Credential")?;
    ensure!(akid == sub.access_key_id, "unknown access key");
    let scope_parts: Vec<&str> = scope.split('/').collect();
    ensure!(
        scope_parts.len() == 4 && scope_parts[1..] == ["us-west-2", "s3", "aws4_request"],
        "wrong scope {scope}"
    );
    let signed: Vec<&str> = signed.split(';').collect();
    for needed in [
        "host",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
    ] {
        ensure!(signed.contains(&needed), "{needed} is not signed");
    }
    ensure!(
        req.header("x-amz-security-token") == Some(sub.token.as_str()),
        "wrong session token"
    );
    let body_sha = hex(ring::digest::digest(&ring::digest::SHA256, &req.body).as_ref());
    ensure!(
        req.header("x-amz-content-sha256") == Some(body_sha.as_str()),
        "x-amz-content-sha256 is not the body's"
    );
    let date = req.header("x-amz-date").context("no x-amz-date")?;
    ensure!(
        date.get(..8) == Some(scope_parts[0]),
        "date and scope differ"
    );
    let mut canonical = format!("{}\n{}\n\n", req.method, req.target);
    for name in &signed {
        let value = req
            .header(name)
            .with_context(|| format!("signed header {name} is missing"))?;
        canonical.push_str(&format!("{name}:{}\n", value.trim()));
    }
    canonical.push_str(&format!("\n{}\n{body_sha}", signed.join(";")));
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        hex(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let mut k = format!("AWS4{}", sub.secret).into_bytes();
    for part in [scope_parts[0], "us-west-2", "s3", "aws4_request"] {
        k = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &k), part.as_bytes())
            .as_ref()
            .to_vec();
    }
    let want = hex(hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &k), to_sign.as_bytes()).as_ref());
    if want != signature {
        bail!("the signature does not match");
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use xtask::notary::sigv4;

    fn submission() -> Submission {
        Submission {
            name: "codex-aarch64-apple-darwin.zip".into(),
            sha256: String::new(),
            access_key_id: "ASIATEST".into(),
            secret: "secret/key+value".into(),
            token: "session-token".into(),
            object: "prod/1/codex-aarch64-apple-darwin.zip".into(),
            uploaded: false,
            verdict: Verdict::Accepted,
            log: None,
        }
    }

    /// A PUT as the build driver's signer signs it, with `creds`.
    fn signed_put(body: &[u8], creds: &sigv4::Credentials) -> Req {
        let path = "/s3/notary-submissions-test/prod/1/codex-aarch64-apple-darwin.zip";
        let payload = hex(ring::digest::digest(&ring::digest::SHA256, body).as_ref());
        let mut headers = sigv4::sign(
            &sigv4::Request {
                method: "PUT",
                host: "127.0.0.1:9",
                path,
                query: "",
                headers: &[("x-amz-content-sha256", &payload)],
                payload_sha256: &payload,
                amz_date: "20261207T150000Z",
                service: "s3",
                region: "us-west-2",
            },
            creds,
        );
        headers.push(("host".into(), "127.0.0.1:9".into()));
        Req {
            method: "PUT".into(),
            target: path.into(),
            headers,
            body: body.to_vec(),
        }
    }

    fn creds(secret: &str) -> sigv4::Credentials {
        sigv4::Credentials {
            access_key_id: "ASIATEST".into(),
            secret_access_key: secret.into(),
            session_token: "session-token".into(),
        }
    }

    #[test]
    fn the_stand_in_accepts_the_build_drivers_sigv4_signature() {
        let req = signed_put(b"zip bytes", &creds("secret/key+value"));
        check_sigv4(&req, &submission()).expect("a correct signature passes");
    }

    #[test]
    fn the_stand_in_refuses_a_sigv4_signature_made_with_another_secret() {
        let req = signed_put(b"zip bytes", &creds("another secret"));
        let err = check_sigv4(&req, &submission()).expect_err("wrong secret");
        assert!(format!("{err:#}").contains("does not match"), "{err:#}");
    }

    #[test]
    fn the_stand_in_refuses_an_upload_whose_body_was_changed_after_signing() {
        let mut req = signed_put(b"zip bytes", &creds("secret/key+value"));
        req.body = b"zip bytez".to_vec();
        assert!(check_sigv4(&req, &submission()).is_err());
    }

    #[test]
    fn the_stand_in_refuses_a_signed_header_changed_after_signing() {
        let mut req = signed_put(b"zip bytes", &creds("secret/key+value"));
        for (k, v) in &mut req.headers {
            if k == "x-amz-date" {
                *v = "20261207T150001Z".into();
            }
        }
        let err = check_sigv4(&req, &submission()).expect_err("changed date");
        assert!(format!("{err:#}").contains("does not match"), "{err:#}");
    }

    fn shared(key: &TestKey, sub: Submission) -> Shared {
        Shared {
            key: key.clone(),
            verdict: Mutex::new(Verdict::Accepted),
            submissions: Mutex::new(HashMap::from([("1".to_owned(), sub)])),
            seen: Mutex::new(Vec::new()),
            next_id: Mutex::new(1),
            outage: Mutex::new(0),
            port: 9,
        }
    }

    /// The stand-in's answer to `zip` uploaded for a submission that announced `announced`.
    fn upload_answer(zip: &[u8], announced: &[u8]) -> u16 {
        let key = TestKey::generate("K", "I").expect("key");
        let mut sub = submission();
        sub.sha256 = hex(ring::digest::digest(&ring::digest::SHA256, announced).as_ref());
        let shared = shared(&key, sub);
        let req = signed_put(zip, &creds("secret/key+value"));
        let (status, _) = upload(
            &req,
            &shared,
            BUCKET,
            "prod/1/codex-aarch64-apple-darwin.zip",
        )
        .expect("answer");
        status
    }

    fn zipped(contents: &[u8]) -> Vec<u8> {
        xtask::archive::pack(
            codex_installer::target::ArchiveFormat::Zip,
            "codex-aarch64-apple-darwin",
            contents,
            0,
        )
        .expect("zip")
    }

    const MACHO: &[u8] = &[0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0x00, 0x00, 0x01];

    #[test]
    fn the_stand_in_takes_a_zipped_mach_o_with_the_announced_digest() {
        let zip = zipped(MACHO);
        assert_eq!(upload_answer(&zip, &zip), 200);
    }

    #[test]
    fn the_stand_in_refuses_an_upload_whose_digest_is_not_the_announced_one() {
        let zip = zipped(MACHO);
        assert_eq!(upload_answer(&zip, b"something else"), 400);
    }

    #[test]
    fn the_stand_in_refuses_an_upload_that_is_not_a_zipped_mach_o() {
        let zip = zipped(b"#!/bin/sh\necho not a Mach-O\n");
        assert_eq!(upload_answer(&zip, &zip), 400);
        assert_eq!(upload_answer(MACHO, MACHO), 400);
    }

    /// A token over `claims` signed by `key`, with `key`'s id.
    fn token(key: &TestKey, claims: &Value) -> String {
        let der = STANDARD
            .decode(
                key.p8
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>(),
            )
            .expect("p8");
        let rng = SystemRandom::new();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng).expect("key");
        let head = json!({ "alg": "ES256", "kid": key.key_id, "typ": "JWT" });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(head.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = pair.sign(&rng, input.as_bytes()).expect("sign");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    fn token_check(key: &TestKey, claims: &Value) -> Result<()> {
        let req = Req {
            method: "GET".into(),
            target: "/notary/v2/submissions/1".into(),
            headers: vec![(
                "authorization".into(),
                format!("Bearer {}", token(key, claims)),
            )],
            body: Vec::new(),
        };
        check_token(&req, key)
    }

    #[test]
    fn the_stand_in_checks_audience_issuer_and_lifetime_of_tokens() {
        let key = TestKey::generate("K", "I").expect("key");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("time")
            .as_secs();
        let good = json!({ "iss": "I", "iat": now, "exp": now + 600, "aud": "appstoreconnect-v1" });
        token_check(&key, &good).expect("a good token passes");
        let bad = [
            (
                json!({ "iss": "I", "iat": now, "exp": now + 600, "aud": "other" }),
                "wrong aud",
            ),
            (
                json!({ "iss": "X", "iat": now, "exp": now + 600, "aud": "appstoreconnect-v1" }),
                "wrong iss",
            ),
            (
                json!({ "iss": "I", "iat": now - 900, "exp": now - 1, "aud": "appstoreconnect-v1" }),
                "expired",
            ),
            (
                json!({ "iss": "I", "iat": now, "exp": now + 1201, "aud": "appstoreconnect-v1" }),
                "longer than 20 minutes",
            ),
        ];
        for (claims, why) in bad {
            let err = token_check(&key, &claims).expect_err(why);
            assert!(format!("{err:#}").contains(why), "{why}: {err:#}");
        }
    }
}
