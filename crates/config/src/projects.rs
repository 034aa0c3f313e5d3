//! `[projects."PATH"]`: what the user decided about a project directory. `codex exec --trust`
//! records `trust_level = "trusted"` here.

use std::path::Path;

use crate::ConfigError;
use crate::mcp::{parse_doc, read_or_empty, write_atomically};

/// Marks `dir` trusted in the config.toml at `path` (created if missing), keeping everything
/// else in the file as it was. A project the user marked `untrusted` stays so: returns
/// whether `dir` is trusted afterwards.
pub fn trust_project(path: &Path, dir: &Path) -> Result<bool, ConfigError> {
    use toml_edit::{Item, Table, value};
    let text = read_or_empty(path)?;
    let mut doc = parse_doc(path, &text)?;
    let projects = doc
        .entry("projects")
        .or_insert_with(|| {
            let mut t = Table::new();
            // `[projects."PATH"]` headers only, no empty `[projects]` one.
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| ConfigError::Invalid("projects in config.toml is not a table".into()))?;
    let key = dir.display().to_string();
    let project = projects
        .entry(&key)
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .ok_or_else(|| {
            ConfigError::Invalid(format!("projects.\"{key}\" in config.toml is not a table"))
        })?;
    match project.get("trust_level").and_then(Item::as_str) {
        Some("untrusted") => return Ok(false),
        Some("trusted") => return Ok(true),
        _ => project["trust_level"] = value("trusted"),
    }
    write_atomically(path, &doc.to_string())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusting_adds_the_project_keeps_the_rest_and_respects_untrusted() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "# mine\nmodel = \"m\"\n[projects.\"/no\"]\ntrust_level = \"untrusted\"\n",
        )
        .expect("write");
        assert!(trust_project(&path, Path::new("/yes")).expect("trust"));
        assert!(!trust_project(&path, Path::new("/no")).expect("untrusted"));
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("# mine\nmodel = \"m\"\n"), "{text}");
        let c = crate::resolve(text.parse().expect("toml"), &crate::Options::default())
            .expect("config");
        assert_eq!(c.projects["/yes"].trust_level.as_deref(), Some("trusted"));
        assert_eq!(c.projects["/no"].trust_level.as_deref(), Some("untrusted"));
    }
}
