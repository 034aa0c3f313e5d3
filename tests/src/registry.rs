//! A real npm registry on loopback: Verdaccio (installed by `xtask::tools::ensure_npm_tools`),
//! with its own storage, no uplinks (nothing is fetched from elsewhere), a user and a token, and
//! an npmrc that points npm and pnpm at it. Stopped when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A running Verdaccio.
pub struct Registry {
    child: Child,
    /// `http://127.0.0.1:<port>/`.
    pub url: String,
    /// An npmrc with the registry and a publish token; pass it as `NPM_CONFIG_USERCONFIG`.
    pub npmrc: PathBuf,
    /// The npm tools folder (its `node_modules/.bin` has pnpm).
    pub tools: PathBuf,
}

impl Registry {
    /// Starts a registry whose files live under `dir`.
    pub fn start(dir: &Path) -> Result<Registry> {
        let tools = xtask::tools::ensure_npm_tools()?;
        std::fs::create_dir_all(dir.join("storage"))?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let url = format!("http://127.0.0.1:{port}/");
        let config = dir.join("config.yaml");
        std::fs::write(
            &config,
            format!(
                "storage: {storage}\n\
                 auth:\n  htpasswd:\n    file: {htpasswd}\n    max_users: 100\n\
                 uplinks: {{}}\n\
                 packages:\n  '**':\n    access: $all\n    publish: $authenticated\n    unpublish: $authenticated\n\
                 web:\n  enable: false\n\
                 log: {{ type: stdout, format: pretty, level: error }}\n\
                 max_body_size: 200mb\n",
                storage = dir.join("storage").display(),
                htpasswd = dir.join("htpasswd").display(),
            ),
        )?;
        let log = std::fs::File::create(dir.join("verdaccio.log"))?;
        let child = Command::new("node")
            .arg(tools.join("node_modules/verdaccio/bin/verdaccio"))
            .args(["--config"])
            .arg(&config)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start verdaccio")?;
        let mut registry = Registry {
            child,
            npmrc: dir.join("npmrc"),
            url,
            tools,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while curl(&[&format!("{}-/ping", registry.url)]).is_err() {
            if Instant::now() > deadline {
                bail!(
                    "verdaccio did not answer in 60 s; its log: {}",
                    std::fs::read_to_string(dir.join("verdaccio.log")).unwrap_or_default()
                );
            }
            if let Ok(Some(status)) = registry.child.try_wait() {
                bail!(
                    "verdaccio exited ({status}); its log: {}",
                    std::fs::read_to_string(dir.join("verdaccio.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let answer = curl(&[
            "-X",
            "PUT",
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"name":"e2e","password":"e2e-password"}"#,
            &format!("{}-/user/org.couchdb.user:e2e", registry.url),
        ])?;
        let token = serde_json::from_str::<serde_json::Value>(&answer)?["token"]
            .as_str()
            .with_context(|| format!("no token in {answer}"))?
            .to_owned();
        let host = registry.url.trim_start_matches("http:");
        std::fs::write(
            &registry.npmrc,
            format!(
                "registry={url}\n{host}:_authToken={token}\nfund=false\naudit=false\nupdate-notifier=false\n",
                url = registry.url
            ),
        )?;
        Ok(registry)
    }

    /// pnpm from the tools folder.
    pub fn pnpm(&self) -> PathBuf {
        self.tools.join("node_modules/.bin/pnpm")
    }

    /// An `npm` command configured for this registry only.
    pub fn npm(&self) -> Command {
        let mut c = Command::new("npm");
        self.configure(&mut c);
        c
    }

    /// Points `cmd` (npm, pnpm, or a script that runs them) at this registry.
    pub fn configure(&self, cmd: &mut Command) {
        cmd.env("NPM_CONFIG_USERCONFIG", &self.npmrc)
            .env("npm_config_registry", &self.url)
            .env_remove("NPM_CONFIG_PREFIX")
            .env_remove("npm_config_prefix");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl(args: &[&str]) -> Result<String> {
    let out = Command::new("curl")
        .args(["-fsS", "--max-time", "5"])
        .args(args)
        .output()?;
    if !out.status.success() {
        bail!("curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
