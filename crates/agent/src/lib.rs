//! The coding agent behind `codex exec` (being built for issue 7). So far: the project context
//! it adds to its instructions ([`project_docs`]), how tool output is cut down for the model
//! ([`truncate`]) and the event-stream parser its model client reads responses with ([`sse`]).

pub mod project_docs;
pub mod sse;
pub mod truncate;
