//! [`crate::load`] on real files: unknown-key warnings and `--strict-config` errors, profile
//! files and tables, and the keys that shape requests and the sandbox.

use std::path::{Path, PathBuf};

use crate::{ConfigError, Options, load, parse_override};

fn home(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

fn strict() -> Options {
    Options {
        strict_config: true,
        ..Options::default()
    }
}

#[test]
fn unknown_keys_are_one_warning_naming_them_all_and_the_load_goes_on() {
    let h = home(&[(
        "config.toml",
        "modle = \"typo\"\nmodel = \"m\"\n[mcp_servers.a]\ncommand = \"x\"\nenabled_tool = [\"t\"]\n",
    )]);
    let c = load(h.path(), &Options::default()).expect("loads");
    assert_eq!(c.model, "m");
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    let w = &c.warnings[0];
    assert!(
        w.contains("`mcp_servers.a.enabled_tool`, `modle`")
            && w.contains("config.toml")
            && w.contains("--strict-config"),
        "{w}"
    );
}

#[test]
fn strict_config_refuses_an_unknown_key_naming_it_and_the_file() {
    let h = home(&[("config.toml", "model = \"m\"\n[history]\npersist = 1\n")]);
    let e = load(h.path(), &strict()).expect_err("strict");
    assert!(matches!(&e, ConfigError::UnknownKey { key, .. } if key == "history.persist"));
    let msg = e.to_string();
    assert!(
        msg.starts_with(&h.path().join("config.toml").display().to_string())
            && msg.contains("unknown configuration field `history.persist`"),
        "{msg}"
    );
}

#[test]
fn a_config_0_169_loads_under_strict_config_without_warnings() {
    let h = home(&[(
        "config.toml",
        "model_reasoning_effort = \"xhigh\"\nfile_opener = \"vscode\"\nrelease_base_url = \"https://r\"\n[tui]\nnotifications = true\n[mcp_servers.a]\ncommand = \"x\"\nstartup_timeout_ms = 2500\nenabled_tools = [\"t\"]\n[model_providers.p]\nbase_url = \"http://x\"\nrequest_max_retries = 2\n",
    )]);
    let c = load(h.path(), &strict()).expect("loads");
    assert!(c.warnings.is_empty());
    assert_eq!(
        c.mcp_servers["a"].startup_timeout,
        std::time::Duration::from_millis(2500)
    );
}

#[test]
fn a_profile_file_is_laid_over_the_profile_table_and_config_toml() {
    let h = home(&[
        (
            "config.toml",
            "model = \"top\"\nmodel_verbosity = \"high\"\n[profiles.fast]\nmodel = \"table\"\nmodel_reasoning_effort = \"low\"\n[shell_environment_policy]\ninherit = \"core\"\nexclude = [\"A\"]\n",
        ),
        (
            "fast.config.toml",
            "model = \"file\"\n[shell_environment_policy]\ninherit = \"none\"\n",
        ),
    ]);
    let options = Options {
        profile: Some("fast".into()),
        ..Options::default()
    };
    let c = load(h.path(), &options).expect("loads");
    assert_eq!(c.model, "file");
    assert_eq!(c.model_reasoning_effort.as_deref(), Some("low"));
    assert_eq!(c.model_verbosity, Some(crate::Verbosity::High));
    // Table by table: the file's inherit, config.toml's exclude.
    assert_eq!(c.shell_environment_policy.inherit, crate::Inherit::None);
    assert_eq!(c.shell_environment_policy.exclude, ["A"]);
    assert_eq!(c.profile.as_deref(), Some("fast"));

    // The file alone is a profile too, also when named by `profile = ...`; -c still wins.
    let h = home(&[
        ("config.toml", "profile = \"solo\"\n"),
        ("solo.config.toml", "model = \"solo-model\"\n"),
    ]);
    let options = Options {
        overrides: vec![parse_override("model_verbosity=low").expect("-c")],
        ..Options::default()
    };
    let c = load(h.path(), &options).expect("loads");
    assert_eq!(c.model, "solo-model");
    assert_eq!(c.model_verbosity, Some(crate::Verbosity::Low));
}

#[test]
fn an_unknown_key_in_a_profile_file_names_that_file() {
    let h = home(&[("p.config.toml", "modle = 1\n")]);
    let options = Options {
        profile: Some("p".into()),
        strict_config: true,
        ..Options::default()
    };
    let e = load(h.path(), &options).expect_err("strict");
    assert!(
        matches!(&e, ConfigError::UnknownKey { path, key } if path == &h.path().join("p.config.toml") && key == "modle"),
        "{e}"
    );
}

#[test]
fn a_profile_defined_nowhere_says_where_it_was_looked_for() {
    let h = home(&[]);
    let options = Options {
        profile: Some("nope".into()),
        ..Options::default()
    };
    let e = load(h.path(), &options).expect_err("undefined").to_string();
    assert_eq!(
        e,
        format!(
            "profile `nope` is not defined: looked for {} and a [profiles.nope] table in {}; create one of them",
            h.path().join("nope.config.toml").display(),
            h.path().join("config.toml").display()
        )
    );
    let bad = Options {
        profile: Some("../x".into()),
        ..Options::default()
    };
    assert!(matches!(
        load(h.path(), &bad),
        Err(ConfigError::BadProfileName(_))
    ));
}

#[test]
fn reasoning_keys_parse_and_bad_values_are_refused() {
    let h = home(&[(
        "config.toml",
        "model_reasoning_effort = \"minimal\"\nmodel_reasoning_summary = \"none\"\nmodel_verbosity = \"medium\"\n",
    )]);
    let c = load(h.path(), &Options::default()).expect("loads");
    assert_eq!(c.model_reasoning_effort.as_deref(), Some("minimal"));
    assert_eq!(
        c.model_reasoning_summary,
        Some(crate::ReasoningSummary::None)
    );
    assert!(!c.hide_agent_reasoning);
    let h = home(&[("config.toml", "model_verbosity = \"loud\"\n")]);
    let e = load(h.path(), &Options::default())
        .expect_err("bad")
        .to_string();
    assert!(e.contains("unknown variant `loud`"), "{e}");
    let h = home(&[("config.toml", "model_reasoning_effort = \"\"\n")]);
    assert!(load(h.path(), &Options::default()).is_err());
    let none = load(home(&[]).path(), &Options::default()).expect("empty");
    assert_eq!(none.model_reasoning_effort, None);
    assert_eq!(none.model_verbosity, None);
    assert_eq!(
        none.project_doc_max_bytes,
        crate::DEFAULT_PROJECT_DOC_MAX_BYTES
    );
}

#[test]
fn exclude_slash_tmp_and_tmpdir_drop_them_from_the_writable_roots() {
    let h = home(&[(
        "config.toml",
        "sandbox_mode = \"workspace-write\"\n[sandbox_workspace_write]\nexclude_slash_tmp = true\nexclude_tmpdir_env_var = true\n",
    )]);
    let c = load(h.path(), &Options::default()).expect("loads");
    let p = c.sandbox_policy(Path::new("/w"), Path::new("/h"));
    assert_eq!(
        p.writable_roots,
        [PathBuf::from("/w"), PathBuf::from("/h/memories")]
    );
    let h = home(&[(
        "config.toml",
        "sandbox_mode = \"workspace-write\"\n[sandbox_workspace_write]\nexclude_tmpdir_env_var = true\n",
    )]);
    let p = load(h.path(), &Options::default())
        .expect("loads")
        .sandbox_policy(Path::new("/w"), Path::new("/h"));
    assert!(p.writable_roots.contains(&PathBuf::from("/tmp")));
}
