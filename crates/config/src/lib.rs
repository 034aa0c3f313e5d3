//! The agent's configuration, layered once in [`load`]:
//! built-in defaults, then `$CODEX_HOME/config.toml`, then the selected profile
//! (`--profile NAME` or the file's `profile = "NAME"`: first its `[profiles.NAME]` table over the
//! top level, then the file `$CODEX_HOME/NAME.config.toml` over that, as Codex 0.169 reads it),
//! then each `-c key.path=value` override, then flags such as `--model`.
//!
//! Other parts of codex read their own keys from the same file (the installer reads
//! `release_base_url` and `update_check`). A key nobody reads is named in a warning
//! ([`Config::warnings`]), or with `--strict-config` refused ([`known`]).

pub mod approval;
mod keys;
pub mod known;
pub mod mcp;
mod overrides;
mod projects;
mod settings;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use approval::ApprovalPolicy;
pub use keys::{KEYS, Key, markdown as keys_markdown};
pub use known::{KEYS_0_169, NOT_LIKE_0_169};
pub use overrides::{Override, parse_override};
pub use projects::trust_project;
pub use settings::{
    History, HistoryPersistence, Inherit, ReasoningSummary, ShellEnvironmentPolicy, Verbosity,
    glob_match,
};

/// The model when nothing names one.
pub const DEFAULT_MODEL: &str = "gpt-5-codex";
/// The sign-in issuer when `auth_issuer` names none.
pub const DEFAULT_AUTH_ISSUER: &str = "https://auth.openai.com";
/// The provider when nothing names one.
pub const DEFAULT_PROVIDER: &str = "openai";
/// The local provider `--oss` uses when neither `--local-provider` nor `oss_provider` names one.
pub const DEFAULT_OSS_PROVIDER: &str = "ollama";

/// The model `--oss` asks a local provider for when `--model` names none, as in Codex 0.169.
pub fn default_oss_model(provider_id: &str) -> Option<&'static str> {
    match provider_id {
        "ollama" => Some("gpt-oss:20b"),
        "lmstudio" => Some("openai/gpt-oss-20b"),
        _ => None,
    }
}

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
    #[error(
        "profile `{name}` is not defined: looked for {file} and a [profiles.{name}] table in {config}; create one of them"
    )]
    UnknownProfile {
        /// The profile.
        name: String,
        /// Where its file would be.
        file: PathBuf,
        /// The config.toml whose table was looked for.
        config: PathBuf,
    },
    /// The profile's name cannot be a file name.
    #[error("profile `{0}`: a profile name is letters, digits, `_`, `-` and `.` (not first)")]
    BadProfileName(String),
    /// `--strict-config`: a key nobody reads.
    #[error(
        "{path}: unknown configuration field `{key}`; remove it or fix its spelling (or run without --strict-config)"
    )]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// The key's dotted path.
        key: String,
    },
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
    /// Without a key, sign in with the ChatGPT account of `codex login` (the built-in `openai`
    /// provider does).
    #[serde(default)]
    pub requires_openai_auth: bool,
}

/// The sandbox for commands the agent runs (`sandbox_mode`, `--sandbox`): one type for the whole
/// program, defined with its enforcement in codex-sandbox.
pub use codex_sandbox::{SandboxMode, SandboxPolicy};

