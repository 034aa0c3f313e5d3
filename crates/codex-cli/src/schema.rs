//! `codex exec --output-schema FILE`: the JSON Schema the final answer must follow. The schema
//! is read and compiled before anything is sent, and the answer is checked against it after,
//! so a script gets either conforming JSON or a non-zero exit.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

/// A schema read from its file, ready to check answers.
pub struct OutputSchema {
    file: String,
    schema: Value,
}

impl std::fmt::Debug for OutputSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputSchema")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl OutputSchema {
    /// Reads and compiles `path`: a file that cannot be read, is not JSON or is not a valid
    /// schema is an error naming it.
    pub fn load(path: &Path) -> Result<OutputSchema> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--output-schema {file}: cannot read the file"))?;
        let schema: Value = serde_json::from_str(&text)
            .with_context(|| format!("--output-schema {file}: not JSON"))?;
        if !schema.is_object() {
            bail!(
                "--output-schema {file}: a JSON Schema is an object, e.g. {{\"type\": \"object\", ...}}"
            );
        }
        if let Some(e) = crate::json_schema::schema_error(&schema) {
            bail!("--output-schema {file}: not a valid JSON Schema: {e}");
        }
        Ok(OutputSchema { file, schema })
    }

    /// The schema, as sent to the model.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Checks the final answer: it must be JSON that the schema accepts.
    pub fn check(&self, answer: &str) -> Result<()> {
        let value: Value = serde_json::from_str(answer.trim()).with_context(|| {
            format!(
                "the final message is not JSON, so it does not follow --output-schema {}",
                self.file
            )
        })?;
        if let Some((at, e)) = crate::json_schema::first_error(&self.schema, &value) {
            bail!(
                "the final message does not follow --output-schema {}: {e} (at {})",
                self.file,
                if at.is_empty() { "the top level" } else { &at }
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(text: &str) -> Result<OutputSchema> {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("s.json");
        std::fs::write(&path, text).expect("write");
        OutputSchema::load(&path)
    }

    #[test]
    fn answers_are_checked_against_the_schema() {
        let s = schema(
            r#"{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"],"additionalProperties":false}"#,
        )
        .expect("schema");
        s.check(r#"{"n": 3}"#).expect("conforms");
        let e = s.check(r#"{"n": "three"}"#).expect_err("wrong type");
        assert!(e.to_string().contains("at /n"), "{e}");
        assert!(s.check("n is 3").is_err());
        assert!(s.check(r#"{"n": 3, "extra": 1}"#).is_err());
    }

    #[test]
    fn a_bad_schema_file_is_refused() {
        assert!(schema("not json").is_err());
        assert!(schema("[1, 2]").is_err());
        let e = schema(r#"{"type": "no-such-type"}"#).expect_err("invalid");
        assert!(e.to_string().contains("not a valid JSON Schema"), "{e}");
    }
}
