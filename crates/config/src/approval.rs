//! When the interactive `codex` asks before the model's command or patch runs.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// `approval_policy` / `--ask-for-approval`. kebab-case: `untrusted`, `on-request`, `never`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalPolicy {
    /// Ask before every command that is not known to only read, and before every patch.
    Untrusted,
    /// Run commands in the sandbox without asking; ask when the model wants a command run
    /// outside it, or a patch the sandbox would refuse.
    #[default]
    OnRequest,
    /// Never ask: what the sandbox refuses fails, and the model is told. `codex exec` and
    /// `codex mcp-server` always run this way, since no one is there to answer.
    Never,
}

impl ApprovalPolicy {
    /// Every policy, from most to least asking.
    pub const ALL: [ApprovalPolicy; 3] = [
        ApprovalPolicy::Untrusted,
        ApprovalPolicy::OnRequest,
        ApprovalPolicy::Never,
    ];

    /// The name as written in config.toml and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApprovalPolicy::Untrusted => "untrusted",
            ApprovalPolicy::OnRequest => "on-request",
            ApprovalPolicy::Never => "never",
        }
    }
}

impl fmt::Display for ApprovalPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`ApprovalPolicy`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown approval policy `{0}`: expected untrusted, on-request or never")]
pub struct ParseApprovalPolicyError(pub String);

impl FromStr for ApprovalPolicy {
    type Err = ParseApprovalPolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApprovalPolicy::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ParseApprovalPolicyError(s.to_string()))
    }
}
