//! `codex login` (browser, `--device-auth`, `--with-api-key`, `--with-access-token`),
//! `codex login status` and `codex logout`, with 0.169's texts and exit codes; and how a
//! session finds its credentials ([`model_client`]).

use std::io::{IsTerminal as _, Read as _};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use codex_agent::model::{ClientOptions, ModelClient};
use codex_login::storage;
use codex_login::{AuthDotJson, AuthManager, AuthMode, Issuer, LoginError, TokenData};

/// `codex login` arguments. As in 0.169, flags may come before `status` (which ignores them).
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The global `-c`, `--enable` and `--disable` overrides (see [`crate::global::ConfigArgs`];
    /// filled in before the command runs), e.g. `-c auth_issuer=https://...`.
    #[arg(skip)]
    pub config: Vec<String>,
    /// Read the API key from stdin (e.g. `printenv OPENAI_API_KEY | codex login --with-api-key`).
    #[arg(long, conflicts_with_all = ["with_access_token", "device_auth"])]
    pub with_api_key: bool,
    /// Read the access token from stdin (e.g. `printenv CODEX_ACCESS_TOKEN | codex login
    /// --with-access-token`).
    #[arg(long, conflicts_with = "device_auth")]
    pub with_access_token: bool,
    /// Sign in with a one-time code entered in a browser on any device (for SSH and headless
    /// machines).
    #[arg(long)]
    pub device_auth: bool,
    /// `status`, or none to sign in.
    #[command(subcommand)]
    pub command: Option<LoginCommand>,
}

/// `codex login` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum LoginCommand {
    /// Show login status
    Status,
}

/// `codex logout` arguments.
#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// The global `-c`, `--enable` and `--disable` overrides (see [`crate::global::ConfigArgs`];
    /// filled in before the command runs), e.g. `-c auth_issuer=https://...`.
    #[arg(skip)]
    pub config: Vec<String>,
}

/// Runs `codex login`, returning the exit code (messages go to stderr, as 0.169's do).
pub fn run(args: &LoginArgs) -> i32 {
    let outcome = match &args.command {
        Some(LoginCommand::Status) => return status(args),
        None if args.with_api_key => with_api_key(args),
        None if args.with_access_token => with_access_token(args),
        None => interactive(args),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error logging in: {e:#}");
            1
        }
    }
}

/// Runs `codex logout`: removes auth.json (even a corrupt one).
pub fn logout(args: &LogoutArgs) -> i32 {
    let removed = home(&args.config).and_then(|h| Ok(storage::delete(&h)?));
    match removed {
        Ok(true) => {
            eprintln!("Successfully logged out");
            0
        }
        Ok(false) => {
            eprintln!("Not logged in");
            0
        }
        Err(e) => {
            eprintln!("Error logging out: {e:#}");
            1
        }
    }
}

fn home(overrides: &[String]) -> Result<std::path::PathBuf> {
    Ok(crate::exec::load_config(codex_config::Options::default(), overrides)?.0)
}

fn status(args: &LoginArgs) -> i32 {
    let loaded = home(&args.config).and_then(|h| Ok(storage::load(&h)?));
    match loaded {
        Ok(None) => {
            eprintln!("Not logged in");
            1
        }
        Ok(Some(auth)) => {
            match (auth.mode(), auth.stored_api_key()) {
                (Some(AuthMode::ApiKey), Some(key)) => {
                    eprintln!("API key configured - {}", storage::mask_key(key));
                    eprintln!("Authentication is checked when you send a request.");
                }
                _ => eprintln!("Logged in using ChatGPT"),
            }
            0
        }
        Err(e) => {
            eprintln!("Error checking login status: {e:#}");
            1
        }
    }
}

/// The secret piped on stdin for `--{flag}`, trimmed; `None` when stdin was empty.
fn read_secret(flag: &str, what: &str, example: &str) -> Result<Option<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        anyhow::bail!(
            "--{flag} reads the {what} from stdin, which is a terminal: pipe it in, e.g. `{example}`"
        );
    }
    eprintln!("Reading {what} from stdin...");
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .context("cannot read stdin")?;
    let secret = text.trim().to_string();
    Ok((!secret.is_empty()).then_some(secret))
}

fn with_api_key(args: &LoginArgs) -> Result<i32> {
    let codex_home = home(&args.config)?;
    let Some(key) = read_secret(
        "with-api-key",
        "API key",
        "printenv OPENAI_API_KEY | codex login --with-api-key",
    )?
    else {
        eprintln!("No API key provided via stdin.");
        return Ok(1);
    };
    storage::save(&codex_home, &AuthDotJson::api_key(&key))?;
    eprintln!("API key saved. Authentication is checked when you send a request.");
    Ok(0)
}

