//! The coding agent behind `codex exec` (being built for issue 7). So far: the project context
//! it adds to its instructions ([`project_docs`]) and how tool output is cut down for the model
//! ([`truncate`]).

pub mod project_docs;
pub mod truncate;
