//! config.toml, profiles and -c overrides, layered from real files.

use codex_config::{ConfigError, Options, SandboxMode, WireApi, load, parse_override};

fn home(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.toml"), config).expect("write");
    dir
}

fn with(overrides: &[&str]) -> Options {
    Options {
        overrides: overrides
            .iter()
            .map(|o| parse_override(o).expect("override"))
            .collect(),
        ..Options::default()
    }
}

#[test]
fn a_missing_file_gives_the_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = load(dir.path(), &Options::default()).expect("defaults");
    assert_eq!(c.model, codex_config::DEFAULT_MODEL);
    assert_eq!(c.model_provider_id, "openai");
    assert_eq!(c.model_provider.env_key.as_deref(), Some("OPENAI_API_KEY"));
    assert_eq!(c.sandbox_mode, SandboxMode::ReadOnly);
}

#[test]
fn dash_c_overrides_beat_config_toml() {
    let h = home(
        r#"
model = "from-file"
sandbox_mode = "read-only"
model_provider = "local"

[model_providers.local]
base_url = "http://127.0.0.1:8080/v1"
wire_api = "chat"
"#,
    );
    let c = load(
        h.path(),
        &with(&[
            "model=o3",
            "sandbox_mode=\"workspace-write\"",
            "model_providers.local.base_url=http://127.0.0.1:9/v1",
        ]),
    )
    .expect("config");
    assert_eq!(c.model, "o3");
    assert_eq!(c.sandbox_mode, SandboxMode::WorkspaceWrite);
    assert_eq!(c.model_provider.base_url, "http://127.0.0.1:9/v1");
    assert_eq!(c.model_provider.wire_api, WireApi::Chat);
    assert_eq!(c.model_provider.env_key, None);
}

#[test]
fn flags_beat_overrides_and_profiles_beat_the_top_level() {
    let h = home(
        r#"
model = "top"
profile = "fast"

[profiles.fast]
model = "fast-model"
sandbox_mode = "danger-full-access"

[profiles.slow]
model = "slow-model"
"#,
    );
    let c = load(h.path(), &Options::default()).expect("config");
    assert_eq!(
        (c.model.as_str(), c.profile.as_deref()),
        ("fast-model", Some("fast"))
    );
    assert_eq!(c.sandbox_mode, SandboxMode::DangerFullAccess);

    let mut o = with(&["model=from-c"]);
    o.profile = Some("slow".into());
    assert_eq!(load(h.path(), &o).expect("config").model, "from-c");
    o.model = Some("from-flag".into());
    o.sandbox_mode = Some(SandboxMode::ReadOnly);
    let c = load(h.path(), &o).expect("config");
    assert_eq!(c.model, "from-flag");
    assert_eq!(c.sandbox_mode, SandboxMode::ReadOnly);
}

#[test]
fn bad_configuration_says_what_to_fix() {
    let h = home("model = [\n");
    let e = load(h.path(), &Options::default()).expect_err("not toml");
    assert!(matches!(e, ConfigError::File { .. }), "{e}");
    assert!(e.to_string().ends_with("; fix or remove the file"), "{e}");

    let h = home("model_provider = \"nope\"\n");
    let e = load(h.path(), &Options::default()).expect_err("unknown provider");
    assert_eq!(
        e.to_string(),
        "model_provider `nope` is not defined: add [model_providers.nope] with base_url (and env_key) to config.toml"
    );

    let o = Options {
        profile: Some("ghost".into()),
        ..Options::default()
    };
    let e = load(h.path(), &o).expect_err("unknown profile");
    assert_eq!(
        e.to_string(),
        format!(
            "profile `ghost` is not defined: looked for {} and a [profiles.ghost] table in {}; create one of them",
            h.path().join("ghost.config.toml").display(),
            h.path().join("config.toml").display()
        )
    );

    let e = parse_override("model").expect_err("no =");
    assert_eq!(
        e.to_string(),
        "-c \"model\": expected key=value, e.g. -c model=o3"
    );

    let h = home("sandbox_mode = \"sometimes\"\n");
    let e = load(h.path(), &Options::default()).expect_err("bad sandbox mode");
    assert!(e.to_string().contains("sometimes"), "{e}");
}

#[test]
fn override_values_are_toml_when_they_parse_and_strings_otherwise() {
    assert_eq!(
        parse_override("a=true").expect("ok").value,
        toml::Value::Boolean(true)
    );
    assert_eq!(
        parse_override("a=3").expect("ok").value,
        toml::Value::Integer(3)
    );
    assert_eq!(
        parse_override("a=o3-mini").expect("ok").value,
        toml::Value::String("o3-mini".into())
    );
    assert_eq!(
        parse_override("a.b=[\"x\"]").expect("ok").path,
        vec!["a".to_string(), "b".to_string()]
    );
}

#[test]
fn sandbox_workspace_write_is_read_from_the_file_profiles_and_dash_c() {
    let h = home(
        r#"
sandbox_mode = "workspace-write"

[sandbox_workspace_write]
writable_roots = ["/srv/data"]

[profiles.online]
sandbox_workspace_write = { network_access = true }
"#,
    );
    let c = load(h.path(), &Options::default()).expect("config");
    assert!(!c.sandbox_workspace_write.network_access);
    assert_eq!(
        c.sandbox_workspace_write.writable_roots,
        vec![std::path::PathBuf::from("/srv/data")]
    );

    let c = load(
        h.path(),
        &with(&["sandbox_workspace_write.network_access=true"]),
    )
    .expect("config");
    assert!(c.sandbox_workspace_write.network_access);
    let policy = c.sandbox_policy(std::path::Path::new("/work"), h.path());
    assert!(policy.network_access);
    assert!(
        policy
            .writable_roots
            .contains(&std::path::PathBuf::from("/srv/data"))
    );
    assert!(policy.writable_roots.contains(&h.path().join("memories")));

    // A profile's table replaces the top-level one.
    let o = Options {
        profile: Some("online".into()),
        ..Options::default()
    };
    let c = load(h.path(), &o).expect("config");
    assert!(c.sandbox_workspace_write.network_access);
    assert!(c.sandbox_workspace_write.writable_roots.is_empty());
}
