//! The flags every `codex` command accepts, as in Codex 0.169: `-c KEY=VALUE`, `--enable
//! FEATURE` and `--disable FEATURE`, before or after the subcommand.

/// Configuration overrides, global to every subcommand.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// Override a config.toml key, e.g. `-c model_provider=ollama` or
    /// `-c sandbox_workspace_write.network_access=true` (VALUE is TOML, else a string). Repeatable.
    #[arg(short = 'c', long = "config", value_name = "KEY=VALUE", global = true)]
    pub config: Vec<String>,
    /// Enable a feature (repeatable); the same as `-c features.FEATURE=true`.
    #[arg(long, value_name = "FEATURE", global = true)]
    pub enable: Vec<String>,
    /// Disable a feature (repeatable); the same as `-c features.FEATURE=false`.
    #[arg(long, value_name = "FEATURE", global = true)]
    pub disable: Vec<String>,
}

impl ConfigArgs {
    /// Every override as `KEY=VALUE`: the `-c` ones, then `--enable`, then `--disable` (so a
    /// feature both enabled and disabled ends up disabled, as the later override wins).
    pub fn overrides(&self) -> Vec<String> {
        let mut all = self.config.clone();
        all.extend(self.enable.iter().map(|f| format!("features.{f}=true")));
        all.extend(self.disable.iter().map(|f| format!("features.{f}=false")));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enable_and_disable_are_feature_overrides_after_the_dash_c_ones() {
        let args = ConfigArgs {
            config: vec!["model=o3".into()],
            enable: vec!["web_search".into()],
            disable: vec!["memories".into()],
        };
        assert_eq!(
            args.overrides(),
            [
                "model=o3",
                "features.web_search=true",
                "features.memories=false"
            ]
        );
    }
}
