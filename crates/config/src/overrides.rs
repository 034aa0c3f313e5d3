//! `-c key.path=value`: the value is TOML when it parses as TOML (`true`, `3`, `"x"`,
//! `["a", "b"]`, `{ a = 1 }`), else the raw text as a string (`-c model=o3`).

use crate::ConfigError;

/// One `-c` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The dotted path, split: `model_providers.local.base_url` → three keys.
    pub path: Vec<String>,
    /// The value.
    pub value: toml::Value,
    arg: String,
}

/// Parses `key.path=value`.
pub fn parse_override(arg: &str) -> Result<Override, ConfigError> {
    let bad = |why: &str| ConfigError::Override {
        arg: arg.to_string(),
        why: why.to_string(),
    };
    let (key, raw) = arg
        .split_once('=')
        .ok_or_else(|| bad("expected key=value, e.g. -c model=o3"))?;
    let path: Vec<String> = key
        .trim()
        .split('.')
        .map(|k| k.trim().to_string())
        .collect();
    if path.iter().any(String::is_empty) {
        return Err(bad("the key has an empty part"));
    }
    let raw = raw.trim();
    let value = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    Ok(Override {
        path,
        value,
        arg: arg.to_string(),
    })
}

impl Override {
    /// Sets the value in `table`, making intermediate tables as needed.
    pub fn apply(&self, table: &mut toml::Table) -> Result<(), ConfigError> {
        let (last, parents) = self
            .path
            .split_last()
            .ok_or_else(|| self.error("the key is empty"))?;
        let mut at = table;
        for key in parents {
            let next = at
                .entry(key.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            at = next
                .as_table_mut()
                .ok_or_else(|| self.error(&format!("`{key}` is not a table")))?;
        }
        at.insert(last.clone(), self.value.clone());
        Ok(())
    }

    fn error(&self, why: &str) -> ConfigError {
        ConfigError::Override {
            arg: self.arg.clone(),
            why: why.to_string(),
        }
    }
}
