//! The value types of the keys that shape requests and commands: reasoning, verbosity,
//! `[history]` and `[shell_environment_policy]`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `model_reasoning_summary`: how much of its reasoning the model summarises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningSummary {
    /// The model decides.
    Auto,
    /// Short.
    Concise,
    /// Long.
    Detailed,
    /// No summary.
    None,
}

impl ReasoningSummary {
    /// As the Responses API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Concise => "concise",
            Self::Detailed => "detailed",
            Self::None => "none",
        }
    }
}

/// `model_verbosity`: how long the model's answers are (GPT-5 `text.verbosity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    /// Terse.
    Low,
    /// The model's default.
    Medium,
    /// Wordy.
    High,
}

impl Verbosity {
    /// As the Responses API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// `history.persistence`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HistoryPersistence {
    /// Every prompt is appended to `$CODEX_HOME/history.jsonl`.
    #[default]
    SaveAll,
    /// Nothing is written.
    None,
}

/// `[history]`: the prompt history the interactive codex keeps in `$CODEX_HOME/history.jsonl`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct History {
    /// Whether prompts are saved.
    pub persistence: HistoryPersistence,
    /// Once the file is larger than this, its oldest entries are dropped (none: no limit).
    pub max_bytes: Option<u64>,
}

/// `shell_environment_policy.inherit`: the environment a command starts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Inherit {
    /// Codex's whole environment.
    #[default]
    All,
    /// Only [`CORE_VARS`].
    Core,
    /// Nothing.
    None,
}

/// What `inherit = "core"` keeps, as in Codex 0.169.
pub const CORE_VARS: &[&str] = &[
    "HOME", "LOGNAME", "PATH", "SHELL", "USER", "USERNAME", "TMPDIR", "TEMP", "TMP",
];

/// Patterns `ignore_default_excludes = false` removes: names that look like secrets.
pub const DEFAULT_EXCLUDES: &[&str] = &["*KEY*", "*SECRET*", "*TOKEN*"];

/// `[shell_environment_policy]`: the environment of the commands the model runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ShellEnvironmentPolicy {
    /// Where the environment starts from.
    pub inherit: Inherit,
    /// Keep names matching [`DEFAULT_EXCLUDES`].
    pub ignore_default_excludes: bool,
    /// Names to remove (case-insensitive globs: `*` any run, `?` one character).
    pub exclude: Vec<String>,
    /// Variables to set, after the removals.
    pub set: BTreeMap<String, String>,
    /// When not empty, only names matching one of these are kept, at the end.
    pub include_only: Vec<String>,
    /// Accepted for Codex 0.169's sake; commands never go through a shell profile.
    #[serde(rename = "experimental_use_profile")]
    pub use_profile: bool,
}

impl ShellEnvironmentPolicy {
    /// The environment a command gets from `vars` (codex's own), in Codex 0.169's order:
    /// inherit, default excludes, `exclude`, `set`, `include_only`.
    pub fn environment(
        &self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> BTreeMap<String, String> {
        let matches_any =
            |name: &str, patterns: &[String]| patterns.iter().any(|p| glob_match(p, name));
        let mut env: BTreeMap<String, String> = vars
            .into_iter()
            .filter(|(k, _)| match self.inherit {
                Inherit::All => true,
                Inherit::Core => CORE_VARS.contains(&k.as_str()),
                Inherit::None => false,
            })
            .collect();
        if !self.ignore_default_excludes {
            env.retain(|k, _| !DEFAULT_EXCLUDES.iter().any(|p| glob_match(p, k)));
        }
        env.retain(|k, _| !matches_any(k, &self.exclude));
        env.extend(self.set.iter().map(|(k, v)| (k.clone(), v.clone())));
        if !self.include_only.is_empty() {
            env.retain(|k, _| matches_any(k, &self.include_only));
        }
        env
    }
}

/// Whether `name` matches `pattern`, ignoring ASCII case: `*` is any run of characters, `?`
/// one character.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(|c| c.to_ascii_lowercase()).collect();
    let n: Vec<char> = name.chars().map(|c| c.to_ascii_lowercase()).collect();
    // Iterative matching with one backtrack point: linear enough for variable names.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vec<(String, String)> {
        [
            ("PATH", "/bin"),
            ("HOME", "/h"),
            ("OPENAI_API_KEY", "sk"),
            ("GH_TOKEN", "t"),
            ("my_secret_x", "s"),
            ("LANG", "C"),
            ("FOO_BAR", "1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn names(p: &ShellEnvironmentPolicy) -> Vec<String> {
        p.environment(vars()).into_keys().collect()
    }

    #[test]
    fn globs_are_case_insensitive_with_star_and_question_mark() {
        assert!(glob_match("*key*", "OPENAI_API_KEY"));
        assert!(glob_match("FOO_*", "foo_bar"));
        assert!(glob_match("L?NG", "LANG"));
        assert!(!glob_match("L?NG", "LAANG"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("PATH", "PATHS"));
        assert!(glob_match("*A*B*", "xxAyyByy"));
    }

    #[test]
    fn the_default_policy_inherits_all_but_secret_looking_names() {
        assert_eq!(
            names(&ShellEnvironmentPolicy::default()),
            ["FOO_BAR", "HOME", "LANG", "PATH"]
        );
    }

    #[test]
    fn core_none_excludes_set_and_include_only_apply_in_order() {
        let core = ShellEnvironmentPolicy {
            inherit: Inherit::Core,
            ..Default::default()
        };
        assert_eq!(names(&core), ["HOME", "PATH"]);
        let none = ShellEnvironmentPolicy {
            inherit: Inherit::None,
            set: [("X".to_string(), "1".to_string())].into(),
            ..Default::default()
        };
        assert_eq!(names(&none), ["X"]);
        let keep_secrets = ShellEnvironmentPolicy {
            ignore_default_excludes: true,
            exclude: vec!["foo_*".into(), "home".into()],
            ..Default::default()
        };
        assert_eq!(
            names(&keep_secrets),
            ["GH_TOKEN", "LANG", "OPENAI_API_KEY", "PATH", "my_secret_x"]
        );
        // include_only comes last, so it can drop a variable `set` added.
        let only = ShellEnvironmentPolicy {
            include_only: vec!["PA*".into(), "Y".into()],
            set: [("X".to_string(), "1".to_string()), ("Y".into(), "2".into())].into(),
            ..Default::default()
        };
        assert_eq!(names(&only), ["PATH", "Y"]);
    }
}
