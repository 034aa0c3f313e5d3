//! The coding agent behind `codex exec` and the interactive `codex`.
//!
//! A [`session::Session`] holds the conversation and runs the loop: each turn goes to the model
//! through [`model`] (Responses API or Chat Completions, streamed), every tool call it makes is
//! run by [`tools`] (`shell` through an exec-server picked by [`executor`], under the sandbox;
//! `apply_patch`; `update_plan`), and the model is asked again until it answers. Each step is
//! reported as an [`events::AgentEvent`] and, unless the session is ephemeral, logged by
//! [`rollout`]. The instructions ([`instructions`]) carry the project's `AGENTS.md` files
//! ([`project_docs`]); long tool output is cut by [`truncate`]; [`sse`] parses the streams; [`notify`] runs the
//! end-of-turn hook; [`approval`] asks the user
//! before a command or patch runs, when the policy says so. MCP servers' tools come from
//! `codex-mcp-client`.

pub mod approval;
pub mod events;
pub mod executor;
pub mod instructions;
pub mod model;
pub mod notify;
pub mod project_docs;
pub mod rollout;
pub mod session;
pub mod sse;
pub mod tools;
pub mod truncate;