/// `[sandbox_workspace_write]`: what `workspace-write` adds to the workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct WorkspaceWrite {
    /// `network_access`: commands may use the network (default false).
    pub network_access: bool,
    /// `writable_roots`: more directories commands may write (default none); relative ones are
    /// taken from the working directory.
    pub writable_roots: Vec<PathBuf>,
    /// `exclude_slash_tmp`: `/tmp` is not writable.
    pub exclude_slash_tmp: bool,
    /// `exclude_tmpdir_env_var`: `$TMPDIR` is not writable.
    pub exclude_tmpdir_env_var: bool,
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
    /// `[sandbox_workspace_write]`, used when `sandbox_mode` is `workspace-write`.
    pub sandbox_workspace_write: WorkspaceWrite,
    /// `sandbox_allow_weaker`: run sandboxed commands on a kernel too old for every protection
    /// of the mode (saying what is missing) instead of refusing them.
    pub sandbox_allow_weaker: bool,
    /// The profile applied, if any.
    pub profile: Option<String>,
    /// `[mcp_servers.NAME]`, by name.
    pub mcp_servers: BTreeMap<String, mcp::McpServer>,
    /// `notify`: a program and its arguments, run at the end of each turn (empty: none).
    pub notify: Vec<String>,
    /// When the interactive `codex` asks before a command or patch runs.
    pub approval_policy: ApprovalPolicy,
    /// `model_context_window`: the model's context window in tokens, when the built-in table
    /// does not know the model.
    pub model_context_window: Option<u64>,
    /// `model_reasoning_effort`: sent as given (`minimal`, `low`, `medium`, `high`, ...).
    pub model_reasoning_effort: Option<String>,
    /// `model_reasoning_summary`.
    pub model_reasoning_summary: Option<ReasoningSummary>,
    /// `model_verbosity`.
    pub model_verbosity: Option<Verbosity>,
    /// `hide_agent_reasoning`: reasoning summaries are not shown.
    pub hide_agent_reasoning: bool,
    /// `[shell_environment_policy]`.
    pub shell_environment_policy: ShellEnvironmentPolicy,
    /// `[history]`.
    pub history: History,
    /// `project_doc_max_bytes`: how much of the AGENTS.md files is read, in all.
    pub project_doc_max_bytes: usize,
    /// `project_doc_fallback_filenames`: names tried in a folder without AGENTS.md.
    pub project_doc_fallback_filenames: Vec<String>,
    /// One line per problem that did not stop the load (unknown keys), for the front end to
    /// show.
    pub warnings: Vec<String>,
    /// `auth_issuer`: the OAuth issuer `codex login` signs in with and tokens are renewed at.
    pub auth_issuer: String,
    /// `[projects."PATH"]`, by path as written in the file.
    pub projects: BTreeMap<String, Project>,
    /// `oss_provider`: the local provider `--oss` uses without `--local-provider`.
    pub oss_provider: Option<String>,
}

/// `[projects."PATH"]`: what the user decided about one project directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Project {
    /// `trust_level`: `"trusted"` lets `codex exec` run there even outside a git work tree.
    pub trust_level: Option<String>,
}

/// The temporary directory's variable: writable under workspace-write unless
/// `sandbox_workspace_write.exclude_tmpdir_env_var` (the only variable codex_config reads).
pub const TMPDIR_ENV: &str = "TMPDIR";

/// How much of the AGENTS.md files is read, unless `project_doc_max_bytes` says (as 0.169).
pub const DEFAULT_PROJECT_DOC_MAX_BYTES: usize = 32 * 1024;

/// The keys [`Config`] reads, as they are in the file.
#[derive(Debug, Default, Deserialize)]
struct Raw {
    model: Option<String>,
    model_provider: Option<String>,
    #[serde(default)]
    model_providers: BTreeMap<String, ModelProvider>,
    sandbox_mode: Option<SandboxMode>,
    #[serde(default)]
    sandbox_workspace_write: WorkspaceWrite,
    #[serde(default)]
    sandbox_allow_weaker: bool,
    #[serde(default)]
    mcp_servers: BTreeMap<String, mcp::RawServer>,
    #[serde(default)]
    notify: Vec<String>,
    approval_policy: Option<ApprovalPolicy>,
    model_context_window: Option<u64>,
    model_reasoning_effort: Option<String>,
    model_reasoning_summary: Option<ReasoningSummary>,
    model_verbosity: Option<Verbosity>,
    #[serde(default)]
    hide_agent_reasoning: bool,
    #[serde(default)]
    shell_environment_policy: ShellEnvironmentPolicy,
    #[serde(default)]
    history: History,
    project_doc_max_bytes: Option<usize>,
    #[serde(default)]
    project_doc_fallback_filenames: Vec<String>,
    auth_issuer: Option<String>,
    #[serde(default)]
    projects: BTreeMap<String, Project>,
    oss_provider: Option<String>,
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
    /// `--ask-for-approval`.
    pub approval_policy: Option<ApprovalPolicy>,
    /// `--strict-config`: an unknown key is an error instead of a warning.
    pub strict_config: bool,
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
            requires_openai_auth: true,
        },
    );
    m.insert(
        "ollama".to_string(),
        ModelProvider {
            name: Some("Ollama".into()),
            base_url: "http://localhost:11434/v1".into(),
            env_key: None,
            wire_api: WireApi::Chat,
            requires_openai_auth: false,
        },
    );
    m.insert(
        "lmstudio".to_string(),
        ModelProvider {
            name: Some("LM Studio".into()),
            base_url: "http://localhost:1234/v1".into(),
            env_key: None,
            wire_api: WireApi::Responses,
            requires_openai_auth: false,
        },
    );
    m
}

