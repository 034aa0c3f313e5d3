//! A test fixture: the reference `everything` MCP server (from the npm test tools) in its
//! streamable-HTTP mode on loopback, and in front of it a small Node proxy that answers 401 unless
//! the request carries `Authorization: Bearer <token>`. Tests of the MCP client reach the server
//! both ways; nothing here speaks MCP itself.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Forwards every request and its streamed answer to `TARGET_PORT` if it has the bearer token
/// `TOKEN`; prints the port it listens on (loopback, picked by the system).
const PROXY: &str = r#"
const http = require("http");
const want = `Bearer ${process.env.TOKEN}`;
const server = http.createServer((req, res) => {
  if (req.headers.authorization !== want) {
    res.writeHead(401, { "www-authenticate": 'Bearer realm="mcp-test"' });
    res.end("a bearer token is required");
    return;
  }
  const up = http.request(
    { host: "127.0.0.1", port: process.env.TARGET_PORT, path: req.url, method: req.method, headers: req.headers },
    (answer) => { res.writeHead(answer.statusCode, answer.headers); answer.pipe(res); },
  );
  up.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
  req.pipe(up);
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
"#;

/// The running pair; dropping it stops both.
pub struct EverythingHttp {
    server: Child,
    proxy: Child,
    port: u16,
    proxy_port: u16,
}

impl EverythingHttp {
    /// Starts the server and the proxy, which lets through requests with `token`.
    pub fn start(token: &str) -> Result<EverythingHttp> {
        let tools = crate::tools::ensure_npm_tools()?;
        let bin = tools.join("node_modules/.bin/mcp-server-everything");
        // The server takes its port from PORT and cannot pick one itself: take a free one.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut server = Command::new(&bin)
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("start {}", bin.display()))?;
        let stderr = server.stderr.take().context("server stderr")?;
        wait_for_line(stderr, |l| l.contains("listening on port"))
            .context("the everything server did not start listening")?;
        let mut proxy = Command::new("node")
            .args(["-e", PROXY])
            .env("TARGET_PORT", port.to_string())
            .env("TOKEN", token)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("start the token proxy with node")?;
        let stdout = proxy.stdout.take().context("proxy stdout")?;
        let line = wait_for_line(stdout, |l| !l.trim().is_empty())?;
        let proxy_port = line.trim().parse().context("the proxy's port")?;
        Ok(EverythingHttp {
            server,
            proxy,
            port,
            proxy_port,
        })
    }

    /// The server's endpoint, open to anyone.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    /// The same server behind the proxy that wants the bearer token.
    pub fn guarded_url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.proxy_port)
    }
}

impl Drop for EverythingHttp {
    fn drop(&mut self) {
        for child in [&mut self.server, &mut self.proxy] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads lines until one matches, within 60 s; the rest of the output is drained in the
/// background so the child never blocks on a full pipe.
fn wait_for_line(
    out: impl std::io::Read + Send + 'static,
    want: impl Fn(&str) -> bool + Send + 'static,
) -> Result<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if !sent && want(&line) {
                sent = tx.send(line).is_ok();
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => Ok(line),
        Err(_) => bail!("no such line within 60 s"),
    }
}
