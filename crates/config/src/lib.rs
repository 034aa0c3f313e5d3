//! The agent's configuration, layered once in [`load`]:
//! built-in defaults, then `$CODEX_HOME/config.toml`, then the selected profile
//! (`--profile NAME` or the file's `profile = "NAME"`: its `[profiles.NAME]` table over the top
//! level), then each `-c key.path=value` override, then flags such as `--model`.
//!
//! Other parts of codex read their own keys from the same file (the installer reads
//! `release_base_url` and `update_check`); unknown keys are left to them.

mod overrides;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use overrides::{Override, parse_override};

/// The model when nothing names one.
pub const DEFAULT_MODEL: &str = "gpt-5-codex";
/// The provider when nothing names one.
pub const DEFAULT_PROVIDER: &str = "openai";

/// Why the configuration cannot be used. Each says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read or is not TOML of the right shape.
    #[error("{path}: {detail}; fix or remove the file")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A `-c` argument is not `key=value`.
    #[error("-c {arg:?}: {why}")]
    Override {
        /// The argument.
        arg: String,
        /// What is wrong.
        why: String,
    },
    /// The profile is not defined.
    #[error("profile `{0}` is not defined: add a [profiles.{0}] table to config.toml")]
    UnknownProfile(String),
    /// The provider is not built in and not defined.
    #[error(
        "model_provider `{0}` is not defined: add [model_providers.{0}] with base_url (and env_key) to config.toml"
    )]
    UnknownProvider(String),
    /// The layered values have the wrong types.
    #[error("configuration: {0}")]
    Invalid(String),
}

/// Which API a provider speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireApi {
    /// The OpenAI Responses API (`POST /responses`, SSE).
    #[default]
    Responses,
    /// Chat Completions (`POST /chat/completions`, SSE): Ollama, llama.cpp, vLLM, ...
    Chat,
}

/// A model provider: where requests go and where the key comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ModelProvider {
    /// For messages.
    #[serde(default)]
    pub name: Option<String>,
    /// API base URL, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// The environment variable holding the API key; none for keyless local servers.
    #[serde(default)]
    pub env_key: Option<String>,
    /// The API it speaks.
    #[serde(default)]
    pub wire_api: WireApi,
}

/// The sandbox for commands the agent runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    /// No writes anywhere.
    #[default]
    ReadOnly,
    /// Writes under the workspace, the temp dir and `$CODEX_HOME/memories`; no network.
    WorkspaceWrite,
    /// No sandbox.
    DangerFullAccess,
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The model.
    pub model: String,
    /// The provider's id.
    pub model_provider_id: String,
    /// The provider.
    pub model_provider: ModelProvider,
    /// The sandbox.
    pub sandbox_mode: SandboxMode,
    /// The profile applied, if any.
    pub profile: Option<String>,
}

/// The keys [`Config`] reads, as they are in the file.
#[derive(Debug, Default, Deserialize)]
struct Raw {
    model: Option<String>,
    model_provider: Option<String>,
    #[serde(default)]
    model_providers: BTreeMap<String, ModelProvider>,
    sandbox_mode: Option<SandboxMode>,
}

/// What to layer over the file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--profile`.
    pub profile: Option<String>,
    /// Each `-c`, in order.
    pub overrides: Vec<Override>,
    /// `--model`.
    pub model: Option<String>,
    /// `--sandbox`.
    pub sandbox_mode: Option<SandboxMode>,
}

/// Providers that need no table in config.toml.
pub fn built_in_providers() -> BTreeMap<String, ModelProvider> {
    let mut m = BTreeMap::new();
    m.insert(
        "openai".to_string(),
        ModelProvider {
            name: Some("OpenAI".into()),
            base_url: "https://api.openai.com/v1".into(),
            env_key: Some("OPENAI_API_KEY".into()),
            wire_api: WireApi::Responses,
        },
    );
    m.insert(
        "ollama".to_string(),
        ModelProvider {
            name: Some("Ollama".into()),
            base_url: "http://localhost:11434/v1".into(),
            env_key: None,
            wire_api: WireApi::Chat,
        },
    );
    m
}

/// Reads `$CODEX_HOME/config.toml` (a missing file is empty) and layers `options` over it.
pub fn load(codex_home: &Path, options: &Options) -> Result<Config, ConfigError> {
    let path = codex_home.join("config.toml");
    let file = match std::fs::read_to_string(&path) {
        Ok(text) => text.parse::<toml::Table>().map_err(|e| ConfigError::File {
            path: path.clone(),
            detail: e.message().to_string(),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
        Err(e) => {
            return Err(ConfigError::File {
                path,
                detail: e.to_string(),
            });
        }
    };
    resolve(file, options)
}

/// Layers `options` over the parsed file.
pub fn resolve(mut table: toml::Table, options: &Options) -> Result<Config, ConfigError> {
    let profile = options.profile.clone().or_else(|| {
        table
            .get("profile")
            .and_then(|v| v.as_str())
            .map(str::to_string)
    });
    if let Some(name) = &profile {
        let layer = table
            .get("profiles")
            .and_then(|p| p.get(name))
            .and_then(|p| p.as_table())
            .cloned()
            .ok_or_else(|| ConfigError::UnknownProfile(name.clone()))?;
        for (k, v) in layer {
            table.insert(k, v);
        }
    }
    for o in &options.overrides {
        o.apply(&mut table)?;
    }
    let raw: Raw = table
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_string()))?;
    let model_provider_id = raw
        .model_provider
        .unwrap_or_else(|| DEFAULT_PROVIDER.to_string());
    let mut providers = built_in_providers();
    providers.extend(raw.model_providers);
    let model_provider = providers
        .remove(&model_provider_id)
        .ok_or_else(|| ConfigError::UnknownProvider(model_provider_id.clone()))?;
    Ok(Config {
        model: options
            .model
            .clone()
            .or(raw.model)
            .unwrap_or_else(|| DEFAULT_MODEL.to_string()),
        model_provider_id,
        model_provider,
        sandbox_mode: options
            .sandbox_mode
            .or(raw.sandbox_mode)
            .unwrap_or_default(),
        profile,
    })
}