/// Reads `$CODEX_HOME/config.toml` (a missing file is empty) and layers `options` over it,
/// with the profile's file `$CODEX_HOME/NAME.config.toml` when there is one.
pub fn load(codex_home: &Path, options: &Options) -> Result<Config, ConfigError> {
    let mut warnings = Vec::new();
    let mut config = load_warning(codex_home, options, &mut warnings)?;
    config.warnings = warnings;
    Ok(config)
}

/// [`load`], with the warnings pushed to `warnings` as they are found (and not into
/// [`Config::warnings`]), so that they can be shown also when the load then fails: an unknown
/// key is often the reason a later error happens (`modle_provider`).
pub fn load_warning(
    codex_home: &Path,
    options: &Options,
    warnings: &mut Vec<String>,
) -> Result<Config, ConfigError> {
    let path = codex_home.join("config.toml");
    let file = read_table(&path)?.unwrap_or_default();
    check_keys(&path, &file, options.strict_config, warnings)?;
    let profile_file = match selected_profile(&file, options) {
        Some(name) => {
            check_profile_name(&name)?;
            let p = codex_home.join(format!("{name}.config.toml"));
            let table = read_table(&p)?;
            if let Some(t) = &table {
                check_keys(&p, t, options.strict_config, warnings)?;
            } else if profile_table(&file, &name).is_none() {
                return Err(ConfigError::UnknownProfile {
                    name,
                    file: p,
                    config: path,
                });
            }
            table
        }
        None => None,
    };
    layer(file, profile_file, options)
}

/// Layers `options` over the parsed file, without a profile file or key checks (those need
/// the files' paths: see [`load`]).
pub fn resolve(table: toml::Table, options: &Options) -> Result<Config, ConfigError> {
    if let Some(name) = selected_profile(&table, options)
        && profile_table(&table, &name).is_none()
    {
        return Err(ConfigError::UnknownProfile {
            file: PathBuf::from(format!("{name}.config.toml")),
            config: PathBuf::from("config.toml"),
            name,
        });
    }
    layer(table, None, options)
}

/// `None` for a missing file.
fn read_table(path: &Path) -> Result<Option<toml::Table>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .parse::<toml::Table>()
            .map(Some)
            .map_err(|e| ConfigError::File {
                path: path.to_owned(),
                detail: e.message().to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigError::File {
            path: path.to_owned(),
            detail: e.to_string(),
        }),
    }
}

/// Unknown keys of the file at `path`: the first is an error when `strict`, else all are named
/// in one warning.
fn check_keys(
    path: &Path,
    table: &toml::Table,
    strict: bool,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let unknown = known::unknown_keys(table);
    if let Some(first) = unknown.first() {
        if strict {
            return Err(ConfigError::UnknownKey {
                path: path.to_owned(),
                key: first.clone(),
            });
        }
        let names: Vec<String> = unknown.iter().map(|k| format!("`{k}`")).collect();
        warnings.push(format!(
            "{}: unknown configuration keys ignored: {} (check their spelling; --strict-config makes this an error)",
            path.display(),
            names.join(", ")
        ));
    }
    Ok(())
}

fn selected_profile(table: &toml::Table, options: &Options) -> Option<String> {
    options.profile.clone().or_else(|| {
        table
            .get("profile")
            .and_then(|v| v.as_str())
            .map(str::to_string)
    })
}

fn profile_table(table: &toml::Table, name: &str) -> Option<toml::Table> {
    table
        .get("profiles")
        .and_then(|p| p.get(name))
        .and_then(|p| p.as_table())
        .cloned()
}

/// The name becomes part of a file name: no separators, no `..`, nothing hidden.
fn check_profile_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::BadProfileName(name.to_string()))
    }
}