fn with_access_token(args: &LoginArgs) -> Result<i32> {
    let codex_home = home(&args.config)?;
    let Some(token) = read_secret(
        "with-access-token",
        "access token",
        "printenv CODEX_ACCESS_TOKEN | codex login --with-access-token",
    )?
    else {
        eprintln!("No access token provided via stdin.");
        return Ok(1);
    };
    let Some(claims) = codex_login::jwt::claims(&token) else {
        anyhow::bail!(
            "the access token is not a JWT (three base64url parts with a JSON payload): pipe the ChatGPT access token, or use --with-api-key for an API key"
        );
    };
    let tokens = TokenData {
        id_token: String::new(),
        access_token: token,
        refresh_token: String::new(),
        account_id: claims.account_id,
    };
    storage::save(&codex_home, &AuthDotJson::chatgpt(tokens))?;
    eprintln!("Access token saved. It cannot be renewed: run `codex login` again when it expires.");
    Ok(0)
}

/// The browser flow, or the device-code flow with `--device-auth`.
fn interactive(args: &LoginArgs) -> Result<i32> {
    let (codex_home, config) =
        crate::exec::load_config(codex_config::Options::default(), &args.config)?;
    let issuer = Issuer::new(&config.auth_issuer, codex_login::CLIENT_ID)?;
    let runtime = crate::exec::runtime()?;
    runtime.block_on(async {
        if args.device_auth {
            let code = codex_login::device::request_code(&issuer).await?;
            println!(
                "\nFollow these steps to sign in with ChatGPT using device code authorization:\n\n\
                 1. Open this link in your browser and sign in to your account\n   {}\n\n\
                 2. Enter this one-time code (expires in 15 minutes)\n   {}\n\n\
                 Device codes are a common phishing target. Never share this code.\n",
                code.verification_url, code.user_code
            );
            codex_login::device::finish(&issuer, &code, &codex_home).await?;
        } else {
            let login =
                codex_login::browser::BrowserLogin::start(&issuer, codex_login::DEFAULT_PORT)
                    .await?;
            eprintln!(
                "Starting local login server on http://localhost:{}.\n\
                 If your browser did not open, navigate to this URL to authenticate:\n\n{}\n\n\
                 On a remote or headless machine? Use `codex login --device-auth` instead.",
                login.port, login.auth_url
            );
            codex_login::browser::open(&login.auth_url);
            login.finish(&issuer, &codex_home).await?;
        }
        eprintln!("Successfully logged in");
        Ok::<_, anyhow::Error>(0)
    })
}

/// The model client for `config`'s provider, with the credentials 0.169 would use: the
/// provider's `env_key` variable, else (for a provider with `requires_openai_auth`) the API
/// key stored in auth.json, else the signed-in ChatGPT account. A keyless provider (no
/// `env_key`) gets none.
pub(crate) fn model_client(
    codex_home: &Path,
    config: &codex_config::Config,
) -> Result<ModelClient> {
    let provider = &config.model_provider;
    let id = config.model_provider_id.as_str();
    let Some(env_key) = &provider.env_key else {
        return Ok(ModelClient::with_api_key(
            id,
            provider,
            &config.model,
            None,
            ClientOptions::default(),
        )?);
    };
    let from_env = std::env::var(env_key)
        .ok()
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty());
    if from_env.is_some() || !provider.requires_openai_auth {
        // Without a key this is the one-line "ENV_KEY is not set" error.
        return Ok(ModelClient::new(
            id,
            provider,
            &config.model,
            ClientOptions::default(),
        )?);
    }
    let stored = storage::load(codex_home)?;
    let client =
        |key| ModelClient::with_api_key(id, provider, &config.model, key, ClientOptions::default());
    match stored {
        Some(auth) if auth.stored_api_key().is_some() => {
            Ok(client(auth.stored_api_key().map(str::to_string))?)
        }
        Some(AuthDotJson {
            tokens: Some(tokens),
            ..
        }) => {
            let issuer = Issuer::new(&config.auth_issuer, codex_login::CLIENT_ID)?;
            let manager = AuthManager::new(codex_home.to_path_buf(), issuer, tokens);
            Ok(client(None)?.with_chatgpt_auth(Arc::new(manager)))
        }
        _ => anyhow::bail!(
            "{env_key} is not set and you are not signed in: run `codex login` (or `printenv {env_key} | codex login --with-api-key`), or export {env_key}"
        ),
    }
}

/// For `codex doctor`: what auth.json holds, or why it cannot be used.
pub(crate) fn describe(codex_home: &Path) -> Result<&'static str, LoginError> {
    Ok(match storage::load(codex_home)? {
        None => "not signed in",
        Some(a) if a.mode() == Some(AuthMode::ApiKey) => "an API key is stored",
        Some(_) => "signed in with ChatGPT",
    })
}