/// Lays `over` into `base`, table by table, so a profile file can set one key of a table.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn layer(
    mut table: toml::Table,
    profile_file: Option<toml::Table>,
    options: &Options,
) -> Result<Config, ConfigError> {
    let profile = selected_profile(&table, options);
    if let Some(name) = &profile {
        // The older [profiles.NAME] table first, key by key as before; the profile's own file,
        // 0.169's way, over it.
        for (k, v) in profile_table(&table, name).unwrap_or_default() {
            table.insert(k, v);
        }
        if let Some(file) = profile_file {
            merge(&mut table, file);
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
    if raw
        .model_reasoning_effort
        .as_deref()
        .is_some_and(|e| e.trim().is_empty())
    {
        return Err(ConfigError::Invalid(
            "model_reasoning_effort is empty: set minimal, low, medium or high, or remove it"
                .into(),
        ));
    }
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
        sandbox_workspace_write: raw.sandbox_workspace_write,
        sandbox_allow_weaker: raw.sandbox_allow_weaker,
        profile,
        mcp_servers: mcp::resolve(raw.mcp_servers)?,
        notify: raw.notify,
        approval_policy: options
            .approval_policy
            .or(raw.approval_policy)
            .unwrap_or_default(),
        model_context_window: raw.model_context_window,
        model_reasoning_effort: raw.model_reasoning_effort,
        model_reasoning_summary: raw.model_reasoning_summary,
        model_verbosity: raw.model_verbosity,
        hide_agent_reasoning: raw.hide_agent_reasoning,
        shell_environment_policy: raw.shell_environment_policy,
        history: raw.history,
        project_doc_max_bytes: raw
            .project_doc_max_bytes
            .unwrap_or(DEFAULT_PROJECT_DOC_MAX_BYTES),
        project_doc_fallback_filenames: raw.project_doc_fallback_filenames,
        warnings: Vec::new(),
        auth_issuer: raw
            .auth_issuer
            .filter(|i| !i.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_AUTH_ISSUER.to_string()),
        projects: raw.projects,
        oss_provider: raw.oss_provider,
    })
}

impl Config {
    /// Whether `dir` is a project marked `trust_level = "trusted"` in `[projects]` (the key is
    /// the directory's path; a key naming it through a symlink counts too).
    pub fn is_trusted_project(&self, dir: &Path) -> bool {
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        self.projects.iter().any(|(path, project)| {
            project.trust_level.as_deref() == Some("trusted")
                && std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path)) == dir
        })
    }

    /// The policy for commands run in `cwd`: read-only and danger-full-access as named;
    /// workspace-write may write `cwd`, the temp dir (`std::env::temp_dir()` unless
    /// `exclude_tmpdir_env_var` and, on Unix, `/tmp` unless `exclude_slash_tmp`),
    /// `codex_home/memories` and the configured `writable_roots`, and reach the network only
    /// with `network_access = true`.
    pub fn sandbox_policy(&self, cwd: &Path, codex_home: &Path) -> SandboxPolicy {
        let mut policy = self.sandbox_policy_strict(cwd, codex_home);
        policy.allow_weaker = self.sandbox_allow_weaker && policy.is_sandboxed();
        policy
    }

    fn sandbox_policy_strict(&self, cwd: &Path, codex_home: &Path) -> SandboxPolicy {
        match self.sandbox_mode {
            SandboxMode::ReadOnly => SandboxPolicy::read_only(),
            SandboxMode::DangerFullAccess => SandboxPolicy::danger_full_access(),
            SandboxMode::WorkspaceWrite => {
                let ww = &self.sandbox_workspace_write;
                let mut roots = vec![cwd.to_path_buf()];
                if !ww.exclude_tmpdir_env_var {
                    // $TMPDIR when it is set (as 0.169); where it is not, the system's temp dir
                    // is /tmp on Unix, which `exclude_slash_tmp` governs.
                    match std::env::var_os(TMPDIR_ENV).filter(|t| !t.is_empty()) {
                        Some(t) => roots.push(PathBuf::from(t)),
                        None if !cfg!(unix) => roots.push(std::env::temp_dir()),
                        None => {}
                    }
                }
                if cfg!(unix) && !ww.exclude_slash_tmp {
                    roots.push(PathBuf::from("/tmp"));
                }
                roots.push(codex_home.join("memories"));
                roots.extend(ww.writable_roots.iter().map(|r| cwd.join(r)));
                let mut unique = Vec::with_capacity(roots.len());
                for r in roots {
                    if !unique.contains(&r) {
                        unique.push(r);
                    }
                }
                SandboxPolicy::workspace_write(unique, ww.network_access)
            }
        }
    }
}

#[cfg(test)]
mod load_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml_text: &str, overrides: &[&str]) -> Config {
        let table = toml_text.parse::<toml::Table>().expect("toml");
        let options = Options {
            overrides: overrides
                .iter()
                .map(|o| parse_override(o).expect("override"))
                .collect(),
            ..Options::default()
        };
        resolve(table, &options).expect("config")
    }

    #[test]
    fn workspace_write_keys_default_to_no_network_and_no_extra_roots() {
        let c = config("", &[]);
        assert_eq!(c.sandbox_workspace_write, WorkspaceWrite::default());
        assert!(!c.sandbox_workspace_write.network_access);
    }

    #[test]
    fn workspace_write_table_and_dash_c_are_read() {
        let c = config(
            "[sandbox_workspace_write]\nwritable_roots = [\"/data\", \"out\"]\n",
            &["sandbox_workspace_write.network_access=true"],
        );
        assert_eq!(
            c.sandbox_workspace_write,
            WorkspaceWrite {
                network_access: true,
                writable_roots: vec!["/data".into(), "out".into()],
                ..WorkspaceWrite::default()
            }
        );
    }

    #[test]
    fn a_wrongly_typed_workspace_write_key_is_an_error() {
        let table = "[sandbox_workspace_write]\nnetwork_access = \"yes\"\n"
            .parse::<toml::Table>()
            .expect("toml");
        let e = resolve(table, &Options::default()).expect_err("bad type");
        assert_eq!(
            e.to_string(),
            "configuration: invalid type: string \"yes\", expected a boolean"
        );
    }

    #[test]
    fn read_only_and_danger_policies_ignore_the_workspace_write_table() {
        let c = config(
            "sandbox_mode = \"read-only\"\n[sandbox_workspace_write]\nnetwork_access = true\n",
            &[],
        );
        assert_eq!(
            c.sandbox_policy(Path::new("/w"), Path::new("/h")),
            SandboxPolicy::read_only()
        );
        let c = config("sandbox_mode = \"danger-full-access\"\n", &[]);
        assert_eq!(
            c.sandbox_policy(Path::new("/w"), Path::new("/h")),
            SandboxPolicy::danger_full_access()
        );
    }

    #[test]
    fn workspace_write_policy_grants_cwd_temp_memories_and_configured_roots_once() {
        let c = config(
            "sandbox_mode = \"workspace-write\"\n[sandbox_workspace_write]\nwritable_roots = [\"/data\", \"out\", \"/w\"]\nnetwork_access = true\n",
            &[],
        );
        let p = c.sandbox_policy(Path::new("/w"), Path::new("/h"));
        assert_eq!(p.mode, SandboxMode::WorkspaceWrite);
        assert!(p.network_access);
        let mut expected = vec![PathBuf::from("/w"), std::env::temp_dir()];
        if cfg!(unix) {
            expected.push("/tmp".into());
        }
        expected.extend(["/h/memories", "/data", "/w/out"].map(PathBuf::from));
        expected.dedup();
        assert_eq!(p.writable_roots, expected);
        assert!(
            !config("sandbox_mode = \"workspace-write\"\n", &[])
                .sandbox_policy(Path::new("/w"), Path::new("/h"))
                .network_access
        );
    }

    #[test]
    fn only_a_project_marked_trusted_is_trusted() {
        let dir = tempfile::tempdir().expect("dir");
        let other = tempfile::tempdir().expect("other");
        let c = config(
            &format!(
                "[projects.{:?}]\ntrust_level = \"trusted\"\n[projects.{:?}]\ntrust_level = \"untrusted\"\n",
                dir.path().display().to_string(),
                other.path().display().to_string()
            ),
            &[],
        );
        assert!(c.is_trusted_project(dir.path()));
        assert!(!c.is_trusted_project(other.path()));
        assert!(!c.is_trusted_project(&dir.path().join("sub")));
    }
}
